import ArgumentParser

@preconcurrency import Glibc

/// Parses the command line as a command and runs it: errors are one line (or a profile's
/// diagnostics), never a trace; exits with the status they imply.
public enum CommandRunner {
  public static func run<Command: ParsableCommand>(_ type: Command.Type, _ arguments: [String]) -> Never {
    let command: ParsableCommand
    do {
      command = try type.parseAsRoot(arguments)
    } catch {
      if type.exitCode(for: error) == .success {  // --help, --version
        print(type.fullMessage(for: error))
        Glibc.exit(0)
      }
      Output.status("bpfsyscalldist: error: \(type.message(for: error)) (see --help)")
      Glibc.exit(2)
    }
    do {
      var command = command
      try command.run()
      Glibc.exit(0)
    } catch let failure as Failure {
      Output.status(failure.description)
      Glibc.exit(failure.exitCode)
    } catch is Output.BrokenPipe {
      Glibc.exit(0)  // the reader went away (`| head`): nothing more to say
    } catch {
      type.exit(withError: error)
    }
  }
}

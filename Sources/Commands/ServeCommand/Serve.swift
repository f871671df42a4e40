import CommandCore
import ArgumentParser

/// `bpfsyscalldist serve` (the binary `bpfsyscalldist-serve`): profiles' latency histograms,
/// cumulative since start, for Prometheus.
public struct Serve: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "bpfsyscalldist serve", abstract: ServeOptions.abstract, discussion: ServeOptions.discussion)

  @OptionGroup var options: ServeOptions

  public init() {}

  /// `bpfsyscalldist-serve`'s whole program.
  public static func runAndExit() -> Never {
    CommandRunner.run(Self.self, Array(CommandLine.arguments.dropFirst()))
  }

  public func run() throws {
    // before the server's thread exists: it must not take the signals the session waits for
    Signals.block(hangup: true)
    let session = try ServeSession(options)
    try session.run()
  }
}

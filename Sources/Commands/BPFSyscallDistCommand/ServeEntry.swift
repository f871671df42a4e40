import ArgumentParser
import CommandCore

/// `bpfsyscalldist serve`, as `--help` and the shell completions know it. The serve binary runs
/// it: `BPFSyscallDist.runAndExit` hands `serve ...` over before parsing, so this runs only when
/// options came before the word, which serve would never see.
struct ServeEntry: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: BPFSyscallDist.serveCommand, abstract: ServeOptions.abstract, discussion: ServeOptions.discussion)

  @OptionGroup var options: ServeOptions

  func run() throws {
    throw Failure.usage("'serve' must be the first word: bpfsyscalldist serve [options] (bpfsyscalldist serve --help)")
  }
}

import ArgumentParser
import CommandCore
import Comparison
@preconcurrency import Glibc

/// `bpfsyscalldist heatmap RUN.json`: a recorded `-i` run as a latency heatmap per series, one
/// column per interval, in the terminal.
struct HeatmapCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "heatmap",
    abstract: "Show a recorded -i run (--record or -j output) as a latency heatmap: a column per interval, a row per bucket.",
    discussion: "See bpfsyscalldist(8), HEATMAP.")

  enum ColourChoice: String, ExpressibleByArgument, CaseIterable {
    case auto, always, never
  }

  @Argument(help: ArgumentHelp("The recorded run.", valueName: "run.json")) var file: String

  @Option(name: .long, help: ArgumentHelp("Only the series of this key (repeat for several).", valueName: "key"))
  var key: [String] = []

  @Option(name: .long, help: "Without --key: the series with the most calls, this many.") var top = 3

  @Option(
    name: .long,
    help: "Colours instead of shades: auto (on a terminal, unless NO_COLOR is set), always or never.")
  var color: ColourChoice = .auto

  func validate() throws {
    guard top > 0 else { throw ValidationError("--top must be at least 1") }
  }

  func run() throws {
    // reached through the trace command's parse only when its options came first
    guard CommandLine.arguments.dropFirst().first == Self.configuration.commandName else {
      throw Failure.usage("'heatmap' must be the first word: bpfsyscalldist heatmap RUN [options]")
    }
    let recording: Recording
    do {
      recording = try Recording.load(file)
    } catch {
      throw Failure.usage(error.description)
    }
    let missing = key.filter { name in !recording.series.keys.contains { $0.key == name } }
    if !missing.isEmpty {
      throw Failure.usage("\(file) has no series keyed \(missing.map { "'\($0)'" }.joined(separator: ", "))")
    }
    let noColour = getenv("NO_COLOR").map { $0.pointee != 0 } ?? false
    let colour = color == .always || (color == .auto && !noColour && isatty(STDOUT_FILENO) == 1)
    try Output.write(Heatmap.render(recording, keys: key, top: top, colour: colour))
  }
}

import ArgumentParser
import CommandCore
import Comparison
import Report

/// `bpfsyscalldist report RUN.json [AFTER.json] -o PAGE.html`: recorded runs as one
/// self-contained HTML page; two runs side by side with compare's verdicts.
struct ReportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "report",
    abstract: "Write recorded runs (--record or -j output) as one self-contained HTML page; given two, with compare's verdicts.",
    discussion: "See bpfsyscalldist(8), REPORT.")

  @Argument(help: ArgumentHelp("The recorded run; or the run before a change, then the run after it.", valueName: "run.json"))
  var files: [String]

  @Option(name: .shortAndLong, help: ArgumentHelp("The page to write (replaced whole, or left as it was).", valueName: "file.html"))
  var output: String

  func validate() throws {
    guard (1...2).contains(files.count) else { throw ValidationError("give one recorded run, or two to compare") }
  }

  func run() throws {
    // reached through the trace command's parse only when its options came first
    guard CommandLine.arguments.dropFirst().first == Self.configuration.commandName else {
      throw Failure.usage("'report' must be the first word: bpfsyscalldist report RUN [AFTER] -o PAGE.html")
    }
    let page = try ReportFile(path: output, flag: "-o")
    if let input = files.first(where: page.isFile) { throw Failure.usage("-o \(output) is \(input), a recording: write the page elsewhere") }
    let runs: [Recording]
    let comparison: Comparison?
    do {
      runs = try files.map { file throws(RecordingError) in try Recording.load(file) }
      comparison = runs.count == 2 ? try Comparison(runs[0], runs[1]) : nil
    } catch let error as RecordingError {
      throw Failure.usage(error.description)
    } catch let error as ComparisonError {
      throw Failure.usage(error.description)
    }
    do {
      try page.write(try ReportPage.render(runs, comparison: comparison, generator: "bpfsyscalldist \(Release.version)"))
    } catch let error as ReportError {
      throw Failure.runtime("-o \(output): \(error.problem)")
    }
  }
}

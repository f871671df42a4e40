import ArgumentParser
import CommandCore
import Comparison

/// `bpfsyscalldist compare BEFORE AFTER`: two recorded runs of a profile, per series, with
/// verdicts only where the buckets can tell, and gates for CI.
struct CompareCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "compare",
    abstract: "Compare two recorded runs (-j or --record output) per key: counts, errors, p50/p90/p99 with their bounds.",
    discussion: """
      A percentile is called slower or faster only where the two runs' bounds do not overlap; \
      otherwise 'no difference the buckets can show'. --fail-if exits 1 with one line per breach. \
      See bpfsyscalldist(8), COMPARE.
      """)

  @Argument(help: ArgumentHelp("The run before the change.", valueName: "before.json")) var before: String
  @Argument(help: ArgumentHelp("The run after it.", valueName: "after.json")) var after: String

  @Option(
    name: .customLong("fail-if"),
    help: ArgumentHelp(
      "Exit 1 when a key surely passes this change: 'p99 > +10%', 'count < -5%', 'errors > +0%' (p50, p90, p99, count, errors); repeat for several.",
      valueName: "condition"))
  var failIf: [String] = []

  @Flag(name: .shortAndLong, help: "Print the comparison as one JSON object.") var json = false

  func run() throws {
    // reached through the trace command's parse only when its options came first
    guard CommandLine.arguments.dropFirst().first == Self.configuration.commandName else {
      throw Failure.usage("'compare' must be the first word: bpfsyscalldist compare BEFORE AFTER [options]")
    }
    let gates: [Gate]
    let comparison: Comparison
    do {
      gates = try failIf.map { text throws(GateError) in try Gate(parsing: text) }
      comparison = try Comparison(try Recording.load(before), try Recording.load(after))
    } catch let error as GateError {
      throw Failure.usage(error.description)
    } catch let error as RecordingError {
      throw Failure.usage(error.description)
    } catch let error as ComparisonError {
      throw Failure.usage(error.description)
    }
    let breaches = comparison.breaches(of: gates)
    try Output.write(json ? ComparisonJSON.render(comparison, breaches: breaches) + "\n" : ComparisonText.render(comparison))
    if !breaches.isEmpty { throw Failure.breaches(breaches) }
  }
}

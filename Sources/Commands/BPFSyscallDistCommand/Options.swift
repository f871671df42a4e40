import CommandCore
import ArgumentParser
import Histograms
import Profiles
import Tracer

/// What to trace and how to hook it.
struct ProfileOptions: ParsableArguments {
  @Option(
    name: .long,
    help: ArgumentHelp(
      "A profile name (searched in $XDG_CONFIG_HOME/bpfsyscalldist/profiles, PREFIX/share/bpfsyscalldist/profiles, then the built-in ones) or a YAML file (contains '/' or ends in .yaml).",
      valueName: "name|file.yaml"))
  var profile: String?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "How to hook the kernel: auto, \(ProbeMethod.allCases.map(\.rawValue).joined(separator: ", ")). auto tries the best the kernel offers and says when it falls back.",
      valueName: "method"))
  var probeMethod: ProbeMethodChoice = .auto

  @Flag(name: .long, help: "A histogram per key and outcome: ok, or each errno the calls failed with.")
  var splitOutcome = false

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Bucket the profile's calls another way: \(BucketLayout.flagForms). exponential is Prometheus' native and OpenTelemetry's (schema -4 to 8, default 3: every value within 4.4% of its bucket's middle).",
      valueName: "kind[:n]"))
  var buckets: String?

  @Flag(
    name: .long,
    help: "Also keep the most threads inside the call at once, per key (two atomic operations per call).")
  var concurrency = false

  @Flag(
    name: .long,
    help: "Split every counted call's time into on CPU, waiting for a CPU and blocked, summed per key (the scheduler's switch and wakeup hooks; Linux 5.13 or later).")
  var offCPU = false

  @OptionGroup var storage: StorageOptions
}

/// When to print and stop.
struct TimingOptions: ParsableArguments {
  @Option(name: .shortAndLong, help: "Stop after this many seconds.")
  var duration: Double?

  @Option(name: .shortAndLong, help: "Print (and start afresh) every this many seconds.")
  var interval: Double?

  @Option(name: .long, help: "Stop after this many intervals.")
  var count: Int?

  @Flag(name: [.customShort("T"), .long], help: "Print a timestamp line before each print.")
  var timestamp = false

  /// A collection flips the kernel's generation and waits for a grace period (milliseconds):
  /// shorter intervals would only spin with the probes attached.
  static let shortestInterval = 0.01

  func validate() throws {
    if let duration, !(duration > 0) { throw ValidationError("--duration must be more than 0 seconds") }
    if let interval, !(interval >= Self.shortestInterval) {
      throw ValidationError("--interval must be at least \(Self.shortestInterval) seconds (10 ms: each print waits for the kernel's programs to finish)")
    }
    if let count {
      guard count > 0 else { throw ValidationError("--count must be at least 1") }
      guard interval != nil else { throw ValidationError("--count needs --interval") }
    }
  }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
  case text, json, openmetrics
}

/// How to print.
struct OutputOptions: ParsableArguments {
  @Flag(name: .shortAndLong, help: "Print JSON (one object per print); the same as --format json.")
  var json = false

  @Option(name: .long, help: "text, json or openmetrics.")
  var format: OutputFormat = .text

  @Flag(
    name: .long,
    help: "With -i: each interval, draw the latency heatmap of the run so far (the three series with the most calls, a column per interval) instead of histograms; on a terminal, redrawn in place.")
  var heatmap = false

  @Flag(name: .customLong("ns"), help: "Show nanoseconds, whatever the profile says.")
  var nanoseconds = false

  @Flag(name: [.customShort("u"), .customLong("us")], help: "Show microseconds.")
  var microseconds = false

  @Flag(name: [.customShort("m"), .customLong("ms")], help: "Show milliseconds.")
  var milliseconds = false

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Also write each print as a JSON object (what -j prints), and each slow call, to this file, whatever the format: for 'bpfsyscalldist compare', 'heatmap' and 'report'.",
      valueName: "file"))
  var record: String?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "At the end, write the run as one self-contained HTML page (histograms, heatmaps, time split, slow calls' flame graph) to this file.",
      valueName: "file.html"))
  var report: String?

  @Flag(
    name: .long,
    help: "At the end, what the tool's BPF programs cost: runs and time per program, per counted call, share of a CPU (the kernel's run-time statistics, on for this run only).")
  var cost = false

  @Flag(name: .shortAndLong, help: "Print libbpf's messages, including the verifier's log.")
  var verbose = false

  func validate() throws {
    if [nanoseconds, microseconds, milliseconds].filter({ $0 }).count > 1 {
      throw ValidationError("pick one of --ns, -u and -m")
    }
    if json && format != .text && format != .json {
      throw ValidationError("-j and --format \(format.rawValue) disagree")
    }
  }

  var effectiveFormat: OutputFormat { json ? .json : format }

  /// The unit the user asked for, with the flag that asked.
  var unitOverride: (flag: String, unit: TimeUnit)? {
    nanoseconds ? ("--ns", .ns) : microseconds ? ("-u", .us) : milliseconds ? ("-m", .ms) : nil
  }
}

/// Profile housekeeping that needs no kernel.
struct CatalogOptions: ParsableArguments {
  @Flag(name: .long, help: "List the profiles --profile can find, with where each comes from.")
  var listProfiles = false

  @Option(name: .long, help: ArgumentHelp("Check a profile and print its settings; attach nothing.", valueName: "name|file.yaml"))
  var check: String?

  @Option(name: .long, help: ArgumentHelp("Print a profile's YAML, to copy and edit.", valueName: "name"))
  var printProfile: String?
}

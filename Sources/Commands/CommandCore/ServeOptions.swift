import ArgumentParser
import Histograms
import Profiles

/// `bpfsyscalldist serve`'s options: parsed by the serve binary, and known to the trace binary's
/// help and shell completions (`ServeEntry`), which cannot link SwiftNIO to parse them itself.
public struct ServeOptions: ParsableArguments {
  public static let abstract = "Serve profiles' latency histograms to Prometheus over HTTP, cumulative since the start."
  public static let discussion = """
    GET /metrics answers in OpenMetrics when the scraper asks for it, else in the Prometheus \
    0.0.4 text format; / lists the profiles, /healthz says ok. SIGINT or SIGTERM: stop \
    serving, detach, exit 0; SIGHUP: reload --config. See bpfsyscalldist(8), SERVE.
    """

  /// Where Prometheus' port registry puts this exporter's default.
  public static let defaultPort = 9435

  @Option(
    help: ArgumentHelp(
      "Where to listen: HOST:PORT, [IPv6]:PORT or PORT (127.0.0.1:\(defaultPort) by default; other hosts only when this says so).",
      valueName: "host:port"))
  public var listen: String?

  @Option(
    name: .customLong("profile"),
    help: ArgumentHelp(
      "A profile to serve, as the trace mode's --profile takes it; repeat for several (default: bpfsyscalldist).",
      valueName: "name|file.yaml"))
  public var profiles: [String] = []

  @Option(
    help: ArgumentHelp(
      "The profiles to serve, each with its own filters, from a YAML file (bpfsyscalldist(8), SERVE); SIGHUP reloads it.",
      valueName: "file.yaml"))
  public var config: String?

  @OptionGroup(title: "Filters, for every profile") public var filterOptions: FilterOptions

  @Flag(name: .long, help: "A histogram per key and outcome: ok, or each errno (every --profile).")
  public var splitOutcome = false

  @Flag(name: .long, help: "Also the most threads inside the call at once, per key (every --profile).")
  public var concurrency = false

  @Option(name: .long, help: ArgumentHelp("How to hook the kernel (every --profile).", valueName: "method"))
  public var probeMethod: ProbeMethodChoice = .auto

  @OptionGroup(title: "Kernel maps, for every profile") public var storage: StorageOptions

  @Option(help: "The most series one profile exposes, the overflow series '(over max_series)' included: the calls of further keys are summed into it (default 1000).")
  public var maxSeries: Int?

  @Option(
    help: ArgumentHelp(
      "A series unchanged this long leaves the exposition and frees its place (default 600s).", valueName: "duration"))
  public var seriesIdle: String?

  @Option(help: ArgumentHelp("The smallest bucket bound to export (e.g. 1us); smaller ones fold into it.", valueName: "duration"))
  public var minBucket: String?

  @Option(help: ArgumentHelp("The largest bucket bound to export (e.g. 10s); longer calls are in +Inf only.", valueName: "duration"))
  public var maxBucket: String?

  @Option(
    help: ArgumentHelp(
      "Close a connection that has not sent a whole request this long after it opened or after its last answer.",
      valueName: "duration"))
  public var requestTimeout: String = "10s"

  @Option(
    help: ArgumentHelp(
      "Bucket every profile's calls another way: \(BucketLayout.flagForms). exponential is exported as a Prometheus native histogram to scrapers that ask for protobuf (Prometheus with --enable-feature=native-histograms), as classic buckets at each power of two of seconds otherwise.",
      valueName: "kind[:n]"))
  public var buckets: String?

  /// `--buckets` as a layout (validated).
  public var bucketLayout: BucketLayout? { buckets.flatMap { try? BucketLayout.parse(flag: $0).get() } }

  @Option(
    help: ArgumentHelp(
      "Also push every profile's counts, as OTLP over HTTP (protobuf, cumulative histograms: exponential, or explicit buckets for other layouts), to this receiver, e.g. http://127.0.0.1:4318/v1/metrics. Without it, OTEL_METRICS_EXPORTER=otlp pushes to OTEL_EXPORTER_OTLP_METRICS_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT (+ /v1/metrics, default http://localhost:4318); OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME are read either way.",
      valueName: "url"))
  public var otlpEndpoint: String?

  @Option(help: ArgumentHelp("How often to push OTLP (default: OTEL_METRIC_EXPORT_INTERVAL milliseconds, else 60s).", valueName: "duration"))
  public var otlpInterval: String?

  @Flag(
    name: .customLong("off-cpu"),
    help: "Also export where each call's time went: _call_time_seconds_total by state (on_cpu, runnable, blocked), every profile.")
  public var offCPU = false

  @Flag(
    name: .long,
    help: "Also export what each profile's BPF programs cost (_program_runs_total, _program_run_seconds_total), from the kernel's run-time statistics, on while serving.")
  public var cost = false

  @Flag(name: .shortAndLong, help: "Print libbpf's messages, including the verifier's log.")
  public var verbose = false

  public init() {}

  public static let defaultMaxSeries = 1000
  public static let defaultSeriesIdle = "600s"

  public func validate() throws {
    var profileFilters = filterOptions.filters
    profileFilters.runtimeRoot = nil  // the host's, not a profile's: it goes beside a config too
    let perProfileFlags = !profiles.isEmpty || splitOutcome || concurrency || probeMethod != .auto
      || profileFilters != Filters()
    if config != nil && perProfileFlags {
      throw ValidationError("--config gives each profile its own filters: use it alone, or --profile with the filter flags")
    }
    if let maxSeries, !(1...1_000_000).contains(maxSeries) { throw ValidationError("--max-series must be from 1 to 1000000") }
    for (flag, value) in [
      ("--series-idle", seriesIdle), ("--request-timeout", requestTimeout), ("--min-bucket", minBucket), ("--max-bucket", maxBucket),
      ("--otlp-interval", otlpInterval),
    ] {
      if let value, (TimeUnit.nanoseconds(parsing: value) ?? 0) == 0 {
        throw ValidationError("\(flag) takes a duration with its unit: ns, us, ms or s (e.g. 10s)")
      }
    }
    if let low = minBucket.flatMap(TimeUnit.nanoseconds(parsing:)), let high = maxBucket.flatMap(TimeUnit.nanoseconds(parsing:)),
      low > high
    {
      throw ValidationError("--min-bucket is above --max-bucket")
    }
    if let buckets, case .failure(let problem) = BucketLayout.parse(flag: buckets) {
      throw ValidationError("--buckets \(buckets): \(problem)")
    }
    if let listen, Self.address(listen) == nil {
      throw ValidationError("--listen takes HOST:PORT, [IPv6]:PORT or PORT, e.g. 127.0.0.1:\(Self.defaultPort)")
    }
  }

  /// HOST:PORT, [IPv6]:PORT or PORT (on 127.0.0.1).
  public static func address(_ text: String) -> (host: String, port: Int)? {
    if let port = Int(text) { return (0...65535).contains(port) ? ("127.0.0.1", port) : nil }
    guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port)
    else { return nil }
    var host = String(text[..<colon])
    if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    return host.isEmpty ? nil : (host, port)
  }
}

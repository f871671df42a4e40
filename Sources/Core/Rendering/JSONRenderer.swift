import Histograms
import Snapshots

/// One JSON object per print (`-j`), keys in a fixed order. Schema 4:
/// `{"schema":4,"profile":…,"timestamp":…,"unit":…,"buckets":…,"bucket_schema":…,"key_label":…,
///   "accounting":{"counted":…,"dropped":…,"key_out_of_range":…,"map_full":…,"map_busy":…,
///     "dispatch_failed":…,
///     "in_flight":…,"not_counted":{"abandoned":…,"replaced":…,"mismatched":…,"no_storage":…,
///     "compat":…},"errors_not_itemized":…,"extremes_lost":…,"switches_unseen":…,"wait_sites_lost":…,"kernel_skipped":…,"returns_missed":…,"slow_calls":…,
///     "slow_calls_dropped":…},"max_concurrent":…,
///   "cost":{"elapsed_ns":…,"run_time_ns":…,"counted_calls":…,"ns_per_counted_call":…,
///     "share_of_one_cpu":…,"programs":[{"program":…,"runs":…,"run_time_ns":…}]} (--cost, last print only),
///   "histograms":[{"key":…,"raw":…,"outcome":…,"title":…,"count":…,"sum_ns":…,"min_ns":…,
///     "max_ns":…,"mean":…,"p50":…,"p90":…,"p99":…,
///     "percentiles":{"p50":{"value":…,"low":…,"high":…},…},"relative_error":…,
///     "max_concurrent":…,"on_cpu_ns":…,"runnable_ns":…,"blocked_ns":…,
///     "wait_sites":[{"site":…,"blocked_ns":…,"count":…}],"lock_waits":[{"kind":…,"ns":…,"count":…}],
///     "errors":{"ENOENT":…},
///     "buckets":[{"low":…,"high":…,"count":…}]}]}`.
/// Schema 3 added the time split (null without --off-cpu); schema 2 readers ignore it.
/// Schema 4 added exponential buckets (`"buckets":"exponential"`, `"bucket_schema":N`, null for
/// other kinds): each bucket is then `{"index":…,"low_ns":…,"high_ns":…,"count":…}`, `index` the
/// Prometheus bucket key (upper bound 2^(index/2^N) s; null for the zero bucket, 0 ns), and the
/// whole ns it holds from `low_ns` to `high_ns`, exact where the profile's unit would round.
/// Times are in `unit` but `*_ns`. Each percentile's true value (by nearest rank) lies within
/// `low`…`high`, from its bucket and the exact min and max; `relative_error` is the most the
/// three estimates can be off relative to the truth (null when unbounded). Schema 1 gave
/// `relative_error` as the layout's nominal error, which did not hold.
/// `high` of a bucket is null when it is open; `max_concurrent` is null without --concurrency;
/// `errors` counts failed calls by errno, most first.
public struct JSONRenderer: Sendable {
  public init() {}

  public func render(_ snapshot: Snapshot) -> String {
    let histograms = snapshot.series.map { series(of: $0, unit: snapshot.unit) }
    let accounting = snapshot.accounting
    return object([
      ("schema", "4"),
      ("profile", string(snapshot.profileName)),
      ("timestamp", number(snapshot.timestamp)),
      ("unit", string(snapshot.unit.rawValue)),
      ("buckets", string(snapshot.layout.kind.rawValue)),
      ("bucket_schema", snapshot.layout.exponentialScale.map { String($0.schema) } ?? "null"),
      ("key_label", string(snapshot.keyLabel)),
      (
        "accounting",
        object([
          ("counted", String(accounting.counted)),
          ("dropped", String(accounting.dropped)),
          ("key_out_of_range", String(accounting.keyOutOfRange)),
          ("map_full", String(accounting.mapFull)),
          ("map_busy", String(accounting.mapBusy)),
          ("dispatch_failed", String(accounting.dispatchFailed)),
          ("in_flight", String(accounting.inFlight)),
          (
            "not_counted",
            object([
              ("abandoned", String(accounting.abandoned)), ("replaced", String(accounting.replaced)),
              ("mismatched", String(accounting.mismatched)), ("no_storage", String(accounting.noStorage)),
              ("compat", String(accounting.compat)),
            ])
          ),
          ("errors_not_itemized", String(accounting.errorsNotItemized)),
          ("extremes_lost", String(accounting.extremesLost)),
          ("switches_unseen", String(accounting.switchesUnseen)),
          ("wait_sites_lost", String(accounting.waitSitesLost)),
          ("key_reads_failed", String(accounting.keyReadsFailed)),
          ("kernel_skipped", String(accounting.kernelSkipped)),
          ("returns_missed", String(accounting.returnsMissed)),
          ("slow_calls", String(accounting.slowCalls)),
          ("slow_calls_dropped", String(accounting.slowCallsDropped)),
        ])
      ),
      ("max_concurrent", snapshot.maxConcurrent.map(String.init) ?? "null"),
    ] + (snapshot.cost.map { [("cost", CostRenderer.json($0, self))] } ?? [])
      + (snapshot.waitSites.isEmpty ? [] : [("wait_sites", waitSites(snapshot.waitSites))])
      + (snapshot.lockWaits.isEmpty ? [] : [("lock_waits", lockWaits(snapshot.lockWaits))]) + [
      ("histograms", "[" + histograms.joined(separator: ",") + "]"),
    ])
  }

  func series(of series: Series, unit: TimeUnit) -> String {
    let histogram = series.histogram
    let scale = histogram.layout.exponentialScale
    let buckets = histogram.counts.indices.filter { histogram.counts[$0] > 0 }.map { slot in
      let (low, high) = histogram.layout.bounds(ofSlot: slot)
      guard let scale else {
        return object([("low", String(low)), ("high", high.map(String.init) ?? "null"), ("count", String(histogram.counts[slot]))])
      }
      return object([
        ("index", slot == 0 ? "null" : String(scale.index(ofSlot: slot))), ("low_ns", String(low)),
        ("high_ns", high.map(String.init) ?? "null"), ("count", String(histogram.counts[slot])),
      ])
    }
    let unitScale = Double(unit.nanoseconds)
    let percentiles = [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)].map { label, fraction in
      (label, histogram.percentile(fraction, unit: unit))
    }
    let errors = percentiles.map { $0.1?.relativeError }
    // a key of parts: each part by its label, beside the key they make
    let parts = series.keyParts.isEmpty ? [] : [("keys", object(series.keyParts.map { (string($0.label), string($0.name)) }, quoted: true))]
    return object(
      [
        ("key", string(series.keyName))
      ] + parts + [
        ("raw", series.rawKey?.description ?? "null"),
        ("outcome", series.outcome.map { string($0.name) } ?? "null"),
        ("title", string(series.title)),
        ("count", String(histogram.total)),
        ("sum_ns", histogram.sumNanoseconds.map(String.init) ?? "null"),
        ("min_ns", histogram.minNanoseconds.map(String.init) ?? "null"),
        ("max_ns", histogram.maxNanoseconds.map(String.init) ?? "null"),
        ("mean", histogram.mean(in: unit).map(number) ?? "null"),
      ]
        + percentiles.map { ($0.0, $0.1.map { number($0.estimate / unitScale) } ?? "null") }
        + [
          (
            "percentiles",
            object(
              percentiles.compactMap { label, percentile in
                percentile.map { p in
                  (label, object([("value", number(p.estimate / unitScale)), ("low", number(Double(p.low) / unitScale)), ("high", number(Double(p.high) / unitScale))]))
                }
              })
          ),
          ("relative_error", errors.contains { $0 == nil } ? "null" : number(errors.compactMap { $0 }.max() ?? 0)),
          ("max_concurrent", series.maxConcurrent.map(String.init) ?? "null"),
        ] + timeSplit(histogram) + [("wait_sites", waitSites(series.waitSites)), ("lock_waits", lockWaits(series.lockWaits))] + [
          ("errors", object(series.failures.map { (string($0.name), String($0.count)) }, quoted: true)),
          ("buckets", "[" + buckets.joined(separator: ",") + "]"),
        ])
  }

  /// `[{"site":…,"blocked_ns":…,"count":…}]`, longest first (empty without --off-cpu).
  func waitSites(_ sites: [NamedWaitSite]) -> String {
    "[" + sites.map { site in
      object([("site", string(site.site)), ("blocked_ns", String(site.totals.nanoseconds)), ("count", String(site.totals.count))])
    }.joined(separator: ",") + "]"
  }

  /// `[{"kind":…,"ns":…,"count":…}]`, longest first (empty without --off-cpu, and before 5.19).
  func lockWaits(_ kinds: [NamedWaitSite]) -> String {
    "[" + kinds.map { kind in
      object([("kind", string(kind.site)), ("ns", String(kind.totals.nanoseconds)), ("count", String(kind.totals.count))])
    }.joined(separator: ",") + "]"
  }

  /// `on_cpu_ns`, `runnable_ns` and `blocked_ns`, null without --off-cpu.
  func timeSplit(_ histogram: Histogram) -> [(String, String)] {
    guard let split = histogram.timeSplit, let sum = histogram.sumNanoseconds else {
      return [("on_cpu_ns", "null"), ("runnable_ns", "null"), ("blocked_ns", "null")]
    }
    return [
      ("on_cpu_ns", String(split.onCPUNanoseconds(ofSum: sum))), ("runnable_ns", String(split.runnableNanoseconds)),
      ("blocked_ns", String(split.blockedNanoseconds)),
    ]
  }

  func object(_ fields: [(String, String)], quoted: Bool = false) -> String {
    "{" + fields.map { (quoted ? $0.0 : string($0.0)) + ":" + $0.1 }.joined(separator: ",") + "}"
  }

  func number(_ value: Double) -> String {
    guard value.isFinite else { return "null" }
    if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
    return String(value)
  }

  /// A JSON string literal, escaped.
  public func string(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\t": out += "\\t"
      case "\r": out += "\\r"
      case _ where scalar.value < 0x20:
        let hex = String(scalar.value, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }
}

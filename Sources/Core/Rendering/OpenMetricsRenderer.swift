import Histograms
import Snapshots

/// A profile's metric families: one latency histogram family, cumulative `le` buckets in
/// seconds, exact `_sum` and `_count`, `_created`, labelled by the profile's key label (and the
/// outcome when outcomes are split); failed calls by errno as a counter. Meant for counts since
/// the start (`--format openmetrics`, `serve`): counters never go down, and every series has
/// the same fixed bucket set every time, as Prometheus' `rate()` and `histogram_quantile` need.
public struct OpenMetricsRenderer: Sendable {
  /// Buckets go up to the first bound past this: longer calls are only in `+Inf`.
  public static let horizonSeconds = 3600.0

  public init() {}

  /// `--format openmetrics`: one profile, every series created at the run's start.
  public func render(_ snapshot: Snapshot) -> String {
    let buckets = BucketSet(snapshot.layout, unit: snapshot.unit, range: snapshot.exportRange)
    let cost = snapshot.cost.map { CostRenderer.families($0, profileName: snapshot.profileName, since: snapshot.since) } ?? []
    return ExpositionRenderer().render(families(snapshot, buckets: buckets) { _ in snapshot.since } + cost, as: .openMetrics)
  }

  /// The latency, errors, time split and lock wait families of `snapshot`; `created(i)` is
  /// series i's `_created`.
  public func families(_ snapshot: Snapshot, buckets: BucketSet, created: (Int) -> Double) -> [MetricFamily] {
    let prefix = Labels.metricName(snapshot.profileName)
    let keyLabel = Labels.metricName(snapshot.keyLabel)
    let help =
      snapshot.profileDescription.isEmpty
      ? "Latency of calls traced by profile \(snapshot.profileName)."
      : "\(snapshot.profileDescription) (profile \(snapshot.profileName))."
    var latency = MetricFamily(name: prefix + "_latency_seconds", kind: .histogram, help: help, unit: "seconds")
    var errors = MetricFamily(
      name: prefix + "_errors", kind: .counter, help: "Failed calls traced by profile \(snapshot.profileName), by errno.")
    var time = MetricFamily(
      name: prefix + "_call_time_seconds", kind: .counter,
      help: "Time inside calls traced by profile \(snapshot.profileName), by where it went (--off-cpu).", unit: "seconds")
    var locks = LockWaitFamilies(prefix: prefix, profileName: snapshot.profileName)
    latency.samples.reserveCapacity(snapshot.series.count * (buckets.bounds.count + 4))
    for (index, series) in snapshot.series.enumerated() {
      var pairs = series.keyLabels(keyLabel).map { (name: Labels.metricName($0.name), value: $0.value) }
      if let outcome = series.outcome { pairs.append(("outcome", outcome.name)) }
      let labels = Labels.render(pairs)
      let createdAt = MetricFamily.Value.number(created(index))
      let histogram = series.histogram
      var cumulative: UInt64 = 0
      var slot = 0
      for (lastSlot, le) in buckets.bounds {
        while slot <= lastSlot {
          cumulative &+= histogram.counts[slot]
          slot += 1
        }
        latency.add("_bucket", labels, le: le, .count(cumulative))
      }
      latency.add("_bucket", labels, le: "+Inf", .count(histogram.total))
      if let scale = histogram.layout.exponentialScale {
        let occupied = histogram.counts.indices.dropFirst().filter { histogram.counts[$0] > 0 }
        latency.nativeBuckets[labels] = NativeBuckets(
          schema: scale.schema, zeroCount: histogram.counts[0],
          buckets: occupied.map { NativeBuckets.Bucket(index: scale.index(ofSlot: $0), count: histogram.counts[$0]) })
      }
      if let sum = histogram.sumNanoseconds { latency.add("_sum", labels, .number(Double(sum) / 1e9)) }
      latency.add("_count", labels, .count(histogram.total))
      latency.add("_created", labels, createdAt)
      if let split = histogram.timeSplit, let sum = histogram.sumNanoseconds {
        for (state, ns) in [
          ("on_cpu", split.onCPUNanoseconds(ofSum: sum)), ("runnable", split.runnableNanoseconds), ("blocked", split.blockedNanoseconds),
        ] {
          let stateLabels = Labels.render(pairs + [("state", state)])
          time.add("_total", stateLabels, .number(Double(ns) / 1e9))
          time.add("_created", stateLabels, createdAt)
        }
      }
      locks.add(series.lockWaits, pairs, created: createdAt)
      for failure in series.failures {
        let errorLabels = Labels.render(series.keyLabels(keyLabel).map { (Labels.metricName($0.name), $0.value) } + [("errno", failure.name)])
        errors.add("_total", errorLabels, .count(failure.count))
        errors.add("_created", errorLabels, createdAt)
      }
    }
    locks.add(snapshot.lockWaits, [], created: .number(snapshot.since))
    return [latency] + [errors, time, locks.time, locks.waits].filter { !$0.samples.isEmpty }
  }

  /// --off-cpu on Linux 5.19+: the time calls waited for locks and how many waits, by the lock's
  /// kind, under each key's labels (or none: keys found at exit, whose calls share them).
  struct LockWaitFamilies {
    var time, waits: MetricFamily

    init(prefix: String, profileName: String) {
      time = MetricFamily(
        name: prefix + "_lock_wait_seconds", kind: .counter,
        help: "Time calls traced by profile \(profileName) waited for locks, by the lock's kind (--off-cpu, Linux 5.19 and later).",
        unit: "seconds")
      waits = MetricFamily(
        name: prefix + "_lock_waits", kind: .counter,
        help: "Waits for locks in calls traced by profile \(profileName), by the lock's kind (--off-cpu, Linux 5.19 and later).")
    }

    mutating func add(_ kinds: [NamedWaitSite], _ pairs: [(name: String, value: String)], created: MetricFamily.Value) {
      for kind in kinds {
        let labels = Labels.render(pairs + [("kind", kind.site)])
        time.add("_total", labels, .number(Double(kind.totals.nanoseconds) / 1e9))
        time.add("_created", labels, created)
        waits.add("_total", labels, .count(kind.totals.count))
        waits.add("_created", labels, created)
      }
    }
  }

  /// What became of every call since the start (the accounting line's figures), the calls in
  /// flight, and the most threads inside the call at once: `serve`'s families beside the
  /// latency, each labelled by what it counts.
  public func accountingFamilies(_ snapshot: Snapshot, overflowCalls: UInt64, since: Double) -> [MetricFamily] {
    let prefix = Labels.metricName(snapshot.profileName)
    let profile = snapshot.profileName
    let accounting = snapshot.accounting
    let created = MetricFamily.Value.number(since)
    func counter(_ name: String, _ help: String, _ values: [(String, UInt64)], label: String = "reason") -> MetricFamily {
      var family = MetricFamily(name: prefix + name, kind: .counter, help: help)
      for (value, count) in values {
        let labels = value.isEmpty ? "" : Labels.render([(label, value)])
        family.add("_total", labels, .count(count))
        family.add("_created", labels, created)
      }
      return family
    }
    var families = [
      counter("_calls_counted", "Calls counted in profile \(profile)'s histograms.", [("", accounting.counted)]),
      counter(
        "_calls_dropped", "Calls of profile \(profile) not counted, by why.",
        [
          ("key_out_of_range", accounting.keyOutOfRange), ("map_full", accounting.mapFull),
          ("map_busy", accounting.mapBusy), ("dispatch_failed", accounting.dispatchFailed),
        ]),
      counter(
        "_calls_not_counted", "Calls of profile \(profile) not timed to their end (or not traced), by why.",
        [
          ("abandoned", accounting.abandoned), ("replaced", accounting.replaced), ("mismatched", accounting.mismatched),
          ("no_storage", accounting.noStorage), ("compat", accounting.compat),
        ]),
      // events, not calls: a call an entry's skipped run lost is in no figure, one an exit's
      // skipped run or a kretprobe's missed return lost is among the returns not seen above
      counter(
        "_program_runs_skipped",
        "Runs of profile \(profile)'s entry, exit and bucket programs the kernel skipped (recursion).",
        [("", accounting.kernelSkipped)]),
      counter(
        "_returns_missed", "Returns profile \(profile)'s kretprobe missed (more calls in flight than it tracks).",
        [("", accounting.returnsMissed)]),
      counter(
        "_series_overflow_calls",
        "Calls of profile \(profile) counted in its '(over max_series)' series: the series limit was reached.",
        [("", overflowCalls)]),
    ]
    if snapshot.series.contains(where: { $0.histogram.timeSplit != nil }) {  // --off-cpu's own, events too
      families.append(
        counter(
          "_switches_unseen", "Context switches of profile \(profile)'s traced threads its hook missed (their time off CPU rebuilt).",
          [("", accounting.switchesUnseen)]))
      families.append(
        counter(
          "_wait_sites_lost", "Blocked stretches and lock waits of profile \(profile)'s calls no wait site kept (its map full or busy).",
          [("", accounting.waitSitesLost)]))
    }
    var inFlight = MetricFamily(name: prefix + "_calls_in_flight", kind: .gauge, help: "Calls of profile \(profile) running now.")
    inFlight.add("", "", .count(accounting.inFlight))
    families.append(inFlight)
    let keyLabel = Labels.metricName(snapshot.keyLabel)
    var concurrency = MetricFamily(
      name: prefix + "_max_concurrent", kind: .gauge,
      help: "The most threads inside a call of profile \(profile) at once, since the start.")
    for series in snapshot.series where series.outcome == nil || series.outcome == .ok {
      if let most = series.maxConcurrent {
        concurrency.add("", Labels.render(series.keyLabels(keyLabel).map { (Labels.metricName($0.name), $0.value) }), .count(most))
      }
    }
    if let most = snapshot.maxConcurrent { concurrency.add("", "", .count(most)) }
    if !concurrency.samples.isEmpty { families.append(concurrency) }
    return families
  }
}

/// A layout's fixed buckets, as `le` labels: for each, its last slot and its upper bound in
/// seconds (exclusive of the bucket: the next one's start). Every closed slot starting within
/// `OpenMetricsRenderer.horizonSeconds` and inside `range`, so a profile always exports the same
/// set. Computed once per profile: a scrape only adds counts.
public struct BucketSet: Sendable {
  public let bounds: [(lastSlot: Int, le: String)]

  /// `range`: the bounds (in seconds) to export, others folded into the next bucket up.
  public init(_ layout: BucketLayout, unit: TimeUnit, range: ClosedRange<Double>? = nil) {
    if let scale = layout.exponentialScale {
      bounds = Self.powersOfTwo(scale, range: range)
      return
    }
    let horizon = OpenMetricsRenderer.horizonSeconds * 1e9 / Double(unit.nanoseconds)
    var bounds: [(Int, String)] = []
    for slot in 0..<layout.slotCount {
      if case .linear(0, _, _) = layout, slot == 0 { continue }  // below 0: no value lands there
      let (low, high) = layout.bounds(ofSlot: slot)
      guard let high, high < .max, Double(low) < horizon else { break }
      let le = Self.seconds(nanoseconds: (UInt128(high) + 1) * UInt128(unit.nanoseconds))
      if let range, !range.contains(le) {
        if le > range.upperBound { break }
        continue
      }
      bounds.append((slot, ExpositionRenderer.number(le)))
    }
    self.bounds = bounds
  }

  /// Exponential buckets as classic ones: a bound at each power of two of seconds (every bucket
  /// below schema 0), exact since those are bucket bounds too, up to the horizon.
  static func powersOfTwo(_ scale: ExponentialScale, range: ClosedRange<Double>?) -> [(lastSlot: Int, le: String)] {
    let perBound = 1 << max(0, scale.schema)
    return (1..<scale.slotCount).compactMap { slot in
      let index = scale.index(ofSlot: slot)
      guard index % perBound == 0 else { return nil }
      let le = scale.upperSeconds(ofIndex: index)
      guard le < OpenMetricsRenderer.horizonSeconds, range?.contains(le) ?? true else { return nil }
      return (slot, ExpositionRenderer.number(le))
    }
  }

  /// The double nearest to a whole number of nanoseconds in seconds, whose shortest form is then
  /// the decimal itself (15000 ns: 1.5e-05, where 15 * 1e-6 gives 1.4999999999999999e-05).
  static func seconds(nanoseconds: UInt128) -> Double {
    Double("\(nanoseconds)e-9")!
  }
}

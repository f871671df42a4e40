import Histograms
import Profiles

/// One histogram's identity in the kernel's maps.
public struct CountKey: Hashable, Sendable, Comparable {
  public var raw: UInt64
  /// A key that is a name, not a number (comm).
  public var text: String?
  /// With split outcomes: the errno the calls ended with, 0 for success.
  public var outcome: UInt32?

  public init(raw: UInt64, text: String?, outcome: UInt32?) {
    self.raw = raw
    self.text = text
    self.outcome = outcome
  }

  public static func < (a: CountKey, b: CountKey) -> Bool {
    if a.text != b.text { return (a.text ?? "") < (b.text ?? "") }
    if a.raw != b.raw { return a.raw < b.raw }
    return (a.outcome ?? 0) < (b.outcome ?? 0)  // ok (0) first
  }
}

/// Failed calls of one key with one errno.
public struct FailureKey: Hashable, Sendable {
  public var raw: UInt64
  public var text: String?
  public var errno: UInt32

  public init(raw: UInt64, text: String?, errno: UInt32) {
    self.raw = raw
    self.text = text
    self.errno = errno
  }
}

/// One series as the kernel keeps it: a count per slot and the latency sum.
public struct SeriesCounts: Equatable, Sendable {
  public var buckets: [UInt64]
  public var sumNanoseconds: UInt64

  public init(buckets: [UInt64], sumNanoseconds: UInt64) {
    self.buckets = buckets
    self.sumNanoseconds = sumNanoseconds
  }

  /// Sums the per-CPU copies of one dense-map element: for each CPU, `slots` counters and then
  /// the latency sum, as the kernel lays them out.
  public init(perCPU words: UnsafeBufferPointer<UInt64>, cpus: Int, slots: Int) {
    buckets = [UInt64](repeating: 0, count: slots)
    sumNanoseconds = 0
    for cpu in 0..<cpus {
      let base = cpu * (slots + 1)
      for slot in 0..<slots { buckets[slot] &+= words[base + slot] }
      sumNanoseconds &+= words[base + slots]
    }
  }
}

/// Raw counts as read from the kernel, cumulative since attach.
public struct Counts: Equatable, Sendable {
  public var histograms: [CountKey: SeriesCounts] = [:]
  public var keyOutOfRange: UInt64 = 0
  public var mapFull: UInt64 = 0
  public var dispatchFailed: UInt64 = 0
  /// Failed calls per key and errno.
  public var failures: [FailureKey: UInt64] = [:]
  /// The most threads inside the call at once since attach, per raw key (`--concurrency`).
  public var maxConcurrent: [UInt64: UInt64] = [:]
  /// The same for the whole probe, when keys are not known at entry.
  public var maxConcurrentOverall: UInt64?

  public init() {}

  /// What was counted after `earlier`: an interval, without clearing the kernel's maps (so no
  /// call that lands between a read and a clear is lost).
  public func subtracting(_ earlier: Counts) -> Counts {
    var result = Counts()
    for (key, series) in histograms {
      let before = earlier.histograms[key]
      let delta = series.buckets.enumerated().map { $0.element &- (before?.buckets[$0.offset] ?? 0) }
      if delta.contains(where: { $0 > 0 }) {
        result.histograms[key] = SeriesCounts(
          buckets: delta, sumNanoseconds: series.sumNanoseconds &- (before?.sumNanoseconds ?? 0))
      }
    }
    result.keyOutOfRange = keyOutOfRange &- earlier.keyOutOfRange
    result.mapFull = mapFull &- earlier.mapFull
    result.dispatchFailed = dispatchFailed &- earlier.dispatchFailed
    for (key, count) in failures where count > earlier.failures[key] ?? 0 {
      result.failures[key] = count &- (earlier.failures[key] ?? 0)
    }
    // a maximum cannot be split into intervals: it stays the most since attach
    result.maxConcurrent = maxConcurrent
    result.maxConcurrentOverall = maxConcurrentOverall
    return result
  }

  static func errnoName(_ errno: UInt32) -> String {
    KernelNames.errnos[Int(errno)] ?? KernelNames.kernelInternalErrnos[Int(errno)] ?? "errno \(errno)"
  }

  /// The snapshot users read: keys decoded, titles filled in, sorted by key.
  public func snapshot(
    profile: Profile, decoder: KeyDecoder, timestamp: Double
  ) -> Snapshot {
    let series = histograms.keys.sorted().map { key -> Series in
      let name = key.text ?? decoder.name(for: key.raw)
      let raw = key.text == nil ? String(key.raw) : name
      var title = profile.title(forKey: name, raw: raw)
      let outcome = key.outcome.map { $0 == 0 ? Outcome.ok : Outcome(Self.errnoName($0)) }
      if let outcome { title += " outcome(\(outcome.name))" }
      // split outcomes already show each errno; otherwise the key's failures go under it
      let errnos = key.outcome != nil ? [] : failures.filter { $0.key.raw == key.raw && $0.key.text == key.text }
        .map { (name: Self.errnoName($0.key.errno), count: $0.value) }
        .sorted { $0.count == $1.count ? $0.name < $1.name : $0.count > $1.count }
      return Series(
        rawKey: key.text == nil ? key.raw : nil, keyName: name, outcome: outcome,
        title: title, maxConcurrent: key.text == nil ? maxConcurrent[key.raw] : nil, failures: errnos,
        histogram: Histogram(
          layout: profile.layout, counts: histograms[key]!.buckets,
          sumNanoseconds: histograms[key]!.sumNanoseconds))
    }
    let counted = series.reduce(UInt64(0)) { $0 &+ $1.histogram.total }
    return Snapshot(
      profileName: profile.name, keyLabel: profile.keyLabel, unit: profile.unit,
      layout: profile.layout, series: series,
      accounting: Accounting(
        counted: counted, keyOutOfRange: keyOutOfRange, mapFull: mapFull,
        dispatchFailed: dispatchFailed),
      timestamp: timestamp, maxConcurrent: maxConcurrentOverall)
  }
}

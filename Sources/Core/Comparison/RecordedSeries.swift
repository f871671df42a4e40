import Histograms

/// One series of a recording, over all its prints: bucket counts by their bounds in ns (a bucket
/// with no upper bound is open), the exact count, sum, min and max, and failed calls.
public struct RecordedSeries: Equatable, Sendable {
  /// Upper bound exclusive, nil when open (the overflow bucket).
  public struct Bucket: Hashable, Comparable, Sendable {
    public var low: UInt64
    public var high: UInt64?

    public static func < (a: Bucket, b: Bucket) -> Bool { a.low < b.low }

    public init(low: UInt64, high: UInt64?) {
      (self.low, self.high) = (low, high)
    }

    /// A printed bucket in ns: a unit's bucket [low, high] holds every ns value up to the next
    /// unit's start; an exponential one says its whole ns. One that ends at the last ns there is
    /// is open; nil for one that ends before it starts or starts past 2^64 - 1 ns.
    init?(_ printed: Recording.PrintedBucket, scale: UInt64) {
      let (low, lowOverflow) = printed.low_ns.map { ($0, false) } ?? (printed.low ?? 0).multipliedReportingOverflow(by: scale)
      let last: UInt64?? = printed.low_ns != nil ? printed.high_ns.map { .some($0) } : printed.high.map { high in
        let (end, overflow) = (high &+ 1).multipliedReportingOverflow(by: scale)
        return overflow || high == .max ? nil : end - 1
      }
      guard !lowOverflow else { return nil }
      switch last {
      case .none, .some(.none): self.init(low: low, high: nil)
      case .some(.some(let end)):
        guard end >= low else { return nil }
        self.init(low: low, high: end == .max ? nil : end + 1)
      }
    }
  }

  /// The series' heading as the run printed it: `syscall(clock_nanosleep)`.
  public var title = ""
  public var buckets: [Bucket: UInt64] = [:]
  public var count: UInt64 = 0
  /// nil once any print had no sum.
  public var sumNanoseconds: UInt64? = 0
  public var minNanoseconds: UInt64?
  public var maxNanoseconds: UInt64?
  public var errors: UInt64 = 0
  /// With --off-cpu: the calls' time on CPU, waiting for a CPU and blocked (nil without).
  public var timeSplit: TimeSplitTotals?
  /// With --off-cpu: where the calls blocked, by site (kernel frames, innermost first).
  public var waitSites: [String: WaitSiteTotals] = [:]
  /// With --off-cpu on Linux 5.19+: the time the calls waited for locks, by kind.
  public var lockWaits: [String: WaitSiteTotals] = [:]

  public struct TimeSplitTotals: Equatable, Sendable {
    public var onCPUNanoseconds: UInt64 = 0
    public var runnableNanoseconds: UInt64 = 0
    public var blockedNanoseconds: UInt64 = 0
  }

  public struct WaitSiteTotals: Equatable, Sendable {
    public var blockedNanoseconds: UInt64 = 0
    public var count: UInt64 = 0
  }

  /// One print's series, its buckets read already.
  mutating func add(_ printed: Recording.PrintedHistogram, buckets read: [(Bucket, UInt64)]) {
    title = printed.title
    for (bucket, count) in read {
      buckets[bucket, default: 0] &+= count
    }
    count &+= printed.count
    sumNanoseconds = sumNanoseconds.flatMap { sum in printed.sum_ns.map { sum &+ $0 } }
    minNanoseconds = [minNanoseconds, printed.min_ns].compactMap { $0 }.min()
    maxNanoseconds = [maxNanoseconds, printed.max_ns].compactMap { $0 }.max()
    errors &+= printed.errors.values.reduce(0, &+)
    if let onCPU = printed.on_cpu_ns, let runnable = printed.runnable_ns, let blocked = printed.blocked_ns {
      var split = timeSplit ?? TimeSplitTotals()
      split.onCPUNanoseconds &+= onCPU
      split.runnableNanoseconds &+= runnable
      split.blockedNanoseconds &+= blocked
      timeSplit = split
    }
    for wait in printed.lock_waits ?? [] {
      lockWaits[wait.kind, default: WaitSiteTotals()].blockedNanoseconds &+= wait.ns
      lockWaits[wait.kind, default: WaitSiteTotals()].count &+= wait.count
    }
    for site in printed.wait_sites ?? [] {
      waitSites[site.site, default: WaitSiteTotals()].blockedNanoseconds &+= site.blocked_ns
      waitSites[site.site, default: WaitSiteTotals()].count &+= site.count
    }
  }

  /// Failed calls over all calls; nil without calls.
  public var errorRate: Double? { count == 0 ? nil : Double(errors) / Double(count) }

  /// Where the `fraction` percentile (by nearest rank) surely lies, in ns: its bucket, cut to
  /// the exact min and max. nil without calls.
  public func percentile(_ fraction: Double) -> ClosedRange<UInt64>? {
    guard count > 0 else { return nil }
    let rank = max(1, UInt64((fraction * Double(count)).rounded(.up)))
    var seen: UInt64 = 0
    for bucket in buckets.keys.sorted() {
      seen &+= buckets[bucket]!
      guard seen >= rank else { continue }
      var low = bucket.low, high = bucket.high.map { $0 - 1 } ?? .max
      if let minimum = minNanoseconds { low = max(low, min(minimum, high)) }
      if let maximum = maxNanoseconds { high = min(high, max(maximum, low)) }
      return low...high
    }
    return nil
  }
}

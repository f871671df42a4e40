import CSyscallDist
import Histograms

/// A histogram key as the kernel gave it: a number, or a name (a task's comm; the syscall
/// numbers no kernel has, counted together as "invalid"); what an fd named; or the parts of a key
/// of several, each one of those.
public enum Key: Hashable, Sendable, Comparable {
  case number(UInt64)
  case name(String)
  case fd(FDObject)
  case parts([Key])

  /// Numbers first, in order, then names, fds by id, and keys of parts part by part.
  public static func < (a: Key, b: Key) -> Bool {
    switch (a, b) {
    case (.number(let x), .number(let y)): return x < y
    case (.name(let x), .name(let y)): return x < y
    case (.fd(let x), .fd(let y)): return (x.kind, x.id, x.name, x.type) < (y.kind, y.id, y.name, y.type)
    case (.parts(let x), .parts(let y)): return x.lexicographicallyPrecedes(y)
    default: return a.rank < b.rank
    }
  }

  private var rank: Int {
    switch self {
    case .number: return 0
    case .name: return 1
    case .fd: return 2
    case .parts: return 3
    }
  }
}

/// One histogram's identity: its key and, with split outcomes, the errno its calls ended with
/// (0 for success).
public struct CountKey: Hashable, Sendable, Comparable {
  public var key: Key
  public var outcome: UInt32?

  public init(_ key: Key, outcome: UInt32? = nil) {
    self.key = key
    self.outcome = outcome
  }

  public static func < (a: CountKey, b: CountKey) -> Bool {
    a.key != b.key ? a.key < b.key : (a.outcome ?? 0) < (b.outcome ?? 0)  // ok (0) first
  }
}

/// Failed calls of one key with one errno.
public struct FailureKey: Hashable, Sendable {
  public var key: Key
  public var errno: UInt32

  public init(_ key: Key, errno: UInt32) {
    self.key = key
    self.errno = errno
  }
}

/// One series as the kernel keeps it: a count per slot, the latency sum, the smallest and the
/// largest latency, and with --off-cpu where the time went.
public struct SeriesCounts: Equatable, Sendable {
  public var buckets: [UInt64]
  /// 128 bits: a window's sum fits 64 (the kernel's word), a run's since the start may not.
  public var sumNanoseconds: UInt128
  public var minNanoseconds: UInt64?
  public var maxNanoseconds: UInt64?
  public var timeSplit: TimeSplit?

  public init(
    buckets: [UInt64], sumNanoseconds: UInt128, minNanoseconds: UInt64? = nil, maxNanoseconds: UInt64? = nil,
    timeSplit: TimeSplit? = nil
  ) {
    self.buckets = buckets
    self.sumNanoseconds = sumNanoseconds
    self.minNanoseconds = minNanoseconds
    self.maxNanoseconds = maxNanoseconds
    self.timeSplit = timeSplit
  }

  /// Sums the copies of one series in `words` (as many as `words` holds): each is `slots`
  /// counters, then the sum, the largest and the smallest inverted (`SD_SERIES_EXTRA_WORDS`),
  /// and with `timeSplit` the ns blocked and waiting for a CPU (`SD_SPLIT_WORDS`), as the kernel
  /// lays them out. Nil when no copy counted anything.
  public init?(copies words: UnsafeBufferPointer<UInt64>, slots: Int, timeSplit: Bool = false) {
    let extra = Int(SD_SERIES_EXTRA_WORDS.rawValue)
    let wordsPerCopy = slots + extra + (timeSplit ? TimeSplit.kernelWords : 0)
    var merged: SeriesCounts?
    for base in stride(from: 0, to: words.count - wordsPerCopy + 1, by: wordsPerCopy) {
      let counters = Array(words[base..<base + slots])
      guard counters.contains(where: { $0 > 0 }) else { continue }
      let split = timeSplit
        ? TimeSplit(
          blockedNanoseconds: UInt128(words[base + slots + extra]), runnableNanoseconds: UInt128(words[base + slots + extra + 1]))
        : nil
      let copy = SeriesCounts(
        buckets: counters, sumNanoseconds: UInt128(words[base + slots]), minNanoseconds: ~words[base + slots + 2],
        maxNanoseconds: words[base + slots + 1], timeSplit: split)
      merged = merged.map { $0.merging(copy) } ?? copy
    }
    guard let merged else { return nil }
    self = merged
  }

  /// Both together: counts and sums added, the smaller minimum and the larger maximum.
  public func merging(_ other: SeriesCounts) -> SeriesCounts {
    var result = self
    for index in result.buckets.indices { result.buckets[index] &+= other.buckets[index] }
    result.sumNanoseconds &+= other.sumNanoseconds
    result.minNanoseconds = [minNanoseconds, other.minNanoseconds].compactMap { $0 }.min()
    result.maxNanoseconds = [maxNanoseconds, other.maxNanoseconds].compactMap { $0 }.max()
    if let split = other.timeSplit { result.timeSplit = timeSplit.map { $0.adding(split) } ?? split }
    return result
  }
}

/// The kernel's per-call counters (`enum sd_stat`), summed over CPUs.
public struct CallStats: Equatable, Sendable {
  public var values: [UInt64]

  public init(values: [UInt64] = Array(repeating: 0, count: Int(sd_stat.SD_STAT_COUNT.rawValue))) {
    self.values = values
  }

  public subscript(_ stat: sd_stat) -> UInt64 {
    get { values[Int(stat.rawValue)] }
    set { values[Int(stat.rawValue)] = newValue }
  }

  /// Calls started and not yet ended by any means: in flight.
  public var inFlight: UInt64 {
    let ended = self[.SD_STAT_FINISHED] &+ self[.SD_STAT_REPLACED] &+ self[.SD_STAT_ABANDONED] &+ self[.SD_STAT_MISMATCHED]
    return self[.SD_STAT_STARTED] >= ended ? self[.SD_STAT_STARTED] - ended : 0
  }

  public func adding(_ other: CallStats) -> CallStats {
    CallStats(values: zip(values, other.values).map { $0 &+ $1 })
  }

  public func subtracting(_ other: CallStats) -> CallStats {
    CallStats(values: zip(values, other.values).map { $0 &- $1 })
  }
}

/// What the kernel counted over some span (one read's worth, or the sum of several).
public struct Counts: Equatable, Sendable {
  public var histograms: [CountKey: SeriesCounts] = [:]
  /// Failed calls per key and errno.
  public var failures: [FailureKey: UInt64] = [:]
  public var stats = CallStats()
  /// Runs of the tool's programs the kernel skipped (`recursion_misses`).
  public var kernelSkipped: UInt64 = 0
  /// Returns a kretprobe missed: more calls were in flight than it tracks.
  public var returnsMissed: UInt64 = 0
  /// The most threads inside the call at once since attach, per raw key (`--concurrency`); a
  /// maximum cannot be split into spans, so this is always since attach.
  public var maxConcurrent: [UInt64: UInt64] = [:]
  /// The same for the whole probe, when keys are not known at entry.
  public var maxConcurrentOverall: UInt64?
  /// --off-cpu: blocked time by wait site over the span.
  public var waitSites: [WaitSiteKey: WaitTotals] = [:]

  public init() {}

  /// Adds a later span: counts and counters add up, maxima are the later (since attach) ones.
  public mutating func merge(_ later: Counts) {
    histograms.merge(later.histograms) { $0.merging($1) }
    failures.merge(later.failures, uniquingKeysWith: &+)
    stats = stats.adding(later.stats)
    kernelSkipped &+= later.kernelSkipped
    returnsMissed &+= later.returnsMissed
    maxConcurrent = later.maxConcurrent
    maxConcurrentOverall = later.maxConcurrentOverall
    waitSites.merge(later.waitSites) { $0.adding($1) }
  }

  /// Every call of the span, counted or not and why; `inFlight`: the calls running at its end.
  public func accounting(inFlight: UInt64) -> Accounting {
    var accounting = Accounting(
      counted: histograms.values.reduce(0) { $0 &+ $1.buckets.reduce(0, &+) },
      keyOutOfRange: stats[.SD_STAT_KEY_RANGE], mapFull: stats[.SD_STAT_MAP_FULL],
      dispatchFailed: stats[.SD_STAT_DISPATCH], inFlight: inFlight, abandoned: stats[.SD_STAT_ABANDONED])
    accounting.mapBusy = stats[.SD_STAT_MAP_BUSY]
    accounting.replaced = stats[.SD_STAT_REPLACED]
    accounting.mismatched = stats[.SD_STAT_MISMATCHED]
    accounting.noStorage = stats[.SD_STAT_NO_STORAGE]
    accounting.compat = stats[.SD_STAT_COMPAT]
    accounting.errorsNotItemized = stats[.SD_STAT_ERRORS_FULL]
    accounting.extremesLost = stats[.SD_STAT_EXTREME_LOST]
    accounting.switchesUnseen = stats[.SD_STAT_SWITCH_UNSEEN]
    accounting.waitSitesLost = stats[.SD_STAT_WAIT_LOST]
    accounting.keyReadsFailed = stats[.SD_STAT_KEY_READ_FAULT]
    accounting.kernelSkipped = kernelSkipped
    accounting.returnsMissed = returnsMissed
    accounting.slowCalls = stats[.SD_STAT_SLOW]
    accounting.slowCallsDropped = stats[.SD_STAT_SLOW_DROPPED]
    return accounting
  }
}

import Histograms

/// How the calls of a series ended, when outcomes are split: `ok`, or an errno's name.
public struct Outcome: Hashable, Sendable {
  public var name: String

  public init(_ name: String) {
    self.name = name
  }

  public static let ok = Outcome("ok")
}

/// A key's number as the profile reads it: return values are signed, everything else unsigned.
public enum KeyNumber: Equatable, Sendable, CustomStringConvertible {
  case unsigned(UInt64)
  case signed(Int64)

  public var description: String {
    switch self {
    case .unsigned(let value): return String(value)
    case .signed(let value): return String(value)
    }
  }
}

/// One histogram of a print: the calls of one key (and, with outcome split, one outcome).
public struct Series: Equatable, Sendable {
  public static func == (a: Series, b: Series) -> Bool {
    a.rawKey == b.rawKey && a.keyName == b.keyName && a.outcome == b.outcome && a.title == b.title
      && a.maxConcurrent == b.maxConcurrent && a.histogram == b.histogram && a.waitSites == b.waitSites
      && a.lockWaits == b.lockWaits && a.keyParts == b.keyParts
      && a.failures.elementsEqual(b.failures) { $0.name == $1.name && $0.count == $1.count }
  }

  /// The key as a number, when it is one (a bpf cmd, a syscall number, a pid, a return value).
  public var rawKey: KeyNumber?
  /// The key as users read it: a decoded name, else the number; a key of parts' is
  /// `label(name)` for each part, side by side.
  public var keyName: String
  /// A key of parts: each part, for the labels of OpenMetrics, OTLP and JSON; empty for one part.
  public var keyParts: [KeyPartName] = []
  public var outcome: Outcome?
  /// The heading the text output prints, already formatted from the profile's title.
  public var title: String
  /// The most threads that were inside the call at once, with this key (`--concurrency`).
  public var maxConcurrent: UInt64?
  /// Failed calls of this series by errno name, most first.
  public var failures: [(name: String, count: UInt64)]
  public var histogram: Histogram
  /// --off-cpu, keys known at entry: where this key's calls blocked, longest first.
  public var waitSites: [NamedWaitSite] = []
  /// --off-cpu on Linux 5.19+: the time its calls waited for locks, by the lock's kind
  /// (`mutex`, `rwsem:W`, ...), longest first.
  public var lockWaits: [NamedWaitSite] = []

  public init(
    rawKey: KeyNumber?, keyName: String, outcome: Outcome? = nil, title: String,
    maxConcurrent: UInt64? = nil, failures: [(name: String, count: UInt64)] = [], histogram: Histogram
  ) {
    self.maxConcurrent = maxConcurrent
    self.failures = failures
    self.rawKey = rawKey
    self.keyName = keyName
    self.outcome = outcome
    self.title = title
    self.histogram = histogram
  }
}

extension Series {
  /// The labels that name the series: the key's (`keyLabel` and its name), or each part's.
  public func keyLabels(_ keyLabel: String) -> [(name: String, value: String)] {
    keyParts.isEmpty ? [(keyLabel, keyName)] : keyParts.map { ($0.label, $0.name) }
  }
}

/// Every call the probe saw, and what became of it, so a user knows when the numbers are
/// incomplete. A call is counted once or left out once, for one reason.
public struct Accounting: Equatable, Sendable {
  /// Calls counted in some histogram.
  public var counted: UInt64 = 0
  /// Calls not counted because their key was beyond the profile's key range.
  public var keyOutOfRange: UInt64 = 0
  /// Calls not counted because the sparse histogram map was full.
  public var mapFull: UInt64 = 0
  /// Calls not counted because the sparse histogram map was busy: a BPF program that the tool's
  /// interrupted on the CPU held the lock of the bucket.
  public var mapBusy: UInt64 = 0
  /// Calls not counted because the bucket step was missing (a bug, never expected).
  public var dispatchFailed: UInt64 = 0

  /// Calls still running at the print (their threads are blocked in them).
  public var inFlight: UInt64 = 0
  /// Calls whose threads exited inside them (exit, exit_group, a fatal signal): never finished.
  public var abandoned: UInt64 = 0
  /// Calls whose thread entered the probe again before they returned (a re-entered kernel
  /// function, or an exit the kernel did not run the tool for): their return was never seen.
  public var replaced: UInt64 = 0
  /// Calls whose thread's next exit was of another syscall: their own exit was never seen.
  public var mismatched: UInt64 = 0
  /// Calls not timed: the kernel had no per-thread storage for them (out of memory, or busy).
  public var noStorage: UInt64 = 0
  /// Calls of 32-bit callers (ia32 on x86_64, AArch32 on arm64), not traced: their syscall
  /// numbers belong to another table.
  public var compat: UInt64 = 0

  /// Failed calls counted, but whose errno is not itemized (the errors map was full).
  public var errorsNotItemized: UInt64 = 0
  /// Raises of a largest, smallest or most-at-once value that other CPUs kept beating to it
  /// (`SD_RAISE_TRIES` compare-and-swaps): those figures may be low by the calls they missed.
  public var extremesLost: UInt64 = 0
  /// Slow-call mode: a traced thread's leaving or return to a CPU the sched_switch hook missed;
  /// its time off CPU was rebuilt from the scheduler's runtime (man page, BUGS).
  public var switchesUnseen: UInt64 = 0
  /// --off-cpu: blocked stretches whose wait site the kernel could not keep (its map full or
  /// busy): their time is in the split, not under a site.
  public var waitSitesLost: UInt64 = 0
  /// Key parts' reads of user memory that faulted (the pointer was bad), one per part: those
  /// calls are counted with that part 0, or for a part that names an fd, `unreadable`.
  public var keyReadsFailed: UInt64 = 0
  /// Runs of the tool's programs the kernel skipped (recursion protection): those calls are
  /// missing from every figure above.
  public var kernelSkipped: UInt64 = 0
  /// Returns a kretprobe missed (more calls in flight than it tracks): those calls show as not
  /// counted, their return unseen.
  public var returnsMissed: UInt64 = 0

  /// Calls at or above the slow-call threshold (--slower-than), each reported as it ended...
  public var slowCalls: UInt64 = 0
  /// ... but for these, which found the ring buffer full: not shown, counted in the histograms.
  public var slowCallsDropped: UInt64 = 0

  public init(
    counted: UInt64 = 0, keyOutOfRange: UInt64 = 0, mapFull: UInt64 = 0, dispatchFailed: UInt64 = 0,
    inFlight: UInt64 = 0, abandoned: UInt64 = 0
  ) {
    self.counted = counted
    self.keyOutOfRange = keyOutOfRange
    self.mapFull = mapFull
    self.dispatchFailed = dispatchFailed
    self.inFlight = inFlight
    self.abandoned = abandoned
  }

  public var dropped: UInt64 { keyOutOfRange &+ mapFull &+ mapBusy &+ dispatchFailed }

  /// Both spans together: every figure adds up, but calls in flight, which are a state, not a
  /// count, are the later span's.
  public func adding(_ later: Accounting) -> Accounting {
    var sum = later
    sum.counted &+= counted
    sum.keyOutOfRange &+= keyOutOfRange
    sum.mapFull &+= mapFull
    sum.mapBusy &+= mapBusy
    sum.dispatchFailed &+= dispatchFailed
    sum.abandoned &+= abandoned
    sum.replaced &+= replaced
    sum.mismatched &+= mismatched
    sum.noStorage &+= noStorage
    sum.compat &+= compat
    sum.errorsNotItemized &+= errorsNotItemized
    sum.extremesLost &+= extremesLost
    sum.switchesUnseen &+= switchesUnseen
    sum.waitSitesLost &+= waitSitesLost
    sum.keyReadsFailed &+= keyReadsFailed
    sum.kernelSkipped &+= kernelSkipped
    sum.returnsMissed &+= returnsMissed
    sum.slowCalls &+= slowCalls
    sum.slowCallsDropped &+= slowCallsDropped
    return sum
  }
}

/// Everything one print shows: the histograms of an interval (or of the whole run).
public struct Snapshot: Equatable, Sendable {
  public var profileName: String
  /// The profile's `description`, for OpenMetrics' `# HELP`.
  public var profileDescription: String = ""
  /// The profile's `histogram.export`: the bucket bounds (seconds) to export.
  public var exportRange: ClosedRange<Double>?
  /// The profile's key label ("cmd", "syscall"), for JSON and OpenMetrics labels.
  public var keyLabel: String
  public var unit: TimeUnit
  public var layout: BucketLayout
  public var series: [Series]
  public var accounting: Accounting
  /// Wall-clock seconds since the epoch when the snapshot was taken.
  public var timestamp: Double
  /// Wall-clock seconds since the epoch when the counts began: the run's start for counts since
  /// start (OpenMetrics' `_created`).
  public var since: Double
  /// The most threads inside the traced call at once, for the whole probe (`--concurrency`,
  /// when the key is not known at entry).
  public var maxConcurrent: UInt64?
  /// With --cost: what the tool's programs cost, since they were loaded.
  public var cost: ToolCost?
  /// --off-cpu, keys found only at exit: where all the probe's calls blocked, longest first.
  public var waitSites: [NamedWaitSite] = []
  /// The same for the time they waited for locks, by kind.
  public var lockWaits: [NamedWaitSite] = []

  public init(
    profileName: String, keyLabel: String, unit: TimeUnit, layout: BucketLayout,
    series: [Series], accounting: Accounting, timestamp: Double, since: Double = 0, maxConcurrent: UInt64? = nil
  ) {
    self.since = since
    self.maxConcurrent = maxConcurrent
    self.profileName = profileName
    self.keyLabel = keyLabel
    self.unit = unit
    self.layout = layout
    self.series = series
    self.accounting = accounting
    self.timestamp = timestamp
  }
}

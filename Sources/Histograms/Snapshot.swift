/// How the calls of a series ended, when outcomes are split: `ok`, or an errno's name.
public struct Outcome: Hashable, Sendable {
  public var name: String

  public init(_ name: String) {
    self.name = name
  }

  public static let ok = Outcome("ok")
}

/// One histogram of a print: the calls of one key (and, with outcome split, one outcome).
public struct Series: Equatable, Sendable {
  public static func == (a: Series, b: Series) -> Bool {
    a.rawKey == b.rawKey && a.keyName == b.keyName && a.outcome == b.outcome && a.title == b.title
      && a.maxConcurrent == b.maxConcurrent && a.histogram == b.histogram
      && a.failures.elementsEqual(b.failures) { $0.name == $1.name && $0.count == $1.count }
  }

  /// The key as a number, when it is one (a bpf cmd, a syscall number, a pid).
  public var rawKey: UInt64?
  /// The key as users read it: a decoded name, else the number.
  public var keyName: String
  public var outcome: Outcome?
  /// The heading the text output prints, already formatted from the profile's title.
  public var title: String
  /// The most threads that were inside the call at once, with this key (`--concurrency`).
  public var maxConcurrent: UInt64?
  /// Failed calls of this series by errno name, most first.
  public var failures: [(name: String, count: UInt64)]
  public var histogram: Histogram

  public init(
    rawKey: UInt64?, keyName: String, outcome: Outcome? = nil, title: String,
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

/// What was lost, so a user knows when the numbers are incomplete.
public struct Accounting: Equatable, Sendable {
  /// Calls counted in some histogram.
  public var counted: UInt64 = 0
  /// Calls not counted because their key was beyond the profile's key range.
  public var keyOutOfRange: UInt64 = 0
  /// Calls not counted because the sparse histogram map was full.
  public var mapFull: UInt64 = 0
  /// Calls not counted because the bucket step was missing (a bug, never expected).
  public var dispatchFailed: UInt64 = 0

  /// Calls still running when the run ended (their threads are blocked in them).
  public var inFlight: UInt64 = 0
  /// Calls whose threads exited inside them (exit_group, a fatal signal): never finished.
  public var abandoned: UInt64 = 0

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

  public var dropped: UInt64 { keyOutOfRange &+ mapFull &+ dispatchFailed }
}

/// Everything one print shows: the histograms of an interval (or of the whole run).
public struct Snapshot: Equatable, Sendable {
  public var profileName: String
  /// The profile's key label ("cmd", "syscall"), for JSON and OpenMetrics labels.
  public var keyLabel: String
  public var unit: TimeUnit
  public var layout: BucketLayout
  public var series: [Series]
  public var accounting: Accounting
  /// Wall-clock seconds since the epoch when the snapshot was taken.
  public var timestamp: Double
  /// The most threads inside the traced call at once, for the whole probe (`--concurrency`,
  /// when the key is not known at entry).
  public var maxConcurrent: UInt64?

  public init(
    profileName: String, keyLabel: String, unit: TimeUnit, layout: BucketLayout,
    series: [Series], accounting: Accounting, timestamp: Double, maxConcurrent: UInt64? = nil
  ) {
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

import BPFKit
import Containers
import Histograms
import Profiles

/// Which calls to report one by one as they end: those of at least `thresholdNanoseconds`.
public struct SlowCallOptions: Sendable, Equatable {
  public var thresholdNanoseconds: UInt64
  /// With each, the user stack where it ended and the kernel stack where it blocked longest.
  public var stacks: Bool
  /// The ring buffer's size: a power of two of pages; a full buffer drops records (counted).
  public var ringBufferBytes: Int

  /// Enough for a burst of about 8,000 slow calls between two reads.
  public static let defaultRingBufferBytes = 1 << 20
  /// Distinct stacks the kernel keeps for the run (about 4 MiB): a stack that finds its slot
  /// taken by another is lost, and said to be.
  public static let stackSlots = 4096

  public init(thresholdNanoseconds: UInt64, stacks: Bool = false, ringBufferBytes: Int = Self.defaultRingBufferBytes) {
    self.thresholdNanoseconds = thresholdNanoseconds
    self.stacks = stacks
    self.ringBufferBytes = ringBufferBytes
  }
}

/// Everything the tracer needs to configure the generic program.
public struct TraceRequest: Sendable {
  public var profile: Profile
  /// The profile's `btf_enum` as the running kernel has it (empty when absent).
  public var enumerators: [UInt64: String]
  public var filters: Filters
  /// A histogram per (key, ok / each errno) instead of per key.
  public var splitOutcome: Bool
  public var forcedMethod: ProbeMethod?
  /// How many keys and (key, errno) pairs the kernel's hashes hold per collection.
  public var limits: StorageLimits
  /// Count the threads inside the call and keep the most at once (two atomics per call).
  public var trackConcurrency: Bool
  /// Report each slow call as it ends (nil: none, and the program's path for it is pruned).
  public var slowCalls: SlowCallOptions?
  /// Turn the kernel's BPF run-time statistics on for the tracer's life (`--cost`).
  public var measureCost: Bool
  /// Split every counted call's time into on CPU, waiting for a CPU and blocked (`--off-cpu`).
  public var splitTime: Bool
  /// Names the cgroups of `container` and `pod` keys; the tracer makes it when the key has one.
  public var containers: ContainerNames?
  /// Where lines for the user go that come while tracing (a filtered container appearing).
  public var laterNotes: (@Sendable (String) -> Void)?
  /// (call key, wait site) pairs the kernel keeps with --off-cpu: more are counted, not kept.
  public static let waitSiteEntries = 4096

  public init(
    profile: Profile, enumerators: [UInt64: String] = [:], filters: Filters = Filters(),
    splitOutcome: Bool = false, forcedMethod: ProbeMethod? = nil, limits: StorageLimits = StorageLimits(),
    trackConcurrency: Bool = false, slowCalls: SlowCallOptions? = nil, measureCost: Bool = false,
    splitTime: Bool = false
  ) {
    self.measureCost = measureCost
    self.splitTime = splitTime
    self.trackConcurrency = trackConcurrency
    self.slowCalls = slowCalls
    self.profile = profile
    self.enumerators = enumerators
    self.filters = filters
    self.splitOutcome = splitOutcome
    self.forcedMethod = forcedMethod
    self.limits = limits
  }

  /// How the kernel keeps the counts on this host. Outcomes are open-ended (any errno), so a
  /// split takes the sparse hash.
  public var storage: CountStorage {
    CountStorage(
      for: profile, enumerators: enumerators, cpus: Map.possibleCPUs, splitOutcome: splitOutcome,
      atomics: BPFFeatures.runsMainObject, limits: limits, splitTime: splitTime)
  }

  public var keySpace: KeySpace { storage.keySpace }

  /// Concurrency is kept per key when the key is known at entry and dense, else for the probe.
  public var concurrencyPerKey: Bool {
    guard case .dense = keySpace, !profile.hasKeyParts else { return false }
    switch profile.keySource {
    case .argument, .syscall, .none: return true
    default: return false
    }
  }
}

import BPFKit
import CSyscallDist
import Containers
import Histograms
import Profiles
import Snapshots

@preconcurrency import Glibc

/// Reads what the program counted. The histograms and the errors are double-buffered by
/// generation: a read flips the generation the exits write, waits until every program that read
/// the old one has returned (`ProgramBarrier`), then reads and empties the old half, which nothing
/// writes any more.
/// So a read never races an increment, and a deleted hash element is never reused by one in
/// flight. A call is counted in the read after it ended.
struct CountReader {
  let request: TraceRequest
  /// Decided once at start: `request.storage` probes the kernel's BPF each time it is asked.
  let storage: CountStorage
  let concurrencyPerKey: Bool
  let counts: Map
  let sparse: [Map]
  let errors: [Map]
  let cpuState: Map
  let concurrency: Map
  let generationMap: Map
  let programs: [Program]
  /// A kretprobe's returns missed so far (more calls in flight than it tracks), where there is one.
  let missedReturns: (() -> UInt64?)?
  let barrier: ProgramBarrier
  private(set) var generation: UInt32 = 0
  private var statsSoFar = CallStats()
  private var missesSoFar: UInt64 = 0
  private var missedReturnsSoFar: UInt64 = 0
  /// --off-cpu: the wait sites' sums, which the kernel only adds to, as last read.
  let waitSites: Map
  private var waitSitesSoFar: [WaitSiteKey: WaitTotals] = [:]

  init(
    object: LoadedObject, request: TraceRequest, programs: [Program], missedReturns: (() -> UInt64?)?
  ) throws(BPFError) {
    self.request = request
    storage = request.storage
    concurrencyPerKey = request.concurrencyPerKey
    counts = try object.map(.counts)
    sparse = [try object.map(.sparse(0)), try object.map(.sparse(1))]
    errors = [try object.map(.errors(0)), try object.map(.errors(1))]
    cpuState = try object.map(.cpuState)
    concurrency = try object.map(.concurrency)
    waitSites = try object.map(.waitSites)
    generationMap = try object.map(.generation)
    self.programs = programs
    self.missedReturns = missedReturns
    barrier = try ProgramBarrier()
  }

  /// What was counted since the previous read; with `everything` (the programs are detached),
  /// both generations.
  mutating func collect(everything: Bool) throws(BPFError) -> Counts {
    let old = generation
    generation ^= 1
    try generationMap.set(withUnsafeBytes(of: generation) { Array($0) }, at: 0)
    try barrier.wait()
    var result = Counts()
    for half in everything ? [old, generation] : [old] {
      try readHistograms(generation: half, into: &result)
      try errors[Int(half)].drain { key, value in
        // struct sd_error_key: err, unused, then the key's words (as many as the key size holds)
        let failure = FailureKey(request.key(Self.words(key)), errno: key.loadUnaligned(as: UInt32.self))
        result.failures[failure, default: 0] &+= value.loadUnaligned(as: UInt64.self)
      }
    }
    let stats = try readStats()
    result.stats = stats.subtracting(statsSoFar)
    statsSoFar = stats
    var misses: UInt64 = 0
    for program in programs { misses &+= try program.recursionMisses() }  // the call's own programs
    result.kernelSkipped = misses &- missesSoFar
    missesSoFar = misses
    if let missed = missedReturns?() {
      result.returnsMissed = missed &- missedReturnsSoFar
      missedReturnsSoFar = missed
    }
    try readConcurrency(into: &result)
    if request.splitTime { try readWaitSites(into: &result) }
    return result
  }

  /// What the wait sites added since the last read.
  private mutating func readWaitSites(into result: inout Counts) throws(BPFError) {
    var now: [WaitSiteKey: WaitTotals] = [:]
    try waitSites.forEachHashEntry { key, value in
      let site = key.loadUnaligned(as: sd_wait_key.self), totals = value.loadUnaligned(as: sd_wait.self)
      now[WaitSiteKey(key: site.key, stack: site.stack)] = WaitTotals(nanoseconds: totals.ns, count: totals.count)
    }
    for (site, totals) in now {
      let before = waitSitesSoFar[site] ?? .zero
      guard totals.count != before.count else { continue }
      result.waitSites[site] = WaitTotals(nanoseconds: totals.nanoseconds &- before.nanoseconds, count: totals.count &- before.count)
    }
    waitSitesSoFar = now
  }

  /// The histograms of one generation, added to `result`; the dense half is zeroed after.
  private func readHistograms(generation half: UInt32, into result: inout Counts) throws(BPFError) {
    let slots = request.profile.layout.slotCount
    let split = request.splitTime
    switch storage.keySpace {
    case .dense(let keyCount):
      let first = Int(half) * keyCount
      var read: [UInt32] = []
      try counts.forEachWordsEntry(in: first..<first + keyCount) { index, words in
        guard let series = SeriesCounts(copies: words, slots: slots, timeSplit: split) else { return }
        result.histograms[CountKey(key(index - first)), default: series.emptied].merge(series)
        read.append(UInt32(index))
      }
      let zeros = [UInt8](repeating: 0, count: counts.bytesPerValue)
      for index in read { try counts.set(zeros, at: index) }
    case .sparse:
      try sparse[Int(half)].drain { key, value in
        // struct sd_series_key: outcome, cpu, then the key's words
        guard let counted = SeriesCounts(copies: value.assumingMemoryBound(to: UInt64.self), slots: slots, timeSplit: split)
        else { return }
        let outcome = key.loadUnaligned(as: UInt32.self)
        let countKey = CountKey(request.key(Self.words(key)), outcome: request.splitOutcome ? outcome : nil)
        result.histograms[countKey, default: counted.emptied].merge(counted)
      }
    }
  }

  /// A dense index as the key users read.
  private func key(_ index: Int) -> Key {
    request.key([UInt64(index), 0])
  }

  /// The key words of a hash key: those after its first 8 bytes.
  static func words(_ key: UnsafeRawBufferPointer) -> [UInt64] {
    stride(from: 8, to: key.count - 7, by: 8).map { key.loadUnaligned(fromByteOffset: $0, as: UInt64.self) }
  }

  private func readStats() throws(BPFError) -> CallStats {
    var stats = CallStats()
    let statsOffset = MemoryLayout<sd_event>.size / 8
    let wordsPerCPU = (cpuState.valueSize + 7) / 8
    try cpuState.forEachWordsEntry { _, words in
      for cpu in 0..<Map.possibleCPUs {
        for stat in 0..<stats.values.count {
          stats.values[stat] &+= words[cpu * wordsPerCPU + statsOffset + stat]
        }
      }
    }
    return stats
  }

  private func readConcurrency(into result: inout Counts) throws(BPFError) {
    guard request.trackConcurrency else { return }
    let perKey = concurrencyPerKey
    var perKeyMax: [UInt64: UInt64] = [:]
    var overall: UInt64?
    try concurrency.forEachArrayValue(of: sd_concurrency.self) { index, value in
      guard value.max > 0 else { return }
      if perKey { perKeyMax[UInt64(index)] = value.max } else { overall = value.max }
    }
    result.maxConcurrent = perKeyMax
    result.maxConcurrentOverall = overall
  }

  /// Puts a finished call of `latency` units, key `key` and errno `err` (0: it succeeded) in every
  /// CPU's event, as an exit handler would before its bucket step: for `Tracer.runBucketStep`.
  func stage(latency: UInt64, key: UInt64, err: UInt64, blocked: UInt64 = 0, runnable: UInt64 = 0) throws(BPFError) {
    var bytes = [UInt8](repeating: 0, count: cpuState.bytesPerValue)
    try cpuState.forEachWordsEntry { _, words in
      bytes.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(words)) }
    }
    let stride = (cpuState.valueSize + 7) / 8 * 8
    bytes.withUnsafeMutableBytes { raw in
      for cpu in 0..<Map.possibleCPUs {
        let event = sd_event(
          latency: latency, ns: request.profile.layout.bucketsNanoseconds ? latency : latency &* request.profile.unit.nanoseconds, key: (key, 0, 0, 0, 0, 0, 0, 0), err: err, slow: 0,
          blocked_ns: blocked, runnable_ns: runnable)
        raw.storeBytes(of: event, toByteOffset: cpu * stride, as: sd_event.self)
      }
    }
    try cpuState.set(bytes, at: 0)
  }
}

extension SeriesCounts {
  /// A series with nothing counted, of the same shape: where merging starts.
  var emptied: SeriesCounts {
    SeriesCounts(buckets: Array(repeating: 0, count: buckets.count), sumNanoseconds: 0, timeSplit: timeSplit.map { _ in TimeSplit() })
  }

  mutating func merge(_ other: SeriesCounts) {
    self = merging(other)
  }
}

extension TraceRequest {
  /// A key as the kernel wrote it: a comm is a name, and so is the key of the syscall numbers
  /// no kernel has; a key of parts is each part's, from its words.
  func key(_ words: [UInt64]) -> Key {
    guard profile.hasKeyParts else { return key(words[...], source: profile.keySource) }
    var rest = words[...]
    var partWords: [ArraySlice<UInt64>] = []
    return .parts(profile.keyParts.map { part in
      // a derived part is named from its counted part's words
      let own = part.derivedFrom.map { partWords[$0] } ?? rest.prefix(part.words)
      rest = rest.dropFirst(part.words)
      partWords.append(own)
      return part.fd ? .fd(FDObject(words: Array(own))) : key(own, source: part.source)
    })
  }

  private func key(_ words: ArraySlice<UInt64>, source: Profile.KeySource) -> Key {
    let first = words.first ?? 0
    switch source {
    case .container, .pod, .namespace, .podName, .containerName:
      // a cgroup's name: the cgroups of one container (or pod) count as one key
      let level: ContainerNames.Level =
        switch source {
        case .pod: .pod
        case .namespace: .namespace
        case .podName: .podName
        case .containerName: .containerName
        default: .container
        }
      return .name(containers?.name(ofCgroup: first, level) ?? "cgroup \(first)")
    case .comm:
      return .name(Array(words.prefix(2)).withUnsafeBytes { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) })
    case .syscall where first == UInt64(UAPINames.syscallKeyRange):
      return .name(UAPINames.invalidSyscallName)
    default:
      return .number(first)
    }
  }
}

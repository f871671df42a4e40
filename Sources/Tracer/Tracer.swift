import BPFKit
import BPFProgram
import CSyscallDist
import Histograms
import Profiles

@preconcurrency import Glibc

/// Which calls to count, all decided in the kernel.
public struct Filters: Sendable, Equatable {
  /// A process: all its threads.
  public var pid: Int32?
  public var tid: Int32?
  /// A task name (at most 15 bytes, as the kernel keeps it).
  public var comm: String?
  /// A cgroup v2 directory.
  public var cgroupPath: String?

  public init(pid: Int32? = nil, tid: Int32? = nil, comm: String? = nil, cgroupPath: String? = nil) {
    self.pid = pid
    self.tid = tid
    self.comm = comm
    self.cgroupPath = cgroupPath
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
  /// Entries of the sparse histogram hash: (key, outcome, slot) triples.
  public var sparseEntries: Int
  /// Count the threads inside the call and keep the most at once (two atomics per call).
  public var trackConcurrency: Bool

  public init(
    profile: Profile, enumerators: [UInt64: String] = [:], filters: Filters = Filters(),
    splitOutcome: Bool = false, forcedMethod: ProbeMethod? = nil, sparseEntries: Int = 16384,
    trackConcurrency: Bool = false
  ) {
    self.trackConcurrency = trackConcurrency
    self.profile = profile
    self.enumerators = enumerators
    self.filters = filters
    self.splitOutcome = splitOutcome
    self.forcedMethod = forcedMethod
    self.sparseEntries = sparseEntries
  }

  /// Outcomes are open-ended (any errno), so a split takes the sparse hash.
  public var keySpace: KeySpace { splitOutcome ? .sparse : KeySpace(for: profile, enumerators: enumerators) }

  /// Concurrency is kept per key when the key is known at entry and dense, else for the probe.
  public var concurrencyPerKey: Bool {
    guard case .dense = keySpace else { return false }
    switch profile.keySource {
    case .argument, .syscall, .none: return true
    default: return false
    }
  }
}

/// The generic program loaded, configured for one profile and attached. Detaches when released:
/// links first, then the object (which owns the PROG_ARRAY the links depend on).
public final class Tracer {
  public let request: TraceRequest
  public let method: ProbeMethod
  /// Lines for the user about how the tracer got here (a fallback, a private tracefs mount).
  public let notes: [String]
  private var links: [Link]
  private let object: LoadedObject
  private let dense: Map
  private let sparse: Map
  private let stats: Map
  private let concurrency: Map
  private let errors: Map

  /// What was attached, as "Attached ..." lines show it.
  public var attachments: [String] { links.map(\.description) }

  public init(_ request: TraceRequest) throws(TracerError) {
    let missing = KernelFacts.missingCapabilities()
    guard missing.isEmpty else { throw .missingPrivileges(missing) }
    if let pid = request.filters.pid, !KernelFacts.processExists(pid) {
      throw .noSuchProcess(pid)
    }
    if let tid = request.filters.tid, !KernelFacts.threadExists(tid) {
      throw .noSuchThread(tid)
    }
    let settings = try Self.settings(for: request)
    let outcome: (chosen: (method: ProbeMethod, value: Started)?, failures: [(ProbeMethod, String)])
    do throws(ProbePlan.PlanError) {
      outcome = try ProbePlan.firstWorking(for: request.profile.target, forced: request.forcedMethod) {
        method -> Result<Started, MethodFailure> in
        do {
          return .success(try Self.start(method, request: request, settings: settings))
        } catch {
          return .failure(MethodFailure((error as? TracerError)?.shortReason ?? "\(error)"))
        }
      }
    } catch {
      throw .probeMethodUnsupported(error)
    }
    guard let (method, started) = outcome.chosen else {
      throw .noProbeMethod(target: request.profile.target.displayName, attempts: outcome.failures)
    }
    self.request = request
    self.method = method
    object = started.object
    links = started.links
    dense = started.dense
    sparse = started.sparse
    stats = started.stats
    concurrency = started.concurrency
    errors = started.errors
    notes = outcome.failures.map { "\($0.0.rawValue) is not available here (\($0.1)); using \(method.rawValue)" }
      + (started.note.map { [$0] } ?? [])
  }

  /// Detaches now (the same happens when the tracer is released).
  public func detach() {
    links.removeAll()
  }

  // MARK: - Reading

  /// Everything counted since attach.
  public func counts() throws(TracerError) -> Counts {
    do {
      var counts = Counts()
      let cpus = Map.possibleCPUs
      let layout = request.profile.layout
      let slots = layout.slotCount
      switch request.keySpace {
      case .dense:
        try dense.forEachPerCPUEntry { key, values in
          let series = SeriesCounts(perCPU: values, cpus: cpus, slots: slots)
          guard series.buckets.contains(where: { $0 > 0 }) else { return }
          counts.histograms[CountKey(raw: UInt64(key), text: nil, outcome: nil)] = series
        }
      case .sparse:
        for (key, perCPU) in try sparse.perCPUHashCounters(keyType: sd_sparse_key.self) {
          let text = request.profile.keySource == .comm ? Self.comm(key.key) : nil
          let countKey = CountKey(
            raw: text == nil ? key.key.0 : 0, text: text,
            outcome: request.splitOutcome ? key.outcome : nil)
          var series =
            counts.histograms[countKey]
            ?? SeriesCounts(buckets: Array(repeating: 0, count: slots), sumNanoseconds: 0)
          let value = perCPU.reduce(0, &+)
          if key.slot == SD_SUM_SLOT {
            series.sumNanoseconds &+= value
          } else {
            series.buckets[Int(key.slot)] &+= value
          }
          counts.histograms[countKey] = series
        }
      }
      for (key, perCPU) in try errors.perCPUHashCounters(keyType: sd_error_key.self) {
        let text = request.profile.keySource == .comm ? Self.comm(key.key) : nil
        let failure = FailureKey(raw: text == nil ? key.key.0 : 0, text: text, errno: key.err)
        counts.failures[failure, default: 0] &+= perCPU.reduce(0, &+)
      }
      if request.trackConcurrency {
        try concurrency.forEachArrayValue(of: sd_concurrency.self) { index, value in
          guard value.max > 0 else { return }
          if request.concurrencyPerKey {
            counts.maxConcurrent[UInt64(index)] = value.max
          } else {
            counts.maxConcurrentOverall = value.max
          }
        }
      }
      try stats.forEachPerCPUEntry { index, values in
        let total = values.reduce(0, &+)
        switch Int32(index) {
        case SD_STAT_KEY_RANGE: counts.keyOutOfRange = total
        case SD_STAT_MAP_FULL: counts.mapFull = total
        case SD_STAT_DISPATCH: counts.dispatchFailed = total
        default: break
        }
      }
      return counts
    } catch {
      throw .kernel(error)
    }
  }

  /// Calls whose start is still recorded: `inFlight` by live threads (blocked in the call right
  /// now), `abandoned` by threads that exited inside the call (exit_group, a fatal signal) and
  /// so never reached the exit hook. Their slots are reused when the tid is; they are reported,
  /// not counted. Reads the whole start array: meant for the end of a run.
  public func unfinishedCalls() throws(TracerError) -> (inFlight: Int, abandoned: Int) {
    do {
      var inFlight = 0
      var abandoned = 0
      try object.map("starts").forEachArrayValue(of: sd_start.self) { tid, start in
        guard start.ts != 0 else { return }
        if access("/proc/\(tid)", F_OK) == 0 { inFlight += 1 } else { abandoned += 1 }
      }
      return (inFlight, abandoned)
    } catch {
      throw .kernel(error)
    }
  }

  static func comm(_ words: (UInt64, UInt64)) -> String {
    withUnsafeBytes(of: words) { bytes in
      String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }
  }

  // MARK: - Setting up

  /// The tail-call index of a layout's bucket step (`SD_BUCKET_*`).
  static func bucketKind(_ layout: BucketLayout) -> UInt32 {
    switch layout {
    case .log2: return UInt32(SD_BUCKET_LOG2)
    case .linear: return UInt32(SD_BUCKET_LINEAR)
    case .log2Linear: return UInt32(SD_BUCKET_LOG2_LINEAR)
    }
  }

  /// The profile and filters as the BPF program's read-only settings.
  static func settings(for request: TraceRequest) throws(TracerError) -> sd_settings {
    var settings = sd_settings()
    let profile = request.profile
    switch profile.target {
    case .syscall(_, let number):
      settings.target = UInt32(SD_TARGET_SYSCALL)
      settings.syscall_nr = UInt32(number)
    case .allSyscalls:
      settings.target = UInt32(SD_TARGET_ALL_SYSCALLS)
    case .kernelFunction:
      settings.target = UInt32(SD_TARGET_KERNEL_FUNCTION)
    }
    switch profile.keySource {
    case .argument(let index): settings.key_source = UInt32(index)
    case .syscall: settings.key_source = UInt32(SD_KEY_SYSCALL)
    case .retval:
      settings.key_source = UInt32(profile.decoding.errnoNames ? SD_KEY_ERRNO : SD_KEY_RETVAL)
    case .pid: settings.key_source = UInt32(SD_KEY_PID)
    case .tid: settings.key_source = UInt32(SD_KEY_TID)
    case .comm: settings.key_source = UInt32(SD_KEY_COMM)
    case .none: settings.key_source = UInt32(SD_KEY_NONE)
    }
    switch request.keySpace {
    case .dense(let keyCount):
      settings.storage = UInt32(SD_STORAGE_DENSE)
      settings.key_count = UInt32(keyCount)
    case .sparse:
      settings.storage = UInt32(SD_STORAGE_SPARSE)
    }
    let layout = profile.layout
    settings.bucket_slots = UInt32(layout.slotCount)
    settings.bucket_kind = bucketKind(layout)
    if case .linear(let min, _, let step) = layout {
      settings.linear_min = min
      settings.linear_step = step
    }
    if case .log2Linear(let bits) = layout { settings.sub_bucket_bits = bits }
    settings.unit_ns = profile.unit.nanoseconds
    settings.split_outcome = request.splitOutcome ? 1 : 0
    settings.track_concurrency = request.trackConcurrency ? 1 : 0
    settings.concurrency_per_key = request.trackConcurrency && request.concurrencyPerKey ? 1 : 0
    let filters = request.filters
    settings.filter_tgid = UInt32(bitPattern: filters.pid ?? 0)
    settings.filter_tid = UInt32(bitPattern: filters.tid ?? 0)
    // system-wide, the tool's own bpf() calls (reading the maps) must not count
    settings.self_tgid = filters.pid == nil ? UInt32(getpid()) : 0
    if let path = filters.cgroupPath {
      settings.filter_cgroup = try KernelFacts.cgroupID(path)
    }
    if let comm = filters.comm {
      var words: (UInt64, UInt64) = (0, 0)
      withUnsafeMutableBytes(of: &words) { bytes in
        for (index, byte) in comm.utf8.prefix(15).enumerated() { bytes[index] = byte }
      }
      settings.filter_comm = words
      settings.filter_comm_set = 1
    }
    return settings
  }

  /// A method that worked: the loaded object, its links and the maps read later.
  struct Started {
    var object: LoadedObject
    var links: [Link]
    var note: String?
    var dense, sparse, stats, concurrency, errors: Map
  }

  /// Opens, configures, loads and attaches the object for one method.
  static func start(
    _ method: ProbeMethod, request: TraceRequest, settings: sd_settings
  ) throws(TracerError) -> Started {
    var note: String?
    if method == .kprobe, let reason = KernelFacts.kprobesMissingReason {
      throw .methodUnavailable(reason)
    }
    let function = request.profile.target.kernelFunctionName
    if method == .fentry, let btf = try? KernelBTF(), !btf.hasFunction(function) {
      throw .methodUnavailable("the kernel's BTF has no function '\(function)'")
    }
    if method == .tracepoint {
      note = try Tracefs.ensureMounted()
    }
    do {
      let open = try OpenObject(bytes: BPFProgram.object, name: "syscalldist")
      try open.writeReadOnlyData(settings)
      try open.setMaxEntries(KernelFacts.pidMax, ofMap: "starts")
      let slots = request.profile.layout.slotCount
      switch request.keySpace {
      case .dense(let keyCount):
        try open.setMaxEntries(keyCount, ofMap: "counts")
        try open.setValueSize((slots + 1) * 8, ofMap: "counts")
        try open.setMaxEntries(1, ofMap: "sparse")
      case .sparse:
        try open.setMaxEntries(1, ofMap: "counts")
        try open.setMaxEntries(request.sparseEntries, ofMap: "sparse")
      }
      if request.trackConcurrency, request.concurrencyPerKey, case .dense(let keyCount) = request.keySpace {
        try open.setMaxEntries(keyCount, ofMap: "concurrency")
      }
      // only the profile's bucket step is verified and loaded: the others cannot be reached
      let (enter, exit, _) = method.programs
      let kind = Int(settings.bucket_kind)
      let step = method.stepPrograms[kind]
      open.setAutoload(only: [enter, exit, step])
      if method == .fentry {
        for program in [enter, exit, step] {
          try open.setAttachTarget(function, ofProgram: program)
        }
      }
      let object = try open.load()
      try object.map("bucket_steps").setProgram(try object.program(step), at: UInt32(kind))
      let links = try attach(method, object: object, target: request.profile.target)
      return Started(
        object: object, links: links, note: note, dense: try object.map("counts"),
        sparse: try object.map("sparse"), stats: try object.map("stats"),
        concurrency: try object.map("concurrency"), errors: try object.map("errors"))
    } catch {
      throw .kernel(error)
    }
  }

  static func attach(
    _ method: ProbeMethod, object: LoadedObject, target: Profile.Target
  ) throws(BPFError) -> [Link] {
    let (enterName, exitName, _) = method.programs
    let enter = try object.program(enterName)
    let exit = try object.program(exitName)
    switch (method, target) {
    case (.tracepoint, .syscall(let name, _)):
      return [
        try enter.attachTracepoint(category: "syscalls", name: "sys_enter_\(name)"),
        try exit.attachTracepoint(category: "syscalls", name: "sys_exit_\(name)"),
      ]
    case (.tracepoint, _):
      return [
        try enter.attachTracepoint(category: "raw_syscalls", name: "sys_enter"),
        try exit.attachTracepoint(category: "raw_syscalls", name: "sys_exit"),
      ]
    case (.rawTracepoint, _):
      return [try enter.attachRawTracepoint("sys_enter"), try exit.attachRawTracepoint("sys_exit")]
    case (.btfTracepoint, _):
      return [
        try enter.attachTrace(description: "tp_btf(sys_enter)"),
        try exit.attachTrace(description: "tp_btf(sys_exit)"),
      ]
    case (.fentry, .kernelFunction), (.fentry, .syscall):
      let function = target.kernelFunctionName
      return [
        try enter.attachTrace(description: "fentry(\(function))"),
        try exit.attachTrace(description: "fexit(\(function))"),
      ]
    case (.kprobe, .kernelFunction(let function)):
      return [
        try enter.attachKprobe(function: function, returning: false),
        try exit.attachKprobe(function: function, returning: true),
      ]
    default:
      throw BPFError("\(method.rawValue) cannot trace \(target.displayName)", .invalid)
    }
  }
}

extension TracerError {
  /// The reason alone, for a list of tried methods.
  var shortReason: String {
    switch self {
    case .kernel(let error) where error.operation.hasPrefix("attach tracepoint(syscalls/") && error.errno == .accessDenied:
      return "the syscall has no argument \(error.operation.contains("enter") ? "the profile's key reads" : "field the program reads") (EACCES)"
    case .kernel(let error) where error.operation == "load BPF object" && error.errno == .permissionDenied:
      // root was checked first, so EPERM here is the kernel lacking the program type
      return "the kernel refused the program (EPERM: no BPF trampolines or ftrace sites for it)"
    case .kernel(let error) where error.operation == "load BPF object":
      return "\(error); -v shows the verifier's log"
    default:
      return description
    }
  }
}

import BPFKit
import CSyscallDist
import Histograms

/// `bpf/syscalldist.bpf.c` as Swift sees it: every map and program named once, as a libbpf
/// skeleton or cilium/ebpf's bpf2go names them. `SyscallDistObjectTests` checks each name
/// against both embedded builds, so a rename on either side fails a test, not a run.
enum SyscallDistObject {
  enum MapName: String, CaseIterable {
    /// `const volatile struct sd_settings cfg`
    case settings = ".rodata"
    /// `sd_generation`, the half of the double-buffered maps the exits write
    case generation = ".bss"
    case cpuState = "cpu_state"
    case counts
    case sparse0 = "sparse_0", sparse1 = "sparse_1"
    case zeros
    case errors0 = "errors_0", errors1 = "errors_1"
    case concurrency
    case cgroupFilter = "cgroup_filter"
    case slowCalls = "slow_calls"
    case stacks
    /// --off-cpu: blocked time by call key and kernel stack.
    case waitSites = "wait_sites"
    case bucketSteps = "bucket_steps"
    /// Exponential buckets: each slot's largest ns.
    case expUpper = "exp_upper"
    /// Per-thread starts: task storage, or (compat build) a hash by thread id.
    case starts

    /// A double-buffered hash of one generation.
    static func sparse(_ generation: UInt32) -> MapName { generation == 0 ? .sparse0 : .sparse1 }
    static func errors(_ generation: UInt32) -> MapName { generation == 0 ? .errors0 : .errors1 }
  }

  /// A program's name in the object: a probe method's in one role, `sd_<method>_<role>` as the
  /// C names them (`SD_BUCKET_STEPS(sec, prefix)` names the steps), or a hook no method has.
  struct ProgramName: Hashable {
    let rawValue: String

    /// Accounts for calls whose thread exits inside them.
    static let taskExit = ProgramName(rawValue: "sd_task_exit")
    /// Moves a start across a non-leader thread's execve (Linux 5.10 to 5.12 only: there a start
    /// is kept by thread id, which that execve changes).
    static let taskExec = ProgramName(rawValue: "sd_task_exec")
    /// Keeps the time traced calls spend off CPU (slow-call reports and --off-cpu only).
    static let schedSwitch = ProgramName(rawValue: "sd_sched_switch")
    /// Ends a traced call's blocked stretch when its thread is woken (--off-cpu only).
    static let schedWakeup = ProgramName(rawValue: "sd_sched_wakeup")
    /// A traced call's thread begins and ends waiting for a lock (--off-cpu on Linux 5.19+:
    /// lock:contention_begin and _end).
    static let lockContentionBegin = ProgramName(rawValue: "sd_lock_contention_begin")
    static let lockContentionEnd = ProgramName(rawValue: "sd_lock_contention_end")

    /// What a method's program does: take the entry, take the exit, or count in a bucket kind
    /// (the step the exit tail-calls), with the time split (--off-cpu) or without.
    enum Role: Hashable {
      case enter, exit, step(BucketLayout.Kind, split: Bool)

      static let all: [Role] =
        [.enter, .exit] + [false, true].flatMap { split in BucketLayout.Kind.allCases.map { .step($0, split: split) } }

      var suffix: String {
        switch self {
        case .enter: return "enter"
        case .exit: return "exit"
        case .step(let kind, let split):
          let name: String
          switch kind {
          case .log2: name = "log2"
          case .linear: name = "linear"
          case .log2Linear: name = "log2lin"
          case .exponential: name = "exp"
          }
          return split ? name + "_split" : name
        }
      }
    }

    private init(rawValue: String) { self.rawValue = rawValue }

    init(_ method: ProbeMethod, _ role: Role) {
      rawValue = "sd_\(Self.prefix(of: method))_\(role.suffix)"
    }

    private static func prefix(of method: ProbeMethod) -> String {
      switch method {
      case .tracepoint: return "tp"
      case .rawTracepoint: return "raw"
      case .btfTracepoint: return "btf"
      case .fentry: return "fentry"
      case .kprobe: return "kprobe"
      }
    }

    /// Every program of the object.
    static let allCases: [ProgramName] =
      [taskExit, taskExec, schedSwitch, schedWakeup, lockContentionBegin, lockContentionEnd] + ProbeMethod.allCases.flatMap { method in Role.all.map { ProgramName(method, $0) } }
  }

  /// The tail-call index of a bucket kind's step in `bucket_steps`.
  static func tailCallIndex(_ kind: BucketLayout.Kind) -> sd_bucket_kind {
    switch kind {
    case .log2: return .SD_BUCKET_LOG2
    case .linear: return .SD_BUCKET_LINEAR
    case .log2Linear: return .SD_BUCKET_LOG2_LINEAR
    case .exponential: return .SD_BUCKET_EXPONENTIAL
    }
  }
}

extension OpenObject {
  func setMaxEntries(_ count: Int, of map: SyscallDistObject.MapName) throws(BPFError) {
    try setMaxEntries(count, ofMap: map.rawValue)
  }

  func setValueSize(_ size: Int, of map: SyscallDistObject.MapName) throws(BPFError) {
    try setValueSize(size, ofMap: map.rawValue)
  }

  func setKeySize(_ size: Int, of map: SyscallDistObject.MapName) throws(BPFError) {
    try setKeySize(size, ofMap: map.rawValue)
  }

  func setType(_ type: MapType, of map: SyscallDistObject.MapName) throws(BPFError) {
    try setType(type, ofMap: map.rawValue)
  }

  func setAttachTarget(_ function: String, of program: SyscallDistObject.ProgramName) throws(BPFError) {
    try setAttachTarget(function, ofProgram: program.rawValue)
  }
}

extension LoadedObject {
  func map(_ name: SyscallDistObject.MapName) throws(BPFError) -> Map {
    try map(name.rawValue)
  }

  func program(_ name: SyscallDistObject.ProgramName) throws(BPFError) -> Program {
    try program(name.rawValue)
  }
}

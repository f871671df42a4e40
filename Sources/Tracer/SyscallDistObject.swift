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
    case bucketSteps = "bucket_steps"
    /// Per-thread starts: task storage, or (compat build) a hash by thread id.
    case starts

    /// A double-buffered hash of one generation.
    static func sparse(_ generation: UInt32) -> MapName { generation == 0 ? .sparse0 : .sparse1 }
    static func errors(_ generation: UInt32) -> MapName { generation == 0 ? .errors0 : .errors1 }
  }

  enum ProgramName: String, CaseIterable {
    /// Accounts for calls whose thread exits inside them.
    case taskExit = "sd_task_exit"
    /// Moves a start across a non-leader thread's execve (Linux 5.10 to 5.12 only: there a start
    /// is kept by thread id, which that execve changes).
    case taskExec = "sd_task_exec"
    /// Keeps the time traced calls spend off CPU (slow-call reports only).
    case schedSwitch = "sd_sched_switch"
    case tracepointEnter = "sd_tp_enter", tracepointExit = "sd_tp_exit"
    case rawEnter = "sd_raw_enter", rawExit = "sd_raw_exit"
    case btfEnter = "sd_btf_enter", btfExit = "sd_btf_exit"
    case fentry = "sd_fentry", fexit = "sd_fexit"
    case kprobe = "sd_kprobe", kretprobe = "sd_kretprobe"
    /// The bucket steps, one per program type and bucket kind: `SD_BUCKET_STEPS(sec, prefix)`
    /// names them `prefix_log2`, `prefix_linear` and `prefix_log2lin`.
    case tracepointLog2 = "sd_tp_log2", tracepointLinear = "sd_tp_linear", tracepointLog2Linear = "sd_tp_log2lin"
    case rawLog2 = "sd_raw_log2", rawLinear = "sd_raw_linear", rawLog2Linear = "sd_raw_log2lin"
    case btfLog2 = "sd_btf_log2", btfLinear = "sd_btf_linear", btfLog2Linear = "sd_btf_log2lin"
    case fexitLog2 = "sd_fexit_log2", fexitLinear = "sd_fexit_linear", fexitLog2Linear = "sd_fexit_log2lin"
    case kprobeLog2 = "sd_kprobe_log2", kprobeLinear = "sd_kprobe_linear", kprobeLog2Linear = "sd_kprobe_log2lin"
  }

  /// A probe method's programs: its entry and exit, and the step each bucket kind tail-calls.
  struct MethodPrograms {
    var enter: ProgramName
    var exit: ProgramName
    var steps: (log2: ProgramName, linear: ProgramName, log2Linear: ProgramName)

    func step(for kind: BucketLayout.Kind) -> ProgramName {
      switch kind {
      case .log2: return steps.log2
      case .linear: return steps.linear
      case .log2Linear: return steps.log2Linear
      }
    }
  }

  static func programs(for method: ProbeMethod) -> MethodPrograms {
    switch method {
    case .tracepoint:
      return MethodPrograms(
        enter: .tracepointEnter, exit: .tracepointExit, steps: (.tracepointLog2, .tracepointLinear, .tracepointLog2Linear))
    case .rawTracepoint:
      return MethodPrograms(enter: .rawEnter, exit: .rawExit, steps: (.rawLog2, .rawLinear, .rawLog2Linear))
    case .btfTracepoint:
      return MethodPrograms(enter: .btfEnter, exit: .btfExit, steps: (.btfLog2, .btfLinear, .btfLog2Linear))
    case .fentry:
      return MethodPrograms(enter: .fentry, exit: .fexit, steps: (.fexitLog2, .fexitLinear, .fexitLog2Linear))
    case .kprobe:
      return MethodPrograms(enter: .kprobe, exit: .kretprobe, steps: (.kprobeLog2, .kprobeLinear, .kprobeLog2Linear))
    }
  }

  /// The tail-call index of a bucket kind's step in `bucket_steps`.
  static func tailCallIndex(_ kind: BucketLayout.Kind) -> sd_bucket_kind {
    switch kind {
    case .log2: return .SD_BUCKET_LOG2
    case .linear: return .SD_BUCKET_LINEAR
    case .log2Linear: return .SD_BUCKET_LOG2_LINEAR
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

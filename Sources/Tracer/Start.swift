import BPFKit
import BPFProgram
import CSyscallDist
import Profiles

extension Tracer {
  /// A method that worked: the loaded object, its links and the reader of its maps.
  struct Started {
    var object: LoadedObject
    var links: [Link]
    var taskExitHook: Link
    /// With slow-call reports: the hook that keeps each traced call's time off CPU.
    var switchHook: Link?
    var note: String?
    var reader: KernelReader
  }

  /// Opens, configures, loads and attaches the object for one method.
  static func start(
    _ method: ProbeMethod, request: TraceRequest, settings: sd_settings, cgroup: Int32?, kernel: KernelPlan
  ) throws(TracerError) -> Started {
    var note: String?
    if method == .kprobe, let reason = KernelFacts.kprobesMissingReason {
      throw .methodUnavailable(reason)
    }
    let function = request.profile.target.kernelFunctionName
    if method == .fentry {
      guard let signature = kernel.btf?.signature(ofFunction: function) else {
        throw .methodUnavailable("the kernel's BTF has no function '\(function)'")
      }
      if case .syscall = request.profile.target, signature.arguments == 0 || signature.opaquePointerArguments.contains(0) {
        throw .methodUnavailable(
          "the kernel's BTF declares \(function)'s registers opaque (Linux 5.10 does): fentry cannot read them")
      }
      if case .kernelFunction = request.profile.target, !KernelFeatures.tracingProgramsStopRecursion {
        throw .methodUnavailable(
          "fentry on kernel functions needs Linux 5.12 or later: this kernel (\(KernelFacts.release)) lets a program re-enter itself, and tracing a function the program calls would crash it; use --probe-method kprobe")
      }
    }
    if method == .tracepoint || method == .kprobe {  // kretprobes are defined in tracefs
      note = try Tracefs.ensureMounted()
    }
    do {
      let open = try OpenObject(
        bytes: kernel.mainObject ? BPFProgram.object : BPFProgram.compatObject, name: "syscalldist")
      try open.writeReadOnlyData(settings)
      try size(open, for: request)
      if !kernel.mainObject { try open.setMaxEntries(KernelPlan.compatThreads, ofMap: "starts") }
      // only the profile's bucket step is verified and loaded: the others cannot be reached
      let (enter, exit, _) = method.programs
      let step = method.stepPrograms[Int(settings.bucket_kind)]
      open.setAutoload(only: Set([enter, exit, step, taskExitProgram] + (request.slowCalls == nil ? [] : [switchProgram])))
      if method == .fentry {
        for program in [enter, exit, step] {
          try open.setAttachTarget(function, ofProgram: program)
        }
      }
      let object = try open.load()
      try object.map("bucket_steps").setProgram(try object.program(step), at: settings.bucket_kind)
      if let cgroup {
        try object.map("cgroup_filter").setFileDescriptor(cgroup, at: 0)
      }
      // first: a thread that starts a call once the probe is attached is then always seen leaving
      let taskExitHook = try object.program(taskExitProgram).attachRawTracepoint("sched_process_exit")
      let switchHook = try request.slowCalls.map { _ throws(BPFError) in
        try object.program(switchProgram).attachTrace(description: "tp_btf(sched_switch)")
      }
      let (links, missedReturns) = try attach(method, object: object, target: request.profile.target)
      let programs = try [enter, exit, step, taskExitProgram].map { name throws(BPFError) in try object.program(name) }
      return Started(
        object: object, links: links, taskExitHook: taskExitHook, switchHook: switchHook, note: note,
        reader: try KernelReader(object: object, request: request, programs: programs, missedReturns: missedReturns))
    } catch {
      throw .kernel(error)
    }
  }

  /// The program that accounts for calls whose thread exits inside them.
  static let taskExitProgram = "sd_task_exit"
  /// The program that keeps the time traced calls spend off CPU (slow-call reports only).
  static let switchProgram = "sd_sched_switch"

  /// Sizes every map for the request before load; the ones it does not use keep one entry.
  static func size(_ open: OpenObject, for request: TraceRequest) throws(BPFError) {
    let seriesBytes = request.seriesWords * 8
    switch request.keySpace {
    case .dense(let keyCount):
      try open.setMaxEntries(2 * keyCount, ofMap: "counts")  // two generations
      try open.setValueSize(seriesBytes, ofMap: "counts")
    case .sparse:
      for map in ["sparse_0", "sparse_1"] {
        try open.setMaxEntries(request.sparseEntries, ofMap: map)
        try open.setValueSize(seriesBytes, ofMap: map)
      }
      try open.setValueSize(seriesBytes, ofMap: "zeros")
    }
    if request.trackConcurrency, request.concurrencyPerKey, case .dense(let keyCount) = request.keySpace {
      try open.setMaxEntries(keyCount, ofMap: "concurrency")
    }
    if let slow = request.slowCalls {
      try open.setMaxEntries(slow.ringBufferBytes, ofMap: "slow_calls")
      if slow.stacks { try open.setMaxEntries(SlowCallOptions.stackSlots, ofMap: "stacks") }
    }
  }

  /// Attaches the method's entry and exit programs; returns the links and, for a kretprobe, how
  /// to read the returns it missed.
  static func attach(
    _ method: ProbeMethod, object: LoadedObject, target: Profile.Target
  ) throws(BPFError) -> ([Link], missedReturns: (() -> UInt64?)?) {
    let (enterName, exitName, _) = method.programs
    let enter = try object.program(enterName)
    let exit = try object.program(exitName)
    if case (.kprobe, .kernelFunction(let function)) = (method, target) {
      let events = KretprobeEvents(tracefs: Tracefs.mountedPath ?? Tracefs.paths[0])
      let entry = try enter.attachKprobe(function: function)
      let (exitLink, missed) = try events.attach(exit, function: function, maxActive: KernelPlan.kretprobeMaxActive)
      return ([entry, exitLink], missed)
    }
    return (try attachEntryAndExit(method, enter: enter, exit: exit, target: target), nil)
  }

  private static func attachEntryAndExit(
    _ method: ProbeMethod, enter: Program, exit: Program, target: Profile.Target
  ) throws(BPFError) -> [Link] {
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

import BPFKit
import BPFProgram
import CSyscallDist
import Profiles
import SystemPackage

extension Tracer {
  /// A method that worked: the loaded object, its links and the reader of its maps.
  struct Started {
    var object: LoadedObject
    var links: [Link]
    /// The hooks that see threads exit inside a call (and, 5.10 to 5.12, execve from a thread).
    var taskHooks: [Link]
    /// With slow-call reports or the time split: the hooks that keep each traced call's time off
    /// CPU (sched_switch), and with the split when its thread is woken (sched_wakeup).
    var schedulerHooks: [Link]
    var note: String?
    var reader: CountReader
    /// Every program that runs from a hook (bucket steps run inside the exit, by tail call).
    var hooked: [Program]
  }

  /// Opens, configures, loads and attaches the object for one method.
  static func start(
    _ method: ProbeMethod, request: TraceRequest, settings: sd_settings, cgroup: FileDescriptor?, kernel: LoadPlan
  ) throws(TracerError) -> Started {
    var note: String?
    if method == .kprobe, !HostFacts.hasKprobes {
      throw .methodUnavailable(.noKprobes)
    }
    let function = request.profile.target.kernelFunctionName
    if method == .fentry {
      guard let signature = kernel.btf?.signature(ofFunction: function) else {
        throw .methodUnavailable(.functionNotInBTF(function))
      }
      if case .syscall = request.profile.target, signature.arguments == 0 || signature.opaquePointerArguments.contains(0) {
        throw .methodUnavailable(.opaqueRegisters(function: function))
      }
      if case .kernelFunction = request.profile.target, !BPFFeatures.tracingProgramsStopRecursion {
        throw .methodUnavailable(.fentryRecursion(release: HostFacts.release))
      }
    }
    if method == .tracepoint || method == .kprobe {  // kretprobes are defined in tracefs
      note = try Tracefs.ensureMounted()
    }
    let kind = request.profile.layout.kind
    let enter = SyscallDistObject.ProgramName(method, .enter)
    let exit = SyscallDistObject.ProgramName(method, .exit)
    let step = SyscallDistObject.ProgramName(method, .step(kind, split: request.splitTime))
    do {
      let open = try OpenObject(
        bytes: kernel.mainObject ? BPFProgram.object : BPFProgram.compatObject, name: "syscalldist")
      try open.setReadOnlyData(settings)
      try size(open, for: request)
      if !kernel.mainObject {
        try open.setMaxEntries(LoadPlan.compatThreads(for: request.profile.target), of: .starts)
        // preallocated: without a key of parts, a start is only what comes before its parts' state
        if !request.profile.hasKeyParts { try open.setValueSize(MemoryLayout<sd_start>.offset(of: \.entry_key)!, of: .starts) }
      }
      // only the profile's bucket step is verified and loaded: the others cannot be reached
      var loaded: [SyscallDistObject.ProgramName] = [enter, exit, step, .taskExit]
      if !kernel.mainObject { loaded.append(.taskExec) }
      if request.slowCalls != nil || request.splitTime { loaded.append(.schedSwitch) }
      let lockKinds = request.splitTime && kernel.lockContention
      if request.splitTime { loaded.append(.schedWakeup) }
      if lockKinds { loaded += [.lockContentionBegin, .lockContentionEnd] }
      open.setAutoload(only: Set(loaded.map(\.rawValue)))
      if method == .fentry {
        for program in [enter, exit, step] {
          try open.setAttachTarget(function, of: program)
        }
      }
      let object = try open.load()
      if let scale = request.profile.layout.exponentialScale {
        let table = try object.map(.expUpper)
        for (slot, upper) in scale.uppers.enumerated() { try table.set(withUnsafeBytes(of: upper) { Array($0) }, at: UInt32(slot)) }
      }
      try object.map(.bucketSteps).setProgram(
        try object.program(step), at: SyscallDistObject.tailCallIndex(kind).rawValue)
      if let cgroup {
        try object.map(.cgroupFilter).setFileDescriptor(cgroup, at: 0)
      }
      // first: a thread that starts a call once the probe is attached is then always seen leaving
      var taskHooks = [try object.program(.taskExit).attachRawTracepoint("sched_process_exit")]
      if !kernel.mainObject {
        taskHooks.append(try object.program(.taskExec).attachRawTracepoint("sched_process_exec"))
      }
      var schedulerHooks: [Link] = []
      if request.splitTime {  // first: a thread seen leaving blocked is then seen woken
        schedulerHooks.append(try object.program(.schedWakeup).attachTrace(as: .btfTracepoint("sched_wakeup")))
      }
      if request.slowCalls != nil || request.splitTime {
        schedulerHooks.append(try object.program(.schedSwitch).attachTrace(as: .btfTracepoint("sched_switch")))
      }
      if lockKinds {  // the end first: a wait seen beginning is then seen ending
        schedulerHooks.append(try object.program(.lockContentionEnd).attachTrace(as: .btfTracepoint("contention_end")))
        schedulerHooks.append(try object.program(.lockContentionBegin).attachTrace(as: .btfTracepoint("contention_begin")))
      }
      let (links, missedReturns) = try attach(method, object: object, target: request.profile.target)
      // the programs a call runs: the task-exit hook's skipped runs are no call's
      let counted = try [enter, exit, step].map { name throws(BPFError) in
        try object.program(name)
      }
      let hooked = try loaded.filter { $0 != step }.map { name throws(BPFError) in try object.program(name) }
      return Started(
        object: object, links: links, taskHooks: taskHooks, schedulerHooks: schedulerHooks, note: note,
        reader: try CountReader(object: object, request: request, programs: counted, missedReturns: missedReturns),
        hooked: hooked)
    } catch {
      throw .kernel(error)
    }
  }

  /// Sizes every map for the request before load; the ones it does not use keep one entry.
  static func size(_ open: borrowing OpenObject, for request: TraceRequest) throws(BPFError) {
    let storage = request.storage
    let seriesBytes = storage.wordsPerSeries * 8
    switch storage.keySpace {
    case .dense(let keyCount):
      try open.setMaxEntries(2 * keyCount, of: .counts)  // two generations
      try open.setValueSize(seriesBytes, of: .counts)
      if storage.shared { try open.setType(.array, of: .counts) }
    case .sparse:
      for map in [SyscallDistObject.MapName.sparse0, .sparse1] {
        try open.setMaxEntries(storage.sparseEntries, of: map)
        try open.setValueSize(seriesBytes, of: map)
        try open.setKeySize(storage.keyBytes, of: map)
      }
      try open.setValueSize(seriesBytes, of: .zeros)
    }
    for map in [SyscallDistObject.MapName.errors0, .errors1] {
      try open.setMaxEntries(storage.errorEntries, of: map)
      try open.setKeySize(storage.keyBytes, of: map)
    }
    if let scale = request.profile.layout.exponentialScale { try open.setMaxEntries(scale.slotCount, of: .expUpper) }
    if request.trackConcurrency, request.concurrencyPerKey, case .dense(let keyCount) = request.keySpace {
      try open.setMaxEntries(keyCount, of: .concurrency)
    }
    if let slow = request.slowCalls {
      try open.setMaxEntries(slow.ringBufferBytes, of: .slowCalls)
      if slow.stacks { try open.setMaxEntries(SlowCallOptions.stackSlots, of: .stacks) }
    }
    if request.splitTime {
      try open.setMaxEntries(TraceRequest.waitSiteEntries, of: .waitSites)
      try open.setMaxEntries(SlowCallOptions.stackSlots, of: .stacks)
    }
  }

  /// Attaches the method's entry and exit programs; returns the links and, for a kretprobe, how
  /// to read the returns it missed.
  static func attach(
    _ method: ProbeMethod, object: LoadedObject, target: Profile.Target
  ) throws(BPFError) -> ([Link], missedReturns: (() -> UInt64?)?) {
    let enter = try object.program(.init(method, .enter))
    let exit = try object.program(.init(method, .exit))
    switch (method, target) {
    case (.tracepoint, .syscall(let name, _)):
      return (
        [
          try enter.attachTracepoint(category: "syscalls", name: "sys_enter_\(name)"),
          try exit.attachTracepoint(category: "syscalls", name: "sys_exit_\(name)"),
        ], nil
      )
    case (.tracepoint, _):
      return (
        [
          try enter.attachTracepoint(category: "raw_syscalls", name: "sys_enter"),
          try exit.attachTracepoint(category: "raw_syscalls", name: "sys_exit"),
        ], nil
      )
    case (.rawTracepoint, _):
      return ([try enter.attachRawTracepoint("sys_enter"), try exit.attachRawTracepoint("sys_exit")], nil)
    case (.btfTracepoint, _):
      return ([try enter.attachTrace(as: .btfTracepoint("sys_enter")), try exit.attachTrace(as: .btfTracepoint("sys_exit"))], nil)
    case (.fentry, _):
      let function = target.kernelFunctionName
      return ([try enter.attachTrace(as: .fentry(function)), try exit.attachTrace(as: .fexit(function))], nil)
    case (.kprobe, _):
      // ProbePlan offers kprobes for kernel functions only
      let function = target.kernelFunctionName
      let events = KretprobeEvents(tracefs: Tracefs.mountedPath ?? Tracefs.paths[0])
      let entry = try enter.attachKprobe(function: function)
      let (exitLink, missed) = try events.attach(exit, function: function, maxActive: LoadPlan.kretprobeMaxActive)
      return ([entry, exitLink], missed)
    }
  }
}

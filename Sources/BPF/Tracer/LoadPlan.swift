import BPFKit
import CSyscallDist
import Profiles

/// What the running kernel offers a request, decided before any probe method is tried: which
/// build of the program runs here, where the task's fields are, and the traced kernel function's
/// prototype. Refuses, in one line, what the kernel cannot do.
struct LoadPlan {
  var btf: VmlinuxBTF?
  var task: HostFacts.TaskLayout
  /// The main object (Linux 5.13 and later), else the compat one (5.10 to 5.12).
  var mainObject: Bool
  var function: VmlinuxBTF.FunctionSignature?
  var notes: [String] = []
  /// With --off-cpu: the lock:contention_begin/end tracepoints are here (Linux 5.19 on), so the
  /// calls' waits for locks are kept by the lock's kind.
  var lockContention = false
  /// A key part that names an fd: where the program finds what it names.
  var fdLayout: sd_fd_layout?

  /// In flight at once, the most calls a kretprobe tracks: the kernel's own maximum.
  static let kretprobeMaxActive = 4096
  /// Threads with a call in flight (or made and still alive) the compat object's start hash
  /// holds: every thread for a profile of every syscall; fewer for one syscall or function, so
  /// that the default profile stays within 16 MiB on 128 possible CPUs (an element is ~150 bytes).
  static func compatThreads(for target: Profile.Target) -> Int {
    target == .allSyscalls ? 65_536 : 16_384
  }

  init(for request: TraceRequest) throws(TracerError) {
    mainObject = BPFFeatures.runsMainObject
    btf = try? VmlinuxBTF()
    let needs = "Linux 5.13 or later with its BTF (\(VmlinuxBTF.vmlinuxPath))"
    let here = "this kernel is \(HostFacts.release)\(btf == nil ? " without BTF" : "")"
    if btf == nil && request.slowCalls != nil {
      throw .missingKernelFeature(
        "--slower-than needs the kernel's BTF (\(VmlinuxBTF.vmlinuxPath), CONFIG_DEBUG_INFO_BTF): \(here)")
    }
    if request.splitTime && (btf == nil || !mainObject) {
      throw .missingKernelFeature(
        "--off-cpu needs \(needs) (task-local storage of other tasks, at the scheduler's hooks); \(here)")
    }
    if let btf, let layout = HostFacts.taskLayout(btf, withRuntime: request.slowCalls != nil || request.splitTime) {
      task = layout
    } else if mainObject {
      throw .missingKernelFeature(
        "the kernel's BTF (\(VmlinuxBTF.vmlinuxPath)) has no struct task_struct; bpfsyscalldist reads the task's fields at offsets from it")
    } else {
      task = HostFacts.TaskLayout(pid: 0, tgid: 0, comm: 0, compatOffset: 0, compatMask: 0)
      notes.append(
        "the kernel has no BTF (\(VmlinuxBTF.vmlinuxPath)): the build for Linux 5.10 to 5.12 runs, and 32-bit callers are not told apart from 64-bit ones")
    }
    if request.splitTime, let btf {
      lockContention = btf.hasBTFTracepoint("contention_begin") && btf.hasBTFTracepoint("contention_end")
      if !lockContention {
        notes.append("--off-cpu: no waits for locks by kind: the lock:contention_begin/end tracepoints need Linux 5.19 (this is \(HostFacts.release))")
      }
    }
    if request.trackConcurrency && !mainObject {
      throw .missingKernelFeature(
        "--concurrency needs \(needs) (BPF compare-and-swap and task-local storage in tracing programs); \(here)")
    }
    if request.profile.keyParts.contains(where: \.fd) {
      guard let btf else {
        throw .missingKernelFeature("a key part that names an fd needs the kernel's BTF (\(VmlinuxBTF.vmlinuxPath)); \(here)")
      }
      switch FDLayout.read(btf) {
      case .success(let layout): fdLayout = layout
      case .failure(let unavailable): throw .missingKernelFeature("a key part that names an fd: \(unavailable.reason)")
      }
    }
    if case .syscall(let name, _) = request.profile.target,
      request.profile.keyParts.contains(where: { $0.fd || $0.read != nil })
    {
      try checkPartArguments(of: request.profile, syscall: name)
    }
    if case .kernelFunction(let name) = request.profile.target {
      function = btf?.signature(ofFunction: name)
      if function == nil {
        let symbols = HostFacts.kernelSymbols(like: name)
        if !symbols.exists {
          let instead = symbols.similar.isEmpty ? "" : "; its symbols have \(symbols.similar.joined(separator: ", "))"
          throw .missingKernelFeature(
            "kernel function \(name) does not exist in Linux \(HostFacts.release) (inlined or renamed there)\(instead)")
        }
      }
      if let function { try Self.check(request.profile, against: function, of: name) }
    }
  }

  /// A part that names an fd takes an fd argument (an integer whose name says fd: `fd`, `dfd`,
  /// `fd_in`), one that reads follows a pointer, as the syscall's tracepoint declares them.
  private mutating func checkPartArguments(of profile: Profile, syscall name: String) throws(TracerError) {
    do {
      if let note = try Tracefs.ensureMounted() { notes.append(note) }
    } catch {
      notes.append("the syscall's arguments are not checked against its declaration: \(error)")
      return
    }
    guard let arguments = Tracefs.syscallArguments(name) else {
      notes.append("tracefs does not declare \(name)'s arguments: the key parts' are not checked")
      return
    }
    for part in profile.keyParts where part.fd || part.read != nil {
      guard case .argument(let index) = part.source else { continue }
      guard arguments.indices.contains(index) else {
        throw .profileDoesNotFitKernel(
          "\(name) takes \(arguments.count) argument\(arguments.count == 1 ? "" : "s"): the key part '\(part.label)' reads arg\(index), none of them")
      }
      let declared = arguments[index]
      let pointer = declared.contains("*")
      if part.read != nil && !pointer {
        throw .profileDoesNotFitKernel(
          "the key part '\(part.label)' reads memory through \(name)'s arg\(index), which is '\(declared)', no pointer: drop 'read'")
      }
      let argumentName = declared.split(separator: " ").last.map(String.init) ?? ""
      if part.fd && part.read == nil && (pointer || !argumentName.contains("fd")) {
        throw .profileDoesNotFitKernel(
          "the key part '\(part.label)' names an fd, but \(name)'s arg\(index) is '\(declared)'\(pointer ? ": give 'read:' to follow the pointer to one" : ", no fd: drop 'fd'")")
      }
    }
  }

  /// The key's arguments are the function's, and one that names an fd is an int.
  private static func check(_ profile: Profile, against function: VmlinuxBTF.FunctionSignature, of name: String) throws(TracerError) {
    let parts = profile.hasKeyParts ? profile.keyParts : [KeyPart(source: profile.keySource, label: profile.keyLabel)]
    for part in parts {
      guard case .argument(let index) = part.source else { continue }
      if index >= function.arguments {
        throw .profileDoesNotFitKernel(
          "kernel function \(name) takes \(function.arguments) argument\(function.arguments == 1 ? "" : "s") in Linux \(HostFacts.release): the key arg\(index) is none of them")
      }
      if part.fd, part.read == nil, function.argumentSizes[index] != 4 {
        throw .profileDoesNotFitKernel(
          "the key part '\(part.label)' names an fd, but kernel function \(name)'s arg\(index) is no int (\(function.argumentSizes[index]) bytes): give 'read:' to follow a pointer, or drop 'fd'")
      }
    }
  }
}

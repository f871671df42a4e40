import Profiles

/// Which methods to try for a target, best first. The order comes from the benchmark
/// (bench/README.md): for one syscall a per-syscall tracepoint taxes the rest of the system
/// least (raw hooks run on every syscall), and fentry on its wrapper is the last resort (it
/// needs BPF trampolines); for all syscalls raw_tp and tp_btf cost the same per call, and
/// raw_tp starts faster in less memory (libbpf need not parse the kernel's BTF).
public enum ProbePlan {
  public static func candidates(for target: Profile.Target) -> [ProbeMethod] {
    switch target {
    case .syscall(let name, _) where exitUnseenByTracepoint.contains(name):
      return [.btfTracepoint, .rawTracepoint, .fentry]
    case .syscall: return [.tracepoint, .btfTracepoint, .rawTracepoint, .fentry]
    case .allSyscalls: return [.rawTracepoint, .btfTracepoint, .tracepoint]
    case .kernelFunction: return [.fentry, .kprobe]
    }
  }

  /// Syscalls whose return `syscalls:sys_exit_NAME` never reports: the kernel forgets the number
  /// on the way out (-1), and the per-syscall events drop such exits. rt_sigreturn everywhere;
  /// on arm64 a successful execve too (`forget_syscall`).
  static var exitUnseenByTracepoint: Set<String> {
    #if arch(arm64)
      return ["rt_sigreturn", "execve", "execveat"]
    #else
      return ["rt_sigreturn"]
    #endif
  }

  public enum PlanError: Error, Equatable, CustomStringConvertible {
    case notApplicable(ProbeMethod, target: String, usable: [ProbeMethod])

    public var description: String {
      switch self {
      case .notApplicable(let method, let target, let usable):
        return "--probe-method \(method.rawValue) cannot trace \(target); use one of: \(usable.map(\.rawValue).joined(separator: ", "))"
      }
    }
  }

  /// The methods to try: the forced one alone, else every candidate in order.
  public static func methods(for target: Profile.Target, forced: ProbeMethod?) throws(PlanError) -> [ProbeMethod] {
    let candidates = candidates(for: target)
    guard let forced else { return candidates }
    guard candidates.contains(forced) else {
      throw .notApplicable(forced, target: "\(target)", usable: candidates)
    }
    return [forced]
  }

  /// Tries the methods in order until one works; returns it with its result, and why each
  /// method before it failed. The tracer's `attempt` loads and attaches for real (probing by
  /// trying, never by kernel version); tests pass what a kernel would offer.
  public static func firstWorking<Value, Failure: Error>(
    for target: Profile.Target, forced: ProbeMethod?,
    attempt: (ProbeMethod) -> Result<Value, Failure>
  ) throws(PlanError) -> (chosen: (method: ProbeMethod, value: Value)?, failures: [(ProbeMethod, Failure)]) {
    var failures: [(ProbeMethod, Failure)] = []
    for method in try methods(for: target, forced: forced) {
      switch attempt(method) {
      case .success(let value): return ((method, value), failures)
      case .failure(let failure): failures.append((method, failure))
      }
    }
    return (nil, failures)
  }
}

extension Profile.Target {
  /// The kernel function fentry/fexit attach to: a syscall's wrapper, or the function itself.
  public var kernelFunctionName: String {
    switch self {
    case .syscall(let name, _):
      #if arch(arm64)
        return "__arm64_sys_" + name
      #else
        return "__x64_sys_" + name
      #endif
    case .allSyscalls: return ""
    case .kernelFunction(let name): return name
    }
  }
}

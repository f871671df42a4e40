import BPFKit
import SystemPackage

/// Why tracing could not start, each said in one line with the fix where there is one.
public enum TracerError: Error, CustomStringConvertible {
  case missingPrivileges([String])
  /// bpf() itself refused although the capabilities are there, and by what.
  case bpfRefused(Errno, by: BPFRefuser)

  /// What refused bpf() before the kernel looked at the call.
  public enum BPFRefuser: Sendable { case kernel, userNamespace, seccomp, securityModule }
  case noSuchProcess(Int32)
  case noSuchThread(Int32)
  case cgroupUnreadable(path: String, Errno)
  case notCgroup2(path: String)
  /// `--container` names several containers: which, by their cgroups.
  case containerAmbiguous(String, cgroups: [String])
  /// tracefs could not be mounted: the step that failed, and how.
  case tracefsUnavailable(step: String, Errno)
  /// One probe method cannot work on this kernel, and why.
  case methodUnavailable(Unavailability)
  case probeMethodUnsupported(ProbePlan.PlanError)
  /// No method worked: each tried method with why it failed.
  case noProbeMethod(target: String, attempts: [(ProbeMethod, TracerError)])
  /// The kernel lacks something every method needs, and what to run instead.
  case missingKernelFeature(String)
  /// The profile asks for what this kernel's function does not have (an argument).
  case profileDoesNotFitKernel(String)
  case kernel(BPFError)

  /// Why a probe method cannot work here.
  public enum Unavailability: Sendable, CustomStringConvertible {
    case noKprobes
    case functionNotInBTF(String)
    /// Linux 5.10 declares a syscall wrapper's argument opaque: fentry cannot read the registers.
    case opaqueRegisters(function: String)
    /// Before 5.12 a tracing program may re-enter itself: fentry on a function it calls crashes.
    case fentryRecursion(release: String)

    public var description: String {
      switch self {
      case .noKprobes: return "the kernel has no kprobe PMU (CONFIG_KPROBES is off)"
      case .functionNotInBTF(let function): return "the kernel's BTF has no function '\(function)'"
      case .opaqueRegisters(let function):
        return "the kernel's BTF declares \(function)'s registers opaque (Linux 5.10 does): fentry cannot read them"
      case .fentryRecursion(let release):
        return
          "fentry on kernel functions needs Linux 5.12 or later: this kernel (\(release)) lets a program re-enter itself, and tracing a function the program calls would crash it; use --probe-method kprobe"
      }
    }
  }

  /// Errors in what the user asked for (exit status 2), as opposed to what the kernel or the
  /// privileges allow (1).
  public var isUsageError: Bool {
    switch self {
    case .probeMethodUnsupported, .cgroupUnreadable, .notCgroup2, .containerAmbiguous: return true
    default: return false
    }
  }

  public var description: String {
    switch self {
    case .missingPrivileges(let missing):
      return "tracing needs root, or the capabilities \(missing.joined(separator: " and ")); run it with sudo"
    case .bpfRefused(_, by: .kernel):
      return "this kernel has no bpf() system call (CONFIG_BPF_SYSCALL is off)"
    case .bpfRefused(let errno, by: .userNamespace):
      return "bpf() is refused (\(errno)): this process runs in a user namespace (a rootless container?), whose capabilities the kernel does not take for bpf(); run it as root of the host"
    case .bpfRefused(let errno, by: .seccomp):
      return
        "bpf() is refused (\(errno)) by this process's seccomp filter (some container runtimes' default profiles allow it only with CAP_SYS_ADMIN): run the container with seccomp unconfined (podman run --security-opt seccomp=unconfined; Kubernetes: seccompProfile type Unconfined, as contrib/daemonset.yaml does)"
    case .bpfRefused(let errno, by: .securityModule):
      return "bpf() is refused (\(errno)) although the process has the capabilities: a security module (SELinux, a BPF LSM) forbids it"
    case .noSuchProcess(let pid):
      return "no process with pid \(pid)"
    case .noSuchThread(let tid):
      return "no thread with tid \(tid)"
    case .cgroupUnreadable(let path, let errno):
      return "cannot use cgroup '\(path)': \(errno) \(Self.cgroupExample)"
    case .notCgroup2(let path):
      return "cannot use cgroup '\(path)': not on a cgroup v2 file system \(Self.cgroupExample)"
    case .containerAmbiguous(let name, let cgroups):
      return "--container \(name) names \(cgroups.count) containers (cgroups \(cgroups.joined(separator: ", "))): give its id, or --pod"
    case .tracefsUnavailable(let step, let errno):
      return
        "tracefs is not mounted and could not be mounted (\(step): \(errno)); mount it with: mount -t tracefs tracefs /sys/kernel/tracing"
    case .methodUnavailable(let reason):
      return reason.description
    case .probeMethodUnsupported(let error):
      return error.description
    case .noProbeMethod(let target, let attempts):
      let reasons = attempts.map { "\($0.0.rawValue): \($0.1.shortReason)" }.joined(separator: "; ")
      return "this kernel offers no way to trace \(target) (\(reasons))"
    case .missingKernelFeature(let reason), .profileDoesNotFitKernel(let reason):
      return reason
    case .kernel(let error):
      return error.description
    }
  }

  private static let cgroupExample = "(give a cgroup v2 directory, e.g. /sys/fs/cgroup/system.slice)"

  /// The reason alone, for a list of tried methods.
  var shortReason: String {
    guard case .kernel(let error) = self else { return description }
    switch (error.operation, error.errno) {
    case (.attach(.tracepoint("syscalls", let event)), .permissionDenied):
      // EACCES: the program reads past the event's record
      return "the syscall has no argument \(event.hasPrefix("sys_enter") ? "the profile's key reads" : "field the program reads") (EACCES)"
    case (.load, .notPermitted):
      // root was checked first, so EPERM here is the kernel lacking the program type
      return "the kernel refused the program (EPERM: no BPF trampolines or ftrace sites for it)"
    case (.load, _):
      return "\(error); -v shows the verifier's log"
    default:
      return description
    }
  }
}

import BPFKit

/// Why tracing could not start, each said in one line with the fix where there is one.
public enum TracerError: Error, CustomStringConvertible {
  case missingPrivileges([String])
  case noSuchProcess(Int32)
  case noSuchThread(Int32)
  case cgroupUnreadable(path: String, reason: String)
  case tracefsUnavailable(String)
  /// One probe method cannot work on this kernel, and why.
  case methodUnavailable(String)
  case probeMethodUnsupported(ProbePlan.PlanError)
  /// No method worked: each tried method with why it failed.
  case noProbeMethod(target: String, attempts: [(ProbeMethod, String)])
  /// The kernel lacks something every method needs, and what to run instead.
  case missingKernelFeature(String)
  /// The profile asks for what this kernel's function does not have (an argument).
  case profileDoesNotFitKernel(String)
  case kernel(BPFError)

  public var description: String {
    switch self {
    case .missingPrivileges(let missing):
      return "tracing needs root, or the capabilities \(missing.joined(separator: " and ")); run it with sudo"
    case .noSuchProcess(let pid):
      return "no process with pid \(pid)"
    case .noSuchThread(let tid):
      return "no thread with tid \(tid)"
    case .cgroupUnreadable(let path, let reason):
      return "cannot use cgroup '\(path)': \(reason) (give a cgroup v2 directory, e.g. /sys/fs/cgroup/system.slice)"
    case .tracefsUnavailable(let reason):
      return "tracefs is not mounted and could not be mounted (\(reason)); mount it with: mount -t tracefs tracefs /sys/kernel/tracing"
    case .methodUnavailable(let reason):
      return reason
    case .probeMethodUnsupported(let error):
      return error.description
    case .noProbeMethod(let target, let attempts):
      let reasons = attempts.map { "\($0.0.rawValue): \($0.1)" }.joined(separator: "; ")
      return "this kernel offers no way to trace \(target) (\(reasons))"
    case .missingKernelFeature(let reason), .profileDoesNotFitKernel(let reason):
      return reason
    case .kernel(let error):
      return error.description
    }
  }
}

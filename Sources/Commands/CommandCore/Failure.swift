import Profiles
import Tracer
import YAMLReading

/// Why the tool stopped early: printed as one line (or a profile's diagnostics), with the exit
/// status it implies.
public enum Failure: Error, CustomStringConvertible {
  /// A bad argument or an unknown profile: exit 2.
  case usage(String)
  /// A broken profile: every diagnostic of the file; exit 2.
  case profile(ProfileError)
  /// Tracing did not start or stopped: exit 2 for what the user asked wrong, else 1 (the kernel
  /// or the privileges said no). `serve` names the profile.
  case tracer(TracerError, profile: String? = nil)
  /// Something the run needs could not be done (a helper binary to run): exit 1.
  case runtime(String)
  /// `compare --fail-if`: the gates a run passed, one line each; exit 1.
  case breaches([String])

  public var description: String {
    switch self {
    case .usage(let message), .runtime(let message): return "bpfsyscalldist: error: " + message
    case .breaches(let lines): return lines.map { "bpfsyscalldist: breach: " + $0 }.joined(separator: "\n")
    case .profile(let error): return error.description
    case .tracer(let error, let profile):
      return "bpfsyscalldist: error: " + (profile.map { "profile \($0): " } ?? "") + error.description
    }
  }

  public var exitCode: Int32 {
    switch self {
    case .usage, .profile: return 2
    case .runtime, .breaches: return 1
    case .tracer(let error, _): return error.isUsageError ? 2 : 1
    }
  }
}

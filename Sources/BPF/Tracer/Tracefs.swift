import CLinuxShims
import SystemPackage

@preconcurrency import Glibc

/// tracefs, which tracepoint attachment reads event ids from. It is often not mounted at boot:
/// then it is mounted in a mount namespace private to this thread, so the mount cannot outlive
/// the tool or change what anyone else sees.
enum Tracefs {
  static let paths = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]

  static var isMounted: Bool { mountedPath != nil }

  /// Where tracefs is reachable from this thread.
  static var mountedPath: String? {
    paths.first { access($0 + "/events", F_OK) == 0 }
  }

  /// Makes tracefs reachable; returns the line to tell the user, or throws why it cannot.
  static func ensureMounted() throws(TracerError) -> String? {
    if isMounted { return nil }
    // libbpf opens tracefs files from this thread, so this thread's namespace is enough
    guard CLinuxShims_unshare_mount_namespace() == 0 else {
      throw .tracefsUnavailable(step: "unshare(CLONE_NEWNS)", Errno(rawValue: errno))
    }
    guard mount("none", "/", nil, UInt(MS_REC | MS_PRIVATE), nil) == 0 else {
      throw .tracefsUnavailable(step: "make / private", Errno(rawValue: errno))
    }
    guard mount("tracefs", paths[0], "tracefs", 0, nil) == 0 else {
      throw .tracefsUnavailable(step: "mount tracefs on \(paths[0])", Errno(rawValue: errno))
    }
    return "tracefs was not mounted: mounted it on \(paths[0]) for this run only (private mount namespace)"
  }
}

import CLinuxShims
import Symbols
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

  /// A syscall's arguments as its `sys_enter` event declares them (`unsigned int fd`,
  /// `union bpf_attr * uattr`), in order; nil where tracefs has no such event.
  static func syscallArguments(_ name: String) -> [String]? {
    guard let root = mountedPath, let bytes = ProcFile.read("\(root)/events/syscalls/sys_enter_\(name)/format") else {
      return nil
    }
    // "\tfield:unsigned int fd;\toffset:16;\tsize:8;\tsigned:0;": the arguments follow __syscall_nr
    let fields = String(decoding: bytes, as: UTF8.self).split(separator: "\n").compactMap { line -> Substring? in
      guard let start = line.range(of: "field:")?.upperBound, let end = line[start...].firstIndex(of: ";") else { return nil }
      return line[start..<end]
    }
    guard let first = fields.firstIndex(where: { $0.hasSuffix("__syscall_nr") }) else { return nil }
    return fields[(first + 1)...].map(String.init)
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

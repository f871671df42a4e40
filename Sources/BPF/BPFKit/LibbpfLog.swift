@preconcurrency import CLibbpf
@preconcurrency import Glibc

/// libbpf's messages, the verifier's log among them: printed with `-v` (like libbpf-bootstrap),
/// silent otherwise, where errors are one line that points at `-v`. The C callback cannot
/// capture, hence the global.
public enum LibbpfLog {
  nonisolated(unsafe) private static var verbose = false

  /// Routes libbpf's output here; call once before opening objects.
  public static func install(verbose: Bool) {
    Self.verbose = verbose
    libbpf_set_print { _, format, arguments in
      guard LibbpfLog.verbose, let format, let arguments else { return 0 }
      return vfprintf(stderr, format, arguments)
    }
  }
}

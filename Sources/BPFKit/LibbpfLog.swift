@preconcurrency import CLibbpf
@preconcurrency import Glibc

/// libbpf's messages: printed with `-v` (like libbpf-bootstrap), otherwise kept so an error can
/// quote the verifier's last lines. The C callback cannot capture, hence the global state.
public enum LibbpfLog {
  nonisolated(unsafe) private static var verbose = false
  nonisolated(unsafe) private static var recent: [String] = []
  private static let kept = 40

  /// Routes libbpf's output here; call once before opening objects.
  public static func install(verbose: Bool) {
    Self.verbose = verbose
    libbpf_set_print { level, format, arguments in
      guard let format, let arguments else { return 0 }
      if LibbpfLog.verbose {
        return vfprintf(stderr, format, arguments)
      }
      guard level != LIBBPF_DEBUG else { return 0 }
      var buffer = [CChar](repeating: 0, count: 1024)
      let written = vsnprintf(&buffer, buffer.count, format, arguments)
      let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
      LibbpfLog.keep(text)
      return written
    }
  }

  static func keep(_ text: String) {
    for line in text.split(separator: "\n") {
      recent.append(String(line))
    }
    if recent.count > kept { recent.removeFirst(recent.count - kept) }
  }

  /// The last lines libbpf said (warnings, the verifier log), oldest first; then forgets them.
  public static func drain() -> [String] {
    defer { recent.removeAll() }
    return recent
  }
}

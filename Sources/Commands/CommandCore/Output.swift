@preconcurrency import Glibc

/// Writes to stdout (results) and stderr (status), and turns a closed pipe into a quiet stop.
public enum Output {
  /// stdout's reader is gone (`| head`).
  public struct BrokenPipe: Error {}

  public static func write(_ text: String) throws {
    signal(SIGPIPE, SIG_IGN)  // EPIPE from write() instead of death by signal
    if writeAll(1, Array(text.utf8)) != 0 { throw BrokenPipe() }
  }

  /// Writes every byte to `descriptor`, through short writes and EINTR; 0, or the errno that
  /// stopped it.
  public static func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) -> Int32 {
    var offset = 0
    while offset < bytes.count {
      let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
      if written < 0 && errno == EINTR { continue }
      guard written > 0 else { return written < 0 ? errno : EIO }
      offset += written
    }
    return 0
  }

  public static func print(_ line: String) throws {
    try write(line + "\n")
  }

  /// A status line on stderr ("Attached ...", errors); failures to write it are ignored.
  public static func status(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress!, $0.count) }
  }
}

@preconcurrency import Glibc

/// Writes to stdout (results) and stderr (status), and turns a closed pipe into a quiet stop.
public enum Output {
  /// stdout's reader is gone (`| head`).
  public struct BrokenPipe: Error {}

  public static func write(_ text: String) throws {
    signal(SIGPIPE, SIG_IGN)  // EPIPE from write() instead of death by signal
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
      let written = bytes.withUnsafeMutableBytes { Glibc.write(1, $0.baseAddress! + offset, $0.count - offset) }
      if written < 0 {
        if errno == EINTR { continue }
        throw BrokenPipe()
      }
      offset += written
    }
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

@preconcurrency import Glibc

/// Writes to stdout (results) and stderr (status), and turns a closed pipe into a quiet stop.
public enum Output {
  /// stdout's reader is gone (`| head`).
  public struct BrokenPipe: Error {}

  /// A closed pipe ends the run quietly; any other failure (a full disk, /dev/full) is said.
  public static func write(_ text: String) throws {
    signal(SIGPIPE, SIG_IGN)  // EPIPE from write() instead of death by signal
    let failed = writeAll(1, Array(text.utf8))
    if failed == EPIPE { throw BrokenPipe() }
    if failed != 0 { throw Failure.runtime("standard output cannot be written (\(String(cString: strerror(failed))))") }
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
    _ = writeAll(2, Array((line + "\n").utf8))
  }
}

@preconcurrency import Glibc

/// `--record FILE`: each print's JSON object, one line each, written as it is printed, so that a
/// run stopped any way keeps what it printed (a line cut short by a kill is said so by compare).
public final class RecordFile {
  private let descriptor: Int32
  public let path: String

  public init(path: String) throws {
    self.path = path
    descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else {
      throw Failure.usage("--record \(path): cannot be written (\(String(cString: strerror(errno))))")
    }
  }

  deinit { close(descriptor) }

  public func append(_ line: String) throws {
    let failed = Output.writeAll(descriptor, Array((line + "\n").utf8))
    if failed != 0 { throw Failure.runtime("--record \(path): cannot be written (\(String(cString: strerror(failed))))") }
  }
}

@preconcurrency import Glibc

/// `--report FILE` and `report -o FILE`: a page written whole or not at all, to a temporary file
/// beside it and renamed over it, so that no reader sees half a page and a failed run leaves the
/// previous page as it was.
public struct ReportFile: Sendable {
  public let path: String
  let flag: String

  /// Fails at once, not at the end of a run, where the page could not be written.
  public init(path: String, flag: String) throws {
    self.path = path
    self.flag = flag
    let slash = path.lastIndex(of: "/")
    let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
    guard access(directory, W_OK | X_OK) == 0 else { throw failure(String(cString: strerror(errno))) }
  }

  public func write(_ page: String) throws {
    let temporary = "\(path).tmp-\(getpid())"
    let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else { throw failure(String(cString: strerror(errno))) }
    let bytes = Array(page.utf8)
    var offset = 0
    while offset < bytes.count {
      let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
      if written < 0 && errno == EINTR { continue }
      guard written > 0 else {
        let problem = String(cString: strerror(errno))
        close(descriptor)
        unlink(temporary)
        throw failure(problem)
      }
      offset += written
    }
    let synced = fsync(descriptor) == 0
    let closed = close(descriptor) == 0
    guard synced, closed, rename(temporary, path) == 0 else {
      let problem = String(cString: strerror(errno))
      unlink(temporary)
      throw failure(problem)
    }
  }

  private func failure(_ problem: String) -> Failure { .usage("\(flag) \(path): cannot be written (\(problem))") }
}

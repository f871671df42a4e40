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
    var status = stat()
    if stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFDIR { throw Failure.usage("\(flag) \(path): is a directory") }
    let slash = path.lastIndex(of: "/")
    let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
    guard access(directory, W_OK | X_OK) == 0 else { throw Failure.usage("\(flag) \(path): cannot be written (\(String(cString: strerror(errno))))") }
  }

  /// Whether `other` names the file this writes (a recording must not become the page).
  public func isFile(_ other: String) -> Bool {
    var (mine, theirs) = (stat(), stat())
    return stat(path, &mine) == 0 && stat(other, &theirs) == 0 && mine.st_dev == theirs.st_dev && mine.st_ino == theirs.st_ino
  }

  /// Exit 1 on failure: the run or the recordings were fine, the disk said no.
  public func write(_ page: String) throws {
    // a name no one can have planted beforehand (the tool runs as root): created, never followed
    var template = Array("\(path).tmp-XXXXXX".utf8CString)
    let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }  // O_EXCL, 0600
    guard descriptor >= 0 else { throw failure(String(cString: strerror(errno))) }
    _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
    let temporary = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let failed = Output.writeAll(descriptor, Array(page.utf8))
    guard failed == 0 else {
      close(descriptor)
      unlink(temporary)
      throw failure(String(cString: strerror(failed)))
    }
    let synced = fchmod(descriptor, 0o644) == 0 && fsync(descriptor) == 0
    let closed = close(descriptor) == 0
    guard synced, closed, rename(temporary, path) == 0 else {
      let problem = String(cString: strerror(errno))
      unlink(temporary)
      throw failure(problem)
    }
  }

  private func failure(_ problem: String) -> Failure { .runtime("\(flag) \(path): cannot be written (\(problem))") }
}

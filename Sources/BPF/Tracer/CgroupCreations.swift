import SystemPackage

@preconcurrency import Glibc

/// Cgroups as they are made: an inotify watch on each cgroup directory (a mkdir in cgroupfs is an
/// IN_CREATE on its parent), so that a container is named within milliseconds of its cgroup, not
/// at the next walk, when a short-lived one is already gone. Where the watches run out
/// (fs.inotify.max_user_watches) the walks alone remain; a stop request ends a wait at once.
final class CgroupCreations {
  private let inotify: FileDescriptor
  private let stopPipe: (read: FileDescriptor, write: FileDescriptor)
  private let root: String
  /// Each watch's directory, relative to the root; a removed directory's watch ends by itself.
  private var watched: [Int32: String] = [:]

  init?(root: String) {
    let fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
    guard fd >= 0, let pipe = try? FileDescriptor.pipe() else {
      if fd >= 0 { close(fd) }
      return nil
    }
    inotify = FileDescriptor(rawValue: fd)
    stopPipe = (pipe.readEnd, pipe.writeEnd)
    self.root = root
  }

  deinit {
    try? inotify.close()
    try? stopPipe.read.close()
    try? stopPipe.write.close()
  }

  /// Watches the directories of a walk (relative paths) not yet watched, and forgets the gone.
  func watch(_ live: some Sequence<String>) {
    let current = Set(watched.values)
    for path in live where !current.contains(path) {
      let descriptor = inotify_add_watch(inotify.rawValue, root + path, UInt32(IN_CREATE | IN_ONLYDIR))
      guard descriptor >= 0 else { continue }  // gone already, or no watches left: the walks cover it
      watched[descriptor] = path
    }
  }

  /// Waits up to `timeout` seconds for cgroups to be made; returns the new directories (relative
  /// paths), empty when none came or when `interrupt()` was called.
  func wait(timeout: Double) -> [String] {
    var fds = [
      pollfd(fd: inotify.rawValue, events: Int16(POLLIN), revents: 0),
      pollfd(fd: stopPipe.read.rawValue, events: Int16(POLLIN), revents: 0),
    ]
    guard poll(&fds, 2, Int32(max(0, timeout) * 1000)) > 0, fds[1].revents == 0 else { return [] }
    var created: [String] = []
    var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
      let count = buffer.withUnsafeMutableBytes { read(inotify.rawValue, $0.baseAddress, $0.count) }
      guard count > 0 else { break }
      var offset = 0
      buffer.withUnsafeBytes { bytes in
        while offset + MemoryLayout<inotify_event>.size <= count {
          let event = bytes.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
          let nameStart = offset + MemoryLayout<inotify_event>.size
          if event.mask & UInt32(IN_IGNORED) != 0 {
            watched[event.wd] = nil
          } else if event.mask & UInt32(IN_ISDIR) != 0, let parent = watched[event.wd] {
            let name = bytes[nameStart..<nameStart + Int(event.len)].prefix { $0 != 0 }
            created.append((parent == "/" ? "" : parent) + "/" + String(decoding: name, as: UTF8.self))
          }
          offset = nameStart + Int(event.len)
        }
      }
    }
    return created
  }

  /// Ends a `wait` now, and every later one at once.
  func interrupt() {
    _ = try? stopPipe.write.writeAll([UInt8(1)])
  }
}

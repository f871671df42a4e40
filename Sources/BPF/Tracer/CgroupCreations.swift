import SystemPackage

@preconcurrency import Glibc

/// Cgroups as they are made: an inotify watch on each cgroup directory (a mkdir in cgroupfs is an
/// IN_CREATE on its parent), so that a container is named within milliseconds of its cgroup, not
/// at the next walk, when a short-lived one is already gone. cgroupfs never ends a removed
/// cgroup's watch (no IN_IGNORED): each walk removes the watches of cgroups it no longer finds,
/// or they would pile up to fs.inotify.max_user_watches, which every root process shares. Of that
/// budget it takes a quarter at most (8192 is the default before Linux 5.11), the shallowest
/// cgroups first, where runtimes make containers' cgroups; past it, and where the watches run out,
/// the walks alone remain. A stop request ends a wait at once.
final class CgroupCreations {
  private let inotify: FileDescriptor
  private let stopPipe: (read: FileDescriptor, write: FileDescriptor)
  private let root: String
  /// Each watch's directory (relative to the root) and inode, the cgroup's id.
  private var watched: [Int32: (path: String, id: UInt64)] = [:]
  private var watchedIDs: Set<UInt64> = []
  /// inotify_add_watch said ENOSPC: no more are tried until a walk frees some.
  private var exhausted = false
  /// The most watches it holds.
  let budget: Int
  /// The directories watched now, relative to the root.
  var watchedPaths: Set<String> { Set(watched.values.map(\.path)) }

  /// `budget`: a quarter of fs.inotify.max_user_watches unless given.
  init?(root: String, budget: Int? = nil) {
    let limit = HostFacts.read("/proc/sys/fs/inotify/max_user_watches").flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    self.budget = budget ?? (limit ?? 8192) / 4
    let fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
    guard fd >= 0, let pipe = try? FileDescriptor.pipe() else {
      if fd >= 0 { close(fd) }
      return nil
    }
    inotify = FileDescriptor(rawValue: fd)
    stopPipe = (pipe.readEnd, pipe.writeEnd)
    for end in [pipe.readEnd, pipe.writeEnd] { _ = fcntl(end.rawValue, F_SETFD, FD_CLOEXEC) }
    self.root = root
  }

  deinit {
    try? inotify.close()
    try? stopPipe.read.close()
    try? stopPipe.write.close()
  }

  /// Watches the cgroups found (by id, relative paths) not yet watched, the shallowest first, while
  /// the budget lasts.
  func watch(_ found: [UInt64: String]) {
    let unwatched = found.filter { !watchedIDs.contains($0.key) }
    let depth = { (path: String) in path.utf8.count { $0 == UInt8(ascii: "/") } }
    for (id, path) in unwatched.sorted(by: { depth($0.value) < depth($1.value) }) {
      guard !exhausted, watched.count < budget else { return }
      let descriptor = inotify_add_watch(inotify.rawValue, root + path, UInt32(IN_CREATE | IN_ONLYDIR))
      guard descriptor >= 0 else {
        if errno == ENOSPC { exhausted = true }
        continue  // gone already, or no watches left: the walks cover it
      }
      watched[descriptor] = (path, id)
      watchedIDs.insert(id)
    }
  }

  /// After a whole walk: ends the watches of cgroups it did not find, then watches the new ones.
  func update(_ live: [UInt64: String]) {
    for (descriptor, entry) in watched where live[entry.id] != entry.path {
      inotify_rm_watch(inotify.rawValue, descriptor)
      watched[descriptor] = nil
      watchedIDs.remove(entry.id)
      exhausted = false
    }
    watch(live)
  }

  /// Waits up to `timeout` seconds for cgroups to be made: the new directories (relative paths);
  /// `overflowed` when the kernel dropped events (a walk finds what they were). Nothing when the
  /// wait timed out or `interrupt()` was called.
  func wait(timeout: Double) -> (created: [String], overflowed: Bool) {
    var fds = [
      pollfd(fd: inotify.rawValue, events: Int16(POLLIN), revents: 0),
      pollfd(fd: stopPipe.read.rawValue, events: Int16(POLLIN), revents: 0),
    ]
    // rounded up: a wait of 0 ms while time is left would spin until it is not
    guard poll(&fds, 2, Int32((max(0, timeout) * 1000).rounded(.up))) > 0, fds[1].revents == 0 else { return ([], false) }
    var created: [String] = []
    var overflowed = false
    var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
      let count = buffer.withUnsafeMutableBytes { read(inotify.rawValue, $0.baseAddress, $0.count) }
      guard count > 0 else { break }
      buffer.withUnsafeBytes { bytes in
        var offset = 0
        while offset + MemoryLayout<inotify_event>.size <= count {
          let event = bytes.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
          let nameStart = offset + MemoryLayout<inotify_event>.size
          guard nameStart + Int(event.len) <= count else { break }
          if event.mask & UInt32(IN_Q_OVERFLOW) != 0 {
            overflowed = true
          } else if event.mask & UInt32(IN_IGNORED) != 0, let entry = watched.removeValue(forKey: event.wd) {
            watchedIDs.remove(entry.id)
          } else if event.mask & UInt32(IN_ISDIR) != 0, let parent = watched[event.wd]?.path {
            let name = bytes[nameStart..<nameStart + Int(event.len)].prefix { $0 != 0 }
            created.append((parent == "/" ? "" : parent) + "/" + String(decoding: name, as: UTF8.self))
          }
          offset = nameStart + Int(event.len)
        }
      }
    }
    return (created, overflowed)
  }

  /// Ends a `wait` now, and every later one at once.
  func interrupt() {
    _ = try? stopPipe.write.writeAll([UInt8(1)])
  }
}

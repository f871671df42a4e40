import Synchronization

@preconcurrency import Glibc

/// Cgroup paths by the id `bpf_get_current_cgroup_id()` gives: a cgroup v2 id is its directory's
/// inode number in the cgroup2 file system. Found by walking that file system, and again (at
/// most once a second) when an id is not known yet; relative to its mount, as systemd and
/// Kubernetes name them: "/system.slice/ssh.service", "/kubepods.slice/...".
public final class CgroupPaths: Sendable {
  /// Where cgroup v2 is mounted (`/sys/fs/cgroup`, or `/sys/fs/cgroup/unified` on hybrid hosts).
  /// In a container, the mount of the whole hierarchy, whose root cgroup has id 1: the runtime's
  /// own mount shows the container's cgroup namespace alone, and the host's tree mounted beside it
  /// (contrib/daemonset.yaml mounts it at /host/sys/fs/cgroup) shows every cgroup.
  public let root: String?
  private let known = Mutex<(paths: [UInt64: String], scanned: Double)>(([:], -.infinity))

  /// Directories a walk visits at most: a host with more cgroups shows the rest as numbers.
  static let maxDirectories = 100_000

  public init(mounts: String = "/proc/self/mounts") {
    let table = HostFacts.read(mounts) ?? ""
    let fields: [[Substring]] = table.split(separator: "\n").map { $0.split(separator: " ") }
    let cgroup2 = fields.filter { $0.count > 2 && $0[2] == "cgroup2" }.map { String($0[1]) }
    root = cgroup2.first { Self.inode(of: $0) == 1 } ?? cgroup2.first { Self.inode(of: $0) != nil } ?? cgroup2.first
  }

  /// nil where the path cannot be reached (a mount shadowed by a later one).
  private static func inode(of path: String) -> UInt64? {
    var info = stat()
    return stat(path, &info) == 0 ? UInt64(info.st_ino) : nil
  }

  /// The path of cgroup `id`, or nil when no cgroup has it (any more).
  public func path(of id: UInt64) -> String? {
    known.withLock { known in
      if let path = known.paths[id] { return path }
      let now = Self.now()
      guard now - known.scanned >= 1 else { return nil }
      known = (scan(), now)
      return known.paths[id]
    }
  }

  /// Walks the cgroup tree now: every live cgroup's path, by id.
  public func walk() -> [UInt64: String] {
    let paths = scan()
    known.withLock { $0 = (paths, Self.now()) }
    return paths
  }

  /// The cgroups at and below `relative` (a path the root has, "/libpod_parent/libpod-ID"), now:
  /// a new cgroup's subtree, which a whole walk would find later. Kept for `path(of:)`.
  public func walk(below relative: String) -> [UInt64: String] {
    let paths = scan(from: relative)
    known.withLock { $0.paths.merge(paths) { $1 } }
    return paths
  }

  /// Every cgroup directory below the root (or `start`), by inode number.
  private func scan(from start: String = "") -> [UInt64: String] {
    guard let root else { return [:] }
    var paths: [UInt64: String] = [:]
    var pending = [start]
    while let relative = pending.popLast(), paths.count < Self.maxDirectories {
      let directory = root + relative
      var info = stat()
      guard stat(directory, &info) == 0 else { continue }
      paths[UInt64(info.st_ino)] = relative.isEmpty ? "/" : relative
      guard let stream = opendir(directory) else { continue }
      defer { closedir(stream) }
      while let entry = readdir(stream) {
        guard entry.pointee.d_type == UInt8(DT_DIR) else { continue }
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name != "." && name != ".." { pending.append(relative + "/" + name) }
      }
    }
    return paths
  }

  private static func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
  }
}

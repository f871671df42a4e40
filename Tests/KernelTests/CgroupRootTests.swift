import Foundation
import Tracer
import XCTest

/// Which cgroup2 mount the tool walks when it sees several, as in a container given the host's tree.
final class CgroupRootTests: XCTestCase {
  /// A container runtime mounts the container's cgroup namespace first (its root is the
  /// container's own cgroup); contrib/daemonset.yaml mounts the host's tree beside it. Names come
  /// from the host's: the whole hierarchy, whose root is cgroup 1.
  func testTheWholeHierarchyWinsOverANamespacesView() throws {
    let host = try XCTUnwrap(CgroupPaths().root, "this host has no cgroup2 mount")
    let name = "sd-tests-cgroup-root-\(getpid())"
    let view = host + "/" + name  // what a container in this cgroup sees as /sys/fs/cgroup
    XCTAssertEqual(mkdir(view, 0o755), 0, "mkdir \(view): errno \(errno)")
    defer { rmdir(view) }
    let mounts = FileManager.default.temporaryDirectory.appendingPathComponent("\(name).mounts").path
    try "cgroup2 \(view) cgroup2 rw 0 0\ncgroup2 \(host) cgroup2 ro 0 0\n".write(toFile: mounts, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: mounts) }

    let paths = CgroupPaths(mounts: mounts)
    XCTAssertEqual(paths.root, host)
    var info = stat()
    XCTAssertEqual(stat(view, &info), 0)
    XCTAssertEqual(paths.walk()[UInt64(info.st_ino)], "/" + name)
  }
}

import Foundation
import XCTest

@testable import Tracer

/// The inotify watches on the cgroup tree take a bounded share of the watches every root process
/// shares, the shallowest directories first; a directory made below a watched one is reported.
final class CgroupCreationsTests: XCTestCase {
  func testTheBudgetHoldsAndTheShallowestAreWatchedFirst() throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("sd-creations-\(getpid())").path
    defer { try? FileManager.default.removeItem(atPath: root) }
    let paths = ["/a", "/b", "/a/x", "/a/x/y", "/b/z"]
    for path in paths { try FileManager.default.createDirectory(atPath: root + path, withIntermediateDirectories: true) }
    let creations = try XCTUnwrap(CgroupCreations(root: root, budget: 3))
    creations.watch(Dictionary(uniqueKeysWithValues: (["/"] + paths).enumerated().map { (UInt64($0.offset + 1), $0.element) }))
    XCTAssertEqual(creations.watchedPaths.count, 3)
    XCTAssertTrue(creations.watchedPaths.isSuperset(of: ["/"]), "\(creations.watchedPaths)")
    XCTAssertTrue(creations.watchedPaths.isSubset(of: ["/", "/a", "/b"]), "\(creations.watchedPaths)")
    XCTAssertGreaterThan(try XCTUnwrap(CgroupCreations(root: root)).budget, 0)

    let watchedChild = try XCTUnwrap(creations.watchedPaths.first { $0 != "/" })
    try FileManager.default.createDirectory(atPath: root + watchedChild + "/new", withIntermediateDirectories: false)
    XCTAssertEqual(creations.wait(timeout: 5).created, [watchedChild + "/new"])
  }
}

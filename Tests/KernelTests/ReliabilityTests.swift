import Foundation
import XCTest

/// Nothing leaked, nothing lost silently, whatever ends the run.
final class ReliabilityTests: XCTestCase {
  typealias Objects = (programs: Set<UInt32>, maps: Set<UInt32>, links: Set<UInt32>)

  func assertNothingLeft(since before: Objects, _ context: String, file: StaticString = #filePath, line: UInt = #line) {
    let after = waitForBPFObjects(toReturnTo: before)
    XCTAssertEqual(after.programs.subtracting(before.programs), [], "programs after \(context)", file: file, line: line)
    XCTAssertEqual(after.maps.subtracting(before.maps), [], "maps after \(context)", file: file, line: line)
    XCTAssertEqual(after.links.subtracting(before.links), [], "links after \(context)", file: file, line: line)
  }

  func testEverySignalLeavesTheSystemAsItWas() throws {
    for signal in [SIGINT, SIGTERM, SIGKILL, SIGSEGV, SIGABRT] {
      for profile in ["bpfsyscalldist", "syscalldist"] {
        let before = bpfObjectIDs()
        // a "crash" by signal: the Swift runtime's backtracer would symbolicate first
        let tool = try ToolRun(["--profile", profile], environment: ["SWIFT_BACKTRACE": "enable=no"])
        try tool.waitUntilAttached()
        XCTAssertFalse(bpfObjectIDs().links.subtracting(before.links).isEmpty, "attached")
        let status = tool.stop(with: signal)
        if signal == SIGINT || signal == SIGTERM {
          XCTAssertEqual(status, 0, tool.stderr)
          XCTAssertEqual(tool.process.terminationReason, .exit)
        }
        assertNothingLeft(since: before, "signal \(signal), \(profile)")
      }
    }
  }

  /// A crash at any point of start-up (opening, loading, filling the PROG_ARRAY, attaching):
  /// the kernel owns nothing that outlives the process, since nothing is pinned. The kills are
  /// spread over one start-up as timed here: 30 ms on this VM, seconds under emulation.
  func testAKillAtAnyPointOfStartUpLeavesNothing() throws {
    // bpffs where libbpf would pin, so that a pin could happen and be seen
    let bpffs = "/sys/fs/bpf"
    let mountedHere = !(try String(contentsOfFile: "/proc/mounts", encoding: .utf8)).contains(" \(bpffs) bpf ")
    if mountedHere { XCTAssertEqual(mount("bpf", bpffs, "bpf", 0, nil), 0, "mount bpffs") }
    defer { if mountedHere { umount(bpffs) } }
    let pinnedBefore = try FileManager.default.contentsOfDirectory(atPath: bpffs)
    let before = bpfObjectIDs()
    let started = Date()
    let timed = try ToolRun(["--profile", "syscalldist"])
    guard try timed.waitUntilAttached() else { return }  // it said why
    let startUp = Date().timeIntervalSince(started)
    XCTAssertEqual(timed.stop(), 0, timed.stderr)
    for step in 0...20 {
      let tool = try ToolRun(["--profile", "syscalldist"])
      usleep(useconds_t(startUp * 1.2 * Double(step) / 20 * 1e6))
      tool.stop(with: SIGKILL)
    }
    assertNothingLeft(since: before, "kills during start-up")
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: bpffs), pinnedBefore)
  }

  func testTwoInstancesAtOnceDoNotInterfere() throws {
    let workload = try Workload("bpf-mix", "200")
    let first = try ToolRun(["-p", String(workload.pid), "-j"])
    let second = try ToolRun(["-p", String(workload.pid), "-j", "--probe-method", "raw_tp"])
    let third = try ToolRun(["--profile", "syscalldist", "-p", String(workload.pid), "-j"])
    for tool in [first, second, third] { try tool.waitUntilAttached() }
    let expected = try workload.finish()["counts"] as? [String: Int] ?? [:]
    for tool in [first, second, third] { XCTAssertEqual(tool.stop(), 0, tool.stderr) }
    XCTAssertEqual(try countsByKey(json: first.stdout), expected)
    XCTAssertEqual(try countsByKey(json: second.stdout), expected)
    XCTAssertEqual(try countsByKey(json: third.stdout)["bpf"], expected.values.reduce(0, +))
  }

  func testTwoHundredThreadsInTheCallAtOnceAreCountedExactly() throws {
    let workload = try Workload("progarray", "200", "50")
    let tool = try ToolRun(["-p", String(workload.pid), "-j"])
    try tool.waitUntilAttached()
    let report = try workload.finish()
    XCTAssertEqual(report["errors"] as? Int, 0)
    XCTAssertEqual(tool.stop(), 0)
    XCTAssertEqual(try countsByKey(json: tool.stdout), report["counts"] as? [String: Int])
    let object = try JSONSerialization.jsonObject(with: Data(tool.stdout.utf8)) as? [String: Any]
    XCTAssertEqual((object?["accounting"] as? [String: Any])?["dropped"] as? Int, 0)
  }

  /// `bpfsyscalldist -i 0.1 | head -1`: the reader goes, the tool ends by itself, quietly.
  func testAClosedPipeEndsTheRunQuietly() throws {
    let before = bpfObjectIDs()
    let pipe = Pipe()
    let tool = Process()
    tool.executableURL = URL(fileURLWithPath: Products.tool)
    tool.arguments = ["-i", "0.1", "-j"]
    tool.standardOutput = pipe
    let errors = Pipe()
    tool.standardError = errors
    try tool.run()
    let line = pipe.fileHandleForReading.availableData
    XCTAssertFalse(line.isEmpty)
    try pipe.fileHandleForReading.close()
    tool.waitUntilExit()
    XCTAssertEqual(tool.terminationReason, .exit)
    XCTAssertEqual(tool.terminationStatus, 0)
    let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    XCTAssertFalse(stderr.contains("Fatal") || stderr.contains("error"), stderr)
    assertNothingLeft(since: before, "a closed pipe")
  }

  /// A full disk is no closed pipe: the run stops with one line saying why, exit 1, and leaves
  /// nothing attached.
  func testAnOutputThatCannotBeWrittenIsSaid() throws {
    let before = bpfObjectIDs()
    let run = try ToolRun.complete(["-c", "exec \"$0\" -i 0.1 -j > /dev/full", Products.tool], executable: "/bin/sh")
    XCTAssertEqual(run.status, 1, run.stderr)
    XCTAssertTrue(run.stderr.hasSuffix("bpfsyscalldist: error: standard output cannot be written (No space left on device)\n"), run.stderr)
    assertNothingLeft(since: before, "an output that cannot be written")
  }
}

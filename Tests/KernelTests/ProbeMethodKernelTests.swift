import BPFKit
import Foundation
import Histograms
import Profiles
import Tracer
import XCTest

/// How the tool hooks this kernel: what works live here, and what must fail cleanly.
final class ProbeMethodKernelTests: XCTestCase {
  func load(_ text: String) throws -> Profile {
    try ProfileLoader(enumSource: nil).load(text: text, file: "t.yaml")
  }

  func testAutoUsesTheBestHookForEachTarget() throws {
    let one = try Tracer(TraceRequest(profile: try load("version: 1\nname: a\nprobe: {syscall: getppid}\n")))
    XCTAssertEqual(one.method, .tracepoint, one.notes.joined(separator: "; "))
    XCTAssertEqual(one.attachments, ["tracepoint(syscalls/sys_enter_getppid)", "tracepoint(syscalls/sys_exit_getppid)"])
    let all = try Tracer(TraceRequest(profile: try load("version: 1\nname: a\nprobe: {syscalls: all}\n")))
    XCTAssertEqual(all.method, .rawTracepoint)
    XCTAssertEqual(all.attachments, ["raw_tp(sys_enter)", "raw_tp(sys_exit)"])
  }

  /// tracefs unmounted (as at boot here, and on many machines): a private mount namespace
  /// without it, and the tool still attaches tracepoints and counts exactly.
  func testTracepointsWorkWithTracefsUnmounted() throws {
    let workload = try Workload("bpf-mix", "100")
    let script = "umount -l /sys/kernel/tracing 2>/dev/null; umount -l /sys/kernel/debug/tracing 2>/dev/null; "
      + "test -e /sys/kernel/tracing/events && exit 99; exec \"$0\" -p \(workload.pid) -j"
    let tool = try ToolRun(
      ["--mount", "--propagation", "private", "/bin/sh", "-c", script, Products.tool], executable: "/usr/bin/unshare")
    try tool.waitUntilAttached()
    XCTAssertTrue(tool.stderr.contains("note: tracefs was not mounted: mounted it on /sys/kernel/tracing for this run only"), tool.stderr)
    XCTAssertTrue(tool.stderr.contains("Attached tracepoint(syscalls/sys_enter_bpf)"), tool.stderr)
    let expected = try workload.finish()["counts"] as? [String: Int]
    XCTAssertEqual(tool.stop(), 0)
    XCTAssertEqual(try countsByKey(json: tool.stdout), expected)
  }

  /// Threads killed inside an interruptible call (here by exit_group) still pass the exit hook
  /// on their way out: their calls are counted, and nothing is left behind.
  func testCallsOfKilledSleepersAreStillCounted() throws {
    let profile = try load("version: 1\nname: s\nprobe: {syscall: clock_nanosleep}\n")
    let workload = try Workload("stuck", "8")
    let tracer = try Tracer(TraceRequest(profile: profile, filters: Filters(pid: workload.pid)))
    _ = try workload.finish()
    let counted = try tracer.counts().histograms.values.reduce(0) { $0 + $1.buckets.reduce(0, +) }
    XCTAssertEqual(counted, 9, "8 killed sleepers and the main thread's settling sleep")
    XCTAssertEqual(try tracer.unfinishedCalls().abandoned, 0)
  }

  /// exit and exit_group never return: their starts stay until the tid is reused. They are
  /// reported as abandoned, not counted; the array is bounded by pid_max, so nothing grows.
  func testCallsThatNeverReturnAreReportedAsAbandoned() throws {
    let workload = try Workload("exits", "6")
    let tracer = try Tracer(
      TraceRequest(profile: try load(ProfileCatalog.builtIn["syscalldist"]!), filters: Filters(pid: workload.pid)))
    let report = try workload.finish()
    usleep(100_000)  // let the exiting threads be reaped
    let unfinished = try tracer.unfinishedCalls()
    XCTAssertEqual(unfinished.abandoned, report["never_return"] as? Int)
    XCTAssertEqual(unfinished.inFlight, 0)
  }
}

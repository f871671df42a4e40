import BPFKit
import Foundation
import Histograms
import Profiles
import Snapshots
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
    XCTAssertEqual(one.attachments.map(\.description), ["tracepoint(syscalls/sys_enter_getppid)", "tracepoint(syscalls/sys_exit_getppid)"])
    let all = try Tracer(TraceRequest(profile: try load("version: 1\nname: a\nprobe: {syscalls: all}\n")))
    XCTAssertEqual(all.method, .rawTracepoint)
    XCTAssertEqual(all.attachments.map(\.description), ["raw_tp(sys_enter)", "raw_tp(sys_exit)"])
  }

  /// tracefs unmounted (as at boot here, and on many machines): a private mount namespace
  /// without it, and the tool still attaches tracepoints and counts exactly.
  func testTracepointsWorkWithTracefsUnmounted() throws {
    let workload = try Workload("bpf-mix", "100")
    // debugfs mounts tracefs again on first access below it: unmount it too
    let script = "umount -l /sys/kernel/tracing 2>/dev/null; umount -l /sys/kernel/debug/tracing 2>/dev/null; "
      + "umount -l /sys/kernel/debug 2>/dev/null; "
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
    tracer.detach()
    let snapshot = try tracer.collect().snapshot(profile: profile, decoder: KeyDecoder(for: profile, enumerators: [:]), timestamp: 0)
    XCTAssertEqual(snapshot.accounting.counted, 9, "8 killed sleepers and the main thread's own sleep")
    XCTAssertEqual(snapshot.accounting.abandoned, 0)
  }

  /// exit and exit_group never return: their calls are reported as abandoned, when each thread
  /// exits, and never counted.
  func testCallsThatNeverReturnAreReportedAsAbandoned() throws {
    let profile = try load(ProfileCatalog.builtIn["syscalldist"]!)
    let workload = try Workload("exits", "6")
    let tracer = try Tracer(TraceRequest(profile: profile, filters: Filters(pid: workload.pid)))
    let report = try workload.finish()
    usleep(100_000)  // let the exiting threads be reaped
    tracer.detach()
    let counts = try tracer.collect()
    let snapshot = counts.snapshot(profile: profile, decoder: KeyDecoder(for: profile, enumerators: [:]), timestamp: 0)
    XCTAssertEqual(snapshot.accounting.abandoned, UInt64(report["never_return"] as? Int ?? -1))
    XCTAssertEqual(counts.stats.inFlight, 0)
    XCTAssertNil(snapshot.series.first { $0.keyName == "exit" || $0.keyName == "exit_group" })
  }
}

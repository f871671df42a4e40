import Foundation
import XCTest

/// The built binary, as users run it: output, signals, exit status, one-line errors.
final class CommandLineTests: XCTestCase {
  func testJSONOutputCountsEveryBPFCommandExactly() throws {
    let workload = try Workload("bpf-mix", "300")
    let tool = try ToolRun(["-p", String(workload.pid), "-j"])
    try tool.waitUntilAttached()
    let expected = try workload.finish()["counts"] as? [String: Int]
    XCTAssertEqual(tool.stop(with: SIGINT), 0)
    let lines = tool.stdout.split(separator: "\n")
    XCTAssertEqual(lines.count, 1, tool.stdout + tool.stderr)
    XCTAssertEqual(try countsByKey(json: String(try XCTUnwrap(lines.first))), expected)
  }

  func testSIGTERMPrintsTheSeedLayoutThenDetaches() throws {
    let before = bpfObjectIDs()
    let workload = try Workload("bpf-mix", "50")
    let tool = try ToolRun(["--pid", String(workload.pid)])
    try tool.waitUntilAttached()
    XCTAssertTrue(tool.stderr.hasPrefix("note: tracefs") || tool.stderr.hasPrefix("Attached"), tool.stderr)
    XCTAssertTrue(tool.stderr.contains("Attached tracepoint(syscalls/sys_enter_bpf)\nAttached tracepoint(syscalls/sys_exit_bpf)\nHit Ctrl-C to end.\n"), tool.stderr)
    let issued = (try workload.finish()["counts"] as? [String: Int] ?? [:]).values.reduce(0, +)
    XCTAssertEqual(tool.stop(with: SIGTERM), 0)
    let text = tool.stdout
    XCTAssertTrue(text.contains("Histogram for syscall(BPF) cmd(BPF_MAP_UPDATE_ELEM) (sum 50):\n     usecs               : count         distribution\n         0 -> 1          : "), text)
    XCTAssertTrue(tool.stderr.hasSuffix("Counted \(issued) calls, dropped 0.\n"), tool.stderr)
    let after = waitForBPFObjects(toReturnTo: before)
    XCTAssertEqual(after.programs.subtracting(before.programs), [])
    XCTAssertEqual(after.links.subtracting(before.links), [])
  }

  func testInvokedAsSyscalldistTheDefaultIsEverySyscall() throws {
    let directory = Scratch.directory.appending(path: "sd-link-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let link = directory.appending(path: "syscalldist").path
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: Products.tool)
    let workload = try Workload("syscalls", "100")
    let tool = try ToolRun(["-p", String(workload.pid), "-j"], executable: link)
    try tool.waitUntilAttached()
    _ = try workload.finish()
    XCTAssertEqual(tool.stop(), 0)
    let counts = try countsByKey(json: tool.stdout)
    XCTAssertEqual(counts["getppid"], 100)
    XCTAssertEqual(counts["sched_yield"], 200)
    XCTAssertEqual(counts["umask"], 300)
    XCTAssertEqual(counts["getrandom"], 100)
  }

  func testDurationAndIntervalsPrintOnTheirOwn() throws {
    let tool = try ToolRun(["-i", "0.3", "--count", "3", "-j", "-T"])
    tool.process.waitUntilExit()
    XCTAssertEqual(tool.process.terminationStatus, 0, tool.stderr)
    XCTAssertEqual(tool.stdout.split(separator: "\n").count, 3, tool.stdout)
    let timed = try ToolRun(["-d", "0.3"])
    timed.process.waitUntilExit()
    XCTAssertEqual(timed.process.terminationStatus, 0, timed.stderr)
    XCTAssertTrue(timed.stderr.contains("Counted "), timed.stderr)
  }

  /// An interval far below a print's own cost (-i 1e-8: the loop spun at 100% CPU, probes
  /// attached, deaf to SIGINT; after 52 days of uptime -i 1e-9 hung at once, as due + interval
  /// equalled due) is refused in one line. At the shortest allowed one, in a time namespace whose
  /// monotonic clock reads 52 days, the run prints, stops on time and on SIGINT.
  func testIntervalsTooShortAreRefusedAndTheShortestRunsAfterWeeksOfUptime() throws {
    for interval in ["1e-8", "1e-9", "0.001"] {
      let refused = try ToolRun.complete(["-i", interval, "-d", "1"])
      XCTAssertEqual(refused.status, 2, refused.stderr)
      XCTAssertTrue(refused.stderr.contains("--interval must be at least 0.01 seconds"), refused.stderr)
    }
    let weeks = ["-T", "--monotonic", String(52 * 86_400), "--", Products.tool]
    let timed = try ToolRun.complete(weeks + ["-i", "0.01", "-d", "1", "-j"], executable: "/usr/bin/unshare")
    XCTAssertEqual(timed.status, 0, timed.stderr)
    XCTAssertGreaterThan(timed.stdout.split(separator: "\n").count, 5, "prints every 10 ms for a second")
    let interrupted = try ToolRun(weeks + ["-i", "0.01", "-j"], executable: "/usr/bin/unshare")
    try interrupted.waitUntilAttached()
    XCTAssertEqual(interrupted.stop(), 0, interrupted.stderr)
  }

  func testIntervalsStartAfreshEachTime() throws {
    let workload = try Workload("bpf-mix", "100")
    let tool = try ToolRun(["-p", String(workload.pid), "-j", "-i", "0.5"])
    try tool.waitUntilAttached()
    let expected = try workload.finish()["counts"] as? [String: Int] ?? [:]
    usleep(1_200_000)  // at least two intervals after the workload ended
    XCTAssertEqual(tool.stop(), 0)
    var total: [String: Int] = [:]
    var empty = 0
    for line in tool.stdout.split(separator: "\n") {
      let counts = try countsByKey(json: String(line))
      if counts.isEmpty { empty += 1 }
      total.merge(counts, uniquingKeysWith: +)
    }
    XCTAssertEqual(total, expected, "each call counted in exactly one interval")
    XCTAssertGreaterThanOrEqual(empty, 1, "an interval after the workload is empty: intervals do not accumulate")
  }

  // MARK: - Bad input the kernel decides: one line, non-zero exit, no trace

  func testKernelFunctionWithoutFentryOrKprobesSaysWhyInOneLine() throws {
    guard access("/sys/bus/event_source/devices/kprobe/type", F_OK) != 0 else {
      throw XCTSkip("this kernel has kprobes: the line under test is for kernels without them")
    }
    let file = Scratch.directory.appending(path: "fn-\(UUID().uuidString).yaml").path
    try "version: 1\nname: f\nprobe: {kernel_function: vfs_read}\n".write(toFile: file, atomically: true, encoding: .utf8)
    let result = try ToolRun.complete(["--profile", file])
    XCTAssertEqual(result.status, 1)
    XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
    XCTAssertTrue(result.stderr.hasPrefix("bpfsyscalldist: error: this kernel offers no way to trace kernel function vfs_read (fentry: "), result.stderr)
    XCTAssertTrue(result.stderr.contains("kprobe: the kernel has no kprobe PMU (CONFIG_KPROBES is off)"), result.stderr)
  }

  // MARK: - Profiles housekeeping

  func testListCheckAndPrintProfiles() throws {
    let list = try ToolRun.complete(["--list-profiles"])
    XCTAssertEqual(list.status, 0)
    // an installed tool (the kernel matrix runs the .deb's) finds the shipped files beside it first
    let installed = URL(fileURLWithPath: Products.tool).resolvingSymlinksInPath().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("share/bpfsyscalldist/profiles/syscalldist.yaml").path
    let origin = FileManager.default.fileExists(atPath: installed) ? installed : "built-in"
    XCTAssertTrue(list.stdout.contains("syscalldist      Latency of every syscall, per syscall  [\(origin)]"), list.stdout)
    let check = try ToolRun.complete(["--check", "bpfsyscalldist"])
    XCTAssertEqual(check.status, 0)
    XCTAssertTrue(check.stdout.contains("probe:       syscall bpf ("), check.stdout)
    XCTAssertTrue(check.stdout.contains("decode:      btf_enum bpf_cmd ("), check.stdout)
    let printed = try ToolRun.complete(["--print-profile", "futex"])
    XCTAssertEqual(printed.status, 0)
    XCTAssertTrue(printed.stdout.hasPrefix("# Answers:"))
  }
}

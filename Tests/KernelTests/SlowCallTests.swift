import BPFKit
import Foundation
import XCTest

@testable import Tracer

/// --slower-than and --stacks against workloads whose truth is known: which calls were slow,
/// on which thread, how long off CPU, from which function, blocked where.
final class SlowCallTests: XCTestCase {
  /// Runs the tool on `workload` with `arguments` (JSON out), and returns its slow-call objects,
  /// its last snapshot and the workload's report.
  func trace(_ arguments: [String], _ workload: Workload) throws -> (
    slow: [[String: Any]], last: [String: Any], report: [String: Any], tool: ToolRun
  ) {
    let tool = try ToolRun(arguments + ["-p", String(workload.pid), "-j"])
    try tool.waitUntilAttached()
    let report = try workload.finish()
    XCTAssertEqual(tool.stop(), 0, tool.stderr)
    let objects = tool.jsonObjects
    let slow = objects.filter { $0["type"] as? String == "slow_call" }
    let last = try XCTUnwrap(objects.last { $0["histograms"] != nil }, tool.stdout)
    return (slow, last, report, tool)
  }

  /// Time off CPU as the workload's own clocks bound it, whatever the scheduler did: a call's
  /// longest stretch is part of its time off CPU, which is part of its latency; each 20 ms sleep
  /// in which the thread ran under 1 ms by its own clock blocks at least 19 ms in one stretch
  /// (its timer is armed before the thread leaves the CPU; not every sleep: under emulation a
  /// guest's CPU stalls for milliseconds, and the thread's clock counts that time); and what the
  /// tool counts on CPU over all the calls, latency less time off CPU, is at most the CPU time
  /// the thread ran in all its sleeps (CLOCK_THREAD_CPUTIME_ID, which includes the interrupts it
  /// took: IRQ_TIME_ACCOUNTING is off in Debian's kernels), so time off CPU is never
  /// understated. That holds for the rare call whose return to a CPU the sched_switch hook
  /// missed (man page, BUGS): the thread's runtime closes its stretch.
  func assertOffCPUWithinTheWorkloadsClocks(
    _ calls: [[String: Any]], _ report: [String: Any], _ context: String = "", file: StaticString = #filePath,
    line: UInt = #line
  ) {
    var onCPU = 0
    var blockedForTheSleep = 0
    for call in calls {
      let latency = call["latency_ns"] as? Int ?? -1
      let offCPU = call["off_cpu_ns"] as? Int ?? -1
      let longest = call["longest_off_cpu_ns"] as? Int ?? -1
      XCTAssertTrue(0 <= longest && longest <= offCPU && offCPU <= latency, "\(context) \(call)", file: file, line: line)
      onCPU += latency - offCPU
      if longest >= 19_000_000 { blockedForTheSleep += 1 }
    }
    let quiet = report["quiet_slow"] as? Int ?? .max
    XCTAssertGreaterThan(quiet, 0, "\(context) no 20 ms sleep ran under 1 ms on CPU: nothing to check", file: file, line: line)
    XCTAssertGreaterThanOrEqual(blockedForTheSleep, quiet, "\(context) \(calls)", file: file, line: line)
    let cpu = report["cpu_ns"] as? Int ?? -1
    XCTAssertLessThanOrEqual(onCPU, cpu, "\(context) on CPU in the slow calls, of the thread's CPU time", file: file, line: line)
  }

  /// The workload's 20 ms sleeps are slow calls, every one, and of its 1 ms sleeps only those it
  /// saw take 10 ms or more itself (a late scheduler on a busy machine): exact when none was late.
  func assertSlowCallsAreTheSlowSleeps(
    _ slow: [[String: Any]], _ report: [String: Any], _ context: String = "", file: StaticString = #filePath,
    line: UInt = #line
  ) {
    let sleeps = report["slow"] as? Int ?? -1, late = report["late_fast"] as? Int ?? -1
    XCTAssertTrue(
      sleeps >= 0 && late >= 0 && (sleeps...sleeps + late).contains(slow.count),
      "\(context) \(slow.count) slow calls for \(sleeps) slow sleeps and \(late) late fast ones", file: file, line: line)
  }

  func profile(_ probe: String) throws -> String {
    try temporaryProfile("version: 1\nname: slow\nprobe: {\(probe)}\nkey: {source: none}\n")
  }

  /// 50 sleeps of 20 ms among 500 of 1 ms: exactly the 50 are shown (and any 1 ms sleep the
  /// workload saw take 10 ms), each of at least 10 ms, on the workload's thread, with its time
  /// off CPU as the workload's clocks bound it, at a wall-clock time within the run; the
  /// histogram still counts all 550.
  func testExactlyTheSlowCallsAreShownWithTheirThreadAndTimeOffCPU() throws {
    let before = Date().timeIntervalSince1970
    let (slow, last, report, _) = try trace(
      ["--profile", "clock_nanosleep", "--slower-than", "10ms"], try Workload("slow-sleeps", "50", "500"))
    let after = Date().timeIntervalSince1970
    assertSlowCallsAreTheSlowSleeps(slow, report)
    for call in slow {
      let time = try XCTUnwrap(call["time"] as? Double)
      XCTAssertTrue(before <= time && time <= after, "\(time) not in \(before)...\(after)")
    }
    let tid = try XCTUnwrap(report["tid"] as? Int)
    for call in slow {
      let latency = try XCTUnwrap(call["latency_ns"] as? Int)
      XCTAssertGreaterThanOrEqual(latency, 10_000_000)
      XCTAssertEqual(call["tid"] as? Int, tid)
      XCTAssertEqual(call["comm"] as? String, "sd-workload")
      XCTAssertEqual(call["outcome"] as? String, "ok")
    }
    assertOffCPUWithinTheWorkloadsClocks(slow, report)
    XCTAssertEqual(countsByKey(jsonObjects: [last]).values.reduce(0, +), 550)
    let accounting = try XCTUnwrap(last["accounting"] as? [String: Any])
    XCTAssertEqual(accounting["slow_calls_dropped"] as? Int, 0)
  }

  /// A call that copies 64 MiB in memory spends its time on CPU: its time off CPU is at most
  /// what the workload's clocks leave for it, the read's wall time less the thread's CPU time in
  /// it (with 200 us for where the two clocks are read, and a scheduler tick for a return to a
  /// CPU the sched_switch hook missed: man page, BUGS).
  func testABusyCallIsMostlyOnCPU() throws {
    try assertBusyCallsMostlyOnCPU(reads: 5)
  }

  /// The kernel stack where a 20 ms sleep blocked is the sleep's; the first user frame is the
  /// workload's function that makes the syscall instruction itself, called from the mode's loop.
  /// Folded, each stack is one line counting its calls, from the comm down to the kernel.
  func testStacksShowWhereTheCallBlockedAndWhoMadeIt() throws {
    let (slow, _, report, tool) = try trace(
      ["--profile", "clock_nanosleep", "--slower-than", "10ms", "--stacks=folded"],
      try Workload("slow-sleeps", "20", "40"))
    assertSlowCallsAreTheSlowSleeps(slow, report)
    for call in slow {
      let kernel = try XCTUnwrap((call["kernel_stack"] as? [String: Any])?["frames"] as? [[String: Any]], "\(call)")
      let functions = kernel.compactMap { $0["function"] as? String }
      XCTAssertTrue(functions.contains("do_nanosleep") || functions.contains("hrtimer_nanosleep"), "\(functions)")
      let user = try XCTUnwrap((call["user_stack"] as? [String: Any])?["frames"] as? [[String: Any]], "\(call)")
      XCTAssertEqual(user.first?["function"] as? String, "sd_sleep_syscall", "\(user)")
      // through the function that times the sleep
      XCTAssertTrue(user.dropFirst().prefix(2).contains { $0["function"] as? String == "mode_slow_sleeps" }, "\(user)")
    }
    let folded = try XCTUnwrap(tool.jsonObjects.first { $0["type"] as? String == "folded_stacks" })
    let lines = try XCTUnwrap(folded["lines"] as? [String])
    XCTAssertEqual(lines.compactMap { Int($0.split(separator: " ").last ?? "") }.reduce(0, +), slow.count)
    for line in lines {
      XCTAssertTrue(line.hasPrefix("sd-workload;"), line)
      XCTAssertTrue(line.contains(";mode_slow_sleeps;") && line.contains(";sd_sleep_syscall;"), line)
    }
  }

  /// Folded by blocked time (off-CPU flame graphs): each stack's line weighs its calls' blocked
  /// ns summed, in whole us, and says so; without --off-cpu, their time off CPU. No more than
  /// the calls took, and never less than the whole in us less one per line (each line's
  /// remainder under a microsecond).
  func testFoldedBlockedStacksWeighTheCallsBlockedTime() throws {
    // --off-cpu needs Linux 5.13 (OffCPUTests checks its refusal before): off CPU alone there
    for (split, field, measure) in [(true, "blocked_ns", "blocked_us"), (false, "off_cpu_ns", "off_cpu_us")]
    where !split || BPFFeatures.runsMainObject {
      let (slow, _, report, tool) = try trace(
        ["--profile", "clock_nanosleep", "--slower-than", "10ms", "--stacks=folded-blocked"] + (split ? ["--off-cpu"] : []),
        try Workload("slow-sleeps", "5", "10"))
      assertSlowCallsAreTheSlowSleeps(slow, report)
      let folded = try XCTUnwrap(tool.jsonObjects.first { $0["type"] as? String == "folded_stacks" })
      XCTAssertEqual(folded["weight"] as? String, measure)
      let lines = try XCTUnwrap(folded["lines"] as? [String])
      let weights = lines.compactMap { Int($0.split(separator: " ").last ?? "") }
      let whole = slow.map { $0[field] as? Int ?? 0 }.reduce(0, +) / 1000
      XCTAssertGreaterThan(whole, 0)
      XCTAssertTrue((whole - lines.count)...whole ~= weights.reduce(0, +), "\(weights) against \(whole) us")
      XCTAssertLessThanOrEqual(whole, slow.map { ($0["latency_ns"] as? Int ?? 0) / 1000 }.reduce(0, +))
    }
  }

  /// A flood through a one-page ring buffer: every call is either shown or counted as dropped,
  /// exactly, and the histogram counts them all.
  func testAFloodIsShownOrCountedExactly() throws {
    let (slow, last, report, _) = try trace(
      ["--profile", try profile("syscall: getppid"), "--slower-than", "0ns", "--ring-buffer-size", "4K"],
      try Workload("getppid", "100000"))
    let issued = try XCTUnwrap(report["n"] as? Int)
    let accounting = try XCTUnwrap(last["accounting"] as? [String: Any])
    let dropped = try XCTUnwrap(accounting["slow_calls_dropped"] as? Int)
    XCTAssertEqual(slow.count + dropped, issued)
    XCTAssertGreaterThan(dropped, 0, "one page held 100,000 records")
    XCTAssertEqual(accounting["slow_calls"] as? Int, issued)
    XCTAssertEqual(countsByKey(jsonObjects: [last]).values.reduce(0, +), issued)
  }

  /// A slow call the histograms then drop (its key past a dense profile's range) is shown, but
  /// counted as dropped, not as a slow call counted in the histograms: 30 closes of fds from
  /// 100,000 on, into keys 0..63.
  func testASlowCallThatIsDroppedIsNotCountedAsSlow() throws {
    let keyed = try temporaryProfile(
      "version: 1\nname: slow\nprobe: {syscall: close}\nkey: {source: arg0, decode: {map: {0: zero}}}\n")
    let (slow, last, _, _) = try trace(["--profile", keyed, "--slower-than", "0ns"], try Workload("close-keys", "30", "1"))
    let accounting = try XCTUnwrap(last["accounting"] as? [String: Any])
    XCTAssertEqual(slow.count, 30)
    XCTAssertEqual(accounting["key_out_of_range"] as? Int, 30)
    XCTAssertEqual(accounting["slow_calls"] as? Int, 0, "slow calls the histograms count")
  }

  /// Every probe method this kernel has reports exactly the slow calls: the syscall's
  /// (per-syscall tracepoint, raw_tp, tp_btf, fentry on its wrapper where the kernel allows it)
  /// and a kernel function's (hrtimer_nanosleep, which clock_nanosleep calls, by fentry or kprobe).
  func testEveryProbeMethodReportsExactlyTheSlowCalls() throws {
    var runs = ["tracepoint", "raw_tp", "tp_btf"].map { (profile: "clock_nanosleep", method: $0) }
    #if arch(arm64)
      let wrapper = "__arm64_sys_clock_nanosleep"
    #else
      let wrapper = "__x64_sys_clock_nanosleep"
    #endif
    if BPFFeatures.hasTrampolines, let signature = try VmlinuxBTF().signature(ofFunction: wrapper),
      !signature.opaquePointerArguments.contains(0)
    {
      runs.append(("clock_nanosleep", "fentry"))
    }
    let function = try profile("kernel_function: hrtimer_nanosleep")
    if BPFFeatures.hasTrampolines && BPFFeatures.tracingProgramsStopRecursion { runs.append((function, "fentry")) }
    if KernelFunctionTests.hasKprobes { runs.append((function, "kprobe")) }
    for run in runs {
      let (slow, last, report, tool) = try trace(
        ["--profile", run.profile, "--probe-method", run.method, "--slower-than", "10ms"],
        try Workload("slow-sleeps", "5", "10"))
      assertSlowCallsAreTheSlowSleeps(slow, report, "\(run): \(tool.stderr)")
      XCTAssertEqual(countsByKey(jsonObjects: [last]).values.reduce(0, +), 15, "\(run)")
      for call in slow {
        XCTAssertGreaterThanOrEqual(call["latency_ns"] as? Int ?? 0, 10_000_000, "\(run)")
      }
      assertOffCPUWithinTheWorkloadsClocks(slow, report, "\(run)")
    }
  }

  /// A profile's `slower_than` turns slow calls on without the flag, and `--slower-than`
  /// overrides it either way: a profile's 10 ms raised to 1 s shows none of the 20 ms sleeps, a
  /// profile's 1 s lowered to 10 ms shows them all; every call is counted each time.
  func testAProfilesSlowerThanReportsSlowCallsAndTheFlagOverridesIt() throws {
    func profile(slowerThan: String) throws -> String {
      try temporaryProfile(
        "version: 1\nname: slow\nprobe: {syscall: clock_nanosleep}\nkey: {source: none}\nslower_than: \(slowerThan)\n")
    }
    let lowered = ["--profile", try profile(slowerThan: "1s"), "--slower-than", "10ms"]
    for arguments in [["--profile", try profile(slowerThan: "10ms")], lowered] {
      let (slow, last, report, tool) = try trace(arguments, try Workload("slow-sleeps", "5", "10"))
      assertSlowCallsAreTheSlowSleeps(slow, report, "\(arguments): \(tool.stderr)")
      for call in slow {
        XCTAssertGreaterThanOrEqual(call["latency_ns"] as? Int ?? 0, 10_000_000)
      }
      XCTAssertEqual(countsByKey(jsonObjects: [last]).values.reduce(0, +), 15)
    }
    let raised = try trace(
      ["--profile", try profile(slowerThan: "10ms"), "--slower-than", "1s"], try Workload("slow-sleeps", "5", "10"))
    XCTAssertEqual(raised.slow.count, 0, raised.tool.stdout)
    XCTAssertEqual(countsByKey(jsonObjects: [raised.last]).values.reduce(0, +), 15)
  }

  /// A slow call that fails shows its key as the profile decodes it and its errno; so does a
  /// comm key. The fast failures (EAGAIN) are not shown (but one the workload saw take 10 ms
  /// itself, on a stalled CPU), and all are counted.
  func testSlowFailuresShowTheirKeyAndErrno() throws {
    let comm = try temporaryProfile("version: 1\nname: by-comm\nprobe: {syscall: futex}\nkey: {source: comm}\n")
    for (profile, key) in [("futex", "FUTEX_WAIT_PRIVATE"), (comm, "sd-workload")] {
      let (slow, last, report, _) = try trace(
        ["--profile", profile, "--split-outcome", "--slower-than", "10ms"], try Workload("slow-waits", "10"))
      let outcomes = slow.map { $0["outcome"] as? String ?? "none" }
      XCTAssertEqual(outcomes.filter { $0 == "ETIMEDOUT" }.count, 10, "\(slow)")
      XCTAssertLessThanOrEqual(outcomes.filter { $0 == "EAGAIN" }.count, report["late_fast"] as? Int ?? -1, "\(slow)")
      XCTAssertEqual(outcomes.filter { $0 != "ETIMEDOUT" && $0 != "EAGAIN" }, [])
      for call in slow {
        XCTAssertEqual(call["key"] as? String, key)
      }
      XCTAssertEqual(countsByKey(jsonObjects: [last]).values.reduce(0, +), 20)
    }
  }

  /// The text view: funcslower's columns with the profile's key label, the calls under it, and
  /// the histogram at the end.
  func testTextLinesHaveTheColumnsAndTheHistogramFollows() throws {
    let workload = try Workload("slow-sleeps", "3", "0")
    let tool = try ToolRun(["--profile", "clock_nanosleep", "--slower-than", "10ms", "-p", String(workload.pid)])
    try tool.waitUntilAttached()
    _ = try workload.finish()
    XCTAssertEqual(tool.stop(), 0, tool.stderr)
    XCTAssertTrue(tool.stderr.contains("Tracing calls slower than 10 ms. Hit Ctrl-C to end.\n"), tool.stderr)
    let lines = tool.stdout.split(separator: "\n").map(String.init)
    XCTAssertEqual(
      lines.first, "TIME          COMM            PID     TID     LAT(ms)  key                   RESULT  OFF-CPU")
    let calls = lines.filter { $0.contains(" sd-workload ") }
    XCTAssertEqual(calls.count, 3, tool.stdout)
    for call in calls {
      let fields = call.split(separator: " ")
      XCTAssertEqual(fields[2], Substring(String(workload.pid)))
      XCTAssertGreaterThanOrEqual(Double(fields[4]) ?? 0, 10)
      XCTAssertEqual(fields[6], "ok")
      XCTAssertTrue(fields[7].hasSuffix("%"))
    }
    XCTAssertTrue(lines.contains { $0.hasPrefix("Histogram for syscall(clock_nanosleep)") }, tool.stdout)
  }

}

/// Traces `reads` reads of 64 MiB in memory (each on CPU for milliseconds, copying) and checks
/// each one's time off CPU against the workload's own clocks for that read: its wall time less
/// the thread's CPU time in it, with 200 us for where the clocks are read and a scheduler tick.
func assertBusyCallsMostlyOnCPU(reads: Int, file: StaticString = #filePath, line: UInt = #line) throws {
  let workload = try Workload("read-big", "64", String(reads))
  let profile = try temporaryProfile("version: 1\nname: reads\nprobe: {syscall: pread64}\nkey: {source: none}\n")
  let tool = try ToolRun(["--profile", profile, "--slower-than", "1ms", "-p", String(workload.pid), "-j"])
  try tool.waitUntilAttached()
  let report = try workload.finish()
  XCTAssertEqual(tool.stop(), 0, tool.stderr, file: file, line: line)
  let slow = tool.jsonObjects.filter { $0["type"] as? String == "slow_call" }
  let most = try XCTUnwrap(report["off_cpu_most_ns"] as? [Int], file: file, line: line)
  // every read takes a millisecond at least, so each is shown, in order
  XCTAssertEqual(slow.count, reads, "\(slow)", file: file, line: line)
  let slack = 200_000 + 1_000_000_000 / (try schedulerTicksPerSecond())
  for (call, most) in zip(slow, most) {
    let offCPU = call["off_cpu_ns"] as? Int ?? .max, latency = call["latency_ns"] as? Int ?? -1
    XCTAssertLessThanOrEqual(offCPU, most + slack, "\(call)", file: file, line: line)
    XCTAssertLessThanOrEqual(offCPU, latency, "\(call)", file: file, line: line)
  }
}

/// The kernel's CONFIG_HZ, from its config (Debian's /boot, or /proc/config.gz); else 100, the
/// fewest ticks a second Linux offers, so the longest tick.
func schedulerTicksPerSecond() throws -> Int {
  var config = (try? String(contentsOfFile: "/boot/config-\(HostFacts.release)", encoding: .utf8)) ?? ""
  if config.isEmpty, FileManager.default.fileExists(atPath: "/proc/config.gz") {
    config = try ToolRun.complete(["-c", "/proc/config.gz"], executable: "/bin/zcat").stdout
  }
  let line = config.split(separator: "\n").first { $0.hasPrefix("CONFIG_HZ=") }
  return line.flatMap { Int($0.dropFirst("CONFIG_HZ=".count)) } ?? 100
}

import Foundation
import XCTest

/// `--cost`: the kernel's own BPF run-time statistics of the tool's programs, turned on by a file
/// descriptor the tool holds, so that they end with it (even killed) and the sysctl is untouched.
final class CostTests: XCTestCase {
  /// The tool's programs as bpftool (not the tool) sees them: name → (runs, ns); a program the
  /// statistics never counted has neither field.
  func programStatistics() throws -> [String: (runs: Int, nanoseconds: Int)] {
    let show = try ToolRun.complete(["prog", "show", "-j"], executable: "/usr/sbin/bpftool")
    XCTAssertEqual(show.status, 0, show.stderr)
    let programs = try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [[String: Any]] ?? []
    var result: [String: (Int, Int)] = [:]
    for program in programs {
      guard let name = program["name"] as? String, name.hasPrefix("sd_") else { continue }
      result[name] = (program["run_cnt"] as? Int ?? 0, program["run_time_ns"] as? Int ?? 0)
    }
    return result
  }

  override func setUpWithError() throws {
    // the global switch would count every program anyway: these tests need it off
    let sysctl = try String(contentsOfFile: "/proc/sys/kernel/bpf_stats_enabled", encoding: .utf8)
    XCTAssertEqual(sysctl.trimmingCharacters(in: .whitespacesAndNewlines), "0", "kernel.bpf_stats_enabled is on")
  }

  func testCostFiguresArePresentNonZeroAndAddUp() throws {
    let workload = try Workload("bpf-mix", "300")
    let started = Date()
    let tool = try ToolRun(["--cost", "-p", String(workload.pid), "-j"])
    try tool.waitUntilAttached()
    let issued = try workload.finish()["counts"] as? [String: Int] ?? [:]
    XCTAssertEqual(tool.stop(), 0, tool.stderr)
    let wall = Date().timeIntervalSince(started) * 1e9
    let last = try XCTUnwrap(tool.jsonObjects.last)
    let cost = try XCTUnwrap(last["cost"] as? [String: Any], "no cost in \(last.keys)")
    let counted = (last["accounting"] as? [String: Any])?["counted"] as? Int
    XCTAssertEqual(counted, issued.values.reduce(0, +))
    XCTAssertEqual(cost["counted_calls"] as? Int, counted)
    let programs = try XCTUnwrap(cost["programs"] as? [[String: Any]])
    var runs: [String: Int] = [:]
    var total = 0
    for program in programs {
      let name = try XCTUnwrap(program["program"] as? String)
      runs[name] = program["runs"] as? Int
      total += program["run_time_ns"] as? Int ?? 0
    }
    // every bpf() of the workload ran both hooks (others' calls too, turned away by the filter)
    XCTAssertGreaterThanOrEqual(runs["sd_tp_enter"] ?? 0, counted ?? .max, "\(programs)")
    XCTAssertGreaterThanOrEqual(runs["sd_tp_exit"] ?? 0, counted ?? .max, "\(programs)")
    XCTAssertNotNil(runs["sd_task_exit"])
    XCTAssertGreaterThan(total, 0)
    XCTAssertEqual(cost["run_time_ns"] as? Int, total)
    let elapsed = try XCTUnwrap(cost["elapsed_ns"] as? Int)
    XCTAssertGreaterThan(elapsed, 0)
    XCTAssertLessThanOrEqual(Double(elapsed), wall)
    let perCall = try XCTUnwrap(cost["ns_per_counted_call"] as? Double)
    XCTAssertEqual(perCall, Double(total) / Double(counted ?? 1), accuracy: 1e-6 * perCall)
    let share = try XCTUnwrap(cost["share_of_one_cpu"] as? Double)
    XCTAssertEqual(share, Double(total) / Double(elapsed), accuracy: 1e-9)
    // only the last print carries it
    XCTAssertTrue(tool.jsonObjects.dropLast().allSatisfy { $0["cost"] == nil })
  }

  func testTextSaysTheCostAfterTheAccountingLine() throws {
    let workload = try Workload("bpf-mix", "100")
    let tool = try ToolRun(["--cost", "-p", String(workload.pid)])
    try tool.waitUntilAttached()
    let calls = (try workload.finish()["counts"] as? [String: Int] ?? [:]).values.reduce(0, +)
    XCTAssertEqual(tool.stop(), 0, tool.stderr)
    let lines = tool.stderr.split(separator: "\n").map(String.init)
    let accounting = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("Counted \(calls) calls") }, tool.stderr)
    XCTAssertTrue(lines[accounting + 1].hasPrefix("Cost, by the kernel's BPF run-time statistics over "), tool.stderr)
    XCTAssertTrue(lines[accounting + 1].contains("per counted call (\(calls) calls)"), tool.stderr)
    XCTAssertTrue(lines.contains { $0.hasPrefix("  sd_tp_enter ") && $0.contains(" runs, ") }, tool.stderr)
  }

  /// The statistics count while the tool lives, and stop with it, even when it is killed: a
  /// later run without --cost finds its programs uncounted.
  func testStatisticsEndWithTheToolEvenKilled() throws {
    let before = bpfObjectIDs()
    let tool = try ToolRun(["--cost", "--profile", "syscalldist", "--probe-method", "raw_tp"])
    try tool.waitUntilAttached()
    _ = try Workload("bpf-mix", "20").finish()
    let during = try programStatistics()
    XCTAssertGreaterThan(during["sd_raw_enter"]?.runs ?? 0, 0, "\(during)")
    XCTAssertGreaterThan(during["sd_raw_enter"]?.nanoseconds ?? 0, 0, "\(during)")
    _ = tool.stop(with: SIGKILL)
    XCTAssertEqual(tool.process.terminationReason, .uncaughtSignal)
    // its programs gone, so that bpftool cannot show the killed run's beside the next one's
    let left = waitForBPFObjects(toReturnTo: before)
    XCTAssertEqual(left.programs.subtracting(before.programs), [])
    let after = try ToolRun(["--profile", "syscalldist", "--probe-method", "raw_tp"])
    try after.waitUntilAttached()
    _ = try Workload("bpf-mix", "20").finish()
    let later = try programStatistics()
    XCTAssertGreaterThan(later.count, 0, "the second run's programs are loaded")
    for (name, statistics) in later {
      XCTAssertEqual(statistics.runs, 0, "\(name) is still counted after the --cost run was killed")
    }
    XCTAssertEqual(after.stop(), 0, after.stderr)
  }
}

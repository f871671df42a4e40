import Foundation
import Rendering
import Snapshots
import XCTest

/// --cost in each format, from figures worked out by hand: 2 s, 3 ms of program time over 10,000
/// counted calls is 300 ns a call and 0.15% of one CPU.
final class CostRenderingTests: XCTestCase {
  let cost = ToolCost(
    programs: [
      ProgramCost(name: "sd_tp_enter", runs: 10_000, nanoseconds: 1_200_000),
      ProgramCost(name: "sd_tp_exit", runs: 10_000, nanoseconds: 1_790_000),
      ProgramCost(name: "sd_task_exit", runs: 0, nanoseconds: 10_000),
    ],
    elapsedNanoseconds: 2_000_000_000, countedCalls: 10_000)

  func testTextSaysTotalPerCallShareAndEachProgram() {
    XCTAssertEqual(
      CostRenderer.text(cost),
      """
      Cost, by the kernel's BPF run-time statistics over 2.00s: 3.00ms in the tool's programs, 0.15% of one CPU, \
      300.0ns per counted call (10000 calls); a bucket step runs inside its exit program (tail call) and is counted there.
        sd_tp_enter   10000 runs, 120.0ns a run
        sd_tp_exit    10000 runs, 179.0ns a run
        sd_task_exit  0 runs
      """)
  }

  func testJSONCarriesTheFiguresInTheLastObject() throws {
    var snapshot = RenderingTests.snapshot([RenderingTests.seedSeries()])
    let without = try JSONSerialization.jsonObject(with: Data(JSONRenderer().render(snapshot).utf8)) as? [String: Any]
    XCTAssertNil(without?["cost"])
    snapshot.cost = cost
    let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(JSONRenderer().render(snapshot).utf8)) as? [String: Any])
    let json = try XCTUnwrap(object["cost"] as? [String: Any])
    XCTAssertEqual(json["run_time_ns"] as? Int, 3_000_000)
    XCTAssertEqual(json["counted_calls"] as? Int, 10_000)
    XCTAssertEqual(json["ns_per_counted_call"] as? Int, 300)
    XCTAssertEqual(json["share_of_one_cpu"] as? Double, 0.0015)
    XCTAssertEqual((json["programs"] as? [[String: Any]])?.map { $0["program"] as? String }, ["sd_tp_enter", "sd_tp_exit", "sd_task_exit"])
  }

  func testOpenMetricsHasRunsAndSecondsPerProgram() {
    var snapshot = RenderingTests.snapshot([])
    snapshot.cost = cost
    let text = OpenMetricsRenderer().render(snapshot)
    XCTAssertTrue(text.contains("# TYPE bpfsyscalldist_program_runs counter\n"), text)
    XCTAssertTrue(text.contains("bpfsyscalldist_program_runs_total{program=\"sd_tp_exit\"} 10000\n"), text)
    XCTAssertTrue(text.contains("bpfsyscalldist_program_run_seconds_total{program=\"sd_tp_exit\"} 0.00179\n"), text)
    XCTAssertTrue(text.hasSuffix("# EOF\n"))
  }
}

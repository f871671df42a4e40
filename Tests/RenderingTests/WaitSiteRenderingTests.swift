import Foundation
import Histograms
import Rendering
import Snapshots
import Symbols
import XCTest

/// --off-cpu's wait sites: named past the tool's and the scheduler's frames, shown as shares of
/// a key's blocked time.
final class WaitSiteRenderingTests: XCTestCase {
  func frames(_ names: [String]) -> [Frame] {
    names.enumerated().map { Frame(address: UInt64($0.offset), function: $0.element, module: $0.element.hasPrefix("bpf_prog") ? "bpf" : nil) }
  }

  func testASiteIsTheFirstThreeFramesPastTheToolAndTheScheduler() {
    let stack = frames([
      "bpf_prog_6deef7357e7b4530_sd_sched_switch", "bpf_trace_run4", "__traceiter_sched_switch", "__schedule",
      "schedule", "schedule_preempt_disabled", "__mutex_lock.constprop.0", "bpf_fd_array_map_update_elem",
      "map_update_elem", "__sys_bpf",
    ])
    XCTAssertEqual(
      KernelFrames.waitSite(stack), "__mutex_lock.constprop.0 <- bpf_fd_array_map_update_elem <- map_update_elem")
    XCTAssertEqual(KernelFrames.waitSite(frames(["__schedule", "schedule"])), "(the scheduler alone)")
  }

  func testSitesOfTheSameNameAddUpAndTheLongestComeFirst() {
    let names: [Int64: String] = [1: "a", 2: "b", 3: "a"]
    let sites = NamedWaitSite.named(
      [(1, WaitTotals(nanoseconds: 10, count: 1)), (2, WaitTotals(nanoseconds: 25, count: 2)), (3, WaitTotals(nanoseconds: 30, count: 3))]
    ) { names[$0]! }
    XCTAssertEqual(sites, [NamedWaitSite(site: "a", totals: WaitTotals(nanoseconds: 40, count: 4)), NamedWaitSite(site: "b", totals: WaitTotals(nanoseconds: 25, count: 2))])
  }

  func testTextAndJSONShowEachKeysSites() throws {
    var series = RenderingTests.seedSeries()
    series.waitSites = [
      NamedWaitSite(site: "__mutex_lock <- bpf_fd_array_map_update_elem <- map_update_elem", totals: WaitTotals(nanoseconds: 980, count: 200)),
      NamedWaitSite(site: "synchronize_rcu_expedited <- prog_array_map_poke_run <- bpf_fd_array_map_update_elem", totals: WaitTotals(nanoseconds: 20, count: 3)),
    ]
    let text = TextRenderer().render(series, unit: .us)
    XCTAssertTrue(
      text.contains(
        "     blocked in: 98% __mutex_lock <- bpf_fd_array_map_update_elem <- map_update_elem (200), "
          + "2% synchronize_rcu_expedited <- prog_array_map_poke_run <- bpf_fd_array_map_update_elem (3)\n"), text)
    let json = try XCTUnwrap(
      try JSONSerialization.jsonObject(with: Data(JSONRenderer().render(RenderingTests.snapshot([series])).utf8)) as? [String: Any])
    let sites = try XCTUnwrap(((json["histograms"] as? [[String: Any]])?.first)?["wait_sites"] as? [[String: Any]])
    XCTAssertEqual(sites.map { $0["count"] as? Int }, [200, 3])
    XCTAssertEqual(sites.first?["blocked_ns"] as? Int, 980)
  }

  func testLockWaitsAreALineAndAJSONList() throws {
    var series = RenderingTests.seedSeries()
    series.lockWaits = [
      NamedWaitSite(site: "mutex", totals: WaitTotals(nanoseconds: 120_500_000, count: 1600)),
      NamedWaitSite(site: "spinlock", totals: WaitTotals(nanoseconds: 200_000, count: 12)),
    ]
    let text = TextRenderer().render(series, unit: .us)
    XCTAssertTrue(text.contains("     waited for locks: mutex 120.5ms (1600), spinlock 200.0us (12)\n"), text)
    let json = try XCTUnwrap(
      try JSONSerialization.jsonObject(with: Data(JSONRenderer().render(RenderingTests.snapshot([series])).utf8)) as? [String: Any])
    let kinds = try XCTUnwrap(((json["histograms"] as? [[String: Any]])?.first)?["lock_waits"] as? [[String: Any]])
    XCTAssertEqual(kinds.map { $0["kind"] as? String }, ["mutex", "spinlock"])
    XCTAssertEqual(kinds.map { $0["ns"] as? Int }, [120_500_000, 200_000])
    XCTAssertEqual(kinds.map { $0["count"] as? Int }, [1600, 12])
  }
}

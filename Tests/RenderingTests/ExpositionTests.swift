import Histograms
import Rendering
import Snapshots
import XCTest

/// The two text formats `serve` answers in, and what differs between them.
final class ExpositionTests: XCTestCase {
  func family() -> MetricFamily {
    var family = MetricFamily(name: "x_errors", kind: .counter, help: "Say \"hi\"\\ here\nand there.")
    let labels = Labels.render([("comm", "a\"b\\c\nd"), ("errno", "ENOENT")])
    family.add("_total", labels, .count(UInt64.max))
    family.add("_created", labels, .number(1_700_000_000.25))
    return family
  }

  func testOpenMetricsHasTypeUnitHelpCreatedAndEOF() {
    var latency = MetricFamily(name: "x_latency_seconds", kind: .histogram, help: "h", unit: "seconds")
    latency.add("_bucket", "", le: "0.001", .count(2))  // a histogram without labels but le
    latency.add("_bucket", "k=\"v\"", le: "+Inf", .count(3))
    latency.add("_count", "", .count(3))
    let text = ExpositionRenderer().render([latency, family()], as: .openMetrics)
    XCTAssertEqual(
      text,
      """
      # TYPE x_latency_seconds histogram
      # UNIT x_latency_seconds seconds
      # HELP x_latency_seconds h
      x_latency_seconds_bucket{le="0.001"} 2
      x_latency_seconds_bucket{k="v",le="+Inf"} 3
      x_latency_seconds_count 3
      # TYPE x_errors counter
      # HELP x_errors Say \\"hi\\"\\\\ here\\nand there.
      x_errors_total{comm="a\\"b\\\\c\\nd",errno="ENOENT"} 18446744073709551615
      x_errors_created{comm="a\\"b\\\\c\\nd",errno="ENOENT"} 1700000000.25
      # EOF

      """)
  }

  /// 0.0.4: HELP before TYPE, a counter's family named with `_total`, no `_created`, no UNIT,
  /// quotes left alone in HELP, no EOF.
  func testPrometheusTextFormatDiffersWhereItMust() {
    XCTAssertEqual(
      ExpositionRenderer().render([family()], as: .prometheus),
      """
      # HELP x_errors_total Say "hi"\\\\ here\\nand there.
      # TYPE x_errors_total counter
      x_errors_total{comm="a\\"b\\\\c\\nd",errno="ENOENT"} 18446744073709551615

      """)
  }

  func testTheAcceptHeaderPicksTheFormat() {
    XCTAssertEqual(ExpositionFormat(accept: "application/openmetrics-text; version=0.0.1,text/plain;version=0.0.4;q=0.5"), .openMetrics)
    XCTAssertEqual(ExpositionFormat(accept: "text/plain"), .prometheus)
    XCTAssertEqual(ExpositionFormat(accept: nil), .prometheus)
  }

  /// A bucket range folds the smaller bounds into the first one kept, and leaves the larger ones
  /// to +Inf; the set is the same whatever was counted.
  func testABucketRangeTrimsTheFixedSet() {
    let all = BucketSet(.log2, unit: .us)
    XCTAssertEqual(all.bounds.count, 32, "2 us to 2^32 us (+Inf is every set's)")
    let trimmed = BucketSet(.log2, unit: .us, range: 0.001...1)
    XCTAssertEqual(trimmed.bounds.first?.le, "0.001024")
    XCTAssertEqual(trimmed.bounds.last?.le, "0.524288")
    XCTAssertEqual(trimmed.bounds.first?.lastSlot, 9, "slots 0-9 (up to 1023 us) in the first bucket")
  }

  /// Every `le` is the shortest decimal of its exact bound: 15 us is 1.5e-05, never the
  /// 1.4999999999999999e-05 that 15 * 1e-6 gives; checked against the decimal written by hand.
  func testBucketBoundsAreTheirShortestExactDecimals() {
    let linear = BucketSet(.linear(min: 0, max: 100, step: 5), unit: .us)
    XCTAssertEqual(linear.bounds.prefix(4).map(\.le), ["5e-06", "1e-05", "1.5e-05", "2e-05"])
    for (slot, le) in linear.bounds { XCTAssertEqual(Double(le), Double("\(5 * slot)e-6"), le) }
    XCTAssertEqual(BucketSet(.log2, unit: .ms).bounds.first?.le, "0.002")
  }

  /// A call lost to a skipped program run is counted once among the calls not counted (as a
  /// return not seen); the skipped runs and missed returns are their own families, not reasons.
  func testALostCallIsNotCountedUnderTwoReasons() throws {
    var accounting = Accounting(counted: 3)
    accounting.replaced = 1
    accounting.kernelSkipped = 1
    accounting.returnsMissed = 2
    let snapshot = Snapshot(
      profileName: "p", keyLabel: "k", unit: .us, layout: .log2, series: [], accounting: accounting, timestamp: 0)
    let families = OpenMetricsRenderer().accountingFamilies(snapshot, overflowCalls: 0, since: 0)
    let notCounted = try XCTUnwrap(families.first { $0.name == "p_calls_not_counted" })
    func count(_ value: MetricFamily.Value) -> UInt64 {
      if case .count(let count) = value { return count }
      return .max
    }
    XCTAssertEqual(notCounted.samples.filter { $0.suffix == "_total" }.map { count($0.value) }.reduce(0, +), 1)
    XCTAssertEqual(families.first { $0.name == "p_program_runs_skipped" }?.samples.first.map { count($0.value) }, 1)
    XCTAssertEqual(families.first { $0.name == "p_returns_missed" }?.samples.first.map { count($0.value) }, 2)
    XCTAssertNil(families.first { $0.name == "p_wait_sites_lost" }, "--off-cpu's own")
  }

  /// With the time split, the switches its hook missed and the waits no wait site kept: a
  /// serve that runs for weeks says when its wait-site map is full.
  func testTheTimeSplitsLossesAreCounters() throws {
    var accounting = Accounting(counted: 1)
    accounting.switchesUnseen = 4
    accounting.waitSitesLost = 9
    let split = Histogram(
      layout: .log2, counts: [1] + Array(repeating: 0, count: 63), sumNanoseconds: 10,
      timeSplit: TimeSplit(blockedNanoseconds: 2, runnableNanoseconds: 1))
    let snapshot = Snapshot(
      profileName: "p", keyLabel: "k", unit: .us, layout: .log2,
      series: [Series(rawKey: .unsigned(1), keyName: "1", title: "t", histogram: split)], accounting: accounting, timestamp: 0)
    let families = OpenMetricsRenderer().accountingFamilies(snapshot, overflowCalls: 0, since: 0)
    func total(_ name: String) -> UInt64? {
      guard case .count(let count) = families.first(where: { $0.name == name })?.samples.first?.value else { return nil }
      return count
    }
    XCTAssertEqual(total("p_switches_unseen"), 4)
    XCTAssertEqual(total("p_wait_sites_lost"), 9)
  }

  /// --off-cpu's lock waits: two counters by key and kind, time in seconds and waits; the
  /// probe's own (keys found at exit) without key labels.
  func testLockWaitsAreCountersByKeyAndKind() {
    var series = Series(rawKey: .unsigned(2), keyName: "BPF_MAP_UPDATE_ELEM", title: "t", histogram: Histogram(layout: .log2, counts: [1] + Array(repeating: 0, count: 63)))
    series.lockWaits = [NamedWaitSite(site: "mutex", totals: WaitTotals(nanoseconds: 1_500_000_000, count: 3))]
    var snapshot = Snapshot(
      profileName: "p", keyLabel: "cmd", unit: .us, layout: .log2, series: [series], accounting: Accounting(counted: 1), timestamp: 0, since: 7)
    snapshot.lockWaits = [NamedWaitSite(site: "rwsem:W", totals: WaitTotals(nanoseconds: 250_000_000, count: 1))]
    let text = OpenMetricsRenderer().render(snapshot)
    for line in [
      "# TYPE p_lock_wait_seconds counter", "# UNIT p_lock_wait_seconds seconds",
      "p_lock_wait_seconds_total{cmd=\"BPF_MAP_UPDATE_ELEM\",kind=\"mutex\"} 1.5", "p_lock_waits_total{cmd=\"BPF_MAP_UPDATE_ELEM\",kind=\"mutex\"} 3",
      "p_lock_wait_seconds_total{kind=\"rwsem:W\"} 0.25", "p_lock_waits_total{kind=\"rwsem:W\"} 1", "p_lock_waits_created{kind=\"rwsem:W\"} 7",
    ] {
      XCTAssertTrue(text.split(separator: "\n").contains(Substring(line)), "\(line) in:\n\(text)")
    }
  }
}

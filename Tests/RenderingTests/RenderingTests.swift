import Foundation
import Histograms
import Snapshots
import Rendering
import XCTest

final class RenderingTests: XCTestCase {
  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "Fixtures")

  /// The origin tool's BPF_PROG_LOAD histogram, from its write-up.
  static func seedSeries() -> Series {
    var counts = [UInt64](repeating: 0, count: 64)
    counts[12] = 9
    counts[13] = 10
    counts[14] = 24
    counts[15] = 8
    counts[16] = 3
    return Series(
      rawKey: .unsigned(5), keyName: "BPF_PROG_LOAD", title: "syscall(BPF) cmd(BPF_PROG_LOAD)",
      histogram: Histogram(
        layout: .log2, counts: counts, sumNanoseconds: 1_234_567_890, minNanoseconds: 4_500_000,
        maxNanoseconds: 126_000_000))
  }

  static func snapshot(_ series: [Series]) -> Snapshot {
    Snapshot(
      profileName: "bpfsyscalldist", keyLabel: "cmd", unit: .us, layout: .log2, series: series,
      accounting: Accounting(counted: 54), timestamp: 1_700_000_000.5, since: 1_700_000_000)
  }

  func testTextMatchesTheOriginToolByteForByte() throws {
    let expected = try String(contentsOf: Self.fixtures.appending(path: "seed-histogram.txt"), encoding: .utf8)
    XCTAssertEqual(TextRenderer(showSummary: false).render(Self.seedSeries(), unit: .us), expected)
  }

  /// p50: rank 27 of 54 lies 7.5/24 into 16384…32767 us: 21.5 ms, at most 34% off. p99: rank 54
  /// lies 2.5/3 into 65536…131071 us, which the exact maximum (126 ms) cuts short: 115.9 ms, at
  /// most 77% off, the largest bound of the three.
  func testSummaryLineStatesCountMeanExtremesPercentilesAndTheirBound() {
    let text = TextRenderer().render(Self.seedSeries(), unit: .us)
    let summary = text.split(separator: "\n").last.map(String.init)
    XCTAssertEqual(summary, "     count 54, mean 22.9ms, min 4.50ms, max 126.0ms, p50 ≈ 21.5ms, p90 ≈ 55.3ms, p99 ≈ 115.9ms (±77%, log2)")
  }

  /// bcc (print_log2_hist) widens the columns only when the last occupied slot is above 32.
  func testTheLayoutWidensOnlyPastSlot32AsBccDoes() {
    var counts = [UInt64](repeating: 0, count: 64)
    counts[32] = 1
    let narrow = TextRenderer(showSummary: false).render(
      Series(rawKey: nil, keyName: "x", title: "t", histogram: Histogram(layout: .log2, counts: counts)), unit: .ns)
    XCTAssertTrue(narrow.contains("\n4294967296 -> 8589934591 : 1             |****************************************|\n"), narrow)
    counts[33] = 1
    let wide = TextRenderer(showSummary: false).render(
      Series(rawKey: nil, keyName: "x", title: "t", histogram: Histogram(layout: .log2, counts: counts)), unit: .ns)
    XCTAssertTrue(wide.contains("\n          8589934592 -> 17179869183          : 1             |********************|\n"), wide)
  }

  func testLinearRowsStartAtTheFirstCountAndEndOpen() {
    var histogram = Histogram(layout: .linear(min: 0, max: 30, step: 10))
    histogram.record(12)
    histogram.record(35)
    let text = TextRenderer(showSummary: false).render(
      Series(rawKey: nil, keyName: "x", title: "t", histogram: histogram), unit: .ms)
    XCTAssertEqual(
      text,
      """
      Histogram for t (sum 2):
           msecs               : count         distribution
              10 -> 19         : 1             |****************************************|
              20 -> 29         : 0             |                                        |
              30 -> inf        : 1             |****************************************|

      """)
  }

  func testFailuresAreNamedUnderTheirHistogramInEveryFormat() throws {
    var series = Self.seedSeries()
    series.failures = [("ENOENT", 7), ("EINVAL", 2)]
    XCTAssertTrue(TextRenderer().render(series, unit: .us).hasSuffix("\n     failed: ENOENT 7, EINVAL 2\n"))
    let json = JSONRenderer().render(Self.snapshot([series]))
    XCTAssertTrue(json.contains(#""errors":{"ENOENT":7,"EINVAL":2}"#), json)
    let metrics = OpenMetricsRenderer().render(Self.snapshot([series]))
    XCTAssertTrue(metrics.contains("# TYPE bpfsyscalldist_errors counter\n"), metrics)
    XCTAssertTrue(metrics.contains(#"bpfsyscalldist_errors_total{cmd="BPF_PROG_LOAD",errno="ENOENT"} 7"#), metrics)
  }

  func testEmptySeriesPrintsOnlyItsHeading() {
    let series = Series(rawKey: .unsigned(1), keyName: "x", title: "t", histogram: Histogram(layout: .log2))
    XCTAssertEqual(TextRenderer().render(series, unit: .us), "Histogram for t (sum 0):\n")
  }

  func testAccountingLineNamesEveryDropReason() {
    XCTAssertEqual(AccountingLine.render(Accounting(counted: 10)), "Counted 10 calls, dropped 0.")
    XCTAssertEqual(
      AccountingLine.render(Accounting(counted: 10, keyOutOfRange: 2, mapFull: 1)),
      "Counted 10 calls, dropped 3 (2 with a key beyond the profile's range, 1 because the histogram map was full).")
    var everything = Accounting(counted: 10, inFlight: 1, abandoned: 2)
    everything.replaced = 3
    everything.compat = 4
    everything.errorsNotItemized = 5
    everything.kernelSkipped = 6
    XCTAssertEqual(
      AccountingLine.render(everything),
      "Counted 10 calls, dropped 0; not counted: 1 still in progress, 2 abandoned by threads that exited inside the call, "
        + "3 whose return was not seen (the thread entered again first), 4 from 32-bit callers (not traced); "
        + "5 failed calls without their errno (errors map full or busy); "
        + "the kernel skipped the tool's programs 6 times (recursion): a skipped entry loses its call, a skipped exit shows above as a return not seen.")
  }

  func testJSONHasSchemaStableKeyOrderAndRawBuckets() throws {
    let json = JSONRenderer().render(Self.snapshot([Self.seedSeries()]))
    XCTAssertTrue(json.hasPrefix(#"{"schema":4,"profile":"bpfsyscalldist","timestamp":1700000000.5,"unit":"us","buckets":"log2","bucket_schema":null,"key_label":"cmd","accounting":{"counted":54,"dropped":0,"#), json)
    let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    let series = try XCTUnwrap((object["histograms"] as? [[String: Any]])?.first)
    XCTAssertEqual(series["key"] as? String, "BPF_PROG_LOAD")
    XCTAssertEqual(series["raw"] as? Int, 5)
    XCTAssertEqual(series["count"] as? Int, 54)
    XCTAssertEqual(series["sum_ns"] as? Int, 1_234_567_890)
    XCTAssertEqual(series["min_ns"] as? Int, 4_500_000)
    XCTAssertEqual(series["max_ns"] as? Int, 126_000_000)
    let p99 = try XCTUnwrap((series["percentiles"] as? [String: [String: Double]])?["p99"])
    XCTAssertEqual(p99["low"], 65536)
    XCTAssertEqual(p99["high"], 126_000)
    XCTAssertEqual(try XCTUnwrap(series["relative_error"] as? Double), 0.7688, accuracy: 0.0001)
    let buckets = try XCTUnwrap(series["buckets"] as? [[String: Any]])
    XCTAssertEqual(buckets.map { $0["low"] as? Int }, [4096, 8192, 16384, 32768, 65536])
    XCTAssertEqual(buckets.map { $0["count"] as? Int }, [9, 10, 24, 8, 3])
  }

  func testJSONEscapesKeyNames() throws {
    var series = Self.seedSeries()
    series.keyName = "a\"b\\c\n"
    let json = JSONRenderer().render(Self.snapshot([series]))
    let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    XCTAssertEqual((object["histograms"] as? [[String: Any]])?.first?["key"] as? String, "a\"b\\c\n")
  }

  func testOpenMetricsBucketsAreCumulativeInSecondsWithAFixedSet() {
    let text = OpenMetricsRenderer().render(Self.snapshot([Self.seedSeries()]))
    let lines = text.split(separator: "\n").map(String.init)
    XCTAssertEqual(lines.first, "# TYPE bpfsyscalldist_latency_seconds histogram")
    XCTAssertTrue(lines.contains(#"bpfsyscalldist_latency_seconds_bucket{cmd="BPF_PROG_LOAD",le="0.008192"} 9"#), text)
    XCTAssertTrue(lines.contains(#"bpfsyscalldist_latency_seconds_bucket{cmd="BPF_PROG_LOAD",le="0.131072"} 54"#), text)
    XCTAssertTrue(lines.contains(#"bpfsyscalldist_latency_seconds_bucket{cmd="BPF_PROG_LOAD",le="+Inf"} 54"#))
    XCTAssertTrue(lines.contains(#"bpfsyscalldist_latency_seconds_sum{cmd="BPF_PROG_LOAD"} 1.23456789"#))
    XCTAssertTrue(lines.contains(#"bpfsyscalldist_latency_seconds_count{cmd="BPF_PROG_LOAD"} 54"#))
    XCTAssertTrue(lines.contains(#"bpfsyscalldist_latency_seconds_created{cmd="BPF_PROG_LOAD"} 1700000000"#))
    XCTAssertEqual(lines.last, "# EOF")
    // 2 us up to 2^32 us (71 minutes, the first bound past an hour), whatever was counted
    let les = lines.filter { $0.hasPrefix("bpfsyscalldist_latency_seconds_bucket") }
      .map { $0.split(separator: "le=\"")[1].split(separator: "\"")[0] }
    XCTAssertEqual(les.count, 33)
    XCTAssertEqual(les.first, "2e-06")
    XCTAssertEqual(les.dropLast().last, "4294.967296")
    let empty = OpenMetricsRenderer().render(Self.snapshot([Series(rawKey: nil, keyName: "x", title: "t", histogram: Histogram(layout: .log2))]))
    XCTAssertEqual(empty.split(separator: "\n").filter { $0.hasPrefix("bpfsyscalldist_latency_seconds_bucket") }.count, 33)
  }
}

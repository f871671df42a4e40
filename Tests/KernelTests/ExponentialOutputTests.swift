import Foundation
import XCTest

/// `--buckets exponential` through the command line, read by parsers that are not ours.
final class ExponentialOutputTests: XCTestCase {
  /// 20 sleeps of 2 ms as classic OpenMetrics buckets, parsed by prometheus_client: every bound
  /// a power of two of seconds, none of the sleeps at or below 2^-9 s (1.95 ms), all of them
  /// by the first power of two past the longest the workload measured.
  func testOpenMetricsBucketsArePowersOfTwoOfSecondsAndCountExactly() throws {
    let workload = try Workload("sleep", "2", "20")
    let tool = try ToolRun(["--profile", "clock_nanosleep", "--buckets", "exponential:5", "-p", String(workload.pid), "--format", "openmetrics"])
    try tool.waitUntilAttached()
    let report = try workload.finish()
    XCTAssertEqual(tool.stop(), 0, tool.stderr)
    let longest = try XCTUnwrap((report["measured_ns"] as? [Int])?.max())
    let parsed = try python(
      """
      import math, sys
      from prometheus_client.openmetrics.parser import text_string_to_metric_families
      for family in text_string_to_metric_families(sys.stdin.read()):
          for s in family.samples:
              if s.name.endswith("_bucket"):
                  le = float(s.labels["le"])
                  print("bucket", "inf" if math.isinf(le) else int(math.log2(le)) if math.log2(le).is_integer() else "not-a-power", int(s.value))
              elif s.name.endswith("_count"):
                  print("count", int(s.value))
      """, input: tool.stdout)
    let lines = parsed.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
    XCTAssertTrue(lines.contains(["count", "20"]), parsed)
    let buckets = lines.filter { $0[0] == "bucket" }
    XCTAssertFalse(buckets.contains { $0[1] == "not-a-power" }, parsed)
    XCTAssertEqual(buckets.count, 41 + 1, "2^-29 s to 2^11 s, then +Inf: \(parsed)")
    XCTAssertTrue(buckets.contains(["bucket", "-9", "0"]), parsed)
    let past = Int((log2(Double(longest) / 1e9)).rounded(.up))
    XCTAssertTrue(buckets.contains(["bucket", String(past), "20"]), "the longest measured \(longest) ns: \(parsed)")
    XCTAssertTrue(buckets.contains(["bucket", "inf", "20"]), parsed)
  }

  /// The JSON buckets of the same sleeps add up to the count, each index's bounds are
  /// 1e9 * 2^(index/32) ns, and the text says the layout in its summary.
  func testJSONBucketsCarryTheirIndexAndBounds() throws {
    let workload = try Workload("sleep", "2", "20")
    let tool = try ToolRun(["--profile", "clock_nanosleep", "--buckets", "exponential:5", "-p", String(workload.pid), "-j"])
    try tool.waitUntilAttached()
    _ = try workload.finish()
    XCTAssertEqual(tool.stop(), 0, tool.stderr)
    let print = try XCTUnwrap(tool.jsonObjects.last)
    XCTAssertEqual(print["bucket_schema"] as? Int, 5)
    let series = try XCTUnwrap((print["histograms"] as? [[String: Any]])?.first)
    let buckets = try XCTUnwrap(series["buckets"] as? [[String: Any]])
    XCTAssertEqual(buckets.reduce(0) { $0 + ($1["count"] as? Int ?? 0) }, 20)
    for bucket in buckets {
      let (index, low, high) = (try XCTUnwrap(bucket["index"] as? Int), try XCTUnwrap(bucket["low_ns"] as? Int), try XCTUnwrap(bucket["high_ns"] as? Int))
      XCTAssertEqual(Double(high), 1e9 * exp2(Double(index) / 32), accuracy: 1, "\(bucket)")
      XCTAssertEqual(Double(low - 1), 1e9 * exp2(Double(index - 1) / 32), accuracy: 1, "\(bucket)")
    }
  }
}

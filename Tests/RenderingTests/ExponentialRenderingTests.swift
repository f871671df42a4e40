import Foundation
import Histograms
import Rendering
import Snapshots
import XCTest

/// Exponential buckets in each output: text rows per power of two of seconds, JSON buckets
/// that say their Prometheus index and whole-ns bounds, and classic OpenMetrics buckets at
/// powers of two only.
final class ExponentialRenderingTests: XCTestCase {
  /// 30 ms x 3, 31.25 ms (2^-5 s, a bound: the last value of its bucket) x 1, 40 ms x 2 and one
  /// call of 0 ns, at schema 3.
  static func series() -> Series {
    let layout = BucketLayout.exponential(schema: 3)
    var histogram = Histogram(layout: layout, sumNanoseconds: 201_250_000, minNanoseconds: 0, maxNanoseconds: 40_000_000)
    for value: UInt64 in [30_000_000, 30_000_000, 30_000_000, 31_250_000, 40_000_000, 40_000_000, 0] { histogram.record(value) }
    return Series(rawKey: nil, keyName: "x", title: "t", histogram: histogram)
  }

  func snapshot() -> Snapshot {
    Snapshot(
      profileName: "p", keyLabel: "key", unit: .ms, layout: .exponential(schema: 3), series: [Self.series()],
      accounting: Accounting(counted: 7), timestamp: 1, since: 0)
  }

  func testTextFoldsTheFineBucketsIntoRowsPerPowerOfTwoOfSeconds() {
    let text = TextRenderer().render(Self.series(), unit: .ms)
    let rows = text.split(separator: "\n").filter { $0.contains(" -> ") }.map { $0.split(separator: " ", omittingEmptySubsequences: true) }
    // the zero bucket, then every power of two from (2^-30, 2^-29] s (1 ns) on, as bcc prints
    // the empty rows between: (2^-6, 2^-5] s = (15.62, 31.25] ms holds 30 ms and 31.25 ms,
    // (31.25, 62.5] ms the 40 ms
    let cells = rows.map { [String($0[0]), String($0[2]), String($0[4])] }
    XCTAssertEqual(cells.first, ["0", "0", "1"], text)
    XCTAssertEqual(cells[1], ["9.313e-07", "1.863e-06", "0"], text)
    XCTAssertEqual(Array(cells.suffix(2)), [["15.62", "31.25", "4"], ["31.25", "62.5", "2"]], text)
    XCTAssertEqual(cells.count, 2 + 25, text)
    XCTAssertTrue(cells.dropFirst().dropLast(2).allSatisfy { $0[2] == "0" }, text)
    XCTAssertTrue(text.contains("exponential:3)"), text)
  }

  func testJSONCarriesEachBucketWithItsIndexAndWholeNanosecondBounds() throws {
    let json = JSONRenderer().render(snapshot())
    let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    XCTAssertEqual(object["schema"] as? Int, 4)
    XCTAssertEqual(object["buckets"] as? String, "exponential")
    XCTAssertEqual(object["bucket_schema"] as? Int, 3)
    let buckets = try XCTUnwrap((object["histograms"] as? [[String: Any]])?.first?["buckets"] as? [[String: Any]])
    // 30 ms and 31.25 ms in bucket -40, (1e9 * 2^(-41/8), 1e9 * 2^-5] ns; 40 ms in bucket -37,
    // (1e9 * 2^(-38/8), 1e9 * 2^(-37/8)] ns (Python's decimal module, 40 digits)
    XCTAssertEqual(buckets.map { $0["index"] as? Int }, [nil, -40, -37])
    XCTAssertEqual(buckets.map { $0["count"] as? Int }, [1, 4, 2])
    XCTAssertEqual(buckets[1]["low_ns"] as? Int, 28_656_377)
    XCTAssertEqual(buckets[1]["high_ns"] as? Int, 31_250_000)
    XCTAssertEqual(buckets[2]["low_ns"] as? Int, 37_162_723)
    XCTAssertEqual(buckets[2]["high_ns"] as? Int, 40_526_236)
  }

  func testOpenMetricsBoundsAreThePowersOfTwoOfSeconds() {
    let text = OpenMetricsRenderer().render(snapshot())
    let les = text.split(separator: "\n").filter { $0.hasPrefix("p_latency_seconds_bucket") }
      .map { String($0.split(separator: "le=\"")[1].split(separator: "\"")[0]) }
    // 2^-29 s (the first power past 1 ns) up to 2^11 s (the last below an hour), then +Inf
    XCTAssertEqual(les.count, 41 + 1, text)
    XCTAssertEqual(les.first, "1.862645149230957e-09")
    XCTAssertEqual(les.dropLast().last, "2048")
    XCTAssertTrue(text.contains(#"p_latency_seconds_bucket{key="x",le="0.03125"} 5"#), text)
    XCTAssertTrue(text.contains(#"p_latency_seconds_bucket{key="x",le="0.0625"} 7"#), text)
  }
}

import Comparison
import XCTest

/// The heatmap of recordings written by hand: a column per print, a row per bucket with a call,
/// longest on top, gaps marked, shades on a log scale whose legend says their counts exactly.
final class HeatmapTests: XCTestCase {
  /// One print at `time` of key k (log2 in us): (low, high, count) buckets.
  func print(_ time: Double, _ buckets: [(Int, Int, Int)]) -> String {
    let count = buckets.map(\.2).reduce(0, +)
    let json = buckets.map { "{\"low\":\($0.0),\"high\":\($0.1),\"count\":\($0.2)}" }.joined(separator: ",")
    return "{\"schema\":4,\"profile\":\"p\",\"timestamp\":\(time),\"unit\":\"us\",\"buckets\":\"log2\",\"bucket_schema\":null,"
      + "\"key_label\":\"k\",\"histograms\":[{\"key\":\"k\",\"outcome\":null,\"title\":\"t(k)\",\"count\":\(count),\"sum_ns\":null,"
      + "\"min_ns\":null,\"max_ns\":null,\"errors\":{},\"buckets\":[\(json)]}]}\n"
  }

  func recording() throws -> Recording {
    let text = print(10, [(2048, 4095, 81)]) + print(11, []) + print(12, [(2048, 4095, 3), (8192, 16383, 1)])
    return try Recording(text: text, file: "r")
  }

  func testAColumnPerPrintARowPerBucketLongestOnTop() throws {
    let lines = Heatmap.render(try recording(), keys: [], top: 3, colour: false).split(separator: "\n").map(String.init)
    XCTAssertEqual(lines[0], "Heatmap for t(k): 85 calls in 3 intervals of 1s each")
    XCTAssertEqual(lines[1], "8192 -> 16383 |  ░|")
    XCTAssertEqual(lines[2], "            ⋮")
    XCTAssertEqual(lines[3], " 2048 -> 4095 |█ ░|")
    // ceilings 81^(1/4) = 3, 81^(1/2) = 9, 81^(3/4) = 27, 81
    XCTAssertEqual(lines.last, "calls per cell: ░ 1-3  ▒ 4-9  ▓ 10-27  █ 28-81")
  }

  func testColoursAreBackgroundsAndOnlyWhenAsked() throws {
    let plain = Heatmap.render(try recording(), keys: ["k"], top: 1, colour: false)
    XCTAssertFalse(plain.contains("\u{1B}"))
    let coloured = Heatmap.render(try recording(), keys: ["k"], top: 1, colour: true)
    XCTAssertTrue(coloured.contains("\u{1B}[48;5;196m \u{1B}[0m"), coloured)
    XCTAssertFalse(coloured.contains("█"))
  }

  /// Few calls skip the paler shades: the fullest cell is always the darkest.
  func testTheFullestCellIsTheDarkest() throws {
    let one = try Recording(text: print(1, [(2048, 4095, 1)]), file: "o")
    let text = Heatmap.render(one, keys: [], top: 1, colour: false)
    XCTAssertTrue(text.contains("2048 -> 4095 |█|"), text)
    XCTAssertTrue(text.hasSuffix("calls per cell: █ 1\n"), text)
  }
}

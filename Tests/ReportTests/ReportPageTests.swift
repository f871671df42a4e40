import Comparison
import Foundation
import XCTest

@testable import Report

/// The page's data and its defences, on recordings written by hand.
final class ReportPageTests: XCTestCase {
  /// Two prints of one series (log2, us): 3 calls in 2048..4095 us, then 1 in 4096..8191 us.
  let recording = """
    {"schema":4,"profile":"p","timestamp":100,"unit":"us","buckets":"log2","key_label":"cmd","histograms":[{"key":"k","title":"cmd(K)","count":3,"sum_ns":7000000,"min_ns":2100000,"max_ns":2600000,"errors":{"EINTR":1},"on_cpu_ns":100,"runnable_ns":200,"blocked_ns":6999700,"wait_sites":[{"site":"a <- b","blocked_ns":6000000,"count":3}],"buckets":[{"low":2048,"high":4095,"count":3}]}]}
    {"type":"slow_call","time":101.5,"comm":"w","pid":1,"tid":2,"latency_ns":5000000,"off_cpu_ns":4000000,"longest_off_cpu_ns":4000000,"runnable_ns":null,"blocked_ns":null,"key":"K","raw":1,"outcome":"ok","user_stack":{"frames":[{"address":"0x1","function":"inner","offset":0,"module":null},{"address":"0x2","function":null,"offset":0,"module":null}],"note":null},"kernel_stack":{"frames":[{"address":"0x3","function":"schedule","offset":0,"module":null}],"note":null}}
    {"schema":4,"profile":"p","timestamp":101,"unit":"us","buckets":"log2","key_label":"cmd","histograms":[{"key":"k","title":"cmd(K)","count":1,"sum_ns":5000000,"min_ns":5000000,"max_ns":5000000,"errors":{},"on_cpu_ns":1,"runnable_ns":2,"blocked_ns":4999997,"wait_sites":[{"site":"a <- b","blocked_ns":4000000,"count":1}],"buckets":[{"low":4096,"high":8191,"count":1}]}]}

    """

  /// The JSON a page embeds, parsed.
  func data(_ page: String) throws -> [String: Any] {
    let open = "<script type=\"application/json\" id=\"report-data\">"
    let start = try XCTUnwrap(page.range(of: open)).upperBound
    let end = try XCTUnwrap(page.range(of: "</script>", range: start..<page.endIndex)).lowerBound
    return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(page[start..<end].utf8)) as? [String: Any])
  }

  func testTheDataIsTheRecordingsMergedWithEveryIntervalKept() throws {
    let page = try ReportPage.render([try Recording(text: recording, file: "r.json")], comparison: nil, generator: "g")
    let run = try XCTUnwrap((try data(page)["runs"] as? [[String: Any]])?.first)
    XCTAssertEqual(run["timestamps"] as? [Double], [100, 101])
    let series = try XCTUnwrap((run["series"] as? [[String: Any]])?.first)
    XCTAssertEqual(series["count"] as? Int, 4)
    XCTAssertEqual(series["errors"] as? Int, 1)
    XCTAssertEqual(series["sum_ns"] as? Int, 12_000_000)
    // buckets in whole ns, each's last ns; the heat cells [interval, bucket, count]
    XCTAssertEqual(series["buckets"] as? [[String: Int]], [
      ["low_ns": 2_048_000, "high_ns": 4_095_999, "count": 3], ["low_ns": 4_096_000, "high_ns": 8_191_999, "count": 1],
    ])
    XCTAssertEqual(series["heat"] as? [[Int]], [[0, 0, 3], [1, 1, 1]])
    // p50 is rank 2 of 4, in the first bucket cut to the min; p99 rank 4, the max exactly
    let percentiles = (series["percentiles"] as? [[String: Any]] ?? []).map { "\($0["name"] ?? "") \($0["low_ns"] ?? "")..\($0["high_ns"] ?? "")" }
    XCTAssertEqual(percentiles, ["p50 2100000..4095999", "p90 4096000..5000000", "p99 4096000..5000000"])
    XCTAssertEqual(series["time_split"] as? [String: Int], ["on_cpu_ns": 101, "runnable_ns": 202, "blocked_ns": 11_999_697])
    let sites = (series["wait_sites"] as? [[String: Any]] ?? []).map { "\($0["site"] ?? "") \($0["blocked_ns"] ?? "") \($0["count"] ?? "")" }
    XCTAssertEqual(sites, ["a <- b 10000000 4"])
    let call = try XCTUnwrap((run["slow_calls"] as? [[String: Any]])?.first)
    XCTAssertEqual(call["frames"] as? [String], ["w", "[unknown]", "inner", "schedule_[k]"], "outermost first, as folded stacks")
  }

  func testMarkupInRecordedStringsCannotLeaveTheData() throws {
    let hostile = recording.replacingOccurrences(of: "cmd(K)", with: "</script><img src=x onerror=alert(1)>&amp;")
    let page = try ReportPage.render([try Recording(text: hostile, file: "r.json")], comparison: nil, generator: "g")
    XCTAssertFalse(page.contains("<img"))
    XCTAssertEqual(page.components(separatedBy: "</script>").count, 3, "the data's and the script's ends only")
    let series = try XCTUnwrap(((try data(page)["runs"] as? [[String: Any]])?.first?["series"] as? [[String: Any]])?.first)
    XCTAssertEqual(series["title"] as? String, "</script><img src=x onerror=alert(1)>&amp;", "and means the same text")
  }

  func testThePolicyAllowsNoFetchAndOnlyThePagesOwnScriptAndStyle() throws {
    let one = try ReportPage.render([try Recording(text: recording, file: "r.json")], comparison: nil, generator: "g")
    let policy = try XCTUnwrap(one.split(separator: "\n").first { $0.contains("Content-Security-Policy") })
    let nonce = try XCTUnwrap(policy.firstMatch(of: /'nonce-([0-9a-f]{32})'/)?.1)
    XCTAssertEqual(
      String(policy),
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'nonce-\(nonce)'; style-src 'nonce-\(nonce)'; base-uri 'none'; form-action 'none'\">")
    XCTAssertTrue(one.contains("<script nonce=\"\(nonce)\">") && one.contains("<style nonce=\"\(nonce)\">"))
    let withoutNamespace = one.replacingOccurrences(of: "\"http://www.w3.org/2000/svg\"", with: "")
    XCTAssertFalse(withoutNamespace.contains("http:") || withoutNamespace.contains("https:") || withoutNamespace.contains("src="), "no address to fetch")
    let other = try ReportPage.render([try Recording(text: recording, file: "r.json")], comparison: nil, generator: "g")
    XCTAssertNil(other.range(of: String(nonce)), "a nonce per page")
  }

  func testTwoRunsCarryTheComparison() throws {
    let (before, after) = (try Recording(text: recording, file: "b.json"), try Recording(text: recording, file: "a.json"))
    let page = try ReportPage.render([before, after], comparison: try Comparison(before, after), generator: "g")
    let comparison = try XCTUnwrap(try data(page)["comparison"] as? [String: Any])
    XCTAssertEqual((comparison["series"] as? [[String: Any]])?.first?["verdicts"] as? [String: String], [
      "p50": "no difference the buckets can show", "p90": "no difference the buckets can show", "p99": "no difference the buckets can show",
    ])
    XCTAssertEqual((try data(page)["runs"] as? [Any])?.count, 2)
  }

  /// Buckets a bad or hostile file says: one line, never a trap on their arithmetic.
  func testBucketsThatEndBeforeTheyStartAreRefusedAndTheLastNanosecondIsOpen() throws {
    let top = recording.replacingOccurrences(of: "{\"low\":4096,\"high\":8191,\"count\":1}", with: "{\"low\":4096,\"high\":18446744073709551615,\"count\":1}")
    let series = try XCTUnwrap(try Recording(text: top, file: "t.json").series[SeriesName(key: "k")])
    XCTAssertEqual(series.buckets[RecordedSeries.Bucket(low: 4_096_000, high: nil)], 1, "a bucket to the last ns there is: open")
    for bad in ["{\"low\":4096,\"high\":2048,\"count\":1}", "{\"low\":18446744073709551615,\"high\":null,\"count\":1}", "{\"low_ns\":9,\"high_ns\":8,\"count\":1}"] {
      let text = recording.replacingOccurrences(of: "{\"low\":4096,\"high\":8191,\"count\":1}", with: bad)
      XCTAssertThrowsError(try Recording(text: text, file: "b.json"), bad) { error in
        XCTAssertEqual((error as? RecordingError)?.description, "b.json line 3 has a bucket that ends before it starts, or starts past 2^64 - 1 ns")
      }
    }
  }

  func testARecordingOfSlowCallsAloneIsNoRun() {
    let calls = recording.split(separator: "\n").filter { $0.contains("slow_call") }.joined(separator: "\n") + "\n"
    XCTAssertThrowsError(try Recording(text: calls, file: "s.json")) { error in
      XCTAssertEqual((error as? RecordingError)?.description, "s.json holds no print, only slow calls")
    }
  }
}

import Comparison
import XCTest

/// Verdicts from bounds, never from buckets alone: runs written as `-j` writes them, by hand.
final class ComparisonTests: XCTestCase {
  /// One print of profile `p` (log2 in us) with one series per (key, buckets, min, max, errors).
  func print(_ series: [(key: String, buckets: [(low: Int, high: Int?, count: Int)], min: Int, max: Int, errors: Int)]) -> String {
    let histograms = series.map { s in
      let count = s.buckets.map(\.count).reduce(0, +)
      let buckets = s.buckets.map { "{\"low\":\($0.low),\"high\":\($0.high.map(String.init) ?? "null"),\"count\":\($0.count)}" }
      return "{\"key\":\"\(s.key)\",\"raw\":1,\"outcome\":null,\"title\":\"t\",\"count\":\(count),\"sum_ns\":\(count * s.min),"
        + "\"min_ns\":\(s.min),\"max_ns\":\(s.max),\"errors\":\(s.errors > 0 ? "{\"ENOENT\":\(s.errors)}" : "{}"),"
        + "\"buckets\":[\(buckets.joined(separator: ","))]}"
    }
    return "{\"schema\":2,\"profile\":\"p\",\"timestamp\":1,\"unit\":\"us\",\"buckets\":\"log2\",\"key_label\":\"cmd\","
      + "\"accounting\":{},\"max_concurrent\":null,\"histograms\":[\(histograms.joined(separator: ","))]}\n"
  }

  func testSeparateBoundsGiveVerdictsOverlappingOnesNone() throws {
    // before: 100 calls in 2048..4095 us (2.05 ms to 4.1 ms); after: 100 in 4096..8191 us
    let before = try Recording(text: print([("sleep", [(2048, 4095, 100)], 2_100_000, 2_200_000, 0)]), file: "b")
    let after = try Recording(text: print([("sleep", [(4096, 8191, 100)], 4_200_000, 4_400_000, 0)]), file: "a")
    let slower = try Comparison(before, after)
    XCTAssertEqual(slower.rows.count, 1)
    XCTAssertEqual(slower.rows[0].percentiles.map(\.verdict), [.slower, .slower, .slower])
    // the bounds are the buckets cut to the exact min and max: 2.1..2.2 ms, 4.2..4.4 ms
    XCTAssertEqual(slower.rows[0].percentiles[0].before, 2_100_000...2_200_000)
    XCTAssertEqual(try Comparison(after, before).rows[0].percentiles.map(\.verdict), [.faster, .faster, .faster])
    // a shift inside one bucket that the exact extremes do not separate: never a verdict
    let shifted = try Recording(text: print([("sleep", [(2048, 4095, 100)], 2_150_000, 2_500_000, 0)]), file: "s")
    XCTAssertEqual(try Comparison(before, shifted).rows[0].percentiles.map(\.verdict), [.noDifference, .noDifference, .noDifference])
  }

  func testPrintsAreMergedAndKeysOnOneSideListedApart() throws {
    let text = print([("a", [(1, 1, 3)], 1_000, 1_999, 1)]) + print([("a", [(2, 3, 1)], 2_000, 3_000, 0), ("b", [(1, 1, 1)], 1_500, 1_500, 0)])
    let recording = try Recording(text: text, file: "r")
    XCTAssertEqual(recording.prints, 2)
    let a = try XCTUnwrap(recording.series[SeriesName(key: "a")])
    XCTAssertEqual(a.count, 4)
    XCTAssertEqual(a.errors, 1)
    XCTAssertEqual(a.minNanoseconds, 1_000)
    XCTAssertEqual(a.maxNanoseconds, 3_000)
    // p50 is rank 2 of 4: in 1..1 us (1000..1999 ns); p99 rank 4: in 2..3 us, cut to the max
    XCTAssertEqual(a.percentile(0.5), 1_000...1_999)
    XCTAssertEqual(a.percentile(0.99), 2_000...3_000)
    let other = try Recording(text: print([("a", [(1, 1, 2)], 1_000, 1_100, 0), ("c", [(1, 1, 1)], 1_000, 1_000, 0)]), file: "o")
    let comparison = try Comparison(recording, other)
    XCTAssertEqual(comparison.onlyBefore, [SeriesName(key: "b")])
    XCTAssertEqual(comparison.onlyAfter, [SeriesName(key: "c")])
  }

  /// One print on exponential buckets given as whole ns: (low_ns, high_ns, count).
  func exponentialPrint(schema: Int, _ buckets: [(Int, Int, Int)]) -> String {
    let count = buckets.map(\.2).reduce(0, +)
    let listed = buckets.map { "{\"index\":0,\"low_ns\":\($0.0),\"high_ns\":\($0.1),\"count\":\($0.2)}" }.joined(separator: ",")
    return "{\"schema\":4,\"profile\":\"p\",\"timestamp\":1,\"unit\":\"us\",\"buckets\":\"exponential\",\"bucket_schema\":\(schema),\"key_label\":\"k\","
      + "\"histograms\":[{\"key\":\"a\",\"title\":\"t\",\"count\":\(count),\"sum_ns\":0,\"min_ns\":1000000,\"max_ns\":1900000,\"errors\":{},\"buckets\":[\(listed)]}]}\n"
  }

  /// Schema 0's bucket (2^-10, 2^-9] s is 976,563..1,953,125 ns; schema 1 splits it at
  /// 2^-9.5 s = 1,381,067.69 ns. Folded, the finer run's two buckets are the coarser one's.
  func testExponentialSchemasFoldIntoTheCoarserExactly() throws {
    let fine = try Recording(text: exponentialPrint(schema: 1, [(976_563, 1_381_067, 2), (1_381_068, 1_953_125, 3)]), file: "fine.json")
    let coarse = try Recording(text: exponentialPrint(schema: 0, [(976_563, 1_953_125, 5)]), file: "coarse.json")
    for comparison in [try Comparison(fine, coarse), try Comparison(coarse, fine)] {
      XCTAssertEqual(comparison.folded, "fine.json's exponential:1 buckets folded into exponential:0, exactly")
      let sides = [comparison.rows[0].before, comparison.rows[0].after]
      for side in sides { XCTAssertEqual(side.buckets, [RecordedSeries.Bucket(low: 976_563, high: 1_953_126): 5]) }
      XCTAssertEqual(comparison.rows[0].percentiles.map(\.verdict), [.noDifference, .noDifference, .noDifference])
    }
    // a bucket across a coarser boundary is no bucket this tool wrote: refused
    let straddling = try Recording(text: exponentialPrint(schema: 1, [(976_563, 1_953_126, 5)]), file: "odd.json")
    XCTAssertThrowsError(try Comparison(straddling, coarse)) { error in
      XCTAssertEqual(
        (error as? ComparisonError)?.description,
        "cannot compare: odd.json's exponential:1 buckets do not fold into exponential:0 (a bucket straddles a coarser boundary); compare runs of the same profile")
    }
    // log2 into exponential cannot be exact: refused as before
    XCTAssertThrowsError(try Comparison(coarse, try Recording(text: print([("a", [(1024, 2047, 1)], 1_100_000, 1_100_000, 0)]), file: "l.json"))) {
      XCTAssertEqual(($0 as? ComparisonError)?.description, "cannot compare: coarse.json has exponential:0 buckets in us, l.json log2 in us; compare runs of the same profile")
    }
    // two steps at once, into a negative schema, every interval's column too: schema -1's bucket
    // (2^-10, 2^-8] s is 976,563..3,906,250 ns
    let twoPrints = exponentialPrint(schema: 1, [(976_563, 1_381_067, 2)]) + exponentialPrint(schema: 1, [(2_762_136, 3_906_250, 4)])
    let folded = try Recording(text: twoPrints, file: "two.json").folded(toSchema: -1)
    let whole = RecordedSeries.Bucket(low: 976_563, high: 3_906_251)
    XCTAssertEqual(folded.series[SeriesName(key: "a")]?.buckets, [whole: 6])
    XCTAssertEqual(folded.columns.map { $0.buckets[SeriesName(key: "a")] ?? [:] }, [[whole: 2], [whole: 4]])
    XCTAssertEqual(folded.bucketKind, "exponential:-1")
  }

  func testGatesBreachOnlyWhatIsSure() throws {
    let before = try Recording(text: print([("k", [(2048, 4095, 100)], 2_100_000, 2_200_000, 0)]), file: "b")
    let after = try Recording(text: print([("k", [(4096, 8191, 120)], 4_200_000, 4_400_000, 12)]), file: "a")
    let comparison = try Comparison(before, after)
    let gates = try ["p99 > +10%", "count > +10%", "errors > +0%", "p50 > +100%", "count < -10%"].map(Gate.init(parsing:))
    let breaches = comparison.breaches(of: gates)
    // p99: 4.2 ms is surely above 2.2 ms x 1.1; p50 is not surely 100% above (4.2 < 4.4)
    XCTAssertEqual(breaches.count, 3, "\(breaches)")
    XCTAssertTrue(breaches[0].hasPrefix("p99 of t: 2.10ms..2.20ms → 4.20ms..4.40ms"), breaches[0])
    XCTAssertTrue(breaches[1].hasPrefix("count of t: 100 → 120"), breaches[1])
    XCTAssertTrue(breaches[2].hasPrefix("errors of t: 0.0% → 10.0%"), breaches[2])
    for bad in ["p95 > +10%", "p99 > 10", "p99 = +10%", "count >"] {
      XCTAssertThrowsError(try Gate(parsing: bad), bad)
    }
  }

  func testLayoutsThatCutTimeDifferentlyAreRefused() throws {
    let log2 = try Recording(text: print([("k", [(2048, 4095, 1)], 2_100_000, 2_100_000, 0)]), file: "b")
    let other = try Recording(text: print([("k", [(3000, 3999, 1)], 3_100_000, 3_100_000, 0)]), file: "a")
    XCTAssertThrowsError(try Comparison(log2, other)) { error in
      XCTAssertTrue("\(error)".contains("buckets overlap"), "\(error)")
    }
    let ms = try Recording(text: print([("k", [(2, 3, 1)], 2_100_000, 2_100_000, 0)]).replacingOccurrences(of: "\"us\"", with: "\"ms\""), file: "m")
    XCTAssertThrowsError(try Comparison(log2, ms)) { error in
      XCTAssertEqual("\(error)", "cannot compare: b has log2 buckets in us, m log2 in ms; compare runs of the same profile")
    }
  }

  /// Exponential recordings (schema 4) carry whole-ns bounds: 30 ms sleeps in bucket -40 of
  /// schema 3 against 40 ms ones in -37 are slower; schema 3 against schema 2 folds.
  func testExponentialRunsCompareByTheirWholeNanosecondBounds() throws {
    func exponential(_ schema: Int, _ bucket: (index: Int, low: Int, high: Int), _ ns: Int) -> String {
      print([("sleep", [(0, nil, 0)], ns, ns, 0)])
        .replacingOccurrences(of: "\"schema\":2", with: "\"schema\":4")
        .replacingOccurrences(of: "\"buckets\":\"log2\"", with: "\"buckets\":\"exponential\",\"bucket_schema\":\(schema)")
        .replacingOccurrences(
          of: "{\"low\":0,\"high\":null,\"count\":0}",
          with: "{\"index\":\(bucket.index),\"low_ns\":\(bucket.low),\"high_ns\":\(bucket.high),\"count\":10}")
        .replacingOccurrences(of: "\"count\":0,", with: "\"count\":10,")
    }
    let before = try Recording(text: exponential(3, (-40, 28_656_377, 31_250_000), 30_000_000), file: "b")
    let after = try Recording(text: exponential(3, (-37, 37_162_723, 40_526_236), 40_000_000), file: "a")
    XCTAssertEqual(before.bucketKind, "exponential:3")
    let comparison = try Comparison(before, after)
    XCTAssertEqual(comparison.rows.first?.percentiles.map(\.verdict), [.slower, .slower, .slower])
    XCTAssertEqual(comparison.rows.first?.percentiles.first?.before, 30_000_000...30_000_000)
    // schema 2's bucket -20 is schema 3's -41 and -40: the finer run folds into it
    let coarser = try Recording(text: exponential(2, (-20, 26_278_013, 31_250_000), 30_000_000), file: "c")
    let folded = try Comparison(before, coarser)
    XCTAssertEqual(folded.folded, "b's exponential:3 buckets folded into exponential:2, exactly")
    XCTAssertEqual(folded.rows.first?.before.buckets, [RecordedSeries.Bucket(low: 26_278_013, high: 31_250_001): 10])
  }

  func testFilesThatAreNoRecordingAreOneLine() {
    let cases: [(String, String)] = [
      ("", "f is empty: no print was recorded"),
      ("{\"schema\":2,\"profile\":\"p\",\"unit\":\"us\"", "f is truncated: its last line is not a whole JSON object"),
      ("hello\n", "f line 1 is not a recorded print of bpfsyscalldist -j"),
      (print([]).replacingOccurrences(of: "\"schema\":2", with: "\"schema\":5"),
       "f line 1 is of JSON schema 5, newer than this tool reads (4): compare with a newer bpfsyscalldist"),
      (print([]) + print([]).replacingOccurrences(of: "\"profile\":\"p\"", with: "\"profile\":\"q\""),
       "f line 2 is another profile's or layout's (q, log2 in us) than line 1's"),
    ]
    for (text, message) in cases {
      XCTAssertThrowsError(try Recording(text: text, file: "f")) { XCTAssertEqual("\($0)", message) }
    }
    XCTAssertThrowsError(try Recording.load("/nonexistent/run.json")) {
      XCTAssertEqual("\($0)", "/nonexistent/run.json cannot be read: no such file")
    }
  }
}

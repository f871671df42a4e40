import Foundation
import Histograms
import XCTest

final class BucketLayoutTests: XCTestCase {
  let layouts: [BucketLayout] = [
    .log2, .linear(min: 0, max: 100, step: 10), .linear(min: 50, max: 250, step: 25),
    .log2Linear(subBucketBits: 0), .log2Linear(subBucketBits: 2), .log2Linear(subBucketBits: 4),
  ]

  func testLog2SlotsAreBccs() {
    let layout = BucketLayout.log2
    XCTAssertEqual([0, 1, 2, 3, 4, 7, 8, 4096, 8191, 8192].map(layout.slot(for:)), [0, 0, 1, 1, 2, 2, 3, 12, 12, 13])
    XCTAssertEqual(layout.slot(for: .max), 63)
    XCTAssertTrue(layout.bounds(ofSlot: 0) == (0, 1))
    XCTAssertTrue(layout.bounds(ofSlot: 12) == (4096, 8191))
  }

  func testLinearSlotsHaveAnUnderflowAndAnOpenOverflow() {
    let layout = BucketLayout.linear(min: 50, max: 250, step: 25)
    XCTAssertEqual(layout.slotCount, 10)
    XCTAssertEqual(layout.slot(for: 0), 0)
    XCTAssertEqual(layout.slot(for: 49), 0)
    XCTAssertEqual(layout.slot(for: 50), 1)
    XCTAssertEqual(layout.slot(for: 74), 1)
    XCTAssertEqual(layout.slot(for: 75), 2)
    XCTAssertEqual(layout.slot(for: 249), 8)
    XCTAssertEqual(layout.slot(for: 250), 9)
    XCTAssertEqual(layout.slot(for: 1_000_000), 9)
    XCTAssertTrue(layout.bounds(ofSlot: 0) == (0, 49))
    XCTAssertTrue(layout.bounds(ofSlot: 9) == (250, nil))
  }

  func testLog2LinearSplitsEachPowerOfTwo() {
    let layout = BucketLayout.log2Linear(subBucketBits: 2)
    XCTAssertEqual((0...3).map { layout.slot(for: $0) }, [0, 1, 2, 3])
    // 4..7 one each, then 8..15 in steps of 2
    XCTAssertEqual([4, 5, 6, 7, 8, 9, 10, 15, 16].map { layout.slot(for: $0) }, [4, 5, 6, 7, 8, 8, 9, 11, 12])
    XCTAssertTrue(layout.bounds(ofSlot: 11) == (14, 15))
    XCTAssertEqual(layout.slot(for: .max), layout.slotCount - 1)
    XCTAssertLessThanOrEqual(BucketLayout.log2Linear(subBucketBits: 4).slotCount, BucketLayout.maxSlots)
  }

  /// Every value lands in the slot whose bounds hold it, in every layout: slot() and bounds()
  /// are the kernel's arithmetic and its inverse.
  func testEveryValueLiesWithinItsSlotsBounds() {
    var values: [UInt64] = Array(0...1100)
    for shift in 0..<64 { values += [UInt64(1) << UInt64(shift), (UInt64(1) << UInt64(shift)) &- 1, (UInt64(1) << UInt64(shift)) + 1] }
    values.append(.max)
    for layout in layouts {
      for value in values {
        let slot = layout.slot(for: value)
        let (low, high) = layout.bounds(ofSlot: slot)
        XCTAssertTrue(low <= value && value <= (high ?? .max), "\(layout): \(value) in slot \(slot) \(low)...\(String(describing: high))")
      }
    }
  }

  func testSlotsTileTheRangeWithoutGaps() {
    for layout in layouts {
      var expectedLow: UInt64 = 0
      // a linear layout from 0 has an underflow slot that no value can reach
      let first = layout == .linear(min: 0, max: 100, step: 10) ? 1 : 0
      XCTAssertEqual(layout.slot(for: 0), first)
      for slot in first..<layout.slotCount {
        let (low, high) = layout.bounds(ofSlot: slot)
        XCTAssertEqual(low, expectedLow, "\(layout) slot \(slot)")
        guard let high, high < .max else { break }
        expectedLow = high + 1
      }
    }
  }
}

final class HistogramTests: XCTestCase {
  func testEmptyHistogramHasNoFigures() {
    let histogram = Histogram(layout: .log2)
    XCTAssertNil(histogram.occupiedSlots)
    XCTAssertNil(histogram.percentile(0.5, unit: .us))
    XCTAssertNil(histogram.mean(in: .us))
  }

  /// For samples of many shapes, the bounds of every percentile hold the true value (the
  /// ceil(q·n)-th smallest sample, computed here from the samples), and the estimate is within
  /// its stated relative error of it.
  func testPercentileBoundsHoldTheTrueValue() {
    var generator = SystemRandomNumberGenerator()
    let shapes: [(String, () -> UInt64)] = [
      ("tight around 5 ms", { 5_000_000 + UInt64.random(in: 0...300_000, using: &generator) }),
      ("spread over decades", { UInt64(pow(10, Double.random(in: 3...9, using: &generator))) }),
      ("two modes", { Bool.random(using: &generator) ? 1_200 : 40_000_000 }),
    ]
    let layouts: [(BucketLayout, TimeUnit)] = [
      (.log2, .us), (.log2, .ns), (.log2Linear(subBucketBits: 2), .us), (.linear(min: 0, max: 100, step: 5), .ms),
    ]
    for (shape, sample) in shapes {
      let nanoseconds = (0..<500).map { _ in sample() }
      let sorted = nanoseconds.sorted()
      for (layout, unit) in layouts {
        var histogram = Histogram(layout: layout, minNanoseconds: sorted.first, maxNanoseconds: sorted.last)
        for value in nanoseconds { histogram.record(value / unit.nanoseconds) }
        for fraction in [0.01, 0.5, 0.9, 0.99, 1.0] {
          let truth = sorted[Int((fraction * 500).rounded(.up)) - 1]
          guard let percentile = histogram.percentile(fraction, unit: unit) else { return XCTFail("no percentile") }
          let context = "\(shape), \(layout) in \(unit), p\(fraction): \(truth) vs \(percentile)"
          XCTAssertTrue(percentile.low <= truth && truth <= percentile.high, context)
          XCTAssertTrue(Double(percentile.low) <= percentile.estimate && percentile.estimate <= Double(percentile.high), context)
          if let error = percentile.relativeError {
            XCTAssertLessThanOrEqual(abs(percentile.estimate - Double(truth)) / Double(truth), error + 1e-9, context)
          }
        }
      }
    }
  }

  /// 200 sleeps of about 5 ms, all in the 4096…8191 us bucket: the exact min and max narrow every
  /// percentile to a few percent.
  func testExactExtremesNarrowATightDistribution() throws {
    var counts = [UInt64](repeating: 0, count: 64)
    counts[12] = 200
    let histogram = Histogram(layout: .log2, counts: counts, minNanoseconds: 5_050_000, maxNanoseconds: 5_310_000)
    let p99 = try XCTUnwrap(histogram.percentile(0.99, unit: .us))
    XCTAssertEqual(p99.low, 5_050_000)
    XCTAssertEqual(p99.high, 5_310_000)
    XCTAssertLessThan(try XCTUnwrap(p99.relativeError), 0.052)
  }

  func testMeanIsExactWithTheKernelsSum() {
    let histogram = Histogram(layout: .log2, counts: [0, 0, 4] + Array(repeating: 0, count: 61), sumNanoseconds: 10_000)
    XCTAssertEqual(histogram.mean(in: .us)!, 2.5, accuracy: 1e-9)
    XCTAssertEqual(histogram.mean(in: .ns)!, 2500, accuracy: 1e-9)
  }
}

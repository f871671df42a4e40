import Histograms
import Profiles
import Tracer
import XCTest

final class CountsTests: XCTestCase {
  func counts(_ entries: [(UInt64, [UInt64], UInt64)]) -> Counts {
    var counts = Counts()
    for (key, buckets, sum) in entries {
      counts.histograms[CountKey(raw: key, text: nil, outcome: nil)] = SeriesCounts(buckets: buckets, sumNanoseconds: sum)
    }
    return counts
  }

  /// Three CPUs' copies of one element (3 slots, then the sum each), as the kernel lays them out.
  func testPerCPUCopiesAreSummed() {
    let words: [UInt64] = [1, 0, 2, 100, 0, 5, 1, 20, 3, 0, 0, 3]
    let series = words.withUnsafeBufferPointer { SeriesCounts(perCPU: $0, cpus: 3, slots: 3) }
    XCTAssertEqual(series.sumNanoseconds, 123)
    let histogram = Histogram(layout: .log2, counts: series.buckets + Array(repeating: 0, count: 61))
    XCTAssertEqual(Array(histogram.counts.prefix(4)), [4, 5, 3, 0])
    XCTAssertEqual(histogram.total, 12)
    XCTAssertEqual(histogram.occupiedSlots, 0...2)
  }

  func testAnIntervalIsTheDifferenceAndDropsSeriesWithNothingNew() {
    var later = counts([(1, [2, 3, 0], 500), (2, [1, 0, 0], 10)])
    later.mapFull = 4
    var earlier = counts([(1, [1, 3, 0], 400), (2, [1, 0, 0], 10)])
    earlier.mapFull = 1
    let interval = later.subtracting(earlier)
    XCTAssertEqual(interval.histograms.count, 1)
    XCTAssertEqual(interval.histograms[CountKey(raw: 1, text: nil, outcome: nil)], SeriesCounts(buckets: [1, 0, 0], sumNanoseconds: 100))
    XCTAssertEqual(interval.mapFull, 3)
  }

  func testSnapshotDecodesSortsAndTitlesEachSeries() throws {
    let profile = try ProfileLoader(enumSource: nil).load(
      text: "version: 1\nname: p\nprobe: {syscall: bpf}\nkey: {source: arg0, label: cmd, decode: {map: {0: ZERO}}}\ntitle: \"c({key}/{raw})\"\n",
      file: "p")
    var raw = Counts()
    let slots = profile.layout.slotCount
    raw.histograms[CountKey(raw: 7, text: nil, outcome: 2)] = SeriesCounts(buckets: Array(repeating: 1, count: slots), sumNanoseconds: 1)
    raw.histograms[CountKey(raw: 7, text: nil, outcome: 0)] = SeriesCounts(buckets: Array(repeating: 2, count: slots), sumNanoseconds: 1)
    raw.histograms[CountKey(raw: 0, text: nil, outcome: nil)] = SeriesCounts(buckets: Array(repeating: 0, count: slots - 1) + [5], sumNanoseconds: 1)
    let snapshot = raw.snapshot(profile: profile, decoder: KeyDecoder(decoding: profile.decoding, enumerators: [:]), timestamp: 0)
    XCTAssertEqual(snapshot.series.map(\.title), ["c(ZERO/0)", "c(7/7) outcome(ok)", "c(7/7) outcome(ENOENT)"])
    XCTAssertEqual(snapshot.accounting.counted, UInt64(5 + 2 * slots + slots))
  }
}

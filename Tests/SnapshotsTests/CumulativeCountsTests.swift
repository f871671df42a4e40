import CSyscallDist
import Histograms
import Profiles
import Snapshots
import XCTest

/// `serve`'s counts since the start: they only grow, a limit on series folds the rest into
/// `other`, and a series that stopped changing is forgotten.
final class CumulativeCountsTests: XCTestCase {
  let profile = try! ProfileLoader(enumSource: nil).load(
    text: "version: 1\nname: fds\nprobe: {syscall: close}\nkey: {source: arg0, label: fd}\n", file: "fds.yaml")

  /// One call of `ns` nanoseconds with key `key` (log2 buckets in us).
  func counts(_ keys: [UInt64], ns: UInt64 = 3000, failing errno: UInt32? = nil) -> Counts {
    var counts = Counts()
    for key in keys {
      var buckets = [UInt64](repeating: 0, count: 64)
      buckets[BucketLayout.log2.slot(for: ns / 1000)] = 1
      let series = SeriesCounts(buckets: buckets, sumNanoseconds: UInt128(ns), minNanoseconds: ns, maxNanoseconds: ns)
      let countKey = CountKey(.number(key))
      counts.histograms[countKey] = counts.histograms[countKey].map { $0.merging(series) } ?? series
      if let errno { counts.failures[FailureKey(.number(key), errno: errno), default: 0] += 1 }
    }
    return counts
  }

  func store(limit: Int = 100, idle: Double = 600) -> CumulativeCounts {
    // keys are placed in the order each collection's dictionary gives them: tests add them one
    // collection at a time
    CumulativeCounts(
      profile: profile, decoder: KeyDecoder(for: profile, enumerators: [:]), seriesLimit: limit, idleSeconds: idle,
      since: 1000)
  }

  func testCountsAddUpAcrossCollectionsWithTheirFailures() {
    var store = store()
    store.add(counts([7, 7, 8], failing: 9), at: 1001)
    store.add(counts([7]), at: 1002)
    let (snapshot, created) = store.snapshot(at: 1003)
    XCTAssertEqual(snapshot.series.map(\.keyName), ["7", "8"])
    XCTAssertEqual(snapshot.series.map(\.histogram.total), [3, 1])
    XCTAssertEqual(snapshot.series[0].histogram.sumNanoseconds, 9000)
    XCTAssertEqual(snapshot.series[0].failures.map(\.name), ["EBADF"])
    XCTAssertEqual(snapshot.series[0].failures.map(\.count), [2])
    XCTAssertEqual(created, [1001, 1001])
    XCTAssertEqual(snapshot.accounting.counted, 4)
  }

  /// --off-cpu's lock waits (wait sites under SD_LOCK_SITE less the kind's flags) add up with
  /// their key's series; a key whose calls have not ended yet keeps its waits until it has one.
  func testLockWaitsAddUpWithTheirKeysSeries() {
    let mutex = Int64(SD_LOCK_SITE.rawValue) - 32, spinningMutex = mutex - 1, spinlock = Int64(SD_LOCK_SITE.rawValue) - 1
    var store = store()
    var first = counts([7])
    first.waitSites = [
      WaitSiteKey(key: 7, stack: mutex): WaitTotals(nanoseconds: 500, count: 2),
      WaitSiteKey(key: 7, stack: 12): WaitTotals(nanoseconds: 900, count: 1),  // a stack: not a lock's
      WaitSiteKey(key: 8, stack: spinlock): WaitTotals(nanoseconds: 40, count: 1),  // 8's call still runs
    ]
    store.add(first, at: 1001)
    var second = counts([8])
    second.waitSites = [WaitSiteKey(key: 7, stack: spinningMutex): WaitTotals(nanoseconds: 100, count: 1)]
    store.add(second, at: 1002)
    let series = store.snapshot(at: 1003).snapshot.series
    XCTAssertEqual(series.map(\.keyName), ["7", "8"])
    XCTAssertEqual(series[0].lockWaits, [NamedWaitSite(site: "mutex", totals: WaitTotals(nanoseconds: 600, count: 3))])
    XCTAssertEqual(series[1].lockWaits, [NamedWaitSite(site: "spinlock", totals: WaitTotals(nanoseconds: 40, count: 1))])
    XCTAssertEqual(store.snapshot(at: 1003).snapshot.lockWaits, [], "the key's, not the whole profile's")
  }

  /// Keys found at exit: the kernel sums the waits of all the probe's calls together.
  func testLockWaitsOfKeysFoundAtExitAreTheProfiles() throws {
    let atExit = try ProfileLoader(enumSource: nil).load(
      text: "version: 1\nname: fds\nprobe: {syscall: close}\nkey: {source: retval, label: ret}\n", file: "fds.yaml")
    var store = CumulativeCounts(
      profile: atExit, decoder: KeyDecoder(for: atExit, enumerators: [:]), seriesLimit: 100, idleSeconds: 600, since: 1000)
    var collected = counts([0])
    collected.waitSites = [WaitSiteKey(key: 0, stack: Int64(SD_LOCK_SITE.rawValue) - 32): WaitTotals(nanoseconds: 70, count: 1)]
    store.add(collected, at: 1001)
    let snapshot = store.snapshot(at: 1002).snapshot
    XCTAssertEqual(snapshot.lockWaits, [NamedWaitSite(site: "mutex", totals: WaitTotals(nanoseconds: 70, count: 1))])
    XCTAssertEqual(snapshot.series.first?.lockWaits, [])
  }

  /// A limit of 3 series: two keys, then the overflow series for the rest.
  func testKeysBeyondTheLimitGoToOtherAndAreCounted() {
    var store = store(limit: 3)
    for key: UInt64 in [1, 2, 3, 4, 5, 5] { store.add(counts([key]), at: 1001) }
    store.add(counts([1, 6]), at: 1002)
    let series = store.snapshot(at: 1003).snapshot.series
    XCTAssertEqual(series.map(\.keyName), ["(over max_series)", "1", "2"])
    XCTAssertEqual(series.map(\.histogram.total), [5, 2, 1])
    XCTAssertEqual(store.overflowCalls, 5)
    XCTAssertEqual(store.seriesCount, 3)
  }

  /// A series unchanged for the idle time leaves, freeing its place; if its key comes back, it
  /// starts afresh, with a new _created.
  func testAnIdleSeriesLeavesAndComesBackAfresh() {
    var store = store(limit: 3, idle: 10)
    store.add(counts([1, 2]), at: 1001)
    store.add(counts([2]), at: 1008)
    store.add(counts([2]), at: 1012)
    XCTAssertEqual(store.snapshot(at: 1012).snapshot.series.map(\.keyName), ["2"])
    store.add(counts([1]), at: 1013)
    let (snapshot, created) = store.snapshot(at: 1013)
    XCTAssertEqual(snapshot.series.map(\.keyName), ["1", "2"], "key 1 had its place back")
    XCTAssertEqual(snapshot.series.map(\.histogram.total), [1, 3], "afresh")
    XCTAssertEqual(created, [1013, 1001])
    XCTAssertEqual(store.overflowCalls, 0)
  }

  /// A real key named "other" (a comm) is its own series, never the overflow's; split outcomes
  /// past the limit share one overflow series, so the limit holds exactly.
  func testTheOverflowSeriesIsNoKeysAndOneForEveryOutcome() throws {
    let byComm = try ProfileLoader(enumSource: nil).load(
      text: "version: 1\nname: c\nprobe: {syscall: close}\nkey: {source: comm}\n", file: "c.yaml")
    var store = CumulativeCounts(
      profile: byComm, decoder: KeyDecoder(for: byComm, enumerators: [:]), seriesLimit: 3, idleSeconds: 600, since: 1000)
    let one = SeriesCounts(buckets: [1] + Array(repeating: 0, count: 63), sumNanoseconds: 1)
    for (name, outcome) in [("a", 0), ("other", 0), ("b", 0), ("c", 2), ("c", 9), ("other", 2)] {
      var counts = Counts()
      counts.histograms[CountKey(.name(name), outcome: UInt32(outcome))] = one
      store.add(counts, at: 1001)
    }
    let series = store.snapshot(at: 1002).snapshot.series
    XCTAssertEqual(store.seriesCount, 3)
    XCTAssertEqual(series.map(\.keyName), ["(over max_series)", "a", "other"])
    XCTAssertEqual(series.map(\.histogram.total), [4, 1, 1])
    XCTAssertEqual(store.overflowCalls, 4)
  }

  /// 10,000 threads blocked in a call for 21 days add up to more ns than 64 bits hold: the sum
  /// since the start goes on growing, never wraps to a small number.
  func testTheSumSinceTheStartDoesNotWrapAt64Bits() {
    var store = store()
    let window = UInt64(1) << 62  // one collection's sum: fits the kernel's word
    for second in 0..<5 { store.add(counts([7], ns: window), at: 1001 + Double(second)) }
    let sum = store.snapshot(at: 1010).snapshot.series[0].histogram.sumNanoseconds
    XCTAssertEqual(sum, 5 * UInt128(window))
    XCTAssertGreaterThan(sum ?? 0, UInt128(UInt64.max))
  }
}

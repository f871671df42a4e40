import CSyscallDist
import Histograms
import Profiles
import Snapshots
import XCTest

final class CountsTests: XCTestCase {
  /// Three CPUs' copies of one series (3 slots, then sum, largest, smallest inverted), as the
  /// kernel lays them out; the second CPU saw nothing.
  func testCopiesAreSummedAndTheirExtremesKept() throws {
    let words: [UInt64] = [1, 0, 2, 100, 60, ~10, 0, 0, 0, 0, 0, 0, 3, 0, 0, 23, 9, ~5]
    let series = try XCTUnwrap(words.withUnsafeBufferPointer { SeriesCounts(copies: $0, slots: 3) })
    XCTAssertEqual(series.buckets, [4, 0, 2])
    XCTAssertEqual(series.sumNanoseconds, 123)
    XCTAssertEqual(series.minNanoseconds, 5)
    XCTAssertEqual(series.maxNanoseconds, 60)
    XCTAssertNil([UInt64](repeating: 0, count: 6).withUnsafeBufferPointer { SeriesCounts(copies: $0, slots: 3) })
  }

  func testMergingAddsCountsAndKeepsTheLaterConcurrencyMaximum() {
    var earlier = Counts()
    earlier.histograms[CountKey(.number(1))] = SeriesCounts(buckets: [1, 3, 0], sumNanoseconds: 400, minNanoseconds: 7, maxNanoseconds: 90)
    earlier.stats[.SD_STAT_MAP_FULL] = 1
    earlier.maxConcurrent = [1: 2]
    var later = Counts()
    later.histograms[CountKey(.number(1))] = SeriesCounts(buckets: [1, 0, 0], sumNanoseconds: 100, minNanoseconds: 3, maxNanoseconds: 50)
    later.histograms[CountKey(.name("invalid"))] = SeriesCounts(buckets: [0, 1, 0], sumNanoseconds: 5, minNanoseconds: 5, maxNanoseconds: 5)
    later.stats[.SD_STAT_MAP_FULL] = 3
    later.maxConcurrent = [1: 5]
    earlier.merge(later)
    XCTAssertEqual(
      earlier.histograms[CountKey(.number(1))],
      SeriesCounts(buckets: [2, 3, 0], sumNanoseconds: 500, minNanoseconds: 3, maxNanoseconds: 90))
    XCTAssertEqual(earlier.histograms.count, 2)
    XCTAssertEqual(earlier.stats[.SD_STAT_MAP_FULL], 4)
    XCTAssertEqual(earlier.maxConcurrent, [1: 5])
  }

  /// started = finished + replaced + abandoned + mismatched + in flight.
  func testInFlightIsWhatStartedAndHasNotEnded() {
    var stats = CallStats()
    stats[.SD_STAT_STARTED] = 100
    stats[.SD_STAT_FINISHED] = 90
    stats[.SD_STAT_REPLACED] = 2
    stats[.SD_STAT_ABANDONED] = 3
    stats[.SD_STAT_MISMATCHED] = 1
    XCTAssertEqual(stats.inFlight, 4)
  }

  func testSnapshotDecodesSortsAndTitlesEachSeries() throws {
    let profile = try ProfileLoader(enumSource: nil).load(
      text: "version: 1\nname: p\nprobe: {syscall: bpf}\nkey: {source: arg0, label: cmd, decode: {map: {0: ZERO}}}\ntitle: \"c({key}/{raw})\"\n",
      file: "p")
    var raw = Counts()
    let slots = profile.layout.slotCount
    raw.histograms[CountKey(.number(7), outcome: 2)] = SeriesCounts(buckets: Array(repeating: 1, count: slots), sumNanoseconds: 1)
    raw.histograms[CountKey(.number(7), outcome: 0)] = SeriesCounts(buckets: Array(repeating: 2, count: slots), sumNanoseconds: 1)
    raw.histograms[CountKey(.number(0))] = SeriesCounts(buckets: Array(repeating: 0, count: slots - 1) + [5], sumNanoseconds: 1)
    let snapshot = raw.snapshot(profile: profile, decoder: KeyDecoder(for: profile, enumerators: [:]), timestamp: 0)
    XCTAssertEqual(snapshot.series.map(\.title), ["c(ZERO/0)", "c(7/7) outcome(ok)", "c(7/7) outcome(ENOENT)"])
    XCTAssertEqual(snapshot.accounting.counted, 5 + 2 * 64 + 64, "log2: 64 slots")
  }

  /// The BPF side and the profile loader agree on where syscall keys end.
  func testTheSyscallKeyRangeIsTheProgramsOwn() {
    XCTAssertEqual(UAPINames.syscallKeyRange, Int(SD_SYSCALL_KEYS.rawValue))
    XCTAssertEqual(UAPINames.syscallKeyCount, 513)
    #if arch(x86_64)
      XCTAssertEqual(UAPINames.allSyscallKeyCount, 1025, "ia32's numbers after the invalid key")
    #endif
  }

  /// Lock kinds as `perf lock contention` names them, from lock.h's LCB_F_* flags (SPIN 1, READ 2,
  /// WRITE 4, RT 8, PERCPU 16, MUTEX 32).
  func testLockKindsAreNamedAsPerfNamesThem() {
    let names = [1: "spinlock", 3: "rwlock:R", 5: "rwlock:W", 2: "rwsem:R", 4: "rwsem:W", 8: "rt-mutex", 10: "rwlock-rt:R",
      12: "rwlock-rt:W", 18: "pcpu-sem:R", 20: "pcpu-sem:W", 32: "mutex", 33: "mutex", 0: "semaphore"]
    for (flags, name) in names { XCTAssertEqual(LockKind.name(flags: UInt64(flags)), name, "flags \(flags)") }
  }

  /// A wait-site entry under SD_LOCK_SITE less a kind's flags is that kind's lock waits, apart
  /// from the stacks: a key's mutex waits summed, never shown as a wait site.
  func testLockWaitsAreTheirKeysApartFromTheStacks() throws {
    let profile = try ProfileLoader(enumSource: nil).load(
      text: "version: 1\nname: p\nprobe: {syscall: bpf}\nkey: {source: arg0, label: cmd}\n", file: "p")
    var raw = Counts()
    raw.histograms[CountKey(.number(2))] = SeriesCounts(buckets: [1] + Array(repeating: 0, count: profile.layout.slotCount - 1), sumNanoseconds: 1)
    let mutex = Int64(SD_LOCK_SITE.rawValue) - 32, mutexSpinning = Int64(SD_LOCK_SITE.rawValue) - 33
    raw.waitSites = [
      WaitSiteKey(key: 2, stack: 7): WaitTotals(nanoseconds: 900, count: 3),
      WaitSiteKey(key: 2, stack: mutex): WaitTotals(nanoseconds: 600, count: 2),
      WaitSiteKey(key: 2, stack: mutexSpinning): WaitTotals(nanoseconds: 50, count: 1),
      WaitSiteKey(key: 2, stack: Int64(SD_LOCK_SITE.rawValue) - 1): WaitTotals(nanoseconds: 10, count: 1),
    ]
    // ids beside the lock range stay stacks: not taken, lost (-errno), and just outside it
    for stack in [Int64(SD_STACK_NOT_TAKEN.rawValue), -14, Int64(SD_LOCK_SITE.rawValue) + 1, Int64(SD_LOCK_SITE.rawValue) - 64] {
      XCTAssertNil(WaitSiteKey(key: 2, stack: stack).lockFlags, "stack \(stack)")
    }
    let snapshot = raw.snapshot(
      profile: profile, decoder: KeyDecoder(for: profile, enumerators: [:]), timestamp: 0, waitSiteName: { "stack \($0)" })
    let series = try XCTUnwrap(snapshot.series.first)
    XCTAssertEqual(series.waitSites, [NamedWaitSite(site: "stack 7", totals: WaitTotals(nanoseconds: 900, count: 3))])
    XCTAssertEqual(series.lockWaits, [
      NamedWaitSite(site: "mutex", totals: WaitTotals(nanoseconds: 650, count: 3)),
      NamedWaitSite(site: "spinlock", totals: WaitTotals(nanoseconds: 10, count: 1)),
    ])
    // keys found at exit: one list of each for the whole probe, none per series
    let atExit = try ProfileLoader(enumSource: nil).load(
      text: "version: 1\nname: p\nprobe: {syscall: bpf}\nkey: {source: retval, label: ret}\n", file: "p")
    let probe = raw.snapshot(
      profile: atExit, decoder: KeyDecoder(for: atExit, enumerators: [:]), timestamp: 0, waitSiteName: { "stack \($0)" })
    XCTAssertEqual(probe.lockWaits.map(\.site), ["mutex", "spinlock"])
    XCTAssertEqual(probe.waitSites.map(\.site), ["stack 7"])
    XCTAssertEqual(probe.series.first?.lockWaits, [])
  }
}

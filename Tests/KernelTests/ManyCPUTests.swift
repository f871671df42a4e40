import BPFKit
import Foundation
import Profiles
import Tracer
import XCTest

/// Capacity that must not shrink as CPUs are added: the same keys counted on every online CPU
/// (the bucket steps run with BPF_PROG_TEST_RUN on each CPU in turn) need the room of one CPU.
/// On 2 CPUs this already fails where keys were kept per CPU; in the kernel matrix's guest with
/// many CPUs it shows the same at scale.
final class ManyCPUTests: XCTestCase {
  /// The CPUs `/sys/devices/system/cpu/online` lists ("0-3,8").
  var onlineCPUs: [UInt32] {
    get throws {
      let list = try String(contentsOfFile: "/sys/devices/system/cpu/online", encoding: .utf8)
      return list.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",").flatMap { range in
        let ends = range.split(separator: "-").compactMap { UInt32($0) }
        return Array(ends[0]...ends[ends.count - 1])
      }
    }
  }

  func tracer(_ profile: Profile, limits: StorageLimits = StorageLimits()) throws -> Tracer {
    // attached for real, but to a task name nothing has: only the staged calls count
    try Tracer(
      TraceRequest(
        profile: profile, filters: Filters(comm: "no-such-task"), forcedMethod: .rawTracepoint, limits: limits))
  }

  /// Every syscall the host's table knows, failing with 8 errnos each, on every CPU in one
  /// window: `syscalldist` itemizes every (syscall, errno) pair and drops nothing.
  func testEverySyscallWithEightErrnosOnEveryCPUIsItemized() throws {
    let profile = try ProfileLoader(enumSource: nil).load(text: ProfileCatalog.builtIn["syscalldist"]!, file: "s")
    let tracer = try tracer(profile)
    let numbers = Set(UAPINames.syscallNumbers.values).sorted()
    let cpus = try onlineCPUs
    for cpu in cpus {
      for number in numbers {
        for err in 1...8 { try tracer.runBucketStep(latency: 1000, key: UInt64(number), cpu: cpu, err: UInt64(err)) }
      }
    }
    tracer.detach()
    let counts = try tracer.collect()
    let accounting = counts.accounting(inFlight: 0)
    XCTAssertEqual(accounting.counted, UInt64(numbers.count * 8 * cpus.count))
    XCTAssertEqual(accounting.dropped, 0)
    XCTAssertEqual(accounting.errorsNotItemized, 0, "\(numbers.count) syscalls x 8 errnos x \(cpus.count) CPUs")
    XCTAssertEqual(counts.failures.count, numbers.count * 8)
    XCTAssertEqual(Set(counts.failures.values), [UInt64(cpus.count)])
  }

  /// Keys with no small bound (a hash): as many keys as it has room for, each made on every
  /// CPU, all fit; one more is dropped, and said to be.
  func testAHashHoldsItsKeysHoweverManyCPUsMakeThem() throws {
    let profile = try ProfileLoader(enumSource: nil).load(
      text: "version: 1\nname: fds\nprobe: {syscalls: all}\nkey: {source: arg0}\n", file: "fds.yaml")
    let room = 500
    let tracer = try tracer(profile, limits: StorageLimits(maxKeys: room))
    let cpus = try onlineCPUs
    for cpu in cpus {
      for key in 0..<room { try tracer.runBucketStep(latency: 1000, key: UInt64(key), cpu: cpu) }
    }
    try tracer.runBucketStep(latency: 1000, key: UInt64(room), cpu: cpus[0])
    tracer.detach()
    let counts = try tracer.collect()
    let accounting = counts.accounting(inFlight: 0)
    XCTAssertEqual(accounting.counted, UInt64(room * cpus.count), "\(room) keys on \(cpus.count) CPUs")
    XCTAssertEqual(accounting.mapFull, 1)
    XCTAssertEqual(counts.histograms.count, room)
    for series in counts.histograms.values {
      XCTAssertEqual(series.buckets.reduce(0, +), UInt64(cpus.count))
      XCTAssertEqual(series.sumNanoseconds, UInt128(cpus.count) * 1000 * UInt128(profile.unit.nanoseconds))
    }
  }

  /// A dense profile whose per-CPU copies would pass the budget even here (every syscall x 702
  /// linear buckets: 23 MB on 2 CPUs) shares one series per key among the CPUs: counts, sums,
  /// the largest and the smallest stay exact, whichever CPU added them (on 5.10 to 5.12 the hash
  /// by key and CPU takes over; on one possible CPU one copy fits, per CPU; the same holds).
  func testSharedSeriesKeepExactCountsSumsAndExtremes() throws {
    let profile = try ProfileLoader(enumSource: nil).load(
      text: "version: 1\nname: wide\nprobe: {syscalls: all}\nkey: {source: syscall}\n"
        + "histogram: {buckets: linear, unit: ns, linear: {min: 0, max: 700, step: 1}}\n", file: "wide.yaml")
    let tracer = try tracer(profile)
    let storage = tracer.request.storage
    #if arch(x86_64)
      let keys = 1025  // 512 x86_64 numbers, the invalid key, 512 ia32 numbers
    #else
      let keys = 513
    #endif
    if Map.possibleCPUs == 1 {  // a guest of one CPU: one copy fits, per CPU
      XCTAssertEqual(storage.keySpace, .dense(keyCount: keys), storage.description)
      XCTAssertFalse(storage.shared, storage.description)
    } else if BPFFeatures.runsMainObject {
      XCTAssertEqual(storage.keySpace, .dense(keyCount: keys), storage.description)
      XCTAssertTrue(storage.shared, storage.description)
    } else {  // 5.10 to 5.12: no compare-and-swap, so the hash by key and CPU
      XCTAssertEqual(storage.keySpace, .sparse, storage.description)
    }
    let cpus = try onlineCPUs
    var latencies: [UInt64] = []
    for (index, cpu) in cpus.enumerated() {
      for latency: UInt64 in [5, 600, 2000 + UInt64(index)] {
        try tracer.runBucketStep(latency: latency, key: 39, cpu: cpu)
        latencies.append(latency)
      }
    }
    tracer.detach()
    let series = try XCTUnwrap(try tracer.collect().histograms.values.first)
    XCTAssertEqual(series.buckets.reduce(0, +), UInt64(latencies.count))
    XCTAssertEqual(series.sumNanoseconds, UInt128(latencies.reduce(0, +)))
    XCTAssertEqual(series.minNanoseconds, latencies.min())
    XCTAssertEqual(series.maxNanoseconds, latencies.max())
    XCTAssertEqual(series.buckets.last, UInt64(cpus.count), "past 700 ns: the overflow bucket")
  }
}

import BPFKit
import Foundation
import Histograms
import Profiles
import Snapshots
import Tracer
import XCTest

/// Every shipped profile, and custom ones, loaded, attached and checked against a workload.
final class ProfileKernelTests: XCTestCase {
  static let btf = try? VmlinuxBTF()

  func run(
    profileText text: String, workload: Workload, method: ProbeMethod? = nil
  ) throws -> (snapshot: Snapshot, report: [String: Any]) {
    let profile = try ProfileLoader(enumSource: Self.btf).load(text: text, file: "test.yaml")
    let enumerators = profile.decoding.btfEnum.flatMap { Self.btf?.enumerators(of: $0) } ?? [:]
    let tracer = try Tracer(
      TraceRequest(profile: profile, enumerators: enumerators, filters: Filters(pid: workload.pid), forcedMethod: method))
    if method == nil {
      // syscalls have all three hooks here: a fallback would hide a program the kernel refused
      XCTAssertEqual(tracer.notes.filter { !$0.hasPrefix("tracefs") }, [], profile.name)
    } else {
      XCTAssertEqual(tracer.method, method)
    }
    let report = try workload.finish()
    let snapshot = try tracer.collect().snapshot(
      profile: profile, decoder: KeyDecoder(for: profile, enumerators: enumerators), timestamp: 0)
    return (snapshot, report)
  }

  func counts(_ snapshot: Snapshot) -> [String: Int] {
    var result: [String: Int] = [:]
    for series in snapshot.series { result[series.keyName, default: 0] += Int(series.histogram.total) }
    return result
  }

  /// Which workload proves each shipped profile, and which of its keys it must count exactly.
  static let workloads: [String: [String]] = [
    "bpfsyscalldist": ["bpf-mix", "100"],
    "futex": ["futex", "300"],
    "openat": ["openat", "50"],
    "clock_nanosleep": ["sleep", "1", "20"],
    "ioctl": ["ioctl", "400"],
    "read-by-process": ["read", "500"],
  ]

  /// Shipped profiles whose keys other tests prove, per key part and map.
  static let provenElsewhere = ["bpf-maps": "KeyPartsTests.testBPFMapsCountsEachMapsCommandsExactly"]

  /// The syscall ones; KernelFunctionTests has the kernel-function ones.
  func testEveryShippedProfileCountsItsWorkloadExactly() throws {
    for (name, text) in ProfileCatalog.builtIn.sorted(by: { $0.key < $1.key })
    where name != "syscalldist" && !text.contains("kernel_function:") && Self.provenElsewhere[name] == nil {
      let arguments = try XCTUnwrap(Self.workloads[name], "no workload proves profile \(name)")
      let workload = try Workload(arguments[0], arguments[1], arguments.count > 2 ? arguments[2] : "")
      let (snapshot, report) = try run(profileText: text, workload: workload)
      var expected = report["counts"] as? [String: Int] ?? [:]
      if name == "clock_nanosleep" { expected = ["0": expected["clock_nanosleep"] ?? -1] }  // key: none
      XCTAssertEqual(counts(snapshot), expected, name)
      XCTAssertEqual(snapshot.accounting.dropped, 0, name)
    }
  }

  func testSyscalldistCountsEachSyscallByName() throws {
    for method in [ProbeMethod.btfTracepoint, .rawTracepoint, .tracepoint] {
      let workload = try Workload("syscalls", "1000")
      let (snapshot, report) = try run(profileText: ProfileCatalog.builtIn["syscalldist"]!, workload: workload, method: method)
      let seen = counts(snapshot)
      for (syscall, count) in report["counts"] as? [String: Int] ?? [:] {
        XCTAssertEqual(seen[syscall], count, "\(syscall) via \(method)")
      }
      XCTAssertEqual(
        snapshot.series.first { $0.keyName == "getppid" }?.title,
        "syscall(\(UAPINames.syscallNumbers["getppid"]!)/getppid)")
    }
  }

  func sleepProfile(buckets: String, unit: String) -> String {
    """
    version: 1
    name: sleeps
    probe: {syscall: clock_nanosleep}
    histogram:
      buckets: \(buckets)
      unit: \(unit)
    """
  }

  /// 20 sleeps of 30 ms. A sleep's latency in the kernel is at least the 30 ms asked for and at
  /// most what the workload measured around it, so a sleep whose measured time is still in the
  /// bucket of 30 ms must be counted there, and every sleep in a bucket from there to the one of
  /// its measured time; the kernel's exact mean is likewise between 30 ms and the measured mean.
  /// 30 ms is 30000 us, in log2 slot 14 (16384…32767 us); in ms, linear buckets of 10 ms put it
  /// in 30…39.
  func testSleepsOfKnownLengthLandInTheirBucket() throws {
    let cases: [(buckets: String, unit: TimeUnit, bucket: ClosedRange<UInt64>)] = [
      ("log2", .us, 16384...32767),
      ("log2", .ms, 16...31),
      ("linear\n  linear: {min: 0, max: 100, step: 10}", .ms, 30...39),
      ("linear\n  linear: {min: 20000, max: 40000, step: 5000}", .us, 30000...34999),
    ]
    for (buckets, unit, bucket) in cases {
      let workload = try Workload("sleep", "30", "20")
      let (snapshot, report) = try run(profileText: sleepProfile(buckets: buckets, unit: unit.rawValue), workload: workload)
      let histogram = try XCTUnwrap(snapshot.series.first?.histogram)
      let measured = try XCTUnwrap(report["measured_ns"] as? [Int]).map { UInt64($0) }
      XCTAssertEqual(histogram.total, 20)
      XCTAssertEqual(measured.count, 20)
      let slot = histogram.layout.slot(for: bucket.lowerBound)
      let bounds = histogram.layout.bounds(ofSlot: slot)
      XCTAssertEqual(bounds.low, bucket.lowerBound)
      XCTAssertEqual(bounds.high, bucket.upperBound)
      let context = "\(buckets) \(unit): \(histogram.counts.enumerated().filter { $0.element > 0 }), measured \(measured)"
      let certain = measured.filter { histogram.layout.slot(for: $0 / unit.nanoseconds) == slot }.count
      XCTAssertGreaterThanOrEqual(histogram.counts[slot], UInt64(certain), context)
      let latest = histogram.layout.slot(for: measured.max()! / unit.nanoseconds)
      XCTAssertEqual(histogram.counts[slot...latest].reduce(0, +), 20, context)
      let mean = try XCTUnwrap(histogram.mean(in: .ns))
      XCTAssertTrue(30e6 <= mean && mean <= Double(measured.reduce(0, +)) / 20, "the kernel's exact mean \(mean) ns: \(context)")
    }
  }

  /// The same sleeps in exponential buckets, counted in ns whatever the unit: a 30 ms sleep is
  /// in bucket -40 of schema 3, (1e9 * 2^(-41/8), 1e9 * 2^-5] ns, or (measured longer) a later one.
  func testSleepsLandInTheirExponentialBucket() throws {
    for unit in ["us", "s"] {
      let workload = try Workload("sleep", "30", "20")
      let (snapshot, report) = try run(profileText: sleepProfile(buckets: "exponential\n  schema: 3", unit: unit), workload: workload)
      let histogram = try XCTUnwrap(snapshot.series.first?.histogram)
      let measured = try XCTUnwrap(report["measured_ns"] as? [Int]).map { UInt64($0) }
      XCTAssertEqual(histogram.total, 20)
      let slot = histogram.layout.slot(for: 30_000_000)
      XCTAssertEqual(histogram.layout.exponentialScale?.index(ofSlot: slot), -40)
      XCTAssertEqual(histogram.layout.bounds(ofSlot: slot).low, 28_656_377)
      XCTAssertEqual(histogram.layout.bounds(ofSlot: slot).high, 31_250_000)
      let context = "\(unit): \(histogram.counts.enumerated().filter { $0.element > 0 }), measured \(measured)"
      let certain = measured.filter { histogram.layout.slot(for: $0) == slot }.count
      XCTAssertGreaterThanOrEqual(histogram.counts[slot], UInt64(certain), context)
      let latest = histogram.layout.slot(for: measured.max()!)
      XCTAssertEqual(histogram.counts[slot...latest].reduce(0, +), 20, context)
      let p50 = try XCTUnwrap(histogram.percentile(0.5, unit: .ns))
      let truth = measured.sorted()[9]
      XCTAssertTrue(30_000_000 <= p50.high && p50.low <= truth, "the median's bound \(p50) against 30 ms and the measured \(truth)")
    }
  }

  /// Each of the six argument registers, on each syscall hook, is the key it should be.
  func testEveryArgumentIsReadOnEveryHook() throws {
    for method in [ProbeMethod.tracepoint, .btfTracepoint, .rawTracepoint] {
      for index in 0...5 {
        let workload = try Workload("args", "7")
        let profile = "version: 1\nname: a\nprobe: {syscall: pselect6}\nkey: {source: arg\(index)}\n"
        let (snapshot, _) = try run(profileText: profile, workload: workload, method: method)
        XCTAssertEqual(counts(snapshot), [String(100 + index): 7], "arg\(index) via \(method)")
      }
    }
  }

  func testErrnoOutcomesAreNamed() throws {
    let workload = try Workload("openat", "30")
    let (snapshot, _) = try run(profileText: ProfileCatalog.builtIn["openat"]!, workload: workload)
    XCTAssertEqual(snapshot.series.map(\.title), ["syscall(openat) outcome(ok)", "syscall(openat) outcome(ENOENT)"])
  }
}

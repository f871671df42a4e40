import BPFKit
import Foundation
import Histograms
import Profiles
import Snapshots
import Tracer
import XCTest

/// The origin tool's job, against the real kernel: bpf() latency per command, counted exactly.
final class BPFCommandTests: XCTestCase {
  static let btf = try? VmlinuxBTF()

  func profile(_ name: String) throws -> Profile {
    let entry = try ProfileCatalog(searchDirectories: []).entry(for: name)
    return try ProfileLoader(enumSource: Self.btf).load(text: entry.text, file: name)
  }

  func trace(
    _ profileName: String, workload: Workload, method: ProbeMethod? = nil, splitOutcome: Bool = false,
    concurrency: Bool = false
  ) throws -> (Snapshot, [String: Any], Tracer) {
    let profile = try profile(profileName)
    let enumerators = profile.decoding.btfEnum.flatMap { Self.btf?.enumerators(of: $0) } ?? [:]
    let tracer = try Tracer(
      TraceRequest(
        profile: profile, enumerators: enumerators, filters: Filters(pid: workload.pid),
        splitOutcome: splitOutcome, forcedMethod: method, trackConcurrency: concurrency))
    XCTAssertEqual(tracer.method, method ?? .tracepoint, tracer.notes.joined(separator: "; "))
    let report = try workload.finish()
    let snapshot = try tracer.collect().snapshot(
      profile: profile, decoder: KeyDecoder(for: profile, enumerators: enumerators),
      timestamp: 0)
    return (snapshot, report, tracer)
  }

  func counts(_ snapshot: Snapshot) -> [String: Int] {
    var result: [String: Int] = [:]
    for series in snapshot.series { result[series.keyName, default: 0] += Int(series.histogram.total) }
    return result
  }

  func testEveryBPFCommandOfAKnownMixIsCountedExactly() throws {
    let workload = try Workload("bpf-mix", "500")
    let (snapshot, report, _) = try trace("bpfsyscalldist", workload: workload)
    let expected = (report["counts"] as? [String: Int]) ?? [:]
    XCTAssertEqual(expected.count, 5)
    XCTAssertEqual(counts(snapshot), expected)
    XCTAssertEqual(snapshot.accounting.dropped, 0)
  }

  func testTheThreeSyscallHooksCountTheSame() throws {
    for method in [ProbeMethod.tracepoint, .rawTracepoint, .btfTracepoint] {
      let workload = try Workload("bpf-mix", "200")
      let (snapshot, report, tracer) = try trace("bpfsyscalldist", workload: workload, method: method)
      XCTAssertEqual(tracer.method, method)
      XCTAssertEqual(counts(snapshot), report["counts"] as? [String: Int], "\(method)")
    }
  }

  func testOutcomeSplitSeparatesFailedLookups() throws {
    let workload = try Workload("bpf-mix", "300")
    let (snapshot, report, _) = try trace("bpfsyscalldist", workload: workload, splitOutcome: true)
    let failed = report["failed"] as? [String: Int] ?? [:]
    let total = report["counts"] as? [String: Int] ?? [:]
    for series in snapshot.series {
      let expected = series.outcome == .ok
        ? (total[series.keyName] ?? 0) - (failed[series.keyName] ?? 0) : failed[series.keyName] ?? 0
      XCTAssertEqual(Int(series.histogram.total), expected, "\(series.keyName) \(series.outcome!)")
    }
    // every failure of bpf-mix is a missing key
    XCTAssertEqual(snapshot.series.filter { $0.outcome != .ok }.map(\.outcome), [Outcome("ENOENT"), Outcome("ENOENT")])
    XCTAssertEqual(
      snapshot.series.filter { $0.outcome != .ok }.map(\.title),
      ["syscall(BPF) cmd(BPF_MAP_LOOKUP_ELEM) outcome(ENOENT)", "syscall(BPF) cmd(BPF_MAP_GET_NEXT_KEY) outcome(ENOENT)"])
  }

  /// The origin tool's scenario: many threads updating and deleting in one PROG_ARRAY.
  func testProgArrayUpdatesFromManyThreadsAreAllCounted() throws {
    let workload = try Workload("progarray", "64", "200")
    let (snapshot, report, _) = try trace("bpfsyscalldist", workload: workload)
    XCTAssertEqual(report["errors"] as? Int, 0)
    XCTAssertEqual(counts(snapshot), report["counts"] as? [String: Int])
  }

  /// Every failed call is counted under its key with its errno: N lookups of missing keys and
  /// the one GET_NEXT_KEY past the last key fail with ENOENT, nothing else fails.
  func testFailuresAreCountedPerKeyByErrnoName() throws {
    let (snapshot, _, _) = try trace("bpfsyscalldist", workload: try Workload("bpf-mix", "250"))
    var failures: [String: [String]] = [:]
    for series in snapshot.series where !series.failures.isEmpty {
      failures[series.keyName] = series.failures.map { "\($0.name) \($0.count)" }
    }
    XCTAssertEqual(failures, ["BPF_MAP_LOOKUP_ELEM": ["ENOENT 250"], "BPF_MAP_GET_NEXT_KEY": ["ENOENT 1"]])
    let (split, _, _) = try trace("bpfsyscalldist", workload: try Workload("bpf-mix", "10"), splitOutcome: true)
    XCTAssertTrue(split.series.allSatisfy { $0.failures.isEmpty }, "split outcomes carry the errno themselves")
  }

  /// One thread can never be inside two calls at once; 64 threads on one PROG_ARRAY pile up.
  /// Where the kernel lacks BPF compare-and-swap (Linux 5.10), the refusal.
  func testConcurrencyIsOneForOneThreadAndMoreForMany() throws {
    guard BPFFeatures.runsMainObject else { return try assertConcurrencyIsRefused() }
    let single = try Workload("bpf-mix", "100")
    let (alone, _, _) = try trace("bpfsyscalldist", workload: single, concurrency: true)
    XCTAssertEqual(alone.series.count, 5)
    for series in alone.series { XCTAssertEqual(series.maxConcurrent, 1, series.keyName) }
    let many = try Workload("progarray", "64", "400")
    let (crowd, _, _) = try trace("bpfsyscalldist", workload: many, concurrency: true)
    let updates = try XCTUnwrap(crowd.series.first { $0.keyName == "BPF_MAP_UPDATE_ELEM" }?.maxConcurrent)
    XCTAssertGreaterThan(updates, 1)
    XCTAssertLessThanOrEqual(updates, 64)
    let withoutFlag = try trace("bpfsyscalldist", workload: try Workload("bpf-mix", "10")).0
    XCTAssertNil(withoutFlag.series.first?.maxConcurrent)
  }

  func testReleasingTheTracerLeavesNoProgramMapOrLinkBehind() throws {
    let before = bpfObjectIDs()
    do {
      let workload = try Workload("bpf-mix", "10")
      let (_, _, tracer) = try trace("bpfsyscalldist", workload: workload)
      XCTAssertFalse(bpfObjectIDs().programs.subtracting(before.programs).isEmpty)
      _ = tracer
    }
    let after = waitForBPFObjects(toReturnTo: before)
    XCTAssertEqual(after.programs.subtracting(before.programs), [])
    XCTAssertEqual(after.links.subtracting(before.links), [])
    XCTAssertEqual(after.maps.subtracting(before.maps), [])
  }
}

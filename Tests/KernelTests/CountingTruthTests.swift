import BPFKit
import Foundation
import Profiles
import Tracer
import XCTest

/// Every number printed is true or states a bound that holds: percentiles against what the
/// workload measured itself, long interval runs, the accounting, and the smaller truths.
final class CountingTruthTests: XCTestCase {
  /// 200 sleeps of 5 ms (and 100 that return at once): every percentile's stated bounds hold the
  /// truth the workload measured, and so does the stated relative error. The workload's measure
  /// also pays what the kernel's does not (the syscall's entry and exit, the tracer's work outside
  /// its timestamps): the slack is the slowest of the calls that return at once, which are little
  /// else, with 10 µs to spare: a few µs on hardware, more under emulation.
  func testEveryPrintedPercentileContainsTheMeasuredTruth() throws {
    let workload = try Workload("timed-sleep", "5", "200")
    let tool = try ToolRun(["--profile", "clock_nanosleep", "-p", String(workload.pid), "-j"])
    try tool.waitUntilAttached()
    let report = try workload.finish()
    XCTAssertEqual(tool.stop(), 0, tool.stderr)
    let truth = try XCTUnwrap(report["measured_ns"] as? [String: Int])
    let series = try XCTUnwrap((tool.jsonObjects.last?["histograms"] as? [[String: Any]])?.first)
    XCTAssertEqual(series["count"] as? Int, 300)
    let slack = Double(try XCTUnwrap(report["overhead_ns"] as? Int)) + 10_000
    for name in ["p50", "p90", "p99"] {
      let measured = Double(try XCTUnwrap(truth[name])) / 1000  // the profile's unit: us
      let estimate = try XCTUnwrap(series[name] as? Double ?? (series[name] as? Int).map(Double.init), name)
      let error = try XCTUnwrap(series["relative_error"] as? Double, "relative_error")
      XCTAssertLessThanOrEqual(abs(estimate - measured) / measured, error + slack / 1000 / measured, "\(name): \(estimate) vs \(measured) us")
      let bounds = try XCTUnwrap((series["percentiles"] as? [String: [String: Double]])?[name], "bounds of \(name)")
      XCTAssertLessThanOrEqual(try XCTUnwrap(bounds["low"]), measured, name)
      XCTAssertGreaterThanOrEqual(try XCTUnwrap(bounds["high"]) + slack / 1000, measured, name)
    }
    XCTAssertLessThanOrEqual(Double(try XCTUnwrap(series["min_ns"] as? Int)), Double(try XCTUnwrap(truth["min"])))
    // the longest call less the thread's CPU time around it: a stall of the workload's own part
    // of a call (under emulation, milliseconds) is CPU time, never time the kernel saw
    XCTAssertGreaterThanOrEqual(try XCTUnwrap(series["max_ns"] as? Int), try XCTUnwrap(truth["max_less_cpu"]))
    XCTAssertGreaterThan(try XCTUnwrap(truth["max_less_cpu"]), 5_000_000 * 9 / 10, "no 5 ms sleep measured")
  }

  /// `-i` for the length of a long run, keyed by a raw value: more distinct keys than the hash
  /// holds, over eight intervals, are all counted, each exactly once. 1,022 linear buckets make
  /// a series 8 KiB, so that 2,400 keys overflow a hash of 1,008 series: cheap enough for every
  /// kernel of the matrix. `HostScaleTests` does it with 20,000 keys and the default buckets.
  func testLongIntervalRunsKeepCountingNewKeys() throws {
    try assertEveryKeyCountedOnce(
      histogram: "{buckets: linear, unit: ns, linear: {min: 0, max: 1022, step: 1}}", capacity: 1008,
      keysPerPhase: 300, phases: 8)
  }

  /// The errors map filling up loses the errno of a call, never the call.
  func testAFullErrorsMapLosesTheErrnoNotTheCall() throws {
    let profile = try temporaryProfile("version: 1\nname: fds\nprobe: {syscall: close}\nkey: {source: arg0, label: fd}\n")
    let workload = try Workload("close-keys", "5000", "1")
    let tool = try ToolRun(["--profile", profile, "--max-errors", "4096", "-p", String(workload.pid), "-j"])
    try tool.waitUntilAttached()
    _ = try workload.finish()
    XCTAssertEqual(tool.stop(), 0, tool.stderr)
    let object = try XCTUnwrap(tool.jsonObjects.last)
    let accounting = try XCTUnwrap(object["accounting"] as? [String: Any])
    XCTAssertEqual(accounting["counted"] as? Int, 5000)
    XCTAssertEqual(accounting["dropped"] as? Int, 0)
    let itemized = (object["histograms"] as? [[String: Any]] ?? []).reduce(0) {
      $0 + (($1["errors"] as? [String: Int])?["EBADF"] ?? 0)
    }
    let notItemized = try XCTUnwrap(accounting["errors_not_itemized"] as? Int)
    XCTAssertGreaterThan(notItemized, 0, "5000 (key, errno) pairs in a map of 4096: some must not fit")
    XCTAssertEqual(itemized + notItemized, 5000)
  }

  /// A full histogram hash drops each call once, for one reason, and never adds a sum without
  /// its count: 100 keys into room for 10.
  func testAFullHistogramHashDropsEachCallOnce() throws {
    let profile = try ProfileLoader(enumSource: nil).load(
      text: "version: 1\nname: fds\nprobe: {syscall: close}\nkey: {source: arg0}\n", file: "fds.yaml")
    let workload = try Workload("close-keys", "100", "1")
    let tracer = try Tracer(
      TraceRequest(profile: profile, filters: Filters(pid: workload.pid), limits: StorageLimits(maxKeys: 10)))
    _ = try workload.finish()
    tracer.detach()
    let counts = try tracer.collect()
    let accounting = counts.accounting(inFlight: 0)
    XCTAssertEqual(accounting.counted + accounting.mapFull, 100)
    XCTAssertEqual(accounting.dropped, accounting.mapFull)
    XCTAssertGreaterThanOrEqual(accounting.mapFull, 80)
    for (key, series) in counts.histograms {
      XCTAssertEqual(series.buckets.reduce(0, +), 1, "\(key)")
      XCTAssertEqual(series.minNanoseconds, series.maxNanoseconds, "\(key): one call, one latency")
      XCTAssertEqual(series.sumNanoseconds, series.maxNanoseconds.map { UInt128($0) }, "\(key): the sum is that call's")
    }
  }

  /// 300 threads one after another, each ending in `exit`, which never returns: the most threads
  /// inside a call at once stays a few, not one more per thread (300). A few: the thread that
  /// joins, the one it starts, and those still inside `exit` after waking the join (on one CPU
  /// several can wait there for their turn to finish).
  func testConcurrencyDoesNotLeakOnCallsThatNeverReturn() throws {
    let profile = try temporaryProfile("version: 1\nname: all\nprobe: {syscalls: all}\nkey: {source: pid}\n")
    guard BPFFeatures.runsMainObject else { return try assertConcurrencyIsRefused() }
    let workload = try Workload("churn", "300")
    let tool = try ToolRun(["--profile", profile, "--concurrency", "-p", String(workload.pid), "-j"])
    try tool.waitUntilAttached()
    _ = try workload.finish()
    XCTAssertEqual(tool.stop(), 0, tool.stderr)
    let most = try XCTUnwrap(tool.jsonObjects.last?["max_concurrent"] as? Int)
    XCTAssertLessThanOrEqual(most, 30, "one thread at a time made calls")
  }

  func testReturnValueKeysAreSigned() throws {
    let profile = try temporaryProfile("version: 1\nname: r\nprobe: {syscall: close}\nkey: {source: retval}\n")
    let workload = try Workload("retval", "30")
    let tool = try ToolRun(["--profile", profile, "-p", String(workload.pid), "-j"])
    try tool.waitUntilAttached()
    let issued = try workload.finish()["counts"] as? [String: Int]
    XCTAssertEqual(tool.stop(), 0, tool.stderr)
    XCTAssertEqual(countsByKey(jsonObjects: tool.jsonObjects), issued)
  }

  /// `-u` on a profile with linear buckets in ms keeps the buckets where they are in time.
  func testAUnitOverrideKeepsLinearBucketsInPlace() throws {
    let profile = try temporaryProfile("""
      version: 1
      name: s
      probe: {syscall: clock_nanosleep}
      histogram: {buckets: linear, linear: {min: 0, max: 100, step: 10}, unit: ms}
      """)
    let workload = try Workload("sleep", "30", "10")
    let tool = try ToolRun(["--profile", profile, "-u", "-p", String(workload.pid), "-j"])
    try tool.waitUntilAttached()
    let measured = try XCTUnwrap(try workload.finish()["measured_ns"] as? [Int])
    XCTAssertEqual(tool.stop(), 0, tool.stderr)
    let object = try XCTUnwrap(tool.jsonObjects.last)
    XCTAssertEqual(object["unit"] as? String, "us")
    let buckets = try XCTUnwrap((object["histograms"] as? [[String: Any]])?.first?["buckets"] as? [[String: Any]])
    let home = try XCTUnwrap(buckets.first { $0["low"] as? Int == 30_000 }, "\(buckets)")
    XCTAssertEqual(home["high"] as? Int, 39_999)
    // every sleep the workload saw end before 40 ms (a stalled CPU can make one late)
    let onTime = measured.filter { $0 < 40_000_000 }.count
    XCTAssertGreaterThan(onTime, 0, "\(measured)")
    XCTAssertGreaterThanOrEqual(home["count"] as? Int ?? 0, onTime, "\(measured)")
    let check = try ToolRun.complete(["--check", profile, "--ns"])
    XCTAssertEqual(check.status, 0, check.stderr)
    XCTAssertTrue(check.stdout.contains("(min 0, max 100000000, step 10000000)"), check.stdout)
    let quarters = try temporaryProfile(
      "version: 1\nname: q\nprobe: {syscall: read}\nhistogram: {buckets: linear, linear: {min: 0, max: 1000, step: 250}}\n")
    let refused = try ToolRun.complete(["--check", quarters, "-m"])
    XCTAssertEqual(refused.status, 2)
    XCTAssertEqual(
      refused.stderr,
      "bpfsyscalldist: error: -m cannot show profile q's linear buckets (min 0, max 1000, step 250 us) in ms: they are not whole ms\n")
  }

  /// OpenMetrics under `-i` stays cumulative since start, with the same buckets in every print
  /// and `_created`, as Prometheus' `rate()` needs.
  func testOpenMetricsIntervalsAreCumulativeWithAFixedBucketSet() throws {
    let workload = try Workload("bpf-mix", "100")
    let tool = try ToolRun(["-p", String(workload.pid), "-i", "0.2", "--format", "openmetrics"])
    try tool.waitUntilAttached()
    let issued = try workload.finish()["counts"] as? [String: Int] ?? [:]
    let printedBefore = tool.stdout.components(separatedBy: "# EOF\n").count
    let deadline = Date().addingTimeInterval(60)  // three prints after the workload's end
    while tool.stdout.components(separatedBy: "# EOF\n").count < printedBefore + 3 && Date() < deadline { usleep(50_000) }
    XCTAssertEqual(tool.stop(), 0, tool.stderr)
    let prints = tool.stdout.components(separatedBy: "# EOF\n").filter { !$0.isEmpty }
    XCTAssertGreaterThanOrEqual(prints.count, 3)
    var previous: [String: Int] = [:]
    var bucketSets: Set<[String]> = []
    for text in prints {
      let lines = text.split(separator: "\n").map(String.init)
      var counts: [String: Int] = [:]
      for line in lines where line.hasPrefix("bpfsyscalldist_latency_seconds_count{") {
        let key = line.split(separator: "\"")[1]
        counts[String(key)] = Int(line.split(separator: " ").last!)
      }
      for (key, count) in previous { XCTAssertGreaterThanOrEqual(counts[key] ?? 0, count, "\(key) went down") }
      previous = counts
      let cmd = "cmd=\"BPF_MAP_UPDATE_ELEM\""
      let les = lines.filter { $0.hasPrefix("bpfsyscalldist_latency_seconds_bucket{\(cmd)") }
        .map { String($0.split(separator: "le=\"")[1].split(separator: "\"")[0]) }
      if !les.isEmpty { bucketSets.insert(les) }
      if counts["BPF_MAP_UPDATE_ELEM"] != nil {
        XCTAssertTrue(lines.contains { $0.hasPrefix("bpfsyscalldist_latency_seconds_created{\(cmd)}") }, text)
      }
    }
    XCTAssertEqual(previous, issued)
    XCTAssertEqual(bucketSets.count, 1, "the bucket set changed between prints")
  }

}

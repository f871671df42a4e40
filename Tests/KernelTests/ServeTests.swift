import Foundation
import XCTest

/// `serve` against workloads of known counts, read by parsers that are not ours
/// (`prometheus_client`'s OpenMetrics parser and its 0.0.4 text parser).
final class ServeTests: XCTestCase {
  /// Parses an exposition from stdin with prometheus_client, in the format argv[1] names; prints
  /// the samples as JSON: type, name, labels, value.
  static let parser = """
    import json, sys
    from prometheus_client.parser import text_string_to_metric_families as prometheus
    from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics
    parse = openmetrics if sys.argv[1] == "openmetrics" else prometheus
    print(json.dumps([[f.type, s.name, s.labels, s.value] for f in parse(sys.stdin.read()) for s in f.samples]))
    """

  struct Sample {
    var type: String, name: String, labels: [String: String], value: Double
  }

  /// Every sample of an exposition, as prometheus_client reads it.
  static func parse(_ text: String, openMetrics: Bool) throws -> [Sample] {
    let json = try python(parser, [openMetrics ? "openmetrics" : "prometheus"], input: text)
    let rows = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[Any]] ?? []
    return rows.map { row in
      Sample(
        type: row[0] as? String ?? "", name: row[1] as? String ?? "", labels: row[2] as? [String: String] ?? [:],
        value: (row[3] as? NSNumber)?.doubleValue ?? .nan)
    }
  }

  /// `_count` per value of `label`, from parsed samples.
  static func counts(_ samples: [Sample], _ family: String, label: String) -> [String: Int] {
    var counts: [String: Int] = [:]
    for sample in samples where sample.name == family + "_count" {
      counts[sample.labels[label] ?? "?", default: 0] += Int(sample.value)
    }
    return counts
  }

  /// Two profiles in one process, a workload of known bpf() commands: after the workload, every
  /// scrape in either format counts each command exactly, since the start, with one bucket set.
  func testEveryProfileIsServedExactlyInBothFormats() throws {
    let workload = try Workload("bpf-mix", "40")
    let serve = try ServeRun(["--profile", "bpfsyscalldist", "--profile", "futex", "-p", String(workload.pid)])
    defer { serve.stop() }
    let issued = try XCTUnwrap(workload.finish()["counts"] as? [String: Int])
    usleep(2_500_000)  // two collections: the last calls are in the counts since the start
    for openMetrics in [true, false] {
      let text = try serve.metrics(openMetrics: openMetrics)
      let samples = try Self.parse(text, openMetrics: openMetrics)
      XCTAssertEqual(Self.counts(samples, "bpfsyscalldist_latency_seconds", label: "cmd"), issued, text)
      XCTAssertTrue(samples.contains { $0.name == "futex_calls_counted_total" }, "the second profile is served")
      XCTAssertEqual(samples.filter { $0.name == "bpfsyscalldist_calls_dropped_total" }.map(\.value).reduce(0, +), 0)
      XCTAssertEqual(text.contains("_created"), openMetrics, "_created is OpenMetrics' own")
      let buckets = Set(samples.filter { $0.name == "bpfsyscalldist_latency_seconds_bucket" }.compactMap { $0.labels["le"] })
      XCTAssertEqual(buckets.count, 33, "one fixed set: 2 us to 2^32 us, and +Inf")
    }
    let again = try Self.parse(try serve.metrics(), openMetrics: true)
    XCTAssertEqual(Self.counts(again, "bpfsyscalldist_latency_seconds", label: "cmd"), issued, "cumulative: the same")
  }

  /// --off-cpu: each key's time by state, counters whose parts add up to the latency sum.
  func testTimeSplitIsServedPerKeyAndState() throws {
    let workload = try Workload("sleep", "2", "30")
    let serve = try ServeRun(["--off-cpu", "--profile", "clock_nanosleep", "-p", String(workload.pid)])
    defer { serve.stop() }
    _ = try workload.finish()
    usleep(2_500_000)  // two collections
    let samples = try Self.parse(try serve.metrics(), openMetrics: true)
    var states: [String: Double] = [:]
    for sample in samples where sample.name == "clock_nanosleep_call_time_seconds_total" {
      states[sample.labels["state"] ?? "?", default: 0] += sample.value
    }
    let sum = samples.filter { $0.name == "clock_nanosleep_latency_seconds_sum" }.map(\.value).reduce(0, +)
    XCTAssertEqual(Set(states.keys), ["on_cpu", "runnable", "blocked"])
    XCTAssertEqual(states.values.reduce(0, +), sum, accuracy: 1e-6)
    XCTAssertGreaterThanOrEqual(states["blocked"] ?? 0, 30 * 0.0019, "30 sleeps of 2 ms are asleep for 2 ms each")
  }

  /// --off-cpu on Linux 5.19 and later: each key's waits for locks by kind, as counters. The
  /// origin case's updates wait for the PROG_ARRAY's mutex as often as a `-j` run beside serve
  /// says (both see every contention of the same calls), and for no longer than the calls took.
  func testLockWaitsAreServedPerKeyAndKind() throws {
    let workload = try Workload("progarray-tail", "50", "2")
    let serve = try ServeRun(["--off-cpu", "-p", String(workload.pid)])
    defer { serve.stop() }
    let tool = try ToolRun(["--off-cpu", "-p", String(workload.pid), "-j"])
    try tool.waitUntilAttached()
    _ = try workload.finish()
    XCTAssertEqual(tool.stop(), 0, tool.stderr)
    if tool.stderr.contains("the lock:contention_begin/end tracepoints need Linux 5.19") {  // 5.13 to 5.18
      usleep(2_500_000)
      return XCTAssertFalse(try serve.metrics().contains("_lock_wait"), "no lock waits without the tracepoints")
    }
    let update = try XCTUnwrap(
      tool.jsonObjects.flatMap { $0["histograms"] as? [[String: Any]] ?? [] }.first { $0["key"] as? String == "BPF_MAP_UPDATE_ELEM" })
    let printed = try XCTUnwrap((update["lock_waits"] as? [[String: Any]])?.first { $0["kind"] as? String == "mutex" }, "\(update)")
    usleep(2_500_000)  // two collections
    let samples = try Self.parse(try serve.metrics(), openMetrics: true)
    func value(_ name: String) -> Double? {
      samples.first { $0.name == name && $0.labels == ["cmd": "BPF_MAP_UPDATE_ELEM", "kind": "mutex"] }?.value
    }
    XCTAssertEqual(value("bpfsyscalldist_lock_waits_total"), (printed["count"] as? NSNumber)?.doubleValue, "\(printed)")
    let sum = try XCTUnwrap(
      samples.first { $0.name == "bpfsyscalldist_latency_seconds_sum" && $0.labels["cmd"] == "BPF_MAP_UPDATE_ELEM" }?.value)
    let waited = samples.filter { $0.name == "bpfsyscalldist_lock_wait_seconds_total" && $0.labels["cmd"] == "BPF_MAP_UPDATE_ELEM" }
    XCTAssertGreaterThan(value("bpfsyscalldist_lock_wait_seconds_total") ?? 0, 0)
    XCTAssertLessThanOrEqual(waited.map(\.value).reduce(0, +), sum, "no more time waiting for locks than in the calls")
  }

  /// --cost: each profile's programs, their runs and time, as counters that parse in both
  /// formats; the enter and exit ran at least once per counted call.
  func testCostIsServedPerProgram() throws {
    let workload = try Workload("bpf-mix", "40")
    let serve = try ServeRun(["--cost", "-p", String(workload.pid)])
    defer { serve.stop() }
    let issued = try XCTUnwrap(workload.finish()["counts"] as? [String: Int])
    usleep(2_500_000)  // two collections
    for openMetrics in [true, false] {
      let text = try serve.metrics(openMetrics: openMetrics)
      let samples = try Self.parse(text, openMetrics: openMetrics)
      var runs: [String: Double] = [:], seconds: [String: Double] = [:]
      for sample in samples {
        if sample.name == "bpfsyscalldist_program_runs_total" { runs[sample.labels["program"] ?? "?"] = sample.value }
        if sample.name == "bpfsyscalldist_program_run_seconds_total" { seconds[sample.labels["program"] ?? "?"] = sample.value }
      }
      let calls = Double(issued.values.reduce(0, +))
      XCTAssertGreaterThanOrEqual(runs["sd_tp_enter"] ?? 0, calls, text)
      XCTAssertGreaterThanOrEqual(runs["sd_tp_exit"] ?? 0, calls, text)
      XCTAssertGreaterThan(seconds["sd_tp_exit"] ?? 0, 0, text)
      XCTAssertEqual(Set(runs.keys), Set(seconds.keys))
    }
  }

  /// A task named `a"b\c` and a newline, keyed by comm, with failures split by outcome: both
  /// parsers read the label back as it was.
  func testHostileLabelValuesParseInBothFormats() throws {
    let profile = try temporaryProfile("version: 1\nname: comms\nprobe: {syscall: openat}\nkey: {source: comm}\n")
    let name = "a\"b\\c\nd"
    let workload = try Workload("openat", "10", comm: name)
    let serve = try ServeRun(["--profile", profile, "--split-outcome", "-p", String(workload.pid)])
    defer { serve.stop() }
    _ = try workload.finish()
    usleep(2_500_000)
    for openMetrics in [true, false] {
      let samples = try Self.parse(try serve.metrics(openMetrics: openMetrics), openMetrics: openMetrics)
      let counts = samples.filter { $0.name == "comms_latency_seconds_count" }
      XCTAssertEqual(counts.map(\.value).reduce(0, +), 30, "\(counts)")  // 10 opens, 20 ENOENT
      XCTAssertEqual(Set(counts.map { $0.labels["comm"] }), [name], "\(counts)")
      XCTAssertEqual(Set(counts.compactMap { $0.labels["outcome"] }), ["ok", "ENOENT"])
    }
  }

  /// --max-series 5 with 40 keys: 5 series, the calls of the others in 'other', and counted.
  func testKeysBeyondTheSeriesLimitAreSummedIntoOther() throws {
    let profile = try temporaryProfile("version: 1\nname: fds\nprobe: {syscall: close}\nkey: {source: arg0, label: fd}\n")
    let workload = try Workload("close-keys", "40", "1")
    let serve = try ServeRun(["--profile", profile, "--max-series", "5", "-p", String(workload.pid)])
    defer { serve.stop() }
    _ = try workload.finish()
    usleep(2_500_000)
    let samples = try Self.parse(try serve.metrics(), openMetrics: true)
    let counts = Self.counts(samples, "fds_latency_seconds", label: "fd")
    XCTAssertEqual(counts.values.reduce(0, +), 40)
    XCTAssertEqual(counts.count, 5, "\(counts)")
    let other = try XCTUnwrap(counts["(over max_series)"], "\(counts)")
    XCTAssertEqual(samples.first { $0.name == "fds_series_overflow_calls_total" }?.value, Double(other))
  }

  /// --series-idle 5s: the keys of a workload that is done leave /metrics (Prometheus then marks
  /// them stale), while the profile's own families stay; 1.5 s after it, they are all there.
  func testSeriesThatStopChangingLeaveTheExposition() throws {
    let profile = try temporaryProfile("version: 1\nname: fds\nprobe: {syscall: close}\nkey: {source: arg0, label: fd}\n")
    let workload = try Workload("close-keys", "10", "1")
    let serve = try ServeRun(["--profile", profile, "--series-idle", "5s", "-p", String(workload.pid)])
    defer { serve.stop() }
    _ = try workload.finish()
    usleep(1_500_000)
    XCTAssertEqual(Self.counts(try Self.parse(try serve.metrics(), openMetrics: true), "fds_latency_seconds", label: "fd").count, 10)
    let deadline = Date().addingTimeInterval(30)
    var text = try serve.metrics()
    while text.contains("fds_latency_seconds_count") && Date() < deadline {
      usleep(250_000)
      text = try serve.metrics()
    }
    XCTAssertFalse(text.contains("fds_latency_seconds_count"), text)
    XCTAssertTrue(text.contains("fds_calls_counted_total 10"), text)
  }

  /// 10,000 scrapes on one connection: the last parses like the first, and says the same.
  func testTenThousandScrapesKeepTheExpositionValid() throws {
    let workload = try Workload("bpf-mix", "20")
    let serve = try ServeRun(["-p", String(workload.pid)])
    defer { serve.stop() }
    let issued = try XCTUnwrap(workload.finish()["counts"] as? [String: Int])
    usleep(2_500_000)
    let last = try python(
      """
      import http.client, sys
      connection = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
      for i in range(10000):
          connection.request("GET", "/metrics", headers={"Accept": "application/openmetrics-text"})
          response = connection.getresponse()
          body = response.read()
          assert response.status == 200, response.status
      sys.stdout.write(body.decode())
      """, [String(serve.port)])
    XCTAssertEqual(Self.counts(try Self.parse(last, openMetrics: true), "bpfsyscalldist_latency_seconds", label: "cmd"), issued)
  }

  /// Profiles named "lat-a" and "lat_a" would both write lat_a_... families, which no parser
  /// accepts: refused at start, in one line, before anything attaches.
  func testProfilesWhoseMetricNamesClashAreRefused() throws {
    let dashed = try temporaryProfile("version: 1\nname: lat-a\nprobe: {syscall: close}\n")
    let underscored = try temporaryProfile("version: 1\nname: lat_a\nprobe: {syscall: getppid}\n")
    let run = try ToolRun.complete(["serve", "--profile", dashed, "--profile", underscored, "--listen", "127.0.0.1:0"])
    XCTAssertEqual(run.status, 2, run.stderr)
    XCTAssertTrue(run.stderr.contains("two profiles would both be 'lat_a' in the metrics"), run.stderr)
    XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
  }
}

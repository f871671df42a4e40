import Foundation
import XCTest

/// A real Prometheus (Debian's, on loopback, scraping every second) scrapes `serve` while
/// workloads of known truth run; its HTTP API then says what it stored.
final class PrometheusTests: XCTestCase {
  /// Prometheus scraping `target` every `interval`, until the returned run is stopped.
  func startPrometheus(scraping target: Int, interval: String = "1s", features: [String] = []) throws -> (run: ToolRun, api: String) {
    let directory = Scratch.directory.appending(path: "prometheus-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try """
      global: {scrape_interval: \(interval), evaluation_interval: 1s}
      scrape_configs:
        - job_name: bpfsyscalldist
          static_configs: [{targets: ["127.0.0.1:\(target)"]}]
      """.write(toFile: directory + "/prometheus.yml", atomically: true, encoding: .utf8)
    let port = try freeLoopbackPort()
    let run = try ToolRun(
      [
        "--config.file=\(directory)/prometheus.yml", "--storage.tsdb.path=\(directory)/data",
        "--web.listen-address=127.0.0.1:\(port)",
      ] + features.map { "--enable-feature=" + $0 }, executable: "/usr/bin/prometheus")
    let api = "http://127.0.0.1:\(port)"
    let deadline = Date().addingTimeInterval(60)
    while Date() < deadline {
      if (try? ToolRun.complete(["-sf", api + "/-/ready"], executable: "/usr/bin/curl").status) == 0 { return (run, api) }
      usleep(200_000)
    }
    XCTFail("Prometheus did not get ready: \(run.stderr.suffix(2000))")
    return (run, api)
  }

  /// An instant query's results: labels (without __name__) and value, per series.
  func query(_ api: String, _ promql: String) throws -> [(labels: [String: String], value: Double)] {
    let answer = try ToolRun.complete(
      ["-sf", "--data-urlencode", "query=\(promql)", api + "/api/v1/query"], executable: "/usr/bin/curl")
    let json = try JSONSerialization.jsonObject(with: Data(answer.stdout.utf8)) as? [String: Any]
    let results = (json?["data"] as? [String: Any])?["result"] as? [[String: Any]] ?? []
    return results.map { result in
      var labels = result["metric"] as? [String: String] ?? [:]
      labels["__name__"] = nil
      let value = (result["value"] as? [Any])?.last as? String
      return (labels, Double(value ?? "") ?? .nan)
    }
  }

  /// Polls `promql` until `done` holds of its results (Prometheus scrapes every second).
  func eventually(
    _ api: String, _ promql: String, file: StaticString = #filePath, line: UInt = #line,
    _ done: ([(labels: [String: String], value: Double)]) -> Bool
  ) throws -> [(labels: [String: String], value: Double)] {
    let deadline = Date().addingTimeInterval(60)
    var results = try query(api, promql)
    while !done(results) && Date() < deadline {
      usleep(500_000)
      results = try query(api, promql)
    }
    XCTAssertTrue(done(results), "\(promql): \(results)", file: file, line: line)
    return results
  }

  /// Exact counts per bpf() command as Prometheus stored them, no counter reset; for sleeps of
  /// 30 ms, histogram_quantile(0.5 and 0.99) within a bucket's width of what the workload measured.
  func testPrometheusStoresExactCountsAndTrueQuantiles() throws {
    let commands = try Workload("bpf-mix", "50")
    let sleeps = try Workload("timed-sleep", "30", "200")
    let profile = try temporaryProfile("version: 1\nname: sleeps\nprobe: {syscall: clock_nanosleep}\n")
    let config = Scratch.directory.appending(path: "serve-\(UUID().uuidString).yaml").path
    try """
      profiles:
        - profile: bpfsyscalldist
          pid: \(commands.pid)
        - profile: \(profile)
          pid: \(sleeps.pid)
      """.write(toFile: config, atomically: true, encoding: .utf8)
    let serve = try ServeRun(["--config", config])
    defer { serve.stop() }
    let prometheus = try startPrometheus(scraping: serve.port)
    defer { prometheus.run.stop(with: SIGTERM) }
    _ = try eventually(prometheus.api, "up") { $0.first?.value == 1 }
    let issued = try XCTUnwrap(commands.finish()["counts"] as? [String: Int])
    let measured = try XCTUnwrap(sleeps.finish()["measured_ns"] as? [String: Int])
    let counts = try eventually(prometheus.api, "bpfsyscalldist_latency_seconds_count") { results in
      Dictionary(results.map { ($0.labels["cmd"] ?? "?", Int($0.value)) }, uniquingKeysWith: +) == issued
    }
    XCTAssertEqual(counts.count, issued.count)
    XCTAssertEqual(try query(prometheus.api, "sum(resets(bpfsyscalldist_latency_seconds_count[10m]))").first?.value, 0)
    _ = try eventually(prometheus.api, "sleeps_latency_seconds_count") { $0.first?.value == 300 }
    for (q, truth) in [(0.5, "p50"), (0.99, "p99")] {
      let estimate = try XCTUnwrap(try query(prometheus.api, "histogram_quantile(\(q), sleeps_latency_seconds_bucket)").first?.value)
      let real = Double(try XCTUnwrap(measured[truth])) / 1e9
      // log2 buckets in us: the one holding `real` is [2^k, 2^(k+1)) us, as wide as its low end
      let width = pow(2, floor(log2(real * 1e6))) / 1e6
      XCTAssertLessThanOrEqual(abs(estimate - real), width, "\(truth): Prometheus \(estimate) s, measured \(real) s")
    }
    try assertTheDashboardsQueriesAnswer(prometheus.api)
  }

  /// A range query's values, oldest first, of its one series.
  func rangeQuery(_ api: String, _ promql: String, seconds: Int, step: String) throws -> [Double] {
    let end = Date().timeIntervalSince1970
    let answer = try ToolRun.complete(
      [
        "-sf", "--data-urlencode", "query=\(promql)", "--data-urlencode", "start=\(end - Double(seconds))",
        "--data-urlencode", "end=\(end)", "--data-urlencode", "step=\(step)", api + "/api/v1/query_range",
      ], executable: "/usr/bin/curl")
    let json = try JSONSerialization.jsonObject(with: Data(answer.stdout.utf8)) as? [String: Any]
    let results = (json?["data"] as? [String: Any])?["result"] as? [[String: Any]] ?? []
    XCTAssertEqual(results.count, 1, "\(promql): \(answer.stdout.prefix(500))")
    return (results.first?["values"] as? [[Any]] ?? []).compactMap { ($0.last as? String).flatMap(Double.init) }
  }

  /// serve with exponential buckets, scraped as native histograms (Prometheus asks for the
  /// protobuf exposition with the feature on) every 250 ms (not the 1 s of the other test: a
  /// hundred scrapes then take 25 s, not 100): one series per key, histogram_count
  /// exact, histogram_sum what serve itself says, histogram_quantile within one schema-3 bucket
  /// (9%) of the workload's own clocks, and no reset over 100 scrapes and a SIGHUP.
  func testNativeHistogramsAreExactInPrometheus() throws {
    let sleeps = try Workload("timed-sleep", "30", "200")
    let profile = try temporaryProfile(
      "version: 1\nname: sleeps\nprobe: {syscall: clock_nanosleep}\nhistogram: {buckets: exponential, schema: 3}\n")
    let config = Scratch.directory.appending(path: "serve-\(UUID().uuidString).yaml").path
    try "profiles:\n  - profile: \(profile)\n    pid: \(sleeps.pid)\n".write(toFile: config, atomically: true, encoding: .utf8)
    let serve = try ServeRun(["--config", config])
    defer { serve.stop() }
    let prometheus = try startPrometheus(scraping: serve.port, interval: "250ms", features: ["native-histograms"])
    defer { prometheus.run.stop(with: SIGTERM) }
    _ = try eventually(prometheus.api, "up") { $0.first?.value == 1 }
    let measured = try XCTUnwrap(sleeps.finish()["measured_ns"] as? [String: Int])
    XCTAssertEqual(kill(serve.tool.pid, SIGHUP), 0)
    _ = try eventually(prometheus.api, "histogram_count(sleeps_latency_seconds)") { $0.first?.value == 300 }
    XCTAssertEqual(try query(prometheus.api, "count({__name__=~\"sleeps_latency_seconds.*\"})").first?.value, 1, "one series, no _bucket")
    let page = try serve.metrics()
    let sumLine = try XCTUnwrap(page.split(separator: "\n").first { $0.hasPrefix("sleeps_latency_seconds_sum{") })
    let sum = try XCTUnwrap(Double(sumLine.split(separator: " ").last ?? ""))
    XCTAssertEqual(try query(prometheus.api, "histogram_sum(sleeps_latency_seconds)").first?.value, sum, "what serve says, exactly")
    XCTAssertGreaterThanOrEqual(sum, 200 * 0.030, "200 sleeps of 30 ms")
    for (q, truth) in [(0.5, "p50"), (0.99, "p99")] {
      let estimate = try XCTUnwrap(try query(prometheus.api, "histogram_quantile(\(q), sleeps_latency_seconds)").first?.value)
      let real = Double(try XCTUnwrap(measured[truth])) / 1e9
      XCTAssertLessThanOrEqual(abs(estimate - real) / real, pow(2, 1.0 / 8) - 1, "\(truth): Prometheus \(estimate) s, measured \(real) s")
    }
    // 110 scrapes (up has a sample for each), the series in 100 or more of them (it appears
    // with the first sleep); read back at each scrape's step: never lower than the one before
    _ = try eventually(prometheus.api, "count_over_time(up[2m])") { ($0.first?.value ?? 0) >= 110 }
    let counts = try rangeQuery(prometheus.api, "histogram_count(sleeps_latency_seconds)", seconds: 120, step: "250ms")
    XCTAssertGreaterThanOrEqual(counts.count, 100)
    XCTAssertEqual(zip(counts, counts.dropFirst()).filter { $1 < $0 }.count, 0, "a reset among \(counts)")
    XCTAssertTrue(serve.tool.stderr.contains("1 kept with their counts"), serve.tool.stderr)
  }

  /// Every query of contrib/grafana-dashboard.json, for the profile bpfsyscalldist, answers with
  /// data from what Prometheus scraped: the dashboard reads metrics `serve` really exports.
  func assertTheDashboardsQueriesAnswer(_ api: String) throws {
    let file = Products.packageRoot.appending(path: "contrib/grafana-dashboard.json")
    let dashboard = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any]
    let panels = try XCTUnwrap(dashboard?["panels"] as? [[String: Any]])
    let queries = panels.flatMap { ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String } }
    XCTAssertGreaterThanOrEqual(queries.count, 5)
    for query in queries {
      let promql = query.replacing("${profile}", with: "bpfsyscalldist").replacing("$__rate_interval", with: "30s")
      XCTAssertFalse(try self.query(api, promql).isEmpty, promql)
    }
  }
}

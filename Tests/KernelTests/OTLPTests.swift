import Foundation
import XCTest

/// serve's OTLP push, received by a server that decodes with the official opentelemetry-proto
/// package (the test venv `make setup` makes): each point's counts are the workload's, the
/// OpenTelemetry variables are honoured, and a receiver down for 30 s costs nothing but its
/// points: no crash, no growth, and the next point cumulative and right.
final class OTLPTests: XCTestCase {
  static let receiver = """
    import http.server, json, sys
    from google.protobuf.json_format import MessageToDict
    from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2 as service
    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            request = service.ExportMetricsServiceRequest()
            request.ParseFromString(self.rfile.read(int(self.headers["Content-Length"])))
            print(json.dumps({"path": self.path, "type": self.headers.get("Content-Type"),
                "authorization": self.headers.get("Authorization"),
                "request": MessageToDict(request, preserving_proto_field_name=True)}), flush=True)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.end_headers()
            self.wfile.write(service.ExportMetricsServiceResponse().SerializeToString())
        def log_message(self, *args):
            pass
    http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Receiver).serve_forever()
    """

  static let venvPython = Products.packageRoot.appending(path: ".build-tests/venv/bin/python3").path

  func startReceiver(port: Int) throws -> ToolRun {
    XCTAssertTrue(FileManager.default.isExecutableFile(atPath: Self.venvPython), "no \(Self.venvPython): make setup makes it")
    return try ToolRun(["-c", Self.receiver, String(port)], executable: Self.venvPython)
  }

  /// The latency point of the last export the receiver decoded, with the export itself.
  func lastPoint(_ receiver: ToolRun, kind: String = "exponential_histogram") -> (point: [String: Any], export: [String: Any])? {
    for line in receiver.stdout.split(separator: "\n").reversed() {
      guard let export = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
      let metrics = ((((export["request"] as? [String: Any])?["resource_metrics"] as? [[String: Any]])?.first?["scope_metrics"]
        as? [[String: Any]])?.first?["metrics"] as? [[String: Any]]) ?? []
      let latency = metrics.first { $0["name"] as? String == "sleeps.latency" }
      if let point = ((latency?[kind] as? [String: Any])?["data_points"] as? [[String: Any]])?.first {
        return (point, export)
      }
    }
    return nil
  }

  func waitForCount(_ receiver: ToolRun, _ count: Int, kind: String = "exponential_histogram") -> (point: [String: Any], export: [String: Any])? {
    let deadline = Date().addingTimeInterval(60)
    while Date() < deadline {
      if let found = lastPoint(receiver, kind: kind), Int(found.point["count"] as? String ?? "") == count { return found }
      usleep(200_000)
    }
    XCTFail("no \(kind) point of count \(count): \(lastPoint(receiver, kind: kind)?.point ?? [:])")
    return nil
  }

  func rss(_ pid: Int32) -> Int {
    let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
    return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
  }

  func testPushedPointsAreTheWorkloadsAndSurviveAReceiverOutage() throws {
    let port = try freeLoopbackPort()
    var receiver = try startReceiver(port: port)
    let profile = try temporaryProfile(
      "version: 1\nname: sleeps\nprobe: {syscall: clock_nanosleep}\nhistogram: {buckets: exponential, schema: 3}\n")
    var environment = ProcessInfo.processInfo.environment
    environment["OTEL_RESOURCE_ATTRIBUTES"] = "team=perf%20eng,deployment.environment=test"
    environment["OTEL_SERVICE_NAME"] = "sd-test"
    environment["OTEL_EXPORTER_OTLP_HEADERS"] = "Authorization=Bearer%20t0ken"
    let serve = try ServeRun(
      ["--profile", profile, "--comm", "sd-otlp", "--otlp-endpoint", "http://127.0.0.1:\(port)/v1/metrics", "--otlp-interval", "200ms"],
      environment: environment)
    defer { serve.stop() }
    let first = try Workload("sleep", "2", "40", comm: "sd-otlp")
    let measured = try XCTUnwrap(first.finish()["measured_ns"] as? [Int])
    let (point, export) = try XCTUnwrap(waitForCount(receiver, 40))
    XCTAssertEqual(export["path"] as? String, "/v1/metrics")
    XCTAssertEqual(export["type"] as? String, "application/x-protobuf")
    XCTAssertEqual(export["authorization"] as? String, "Bearer t0ken")
    let resource = (((export["request"] as? [String: Any])?["resource_metrics"] as? [[String: Any]])?.first?["resource"] as? [String: Any])?["attributes"] as? [[String: Any]] ?? []
    let attributes = Dictionary(resource.map { ($0["key"] as? String ?? "", ($0["value"] as? [String: Any])?["string_value"] as? String ?? "") }) { $1 }
    XCTAssertEqual(attributes["service.name"], "sd-test")
    XCTAssertEqual(attributes["team"], "perf eng")
    XCTAssertEqual(attributes["deployment.environment"], "test")
    XCTAssertEqual(attributes["host.name"], ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "")
    // 40 sleeps of 2 ms: every bucket at or above 2 ms, the counts adding up, min and max and
    // sum between what was asked and what the workload measured
    XCTAssertEqual(point["scale"] as? Int, 3)
    let positive = try XCTUnwrap(point["positive"] as? [String: Any])
    let offset = positive["offset"] as? Int ?? 0
    let counts = (positive["bucket_counts"] as? [String] ?? []).compactMap { Int($0) }
    XCTAssertEqual(counts.reduce(0, +) + Int(point["zero_count"] as? String ?? "0")!, 40)
    XCTAssertGreaterThanOrEqual(pow(2, Double(offset + 1) / 8), 0.002, "the first bucket's upper bound")
    let (minimum, maximum, sum) = (try XCTUnwrap(point["min"] as? Double), try XCTUnwrap(point["max"] as? Double), try XCTUnwrap(point["sum"] as? Double))
    XCTAssertGreaterThanOrEqual(minimum, 0.002)
    XCTAssertLessThanOrEqual(maximum, Double(measured.max()!) / 1e9)
    XCTAssertTrue(40 * 0.002 <= sum && sum <= Double(measured.reduce(0, +)) / 1e9, "sum \(sum)")
    XCTAssertLessThanOrEqual(pow(2, Double(offset + counts.count - 1) / 8), maximum, "the last bucket's lower bound")
    // the receiver down for 30 s, 20 more sleeps meanwhile; then up again on the same port
    XCTAssertEqual(receiver.stop(with: SIGTERM), SIGTERM)
    let before = rss(serve.tool.pid)
    let second = try Workload("sleep", "2", "20", comm: "sd-otlp")
    _ = try second.finish()
    sleep(30)
    let after = rss(serve.tool.pid)
    XCTAssertLessThan(after - before, 4 << 10, "RSS \(before) KiB then \(after) KiB over the outage")
    receiver = try startReceiver(port: port)
    defer { receiver.stop(with: SIGTERM) }
    let (recovered, recoveredExport) = try XCTUnwrap(waitForCount(receiver, 60))
    XCTAssertGreaterThanOrEqual(Int(recovered["start_time_unix_nano"] as? String ?? "") ?? 0, Int(point["start_time_unix_nano"] as? String ?? "") ?? -1)
    XCTAssertEqual(recovered["start_time_unix_nano"] as? String, point["start_time_unix_nano"] as? String, "the same start: cumulative")
    let metrics = ((((recoveredExport["request"] as? [String: Any])?["resource_metrics"] as? [[String: Any]])?.first?["scope_metrics"] as? [[String: Any]])?.first?["metrics"] as? [[String: Any]]) ?? []
    let exports = ((metrics.first { $0["name"] as? String == "bpfsyscalldist.otlp.exports" }?["sum"] as? [String: Any])?["data_points"] as? [[String: Any]]) ?? []
    let failed = exports.first { (($0["attributes"] as? [[String: Any]])?.first?["value"] as? [String: Any])?["string_value"] as? String == "failed" }
    XCTAssertGreaterThan(Int(failed?["as_int"] as? String ?? "") ?? 0, 0, "the failed pushes are counted: \(exports)")
    XCTAssertTrue(try serve.metrics().contains(#"bpfsyscalldist_otlp_exports_total{result="failed"}"#))
    XCTAssertTrue(serve.tool.stderr.contains("works again"), serve.tool.stderr)
  }

  /// A receiver that takes the connection and never answers: each push ends at the timeout,
  /// counted as failed, while serve goes on answering scrapes; SIGTERM still ends it cleanly.
  func testASilentReceiverCostsOnlyTheTimeout() throws {
    let port = try freeLoopbackPort()
    let silent = try ToolRun(
      ["-c", "import socket, sys, time\ns = socket.socket()\ns.bind(('127.0.0.1', int(sys.argv[1])))\ns.listen(64)\n"
        + "held = []\nwhile True:\n    c, _ = s.accept()\n    held.append(c)\n", String(port)], executable: "/usr/bin/python3")
    defer { silent.stop(with: SIGTERM) }
    let profile = try temporaryProfile("version: 1\nname: sleeps\nprobe: {syscall: clock_nanosleep}\nhistogram: {buckets: exponential}\n")
    var environment = ProcessInfo.processInfo.environment
    environment["OTEL_EXPORTER_OTLP_TIMEOUT"] = "300"
    let serve = try ServeRun(
      ["--profile", profile, "--comm", "sd-otlp", "--otlp-endpoint", "http://127.0.0.1:\(port)/v1/metrics", "--otlp-interval", "200ms"],
      environment: environment)
    let deadline = Date().addingTimeInterval(60)
    var page = ""
    repeat {
      usleep(300_000)
      page = try serve.metrics()
    } while !page.contains(#"bpfsyscalldist_otlp_exports_total{result="failed"} 2"#) && Date() < deadline
    XCTAssertTrue(page.contains(#"bpfsyscalldist_otlp_exports_total{result="sent"} 0"#), page)
    XCTAssertTrue(serve.tool.stderr.contains("no answer in time"), serve.tool.stderr)
    XCTAssertEqual(serve.stop(), 0, serve.tool.stderr)
  }

  /// A log2 profile goes as explicit buckets, read by opentelemetry-proto: each bound a bucket's
  /// last ns (2^(i+1) us less 1 ns), the counts the workload's, no 2 ms sleep in a bucket that
  /// ends before 2 ms, none in one that starts past the longest the workload measured.
  func testALog2ProfileIsPushedAsExplicitBuckets() throws {
    let port = try freeLoopbackPort()
    let receiver = try startReceiver(port: port)
    defer { receiver.stop(with: SIGTERM) }
    let profile = try temporaryProfile("version: 1\nname: sleeps\nprobe: {syscall: clock_nanosleep}\nhistogram: {buckets: log2, unit: us}\n")
    let serve = try ServeRun(
      ["--profile", profile, "--comm", "sd-otlp", "--otlp-endpoint", "http://127.0.0.1:\(port)/v1/metrics", "--otlp-interval", "200ms"])
    defer { serve.stop() }
    let measured = try XCTUnwrap(try Workload("sleep", "2", "30", comm: "sd-otlp").finish()["measured_ns"] as? [Int])
    let (point, _) = try XCTUnwrap(waitForCount(receiver, 30, kind: "histogram"))
    let bounds = point["explicit_bounds"] as? [Double] ?? []
    let counts = (point["bucket_counts"] as? [String] ?? []).compactMap { Int($0) }
    XCTAssertEqual(counts.count, bounds.count + 1, "\(point)")
    XCTAssertEqual(counts.reduce(0, +), 30)
    XCTAssertGreaterThan(bounds.count, 20)
    for (slot, bound) in bounds.prefix(20).enumerated() {
      XCTAssertEqual(bound, Double((1 << (slot + 1)) * 1000 - 1) / 1e9, "slot \(slot)")
    }
    let (first, last) = (try XCTUnwrap(counts.firstIndex { $0 > 0 }), try XCTUnwrap(counts.lastIndex { $0 > 0 }))
    XCTAssertGreaterThanOrEqual(bounds[first], 0.002)
    XCTAssertLessThan(bounds[last - 1], Double(measured.max()!) / 1e9)
  }

  func testBadOTLPSettingsAreOneLine() throws {
    for (arguments, environment, said) in [
      (["--otlp-endpoint", "https://collector:4318"], [:], "--otlp-endpoint https://collector:4318: expected http://HOST[:PORT][/PATH]"),
      (["--otlp-endpoint", "http://127.0.0.1:4318"], ["OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"], "OTEL_EXPORTER_OTLP_PROTOCOL=grpc: serve pushes OTLP over HTTP as protobuf only"),
      (["--otlp-endpoint", "http://127.0.0.1:4318", "--buckets", "exponential"], ["OTEL_EXPORTER_OTLP_HEADERS": "novalue"], "OTEL_EXPORTER_OTLP_HEADERS: 'novalue' is not KEY=VALUE"),
    ] as [([String], [String: String], String)] {
      let run = try ToolRun.complete(
        ["serve", "--listen", "127.0.0.1:0"] + arguments, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 })
      XCTAssertNotEqual(run.status, 0, run.stderr)
      XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
      XCTAssertTrue(run.stderr.contains(said), "\(arguments): \(run.stderr)")
    }
  }
}

import OTLPMetrics
import XCTest

/// The OpenTelemetry variables as the SDKs read them: the flag over the metrics variable over
/// the general one (with /v1/metrics under it), percent-decoded lists, and one clear refusal.
final class OTLPConfigTests: XCTestCase {
  func config(_ flag: String? = nil, _ environment: [String: String] = [:]) throws -> OTLPConfig {
    try OTLPConfig(endpoint: flag, intervalMilliseconds: nil, environment: environment, hostName: "node-1")
  }

  func testEndpointsComeFromTheFlagThenTheVariables() throws {
    let general = ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"]
    XCTAssertEqual(try config(nil, general).path, "/v1/metrics")
    XCTAssertEqual(try config(nil, general).host, "collector")
    XCTAssertEqual(try config(nil, ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/otlp/"]).path, "/otlp/v1/metrics")
    let metrics = general.merging(["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://[::1]:9999/custom"]) { $1 }
    XCTAssertEqual(try config(nil, metrics).host, "::1")
    XCTAssertEqual(try config(nil, metrics).port, 9999)
    XCTAssertEqual(try config(nil, metrics).path, "/custom", "a signal's own endpoint is used as it is")
    XCTAssertEqual(try config("http://127.0.0.1:4000/v1/metrics", metrics).port, 4000)
    let fallback = try config()
    XCTAssertEqual([fallback.host, String(fallback.port), fallback.path], ["localhost", "4318", "/v1/metrics"])
    XCTAssertEqual(fallback.intervalMilliseconds, 60_000)
    XCTAssertEqual(fallback.timeoutMilliseconds, 10_000)
  }

  func testListsArePercentDecodedAndTheServiceNameWins() throws {
    let environment = [
      "OTEL_EXPORTER_OTLP_HEADERS": "api-key=a%3Db,x-team=perf%20eng", "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT": "2500",
      "OTEL_RESOURCE_ATTRIBUTES": "service.name=ignored,host.name=override, zone = eu-1", "OTEL_SERVICE_NAME": "sd",
      "OTEL_METRIC_EXPORT_INTERVAL": "1500",
    ]
    let parsed = try config(nil, environment)
    XCTAssertEqual(parsed.headers.map { [$0.key, $0.value] }, [["api-key", "a=b"], ["x-team", "perf eng"]])
    XCTAssertEqual(parsed.timeoutMilliseconds, 2500)
    XCTAssertEqual(parsed.intervalMilliseconds, 1500)
    XCTAssertEqual(parsed.resource.map { [$0.key, $0.value] }, [["service.name", "sd"], ["host.name", "override"], ["zone", "eu-1"]])
  }

  func testWhatCannotBePushedIsOneLine() {
    for (flag, environment, said) in [
      ("https://c:4318", [:], "--otlp-endpoint https://c:4318: expected http://HOST[:PORT][/PATH]"),
      ("http://c:99999", [:], "--otlp-endpoint http://c:99999: expected http://HOST[:PORT][/PATH]"),
      (nil, ["OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"], "OTEL_EXPORTER_OTLP_ENDPOINT collector:4318: expected"),
      (nil, ["OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "grpc"], "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL=grpc: serve pushes OTLP over HTTP as protobuf only"),
      (nil, ["OTEL_EXPORTER_OTLP_TIMEOUT": "soon"], "OTEL_EXPORTER_OTLP_TIMEOUT=soon: expected a whole number of milliseconds"),
      (nil, ["OTEL_RESOURCE_ATTRIBUTES": "a=%zz"], "OTEL_RESOURCE_ATTRIBUTES: 'a=%zz' is not KEY=VALUE"),
    ] as [(String?, [String: String], String)] {
      XCTAssertThrowsError(try config(flag, environment)) { error in
        XCTAssertTrue("\(error)".hasPrefix(said), "\(error)")
      }
    }
  }
}

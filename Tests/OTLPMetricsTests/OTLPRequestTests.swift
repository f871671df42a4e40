import Histograms
import OTLPMetrics
import Snapshots
import SwiftProtobuf
import XCTest

/// An export read back, valued by hand: OpenTelemetry's bucket index i holds (2^(i/8), 2^((i+1)/8)]
/// s at scale 3, Prometheus' key i + 1.
final class OTLPRequestTests: XCTestCase {
  func testAPointIsTheSeriesExactlyWithDenseBucketsFromItsOffset() throws {
    // 30 ms x 2 in Prometheus key -40 (OpenTelemetry index -41), 40 ms in key -37 (index -38),
    // one 0 ns call; keys -39 and -38 hold nothing, and are zeros in the dense counts
    var histogram = Histogram(
      layout: .exponential(schema: 3), sumNanoseconds: 100_000_000, minNanoseconds: 0, maxNanoseconds: 40_000_000)
    for value: UInt64 in [30_000_000, 30_000_000, 40_000_000, 0] { histogram.record(value) }
    var series = Series(rawKey: nil, keyName: "clock_nanosleep", title: "t", histogram: histogram)
    series.failures = [(name: "EINTR", count: 2)]
    let snapshot = Snapshot(
      profileName: "sleeps", keyLabel: "syscall", unit: .us, layout: .exponential(schema: 3), series: [series],
      accounting: Accounting(counted: 4), timestamp: 20, since: 10)
    var outcomes = OTLPRequest.Outcomes()
    outcomes.failed = 3
    let bytes = OTLPRequest.encode(
      [OTLPRequest.Profile(snapshot: snapshot, starts: [10.5])], resource: [("service.name", "s")], version: "v", now: 20,
      since: 10, outcomes: outcomes)
    let request = try Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest(serializedBytes: bytes)
    let metrics = try XCTUnwrap(request.resourceMetrics.first?.scopeMetrics.first?.metrics)
    XCTAssertEqual(metrics.map(\.name), ["sleeps.latency", "sleeps.errors", "bpfsyscalldist.otlp.exports"])
    XCTAssertEqual(metrics[0].unit, "s")
    let histogramData = metrics[0].exponentialHistogram
    XCTAssertEqual(histogramData.aggregationTemporality, .cumulative)
    let point = try XCTUnwrap(histogramData.dataPoints.first)
    XCTAssertEqual(point.attributes.map { [$0.key, $0.value.stringValue] }, [["syscall", "clock_nanosleep"]])
    XCTAssertEqual(point.startTimeUnixNano, 10_500_000_000)
    XCTAssertEqual(point.timeUnixNano, 20_000_000_000)
    XCTAssertEqual(point.count, 4)
    XCTAssertEqual(point.scale, 3)
    XCTAssertEqual(point.zeroCount, 1)
    XCTAssertEqual(point.positive.offset, -41)
    XCTAssertEqual(point.positive.bucketCounts, [2, 0, 0, 1])
    XCTAssertEqual(point.sum, 0.1)
    XCTAssertEqual(point.min, 0)
    XCTAssertEqual(point.max, 0.04)
    let errors = try XCTUnwrap(metrics[1].sum.dataPoints.first)
    XCTAssertTrue(metrics[1].sum.isMonotonic)
    XCTAssertEqual(errors.asInt, 2)
    XCTAssertEqual(errors.attributes.map(\.key), ["syscall", "errno"])
    let failed = metrics[2].sum.dataPoints.first { $0.attributes.first?.value.stringValue == "failed" }
    XCTAssertEqual(failed?.asInt, 3)
    XCTAssertEqual(request.resourceMetrics.first?.resource.attributes.first?.value.stringValue, "s")
  }

  /// log2 in us: slot 0 holds 0-1 us, slot i 2^i to 2^(i+1)-1 us; each bound is the slot's last
  /// ns, so that OpenTelemetry's (previous, bound] holds exactly its whole ns.
  func testAUnitLayoutIsSentAsExplicitBucketsBoundedByEachSlotsLastNanosecond() throws {
    var histogram = Histogram(layout: .log2, sumNanoseconds: 11_000, minNanoseconds: 3_000, maxNanoseconds: 5_000)
    for value: UInt64 in [3, 3, 5] { histogram.record(value) }  // us: slots 1, 1, 2
    let series = Series(rawKey: nil, keyName: "getppid", title: "t", histogram: histogram)
    let snapshot = Snapshot(
      profileName: "calls", keyLabel: "syscall", unit: .us, layout: .log2, series: [series], accounting: Accounting(counted: 3),
      timestamp: 20, since: 10)
    let bytes = OTLPRequest.encode(
      [OTLPRequest.Profile(snapshot: snapshot, starts: [10])], resource: [], version: "v", now: 20, since: 10,
      outcomes: OTLPRequest.Outcomes())
    let request = try Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest(serializedBytes: bytes)
    let latency = try XCTUnwrap(request.resourceMetrics.first?.scopeMetrics.first?.metrics.first)
    XCTAssertEqual(latency.name, "calls.latency")
    XCTAssertEqual(latency.histogram.aggregationTemporality, .cumulative)
    let point = try XCTUnwrap(latency.histogram.dataPoints.first)
    XCTAssertEqual(point.count, 3)
    XCTAssertEqual(Array(point.explicitBounds.prefix(3)), [1.999e-6, 3.999e-6, 7.999e-6])
    XCTAssertEqual(Array(point.bucketCounts.prefix(4)), [0, 2, 1, 0])
    XCTAssertEqual(point.bucketCounts.count, point.explicitBounds.count + 1, "one count past the last bound")
    XCTAssertEqual(point.bucketCounts.reduce(0, +), 3)
    XCTAssertEqual(point.sum, 11e-6)
    XCTAssertEqual(point.min, 3e-6)
    XCTAssertEqual(point.max, 5e-6)
  }

  /// Linear from 0 in us, steps of 5: no value lands below 0, so no bucket or bound for it;
  /// 0-4 us end at 4,999 ns, 5-9 us at 9,999 ns, 10 us and up above every bound.
  func testALinearLayoutFromZeroHasNoBucketBelowIt() throws {
    let layout = BucketLayout.linear(min: 0, max: 10, step: 5)
    var histogram = Histogram(layout: layout, sumNanoseconds: 19_000, minNanoseconds: 1_000, maxNanoseconds: 12_000)
    for value: UInt64 in [1, 6, 12] { histogram.record(value) }
    let snapshot = Snapshot(
      profileName: "calls", keyLabel: "syscall", unit: .us, layout: layout,
      series: [Series(rawKey: nil, keyName: "getppid", title: "t", histogram: histogram)], accounting: Accounting(counted: 3),
      timestamp: 20, since: 10)
    let empty = Snapshot(
      profileName: "idle", keyLabel: "syscall", unit: .us, layout: layout, series: [], accounting: Accounting(counted: 0),
      timestamp: 20, since: 10)
    let bytes = OTLPRequest.encode(
      [OTLPRequest.Profile(snapshot: snapshot, starts: [10]), OTLPRequest.Profile(snapshot: empty, starts: [])], resource: [],
      version: "v", now: 20, since: 10, outcomes: OTLPRequest.Outcomes())
    let metrics = try XCTUnwrap(
      try Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest(serializedBytes: bytes).resourceMetrics.first?.scopeMetrics.first?.metrics)
    let point = try XCTUnwrap(metrics.first?.histogram.dataPoints.first)
    XCTAssertEqual(point.explicitBounds, [4.999e-6, 9.999e-6])
    XCTAssertEqual(point.bucketCounts, [1, 1, 1])
    // a profile with no series yet is a histogram all the same: its type never changes
    let idle = try XCTUnwrap(metrics.first { $0.name == "idle.latency" })
    guard case .histogram = idle.data else { return XCTFail("idle.latency is \(String(describing: idle.data))") }
  }
}

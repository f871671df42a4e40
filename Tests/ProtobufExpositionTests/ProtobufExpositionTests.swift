import Foundation
import Histograms
import ProtobufExposition
import Rendering
import Snapshots
import SwiftProtobuf
import XCTest

/// The protobuf page read back with SwiftProtobuf's own delimited reader (Prometheus itself
/// reads it in KernelTests' PrometheusTests): native histograms for exponential layouts,
/// classic ones otherwise, counters named with `_total`, labels as they were.
final class ProtobufExpositionTests: XCTestCase {
  func families(_ layout: BucketLayout, values: [UInt64], key: String = "x") -> [MetricFamily] {
    var histogram = Histogram(layout: layout, sumNanoseconds: UInt128(values.reduce(0, +)))
    for value in values { histogram.record(value) }
    var series = Series(rawKey: nil, keyName: key, title: "t", histogram: histogram)
    series.failures = [(name: "ENOENT", count: 3)]
    let snapshot = Snapshot(
      profileName: "p", keyLabel: "key", unit: .us, layout: layout, series: [series], accounting: Accounting(counted: 7),
      timestamp: 1, since: 0)
    let buckets = BucketSet(layout, unit: .us, range: nil)
    return OpenMetricsRenderer().families(snapshot, buckets: buckets) { _ in 0 }
  }

  /// Each message after its varint length (`encoding=delimited`).
  func decode(_ bytes: [UInt8]) throws -> [Io_Prometheus_Client_MetricFamily] {
    var out: [Io_Prometheus_Client_MetricFamily] = []
    var index = 0
    while index < bytes.count {
      var (length, shift) = (0, 0)
      repeat {
        length |= Int(bytes[index] & 0x7f) << shift
        shift += 7
        index += 1
      } while bytes[index - 1] & 0x80 != 0
      XCTAssertLessThanOrEqual(index + length, bytes.count, "a message past the end")
      out.append(try Io_Prometheus_Client_MetricFamily(serializedBytes: Array(bytes[index..<index + length])))
      index += length
    }
    return out
  }

  /// 30 ms x 3 and 31.25 ms in bucket -40 of schema 3, 40 ms x 2 in -37, one of 0 ns: spans
  /// [-40, 1] and [gap 2, 1], deltas 4 then -2, zero count 1.
  func testExponentialLayoutsAreNativeHistograms() throws {
    let values: [UInt64] = [30_000_000, 30_000_000, 30_000_000, 31_250_000, 40_000_000, 40_000_000, 0]
    let decoded = try decode(ProtobufExposition.render(families(.exponential(schema: 3), values: values)))
    let latency = try XCTUnwrap(decoded.first { $0.name == "p_latency_seconds" })
    XCTAssertEqual(latency.type, .histogram)
    XCTAssertEqual(latency.metric.count, 1)
    let metric = latency.metric[0]
    XCTAssertEqual(metric.label.map { [$0.name, $0.value] }, [["key", "x"]])
    let histogram = metric.histogram
    XCTAssertEqual(histogram.schema, 3)
    XCTAssertEqual(histogram.zeroThreshold, 0)
    XCTAssertEqual(histogram.zeroCount, 1)
    XCTAssertEqual(histogram.sampleCount, 7)
    XCTAssertEqual(histogram.sampleSum, 0.20125, accuracy: 1e-12)
    XCTAssertEqual(histogram.positiveSpan.map { [$0.offset, Int32($0.length)] }, [[-40, 1], [2, 1]])
    XCTAssertEqual(histogram.positiveDelta, [4, -2])
    XCTAssertTrue(histogram.bucket.isEmpty, "a native histogram only")
    let errors = try XCTUnwrap(decoded.first { $0.name == "p_errors_total" })
    XCTAssertEqual(errors.type, .counter)
    XCTAssertEqual(errors.metric.first?.counter.value, 3)
    XCTAssertEqual(errors.metric.first?.label.map(\.value), ["x", "ENOENT"])
  }

  /// No count yet: one empty span, which tells a native histogram from a classic one.
  func testAnEmptyNativeHistogramHasTheNoOpSpan() throws {
    let decoded = try decode(ProtobufExposition.render(families(.exponential(schema: 0), values: [])))
    let histogram = try XCTUnwrap(decoded.first { $0.name == "p_latency_seconds" }?.metric.first?.histogram)
    XCTAssertEqual(histogram.positiveSpan.map { [$0.offset, Int32($0.length)] }, [[0, 0]])
    XCTAssertEqual(histogram.sampleCount, 0)
  }

  /// log2 buckets keep their classic `le` buckets, cumulative, without +Inf (the count is it).
  func testOtherLayoutsAreClassicHistograms() throws {
    let decoded = try decode(ProtobufExposition.render(families(.log2, values: [3, 5, 5000])))
    let histogram = try XCTUnwrap(decoded.first { $0.name == "p_latency_seconds" }?.metric.first?.histogram)
    XCTAssertEqual(histogram.schema, 0)
    XCTAssertTrue(histogram.positiveSpan.isEmpty)
    XCTAssertEqual(histogram.bucket.first { $0.upperBound == 4e-06 }?.cumulativeCount, 1)
    XCTAssertEqual(histogram.bucket.first { $0.upperBound == 8e-06 }?.cumulativeCount, 2)
    XCTAssertEqual(histogram.bucket.last?.cumulativeCount, 3)
    XCTAssertFalse(histogram.bucket.contains { $0.upperBound.isInfinite })
  }

  /// A hostile key (quotes, backslashes, a newline, an HTML tag) comes back as it was.
  func testLabelValuesComeBackUnescaped() throws {
    let key = "a\"b\\c\nd<img src=x>"
    let decoded = try decode(ProtobufExposition.render(families(.log2, values: [1], key: key)))
    XCTAssertEqual(decoded.first { $0.name == "p_latency_seconds" }?.metric.first?.label.first?.value, key)
  }

  func testTheAcceptHeaderPicksProtobufByItsQValue() {
    let prometheus = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.8,"
      + "application/openmetrics-text;version=1.0.0;q=0.7,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
    XCTAssertEqual(ExpositionFormat(accept: prometheus), .protobuf)
    XCTAssertEqual(ExpositionFormat(accept: "application/openmetrics-text;version=1.0.0,application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5"), .openMetrics)
    XCTAssertEqual(ExpositionFormat(accept: "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text"), .prometheus)
    XCTAssertEqual(ExpositionFormat(accept: "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0"), .prometheus)
    XCTAssertEqual(ExpositionFormat(accept: "application/vnd.google.protobuf; proto=\"io.prometheus.client.MetricFamily\"; encoding=\"delimited\""), .protobuf)
    XCTAssertEqual(ExpositionFormat(accept: "*/*"), .prometheus)
    XCTAssertEqual(ExpositionFormat(accept: nil), .prometheus)
  }
}

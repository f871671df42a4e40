import Histograms
import Snapshots
import SwiftProtobuf

/// One OTLP export of serve's counts since the start (cumulative temporality): per profile a
/// histogram `PROFILE.latency` in seconds, a data point per series with the kernel's exact
/// count, sum, min and max: exponential for exponential layouts (the zero bucket, 0 ns, and the
/// positive buckets at the profile's schema, OpenTelemetry's scale; its bucket index is
/// Prometheus' key less one), else explicit buckets, each bound a bucket's last ns (so that
/// OpenTelemetry's (previous, bound] holds exactly that bucket's whole ns); and
/// `PROFILE.errors`, a monotonic sum by errno; then the exporter's own counts.
public enum OTLPRequest {
  /// A profile's counts as of `now`, each series' start (seconds since the epoch) beside it.
  public struct Profile: Sendable {
    public var snapshot: Snapshot
    public var starts: [Double]

    public init(snapshot: Snapshot, starts: [Double]) {
      self.snapshot = snapshot
      self.starts = starts
    }
  }

  /// What the exporter did since it started: points delivered, refused or unreachable, and
  /// intervals skipped while it backed off.
  public struct Outcomes: Sendable, Equatable {
    public var sent: UInt64 = 0
    public var failed: UInt64 = 0
    public var skipped: UInt64 = 0

    public init() {}
  }

  public static func encode(
    _ profiles: [Profile], resource: [(key: String, value: String)], version: String, now: Double, since: Double,
    outcomes: Outcomes
  ) -> [UInt8] {
    typealias V1 = Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest
    var scope = Opentelemetry_Proto_Collector_Metrics_V1_ScopeMetrics()
    scope.scope.name = "bpfsyscalldist"
    scope.scope.version = version
    for profile in profiles {
      scope.metrics += metrics(profile, now: now)
    }
    scope.metrics.append(exporterMetric(outcomes, now: now, since: since))
    var resourceMetrics = Opentelemetry_Proto_Collector_Metrics_V1_ResourceMetrics()
    resourceMetrics.resource.attributes = resource.map { attribute($0.key, $0.value) }
    resourceMetrics.scopeMetrics = [scope]
    var request = V1()
    request.resourceMetrics = [resourceMetrics]
    // a proto3 message of scalars, repeated fields and messages has nothing that can fail to
    // encode (no required fields, no Any)
    return (try? request.serializedBytes()) ?? []
  }

  static func metrics(_ profile: Profile, now: Double) -> [Opentelemetry_Proto_Collector_Metrics_V1_Metric] {
    let snapshot = profile.snapshot
    var latency = Opentelemetry_Proto_Collector_Metrics_V1_Metric()
    latency.name = snapshot.profileName + ".latency"
    latency.description_p = snapshot.profileDescription
    latency.unit = "s"
    var errors = Opentelemetry_Proto_Collector_Metrics_V1_Metric()
    errors.name = snapshot.profileName + ".errors"
    errors.description_p = "Failed calls traced by profile \(snapshot.profileName), by errno."
    errors.unit = "{call}"
    var histogram = Opentelemetry_Proto_Collector_Metrics_V1_ExponentialHistogram()
    histogram.aggregationTemporality = .cumulative
    var explicit = Opentelemetry_Proto_Collector_Metrics_V1_Histogram()
    explicit.aggregationTemporality = .cumulative
    var sum = Opentelemetry_Proto_Collector_Metrics_V1_Sum()
    (sum.aggregationTemporality, sum.isMonotonic) = (.cumulative, true)
    for (index, series) in snapshot.series.enumerated() {
      var attributes = series.keyLabels(snapshot.keyLabel).map { attribute($0.name, $0.value) }
      if let outcome = series.outcome { attributes.append(attribute("outcome", outcome.name)) }
      let start = profile.starts.indices.contains(index) ? profile.starts[index] : now
      if let scale = series.histogram.layout.exponentialScale {
        histogram.dataPoints.append(exponentialPoint(series.histogram, scale: scale, attributes: attributes, start: start, now: now))
      } else {
        explicit.dataPoints.append(explicitPoint(series.histogram, unit: snapshot.unit, attributes: attributes, start: start, now: now))
      }
      for failure in series.failures {
        var point = Opentelemetry_Proto_Collector_Metrics_V1_NumberDataPoint()
        point.attributes = attributes + [attribute("errno", failure.name)]
        (point.startTimeUnixNano, point.timeUnixNano) = (nanoseconds(start), nanoseconds(now))
        point.asInt = Int64(clamping: failure.count)
        sum.dataPoints.append(point)
      }
    }
    // by the layout, not by the points: a profile with no series yet keeps its metric's type
    if snapshot.layout.exponentialScale != nil { latency.exponentialHistogram = histogram } else { latency.histogram = explicit }
    errors.sum = sum
    return sum.dataPoints.isEmpty ? [latency] : [latency, errors]
  }

  static func exponentialPoint(
    _ histogram: Histogram, scale: ExponentialScale, attributes: [Opentelemetry_Proto_Collector_Metrics_V1_KeyValue],
    start: Double, now: Double
  ) -> Opentelemetry_Proto_Collector_Metrics_V1_ExponentialHistogramDataPoint {
    var point = Opentelemetry_Proto_Collector_Metrics_V1_ExponentialHistogramDataPoint()
    point.attributes = attributes
    (point.startTimeUnixNano, point.timeUnixNano) = (nanoseconds(start), nanoseconds(now))
    point.count = histogram.total
    point.scale = Int32(scale.schema)
    point.zeroCount = histogram.counts[0]
    point.zeroThreshold = 0
    if let sum = histogram.sumNanoseconds { point.sum = Double(sum) / 1e9 }
    if let minimum = histogram.minNanoseconds { point.min = Double(minimum) / 1e9 }
    if let maximum = histogram.maxNanoseconds { point.max = Double(maximum) / 1e9 }
    let occupied = histogram.counts.indices.dropFirst().filter { histogram.counts[$0] > 0 }
    if let first = occupied.first, let last = occupied.last {
      point.positive.offset = Int32(scale.index(ofSlot: first) - 1)
      point.positive.bucketCounts = Array(histogram.counts[first...last])
    }
    return point
  }

  /// A unit layout's counts as explicit buckets: a bound per slot but the last, at the slot's
  /// last ns in seconds (a linear layout from 0 has no slot below it: none for that).
  static func explicitPoint(
    _ histogram: Histogram, unit: TimeUnit, attributes: [Opentelemetry_Proto_Collector_Metrics_V1_KeyValue], start: Double,
    now: Double
  ) -> Opentelemetry_Proto_Collector_Metrics_V1_HistogramDataPoint {
    var point = Opentelemetry_Proto_Collector_Metrics_V1_HistogramDataPoint()
    point.attributes = attributes
    (point.startTimeUnixNano, point.timeUnixNano) = (nanoseconds(start), nanoseconds(now))
    point.count = histogram.total
    if let sum = histogram.sumNanoseconds { point.sum = Double(sum) / 1e9 }
    if let minimum = histogram.minNanoseconds { point.min = Double(minimum) / 1e9 }
    if let maximum = histogram.maxNanoseconds { point.max = Double(maximum) / 1e9 }
    var slots = Array(histogram.counts.indices)
    if case .linear(0, _, _) = histogram.layout { slots.removeFirst() }
    // a bound for each slot up to the last that ends within 2^64 ns (no latency is longer): the
    // count past the last bound is all the rest
    for slot in slots.dropLast() {
      guard let last = histogram.layout.nanosecondBounds(ofSlot: slot, unit: unit).high else { break }
      point.bucketCounts.append(histogram.counts[slot])
      point.explicitBounds.append(Double(last) / 1e9)
    }
    point.bucketCounts.append(slots.dropFirst(point.explicitBounds.count).map { histogram.counts[$0] }.reduce(0, &+))
    return point
  }

  /// `bpfsyscalldist.otlp.exports`: the exporter's points by result (sent, failed, skipped).
  static func exporterMetric(_ outcomes: Outcomes, now: Double, since: Double) -> Opentelemetry_Proto_Collector_Metrics_V1_Metric {
    var metric = Opentelemetry_Proto_Collector_Metrics_V1_Metric()
    metric.name = "bpfsyscalldist.otlp.exports"
    metric.description_p = "OTLP exports of serve since it started, by result; failed and skipped ones are in the next, cumulative."
    metric.unit = "{export}"
    var sum = Opentelemetry_Proto_Collector_Metrics_V1_Sum()
    (sum.aggregationTemporality, sum.isMonotonic) = (.cumulative, true)
    for (result, count) in [("sent", outcomes.sent), ("failed", outcomes.failed), ("skipped", outcomes.skipped)] {
      var point = Opentelemetry_Proto_Collector_Metrics_V1_NumberDataPoint()
      point.attributes = [attribute("result", result)]
      (point.startTimeUnixNano, point.timeUnixNano) = (nanoseconds(since), nanoseconds(now))
      point.asInt = Int64(clamping: count)
      sum.dataPoints.append(point)
    }
    metric.sum = sum
    return metric
  }

  static func attribute(_ key: String, _ value: String) -> Opentelemetry_Proto_Collector_Metrics_V1_KeyValue {
    var pair = Opentelemetry_Proto_Collector_Metrics_V1_KeyValue()
    pair.key = key
    pair.value.stringValue = value
    return pair
  }

  static func nanoseconds(_ seconds: Double) -> UInt64 { UInt64(max(0, seconds * 1e9)) }
}

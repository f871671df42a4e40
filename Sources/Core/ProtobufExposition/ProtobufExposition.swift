import Rendering
import SwiftProtobuf

/// Metric families as Prometheus' protobuf exposition: one `io.prometheus.client.MetricFamily`
/// per family, each preceded by its length as a varint (`encoding=delimited`). A histogram with
/// native buckets (an exponential layout) is sent as a native histogram only: schema, zero
/// bucket, spans and count deltas; the others keep their classic `le` buckets.
public enum ProtobufExposition {
  public static func render(_ families: [MetricFamily]) -> [UInt8] {
    var out: [UInt8] = []
    for family in families {
      // a proto3 message of scalars, repeated fields and messages has nothing that can fail to
      // encode (no required fields, no Any)
      let bytes: [UInt8] = (try? Self.message(family).serializedBytes()) ?? []
      var length = UInt64(bytes.count)
      repeat {
        out.append(UInt8(length & 0x7f) | (length > 0x7f ? 0x80 : 0))
        length >>= 7
      } while length > 0
      out += bytes
    }
    return out
  }

  static func message(_ family: MetricFamily) -> Io_Prometheus_Client_MetricFamily {
    var message = Io_Prometheus_Client_MetricFamily()
    // a counter's samples end in _total, which protobuf families carry in their name
    message.name = family.kind == .counter ? family.name + "_total" : family.name
    message.help = family.help
    message.unit = family.unit ?? ""
    switch family.kind {
    case .counter: message.type = .counter
    case .gauge: message.type = .gauge
    case .histogram: message.type = .histogram
    }
    var order: [String] = []
    var metrics: [String: Io_Prometheus_Client_Metric] = [:]
    for sample in family.samples where sample.suffix != "_created" {
      if metrics[sample.labels] == nil {
        order.append(sample.labels)
        var metric = Io_Prometheus_Client_Metric()
        metric.label = LabelText.pairs(sample.labels).map { pair in
          var label = Io_Prometheus_Client_LabelPair()
          (label.name, label.value) = (pair.name, pair.value)
          return label
        }
        if let native = family.nativeBuckets[sample.labels] { metric.histogram = Self.native(native) }
        metrics[sample.labels] = metric
      }
      Self.add(sample, native: family.nativeBuckets[sample.labels] != nil, to: &metrics[sample.labels]!, kind: family.kind)
    }
    message.metric = order.map { metrics[$0]! }
    return message
  }

  static func add(_ sample: MetricFamily.Sample, native: Bool, to metric: inout Io_Prometheus_Client_Metric, kind: MetricFamily.Kind) {
    let value: Double
    switch sample.value {
    case .count(let count): value = Double(count)
    case .number(let number): value = number
    }
    switch (kind, sample.suffix) {
    case (.counter, _): metric.counter.value = value
    case (.gauge, _): metric.gauge.value = value
    case (.histogram, "_count"):
      if case .count(let count) = sample.value { metric.histogram.sampleCount = count }
    case (.histogram, "_sum"): metric.histogram.sampleSum = value
    case (.histogram, "_bucket"):
      // +Inf is the count; a native histogram has no classic buckets to send
      guard !native, let le = sample.le, le != "+Inf", let bound = Double(le), case .count(let count) = sample.value else { return }
      var bucket = Io_Prometheus_Client_Bucket()
      (bucket.upperBound, bucket.cumulativeCount) = (bound, count)
      metric.histogram.bucket.append(bucket)
    default: return
    }
  }

  /// Spans of consecutive indices and each bucket's count less the one before it.
  static func native(_ native: NativeBuckets) -> Io_Prometheus_Client_Histogram {
    var histogram = Io_Prometheus_Client_Histogram()
    histogram.schema = Int32(native.schema)
    histogram.zeroThreshold = 0
    histogram.zeroCount = native.zeroCount
    var previous: (index: Int, count: UInt64)?
    for bucket in native.buckets {
      if let previous, bucket.index == previous.index + 1 {
        histogram.positiveSpan[histogram.positiveSpan.count - 1].length += 1
      } else {
        var span = Io_Prometheus_Client_BucketSpan()
        span.offset = Int32(previous.map { bucket.index - $0.index - 1 } ?? bucket.index)
        span.length = 1
        histogram.positiveSpan.append(span)
      }
      histogram.positiveDelta.append(Int64(bitPattern: bucket.count &- (previous?.count ?? 0)))
      previous = (bucket.index, bucket.count)
    }
    // what tells a native histogram with no count yet from a classic one
    if histogram.positiveSpan.isEmpty { histogram.positiveSpan = [Io_Prometheus_Client_BucketSpan()] }
    return histogram
  }
}

/// The label pairs of a sample, from the text both text formats share (`Labels.render`, which
/// escapes backslashes, quotes and newlines): its inverse, tested as such. Text it did not make
/// gives the pairs before the first that does not parse.
enum LabelText {
  static func pairs(_ text: String) -> [(name: String, value: String)] {
    var pairs: [(name: String, value: String)] = []
    var rest = Substring(text)
    while !rest.isEmpty {
      guard let equals = rest.firstIndex(of: "="), rest[rest.index(after: equals)...].first == "\"" else { return pairs }
      let name = String(rest[..<equals])
      var value = ""
      var index = rest.index(equals, offsetBy: 2)
      var escaped = false
      while index < rest.endIndex {
        let char = rest[index]
        if escaped {
          value.append(char == "n" ? "\n" : char)
          escaped = false
        } else if char == "\\" {
          escaped = true
        } else if char == "\"" {
          break
        } else {
          value.append(char)
        }
        index = rest.index(after: index)
      }
      guard index < rest.endIndex else { return pairs }
      pairs.append((name, value))
      rest = rest[rest.index(after: index)...]
      if rest.first == "," { rest = rest.dropFirst() }
    }
    return pairs
  }
}

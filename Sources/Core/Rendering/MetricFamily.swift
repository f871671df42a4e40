import Foundation

/// One metric family and its samples, in either format.
public struct MetricFamily: Sendable {
  public enum Kind: String, Sendable {
    case histogram, counter, gauge
  }

  /// A counter's family name has no `_total`: its samples add it.
  public var name: String
  public var kind: Kind
  public var help: String
  /// OpenMetrics' `# UNIT`, which the name ends with.
  public var unit: String?
  public var samples: [Sample] = []

  public init(name: String, kind: Kind, help: String, unit: String? = nil) {
    self.name = name
    self.kind = kind
    self.help = help
    self.unit = unit
  }

  public struct Sample: Sendable {
    /// After the family's name: `_bucket`, `_count`, `_sum`, `_total`, `_created` or nothing.
    public var suffix: String
    /// `name="value",...`, escaped (`Labels`): one string a series' samples share.
    public var labels: String
    /// A bucket's upper bound, the `le` label after the others (shared by every series).
    public var le: String?
    public var value: Value
  }

  /// Counts as whole numbers (a Double would round those past 2^53), anything else as a float.
  public enum Value: Sendable {
    case count(UInt64)
    case number(Double)
  }

  public mutating func add(_ suffix: String, _ labels: String, le: String? = nil, _ value: Value) {
    samples.append(Sample(suffix: suffix, labels: labels, le: le, value: value))
  }

  /// A histogram's native buckets, by its series' labels: the protobuf exposition sends those
  /// instead of the `le` buckets (exponential layouts only).
  public var nativeBuckets: [String: NativeBuckets] = [:]
}

/// An exponential layout's counts as a Prometheus native histogram: the zero bucket (0 ns, zero
/// threshold 0) and each bucket with a count, by increasing index (Prometheus' bucket key).
public struct NativeBuckets: Sendable, Equatable {
  public var schema: Int
  public var zeroCount: UInt64
  public var buckets: [Bucket]

  public struct Bucket: Sendable, Equatable {
    public var index: Int
    public var count: UInt64

    public init(index: Int, count: UInt64) {
      self.index = index
      self.count = count
    }
  }

  public init(schema: Int, zeroCount: UInt64, buckets: [Bucket]) {
    self.schema = schema
    self.zeroCount = zeroCount
    self.buckets = buckets
  }
}

/// Label sets, escaped once per series.
public enum Labels {
  /// `name="value",...`: the value's backslashes, quotes and newlines escaped, as both formats
  /// want them.
  public static func render(_ pairs: [(name: String, value: String)]) -> String {
    pairs.map { "\($0.name)=\"\(escape($0.value))\"" }.joined(separator: ",")
  }

  static func escape(_ value: String) -> String {
    guard value.contains(where: { $0 == "\\" || $0 == "\"" || $0 == "\n" }) else { return value }
    var out = ""
    for char in value {
      switch char {
      case "\\": out += "\\\\"
      case "\"": out += "\\\""
      case "\n": out += "\\n"
      default: out.append(char)
      }
    }
    return out
  }

  /// Metric and label names allow `[a-zA-Z_][a-zA-Z0-9_]*`.
  public static func metricName(_ name: String) -> String {
    let cleaned = String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber) || $0 == "_" ? $0 : "_" })
    return cleaned.first?.isNumber == false ? cleaned : "_" + cleaned
  }
}

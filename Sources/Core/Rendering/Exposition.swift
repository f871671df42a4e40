import Foundation

/// Prometheus' exposition formats: OpenMetrics 1.0, which Prometheus asks for; its protobuf
/// (`MetricFamily` messages, length-delimited), which it asks for first with native histograms
/// on and which alone carries them (`ProtobufExposition`, serve only); and the 0.0.4 text format
/// every other scraper (and `curl`) gets.
public enum ExpositionFormat: Sendable, Equatable {
  case openMetrics
  case prometheus
  case protobuf

  /// The format an `Accept` header prefers, by its q-values (1 when unsaid), among the three;
  /// on a tie, the one that says the most (protobuf, then OpenMetrics); 0.0.4 when it names
  /// none of them.
  public init(accept: String?) {
    var best: (format: ExpositionFormat, q: Double)?
    for range in (accept ?? "").split(separator: ",") {
      let parameters = range.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
      guard let type = parameters.first?.lowercased() else { continue }
      // a parameter's value, unquoted (RFC 9110 allows either)
      let value = { (name: String) in
        parameters.dropFirst().first { $0.lowercased().hasPrefix(name + "=") }.map { String($0.dropFirst(name.count + 1)) }
          .map { $0.count >= 2 && $0.hasPrefix("\"") && $0.hasSuffix("\"") ? String($0.dropFirst().dropLast()) : $0 }
      }
      let format: ExpositionFormat
      switch type {
      case "application/vnd.google.protobuf":
        guard value("proto") == "io.prometheus.client.MetricFamily", value("encoding") == "delimited" else { continue }
        format = .protobuf
      case "application/openmetrics-text": format = .openMetrics
      case "text/plain": format = .prometheus
      default: continue
      }
      let q = value("q").flatMap(Double.init) ?? 1
      guard q > 0 else { continue }
      if best == nil || q > best!.q || (q == best!.q && format.preference > best!.format.preference) { best = (format, q) }
    }
    self = best?.format ?? .prometheus
  }

  private var preference: Int {
    switch self {
    case .protobuf: return 2
    case .openMetrics: return 1
    case .prometheus: return 0
    }
  }

  public var contentType: String {
    switch self {
    case .openMetrics: return "application/openmetrics-text; version=1.0.0; charset=utf-8"
    case .prometheus: return "text/plain; version=0.0.4; charset=utf-8"
    case .protobuf: return "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
    }
  }
}

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

/// Writes metric families in either text format. `_created` samples are OpenMetrics' own: the
/// 0.0.4 format leaves them out.
public struct ExpositionRenderer: Sendable {
  public init() {}

  public func render(_ families: [MetricFamily], as format: ExpositionFormat) -> String {
    String(decoding: renderBytes(families, as: format), as: UTF8.self)
  }

  /// The page as UTF-8, which is what a server sends: `serve` never makes a String of it.
  public func renderBytes(_ families: [MetricFamily], as format: ExpositionFormat) -> [UInt8] {
    precondition(format != .protobuf, "the protobuf exposition is ProtobufExposition's (serve links it)")
    // bytes: appending to a String a dozen times a line cost 40% of a scrape's time
    // (bench/serve-render.sh)
    var out: [UInt8] = []
    out.reserveCapacity(families.reduce(0) { $0 + $1.samples.count } * 96)
    func write(_ text: String) { out.append(contentsOf: text.utf8) }
    for family in families {
      switch format {
      case .openMetrics:
        write("# TYPE \(family.name) \(family.kind.rawValue)\n")
        if let unit = family.unit { write("# UNIT \(family.name) \(unit)\n") }
        write("# HELP \(family.name) \(help(family.help, quotes: true))\n")
      case .prometheus, .protobuf:
        let name = family.kind == .counter ? family.name + "_total" : family.name
        write("# HELP \(name) \(help(family.help, quotes: false))\n# TYPE \(name) \(family.kind.rawValue)\n")
      }
      for sample in family.samples where format == .openMetrics || sample.suffix != "_created" {
        write(family.name)
        write(sample.suffix)
        if let le = sample.le {
          out.append(UInt8(ascii: "{"))
          if !sample.labels.isEmpty {
            write(sample.labels)
            out.append(UInt8(ascii: ","))
          }
          write("le=\"")
          write(le)
          write("\"}")
        } else if !sample.labels.isEmpty {
          out.append(UInt8(ascii: "{"))
          write(sample.labels)
          out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: " "))
        write(Self.text(sample.value))
        out.append(UInt8(ascii: "\n"))
      }
    }
    if format == .openMetrics { write("# EOF\n") }
    return out
  }

  /// A value as both formats write it: integers without a fraction.
  static func text(_ value: MetricFamily.Value) -> String {
    switch value {
    case .count(let count): return String(count)
    case .number(let number): return Self.number(number)
    }
  }

  static func number(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
  }

  /// HELP text escapes backslashes and newlines; OpenMetrics' quotes too.
  private func help(_ text: String, quotes: Bool) -> String {
    var out = ""
    for char in text {
      switch char {
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\"" where quotes: out += "\\\""
      default: out.append(char)
      }
    }
    return out
  }
}

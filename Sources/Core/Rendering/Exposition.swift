/// Prometheus' two text formats: OpenMetrics 1.0, which Prometheus asks for, and the 0.0.4 text
/// format every other scraper (and `curl`) gets.
public enum ExpositionFormat: Sendable, Equatable {
  case openMetrics
  case prometheus

  /// The format an `Accept` header asks for: OpenMetrics when it names it, else 0.0.4.
  public init(accept: String?) {
    self = accept?.contains("application/openmetrics-text") == true ? .openMetrics : .prometheus
  }

  public var contentType: String {
    switch self {
    case .openMetrics: return "application/openmetrics-text; version=1.0.0; charset=utf-8"
    case .prometheus: return "text/plain; version=0.0.4; charset=utf-8"
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
      case .prometheus:
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

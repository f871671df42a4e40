import Foundation

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

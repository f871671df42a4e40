/// A `--fail-if` condition: `p99 > +10%`, `count < -5%`, `errors > +0%`. A percentile breaches
/// only when its bounds say the change surely passes the threshold; counts and error rates are
/// exact.
public struct Gate: Equatable, Sendable, CustomStringConvertible {
  public enum Metric: Equatable, Sendable {
    case percentile(String)
    case count
    case errors
  }

  public var metric: Metric
  /// `>`: breached by a change above `change`; `<`: below it.
  public var above: Bool
  /// The relative change: 0.1 for +10%.
  public var change: Double
  public var text: String

  public init(parsing text: String) throws(GateError) {
    self.text = text
    let compact = text.filter { $0 != " " }
    guard let at = compact.firstIndex(where: { $0 == ">" || $0 == "<" }), compact.hasSuffix("%"),
      let percent = Double(compact[compact.index(after: at)..<compact.index(before: compact.endIndex)]), percent.isFinite
    else { throw GateError(text: text) }
    above = compact[at] == ">"
    change = percent / 100
    switch compact[..<at] {
    case "count": metric = .count
    case "errors": metric = .errors
    case let name:
      guard Comparison.percentiles.contains(where: { $0.name == name }) else { throw GateError(text: text) }
      metric = .percentile(String(name))
    }
  }

  public var description: String { "--fail-if '\(text)'" }

  /// The breach of this gate by `row`, as one line, or nil.
  func breach(_ row: Comparison.Row) -> String? {
    let factor = 1 + change
    switch metric {
    case .percentile(let name):
      guard let p = row.percentiles.first(where: { $0.name == name }) else { return nil }
      let surely =
        above
        ? Double(p.after.lowerBound) > Double(p.before.upperBound) * factor
        : Double(p.after.upperBound) < Double(p.before.lowerBound) * factor
      guard surely else { return nil }
      return "\(name) of \(row.after.title): \(ComparisonText.range(p.before)) → \(ComparisonText.range(p.after)), past \(self)"
    case .count:
      let (b, a) = (Double(row.before.count), Double(row.after.count))
      guard above ? a > b * factor : a < b * factor else { return nil }
      return "count of \(row.after.title): \(row.before.count) → \(row.after.count), past \(self)"
    case .errors:
      guard let b = row.before.errorRate, let a = row.after.errorRate, above ? a > b * factor : a < b * factor else { return nil }
      return "errors of \(row.after.title): \(ComparisonText.percent(b)) → \(ComparisonText.percent(a)), past \(self)"
    }
  }
}

public struct GateError: Error, Equatable, CustomStringConvertible {
  public var text: String

  public var description: String {
    "--fail-if '\(text)': expected METRIC > +N% or METRIC < -N%, METRIC one of p50, p90, p99, count, errors"
  }
}

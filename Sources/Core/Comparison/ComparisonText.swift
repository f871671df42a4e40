import Rendering

/// A comparison as people read it: per series, both sides' count, error rate and percentile
/// bounds, and the verdict; then the series only one side has.
public enum ComparisonText {
  public static func render(_ comparison: Comparison) -> String {
    let (before, after) = (comparison.before, comparison.after)
    var lines = [
      "\(before.profile): \(before.file) (\(prints(before))) → \(after.file) (\(prints(after))), "
        + "a verdict only where the bounds do not overlap"
    ] + (comparison.folded.map { [$0] } ?? [])
    for row in comparison.rows {
      lines.append("")
      lines.append(row.after.title)
      lines.append(
        "  count \(row.before.count) → \(row.after.count), errors \(row.before.errorRate.map(percent) ?? "-") → \(row.after.errorRate.map(percent) ?? "-")")
      for p in row.percentiles {
        lines.append("  \(p.name) \(range(p.before)) → \(range(p.after)): \(p.verdict.rawValue)")
      }
    }
    if !comparison.onlyBefore.isEmpty {
      lines += ["", "Only in \(before.file): " + comparison.onlyBefore.map(\.description).joined(separator: ", ")]
    }
    if !comparison.onlyAfter.isEmpty {
      lines += ["", "Only in \(after.file): " + comparison.onlyAfter.map(\.description).joined(separator: ", ")]
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Where a percentile surely lies: `2.05ms..2.56ms`, or one value when exact.
  public static func range(_ bounds: ClosedRange<UInt64>) -> String {
    let low = DurationText.format(nanoseconds: Double(bounds.lowerBound))
    return bounds.lowerBound == bounds.upperBound ? low : low + ".." + DurationText.format(nanoseconds: Double(bounds.upperBound))
  }

  static func prints(_ recording: Recording) -> String { recording.prints == 1 ? "1 print" : "\(recording.prints) prints" }

  static func percent(_ rate: Double) -> String { DurationText.fixed(rate * 100, digits: 1) + "%" }
}

/// The same as one JSON object (`compare -j`), schema 1; `folded` says where one side's
/// exponential buckets were folded into the other's coarser schema (null when not).
public enum ComparisonJSON {
  public static func render(_ comparison: Comparison, breaches: [String]) -> String {
    func string(_ text: String) -> String { JSONRenderer().string(text) }
    func side(_ series: RecordedSeries, _ bounds: [(String, ClosedRange<UInt64>)]) -> String {
      object(
        [
          ("count", String(series.count)), ("errors", String(series.errors)),
          ("sum_ns", series.sumNanoseconds.map(String.init) ?? "null"),
          ("min_ns", series.minNanoseconds.map(String.init) ?? "null"),
          ("max_ns", series.maxNanoseconds.map(String.init) ?? "null"),
        ] + bounds.map { ($0.0, object([("low_ns", String($0.1.lowerBound)), ("high_ns", String($0.1.upperBound))])) })
    }
    func name(_ name: SeriesName) -> String {
      object([("key", string(name.key)), ("outcome", name.outcome.map(string) ?? "null")])
    }
    let rows = comparison.rows.map { row in
      object([
        ("key", string(row.name.key)), ("outcome", row.name.outcome.map(string) ?? "null"),
        ("title", string(row.after.title)),
        ("before", side(row.before, row.percentiles.map { ($0.name, $0.before) })),
        ("after", side(row.after, row.percentiles.map { ($0.name, $0.after) })),
        ("verdicts", object(row.percentiles.map { ($0.name, string($0.verdict.rawValue)) })),
      ])
    }
    return object([
      ("schema", "1"), ("profile", string(comparison.before.profile)),
      ("before", string(comparison.before.file)), ("after", string(comparison.after.file)),
      ("key_label", string(comparison.before.keyLabel)),
      ("folded", comparison.folded.map(string) ?? "null"),
      ("series", "[" + rows.joined(separator: ",") + "]"),
      ("only_before", "[" + comparison.onlyBefore.map(name).joined(separator: ",") + "]"),
      ("only_after", "[" + comparison.onlyAfter.map(name).joined(separator: ",") + "]"),
      ("breaches", "[" + breaches.map(string).joined(separator: ",") + "]"),
    ])
  }

  static func object(_ fields: [(String, String)]) -> String {
    "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
  }
}

import Glibc
import Histograms

/// Brendan Gregg's latency heatmap in a terminal, from a recorded `-i` run: per series, one
/// column per recorded interval (oldest left), one row per bucket that held a call (longest
/// latencies on top; `⋮` where buckets between held none), each cell shaded by its count on a
/// logarithmic scale of four steps up to the series' fullest cell, the legend giving each
/// shade's exact counts. With colour, the shades are background colours instead (none where
/// `NO_COLOR` is set: the caller decides).
public enum Heatmap {
  static let shades: [Character] = ["░", "▒", "▓", "█"]
  /// Yellow to red, 256-colour backgrounds.
  static let colours = [229, 220, 208, 196]

  /// The series to show: those named, else the `top` with the most calls.
  public static func render(_ recording: Recording, keys: [String], top: Int, colour: Bool) -> String {
    let chosen =
      keys.isEmpty
      ? recording.series.sorted { ($1.value.count, $0.key) < ($0.value.count, $1.key) }.prefix(top).map(\.key)
      : recording.series.keys.sorted().filter { keys.contains($0.key) }
    return chosen.map { render(recording, $0, colour: colour) }.joined(separator: "\n")
  }

  static func render(_ recording: Recording, _ name: SeriesName, colour: Bool) -> String {
    let columns = recording.columns.map { $0.buckets[name] ?? [:] }
    let rows = Set(columns.flatMap(\.keys)).sorted().reversed()
    let ceilings = ceilings(most: columns.flatMap(\.values).max() ?? 0)
    let series = recording.series[name]
    var out = "Heatmap for \(series?.title ?? name.description): \(series?.count ?? 0) calls in \(columns.count) intervals"
    if let first = recording.columns.first?.timestamp, let last = recording.columns.last?.timestamp, columns.count > 1 {
      out += " of \(DurationFormat.seconds((last - first) / Double(columns.count - 1))) each"
    }
    out += "\n"
    let labels = rows.map { label($0, recording.unit) }
    let width = labels.map(\.count).max() ?? 0
    var previous: RecordedSeries.Bucket?
    for (row, text) in zip(rows, labels) {
      if let previous, row.high != previous.low { out += String(repeating: " ", count: width - 1) + "⋮\n" }
      out += String(repeating: " ", count: width - text.count) + text + " |"
      for column in columns { out += cell(column[row] ?? 0, ceilings: ceilings, colour: colour) }
      out += "|\n"
      previous = row
    }
    out += String(repeating: " ", count: width) + "  rows: latency in \(recording.unit.rawValue); columns: intervals, oldest first\n"
    return out + legend(ceilings: ceilings, colour: colour) + "\n"
  }

  /// The most each shade stands for: floor(most^(k/4)) for k = 1...4, so that the shades
  /// step on a logarithmic scale up to the fullest cell (whose shade is the last).
  static func ceilings(most: UInt64) -> [UInt64] {
    (1...4).map { $0 == 4 ? most : max(1, UInt64(pow(Double(most), Double($0) / 4))) }
  }

  /// The shade of `count`, 0 for none: the darkest of those whose ceiling is the first to hold
  /// it (few calls in all skip the paler shades: the fullest cell is always the darkest).
  static func level(_ count: UInt64, ceilings: [UInt64]) -> Int {
    guard count > 0 else { return 0 }
    let ceiling = ceilings.first { count <= $0 } ?? ceilings[3]
    return ceilings.lastIndex(of: ceiling)! + 1
  }

  static func cell(_ count: UInt64, ceilings: [UInt64], colour: Bool) -> String {
    let level = level(count, ceilings: ceilings)
    guard level > 0 else { return " " }
    return colour ? "\u{1B}[48;5;\(colours[level - 1])m \u{1B}[0m" : String(shades[level - 1])
  }

  /// Each shade and the counts it stands for.
  static func legend(ceilings: [UInt64], colour: Bool) -> String {
    guard let most = ceilings.last, most > 0 else { return "no calls" }
    var parts: [String] = []
    var low: UInt64 = 1
    for high in ceilings where high >= low {
      parts.append("\(cell(high, ceilings: ceilings, colour: colour)) \(low == high ? "\(low)" : "\(low)-\(high)")")
      low = high + 1
    }
    return "calls per cell: " + parts.joined(separator: "  ")
  }

  /// A row's bounds in the unit, both included: `2048 -> 4095`; an exponential bucket's to four
  /// digits where they are not whole.
  static func label(_ bucket: RecordedSeries.Bucket, _ unit: TimeUnit) -> String {
    let scale = unit.nanoseconds
    guard bucket.low % scale == 0, bucket.high.map({ $0 % scale == 0 }) ?? true else {
      let high = bucket.high.map { DurationFormat.significant(Double($0 - 1) / Double(scale)) } ?? "inf"
      return DurationFormat.significant(Double(bucket.low) / Double(scale)) + " -> " + high
    }
    return "\(bucket.low / scale) -> " + (bucket.high.map { String($0 / scale - 1) } ?? "inf")
  }
}

/// Numbers as the heatmap prints them.
enum DurationFormat {
  /// Whole numbers as they are; others to four significant digits.
  static func significant(_ value: Double) -> String {
    if value == value.rounded() && value < 1e15 { return String(UInt64(value)) }
    let decimals = max(0, 3 - Int(log10(value).rounded(.down)))
    let power = pow(10, Double(decimals))
    let text = ((value * power).rounded(.toNearestOrEven) / power).description
    return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
  }

  static func seconds(_ value: Double) -> String { significant((value * 10).rounded() / 10) + "s" }
}

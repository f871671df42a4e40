import Histograms

/// The layout users know from bcc's `print_log2_hist` and the original bpfsyscalldist:
/// `Histogram for TITLE (sum N):`, then `low -> high : count |stars|` rows.
public struct TextRenderer: Sendable {
  /// Adds a line of figures (count, mean, percentiles) under each histogram.
  public var showSummary: Bool

  public init(showSummary: Bool = true) {
    self.showSummary = showSummary
  }

  public func render(_ snapshot: Snapshot) -> String {
    var out = snapshot.maxConcurrent.map { "At most \($0) threads were inside the call at once.\n\n" } ?? ""
    for series in snapshot.series {
      out += render(series, unit: snapshot.unit)
      out += "\n"
    }
    return out
  }

  public func render(_ series: Series, unit: TimeUnit) -> String {
    let histogram = series.histogram
    var out = "Histogram for \(series.title) (sum \(histogram.total)):\n"
    guard let occupied = histogram.occupiedSlots else { return out }
    let first = histogram.layout == .log2 ? 0 : occupied.lowerBound
    let last = occupied.upperBound
    let highest = histogram.counts[first...last].max() ?? 0
    // bcc widens the columns and halves the bars once values pass 32 bits
    let wide = histogram.layout.bounds(ofSlot: last).low > UInt64(UInt32.max)
    let valueWidth = wide ? 20 : 10
    let stars = wide ? 20 : 40
    out += pad("", wide ? 15 : 5) + pad(unit.columnTitle, wide ? 29 : 19) + " : count         distribution\n"
    for slot in first...last {
      let (low, high) = histogram.layout.bounds(ofSlot: slot)
      let count = histogram.counts[slot]
      let bar = highest == 0 ? 0 : Int(count * UInt64(stars) / highest)
      out += padLeft(String(low), valueWidth) + " -> " + pad(high.map(String.init) ?? "inf", valueWidth)
      out += " : " + pad(String(count), 13) + " |"
      out += String(repeating: "*", count: bar) + String(repeating: " ", count: stars - bar) + "|\n"
    }
    if showSummary {
      out += summary(histogram, unit: unit)
      if let most = series.maxConcurrent { out += ", at most \(most) at once" }
      out += "\n"
    }
    if !series.failures.isEmpty {
      out += "     failed: " + series.failures.map { "\($0.name) \($0.count)" }.joined(separator: ", ") + "\n"
    }
    return out
  }

  /// `count 54, mean 19.3ms, p50 ≈ 18.1ms, p90 ≈ 40.2ms, p99 ≈ 98.1ms (±50%, log2)`.
  func summary(_ histogram: Histogram, unit: TimeUnit) -> String {
    var parts = ["count \(histogram.total)"]
    if let mean = histogram.mean(in: unit) {
      parts.append("mean " + (histogram.sumNanoseconds == nil ? "≈ " : "") + Duration.format(mean, unit))
    }
    for (label, fraction) in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)] {
      if let value = histogram.quantile(fraction) {
        parts.append("\(label) ≈ " + Duration.format(value, unit))
      }
    }
    let error = histogram.layout.relativeErrorPercent
    let precision = error == 0 ? "bucket width" : "±\(error)%"
    var line = "     " + parts.joined(separator: ", ") + " (\(precision), \(histogram.layout.kindName))"
    if let occupied = histogram.occupiedSlots {
      line += ", min in \(range(histogram.layout, occupied.lowerBound)), max in \(range(histogram.layout, occupied.upperBound))"
    }
    return line
  }

  /// A bucket as its row shows it: `4096 -> 8191`.
  func range(_ layout: BucketLayout, _ slot: Int) -> String {
    let (low, high) = layout.bounds(ofSlot: slot)
    return "\(low) -> " + (high.map(String.init) ?? "inf")
  }

  func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
  }

  func padLeft(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
  }
}

/// Durations as people read them: the largest unit that keeps the number at least 1.
enum Duration {
  static func format(_ value: Double, _ unit: TimeUnit) -> String {
    let nanoseconds = value * Double(unit.nanoseconds)
    let (scaled, suffix): (Double, String) =
      nanoseconds >= 1e9 ? (nanoseconds / 1e9, "s")
      : nanoseconds >= 1e6 ? (nanoseconds / 1e6, "ms")
      : nanoseconds >= 1e3 ? (nanoseconds / 1e3, "us") : (nanoseconds, "ns")
    return fixed(scaled, digits: scaled < 10 ? 2 : 1) + suffix
  }

  /// `%.Nf` without Foundation.
  static func fixed(_ value: Double, digits: Int) -> String {
    let scale = digits == 2 ? 100.0 : digits == 1 ? 10.0 : 1.0
    let rounded = (value * scale).rounded() / scale
    var text = String(rounded)
    if text.hasSuffix(".0") && digits == 0 { text.removeLast(2) }
    if let dot = text.firstIndex(of: "."), !text.contains("e") {
      let decimals = text.distance(from: dot, to: text.endIndex) - 1
      if decimals < digits { text += String(repeating: "0", count: digits - decimals) }
    }
    return text
  }
}

/// The end-of-run line saying whether the numbers are complete.
public enum AccountingLine {
  public static func render(_ accounting: Accounting) -> String {
    var line = "Counted \(accounting.counted) calls, dropped \(accounting.dropped)"
    if accounting.dropped > 0 {
      var reasons: [String] = []
      if accounting.keyOutOfRange > 0 { reasons.append("\(accounting.keyOutOfRange) with a key beyond the profile's range") }
      if accounting.mapFull > 0 { reasons.append("\(accounting.mapFull) because the histogram map was full") }
      if accounting.dispatchFailed > 0 { reasons.append("\(accounting.dispatchFailed) with no bucket step") }
      line += " (" + reasons.joined(separator: ", ") + ")"
    }
    var unfinished: [String] = []
    if accounting.inFlight > 0 { unfinished.append("\(accounting.inFlight) still in progress") }
    if accounting.abandoned > 0 { unfinished.append("\(accounting.abandoned) abandoned by threads that exited inside the call") }
    if !unfinished.isEmpty { line += "; not counted: " + unfinished.joined(separator: ", ") }
    return line + "."
  }
}

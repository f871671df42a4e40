import Glibc
import Histograms
import Snapshots

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
    if let line = Self.waitSitesLine(snapshot.waitSites, prefix: "Blocked in, every call: ") { out += line + "\n\n" }
    if let line = Self.lockWaitsLine(snapshot.lockWaits, prefix: "Waited for locks, every call: ") { out += line + "\n\n" }
    return out
  }

  /// `blocked in: 97% __mutex_lock <- bpf_fd_array_map_update_elem <- map_update_elem (200),
  /// ...`: the three longest sites, each a share of all the blocked time of `sites`, with how
  /// many stretches blocked there.
  static func waitSitesLine(_ sites: [NamedWaitSite], prefix: String) -> String? {
    let total = sites.reduce(UInt64(0)) { $0 &+ $1.totals.nanoseconds }
    guard total > 0 else { return nil }
    let shown = sites.prefix(3).map { site in
      "\(Int((Double(site.totals.nanoseconds) / Double(total) * 100).rounded()))% \(site.site) (\(site.totals.count))"
    }
    return prefix + shown.joined(separator: ", ") + (sites.count > 3 ? ", and \(sites.count - 3) more" : "")
  }

  /// `waited for locks: mutex 120.5ms (1600), spinlock 0.2ms (12)`: the time the calls waited
  /// for locks of each kind (on CPU or not), with how many waits.
  static func lockWaitsLine(_ kinds: [NamedWaitSite], prefix: String) -> String? {
    guard !kinds.isEmpty else { return nil }
    return prefix + kinds.map { "\($0.site) \(DurationText.format(nanoseconds: Double($0.totals.nanoseconds))) (\($0.totals.count))" }.joined(separator: ", ")
  }

  public func render(_ series: Series, unit: TimeUnit) -> String {
    let histogram = series.histogram
    var out = "Histogram for \(series.title) (sum \(histogram.total)):\n"
    guard let occupied = histogram.occupiedSlots else { return out }
    let rows = Self.rows(histogram, occupied: occupied, unit: unit)
    let highest = rows.map(\.count).max() ?? 0
    // bcc widens the columns and halves the bars when the last occupied log2 slot is above 32
    let wide = histogram.layout == .log2 ? occupied.upperBound > 32 : max(rows.last!.low.count, rows.last!.high.count) > 10
    let valueWidth = wide ? 20 : 10
    let stars = wide ? 20 : 40
    out += pad("", wide ? 15 : 5) + pad(unit.columnTitle, wide ? 29 : 19) + " : count         distribution\n"
    for (low, high, count) in rows {
      let bar = highest == 0 ? 0 : Int(count * UInt64(stars) / highest)
      out += padLeft(low, valueWidth) + " -> " + pad(high, valueWidth)
      out += " : " + pad(String(count), 13) + " |"
      out += String(repeating: "*", count: bar) + String(repeating: " ", count: stars - bar) + "|\n"
    }
    if showSummary {
      out += summary(histogram, unit: unit)
      if let most = series.maxConcurrent { out += ", at most \(most) at once" }
      out += "\n"
    }
    if let line = Self.timeSplitLine(histogram) { out += line + "\n" }
    if let line = Self.waitSitesLine(series.waitSites, prefix: "     blocked in: ") { out += line + "\n" }
    if let line = Self.lockWaitsLine(series.lockWaits, prefix: "     waited for locks: ") { out += line + "\n" }
    if !series.failures.isEmpty {
      out += "     failed: " + series.failures.map { "\($0.name) \($0.count)" }.joined(separator: ", ") + "\n"
    }
    return out
  }

  /// The rows to print: a slot each (log2 from 0, as bcc), from the first occupied to the last;
  /// exponential buckets folded into one row per power of two of seconds (their bounds at
  /// schema 0 and up; below, a row per bucket), `low` excluded and `high` included, in `unit`.
  static func rows(_ histogram: Histogram, occupied: ClosedRange<Int>, unit: TimeUnit) -> [(low: String, high: String, count: UInt64)] {
    guard let scale = histogram.layout.exponentialScale else {
      return ((histogram.layout == .log2 ? 0 : occupied.lowerBound)...occupied.upperBound).map { slot in
        let (low, high) = histogram.layout.bounds(ofSlot: slot)
        return (String(low), high.map(String.init) ?? "inf", histogram.counts[slot])
      }
    }
    let perRow = 1 << max(0, scale.schema)
    // row r holds the buckets of indices ((r - 1) * perRow, r * perRow]: r = ceil(index / perRow)
    func row(ofSlot slot: Int) -> Int {
      let above = scale.index(ofSlot: slot) + perRow - 1
      return above >= 0 ? above / perRow : (above - perRow + 1) / perRow
    }
    var rows: [(low: String, high: String, count: UInt64)] = []
    var current: Int?
    for slot in occupied {
      let index = slot == 0 ? Int.min : row(ofSlot: slot)
      if index != current {
        current = index
        if slot == 0 {
          rows.append(("0", "0", 0))
        } else {
          let high = scale.upperSeconds(ofIndex: index * perRow)
          let low = scale.upperSeconds(ofIndex: (index - 1) * perRow)
          rows.append((Self.bound(low, unit), Self.bound(high, unit), 0))
        }
      }
      rows[rows.count - 1].count += histogram.counts[slot]
    }
    return rows
  }

  /// A bucket bound in seconds, in `unit`, to four significant digits (not String(format:),
  /// whose CoreFoundation code needs a glibc newer than the release binary may).
  static func bound(_ seconds: Double, _ unit: TimeUnit) -> String {
    let value = seconds * 1e9 / Double(unit.nanoseconds)
    let decimals = 3 - Int(log10(value).rounded(.down))  // powers of ten up to 10^22 are exact
    let power = pow(10, Double(abs(decimals)))
    let text = (decimals >= 0 ? (value * power).rounded(.toNearestOrEven) / power : (value / power).rounded(.toNearestOrEven) * power).description
    return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
  }

  /// `time in calls: 3% on CPU, 2% waiting for a CPU, 95% blocked` (--off-cpu): shares of the
  /// calls' latency sum, rounded to the nearest percent.
  static func timeSplitLine(_ histogram: Histogram) -> String? {
    guard let split = histogram.timeSplit, let sum = histogram.sumNanoseconds, sum > 0 else { return nil }
    func share(_ part: UInt128) -> String { "\(Int((Double(part) / Double(sum) * 100).rounded()))%" }
    return "     time in calls: \(share(split.onCPUNanoseconds(ofSum: sum))) on CPU, "
      + "\(share(split.runnableNanoseconds)) waiting for a CPU, \(share(split.blockedNanoseconds)) blocked"
  }

  /// `count 200, mean 5.08ms, min 5.05ms, max 5.31ms, p50 ≈ 5.06ms, p90 ≈ 5.11ms, p99 ≈ 5.21ms
  /// (±4%, log2)`: the bound is what the percentiles can be off at most, from their bucket and
  /// the exact min and max; it holds.
  func summary(_ histogram: Histogram, unit: TimeUnit) -> String {
    var parts = ["count \(histogram.total)"]
    if let mean = histogram.mean(in: unit) {
      parts.append("mean " + (histogram.sumNanoseconds == nil ? "≈ " : "") + DurationText.format(mean, unit))
    }
    if let minimum = histogram.minNanoseconds, let maximum = histogram.maxNanoseconds {
      parts.append("min " + DurationText.format(nanoseconds: Double(minimum)))
      parts.append("max " + DurationText.format(nanoseconds: Double(maximum)))
    }
    let percentiles = [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)].compactMap { label, fraction in
      histogram.percentile(fraction, unit: unit).map { (label, $0) }
    }
    for (label, percentile) in percentiles {
      parts.append("\(label) ≈ " + DurationText.format(nanoseconds: percentile.estimate))
    }
    let errors = percentiles.map(\.1.relativeError)
    let bound: String
    if errors.contains(where: { $0 == nil }) {
      bound = "percentiles within their buckets"
    } else {
      let percent = Int((errors.compactMap { $0 }.max() ?? 0) * 100 + 0.999_999)
      bound = percent == 0 ? "exact" : "±\(percent)%"
    }
    return "     " + parts.joined(separator: ", ") + " (\(bound), \(histogram.layout.name))"
  }

  func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
  }

  func padLeft(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
  }
}

/// Durations as people read them: the largest unit that keeps the number at least 1.
public enum DurationText {
  static func format(_ value: Double, _ unit: TimeUnit) -> String {
    format(nanoseconds: value * Double(unit.nanoseconds))
  }

  public static func format(nanoseconds: Double) -> String {
    let (scaled, suffix): (Double, String) =
      nanoseconds >= 1e9 ? (nanoseconds / 1e9, "s")
      : nanoseconds >= 1e6 ? (nanoseconds / 1e6, "ms")
      : nanoseconds >= 1e3 ? (nanoseconds / 1e3, "us") : (nanoseconds, "ns")
    return fixed(scaled, digits: scaled < 10 ? 2 : 1) + suffix
  }

  /// `%.Nf` without Foundation.
  public static func fixed(_ value: Double, digits: Int) -> String {
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

/// The end-of-run line saying whether the numbers are complete: what was counted, what was
/// dropped and why, and the calls the tool saw but could not count, each for its reason.
public enum AccountingLine {
  public static func render(_ accounting: Accounting) -> String {
    var line = "Counted \(accounting.counted) calls, dropped \(accounting.dropped)"
    let dropped = [
      (accounting.keyOutOfRange, "with a key beyond the profile's range"),
      (accounting.mapFull, "because the histogram map was full"),
      (accounting.mapBusy, "because the histogram map was busy (another BPF program held its lock)"),
      (accounting.dispatchFailed, "with no bucket step"),
    ]
    if accounting.dropped > 0 { line += " (" + listed(dropped) + ")" }
    let unfinished = [
      (accounting.inFlight, "still in progress"),
      (accounting.abandoned, "abandoned by threads that exited inside the call"),
      (accounting.replaced, "whose return was not seen (the thread entered again first)"),
      (accounting.mismatched, "whose return was not seen (the thread's next exit was another syscall's)"),
      (accounting.noStorage, "not timed (no per-thread storage)"),
      (accounting.compat, "from 32-bit callers (not traced)"),
    ]
    if unfinished.contains(where: { $0.0 > 0 }) { line += "; not counted: " + listed(unfinished) }
    if accounting.errorsNotItemized > 0 {
      line += "; \(accounting.errorsNotItemized) failed calls without their errno (errors map full or busy)"
    }
    if accounting.extremesLost > 0 {
      line += "; \(accounting.extremesLost) updates of a largest, smallest or most-at-once value lost to other CPUs (those may be low)"
    }
    if accounting.waitSitesLost > 0 {
      line += "; \(accounting.waitSitesLost) blocked stretches or lock waits kept by no wait site (the wait sites map was full or busy)"
    }
    if accounting.keyReadsFailed > 0 {
      line += "; \(accounting.keyReadsFailed) key part reads of user memory faulted (such a part is 0, or for an fd 'unreadable')"
    }
    if accounting.switchesUnseen > 0 {
      line += "; \(accounting.switchesUnseen) context switches of traced threads unseen (their time off CPU rebuilt from the scheduler's runtime)"
    }
    if accounting.returnsMissed > 0 {
      line += "; the kretprobe missed \(accounting.returnsMissed) returns (more calls in flight than it tracks; shown above as returns not seen)"
    }
    if accounting.slowCallsDropped > 0 {
      line += "; \(accounting.slowCallsDropped) of \(accounting.slowCalls) slow calls not shown (the ring buffer was full: --ring-buffer-size)"
    }
    if accounting.kernelSkipped > 0 {
      line += "; the kernel skipped the tool's programs \(accounting.kernelSkipped) times (recursion): a skipped entry loses its call, a skipped exit shows above as a return not seen"
    }
    return line + "."
  }

  private static func listed(_ parts: [(UInt64, String)]) -> String {
    parts.filter { $0.0 > 0 }.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
  }
}

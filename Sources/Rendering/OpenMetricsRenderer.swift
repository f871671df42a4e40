import Histograms
import Snapshots

/// OpenMetrics text: one histogram family per profile, cumulative `le` buckets in seconds, exact
/// `_sum` and `_count`, `_created`, a label from the profile's key label. Meant for counts since
/// the start of the run (`Snapshot.since`): counters never go down between prints, and every
/// series has the same fixed bucket set in every print, as Prometheus' `rate()` needs.
public struct OpenMetricsRenderer: Sendable {
  /// Buckets go up to the first bound past this: longer calls are only in `+Inf`.
  public static let horizonSeconds = 3600.0

  public init() {}

  public func render(_ snapshot: Snapshot) -> String {
    let family = metricName(snapshot.profileName) + "_latency_seconds"
    let unitSeconds = Double(snapshot.unit.nanoseconds) / 1e9
    let bounds = Self.bucketBounds(snapshot.layout, unit: snapshot.unit)
    let created = number(snapshot.since)
    var out = "# TYPE \(family) histogram\n# UNIT \(family) seconds\n"
    out += "# HELP \(family) Latency of calls traced by profile \(snapshot.profileName).\n"
    for series in snapshot.series {
      var labels = ["\(metricName(snapshot.keyLabel))=\"\(escape(series.keyName))\""]
      if let outcome = series.outcome { labels.append("outcome=\"\(outcome.name)\"") }
      let base = labels.joined(separator: ",")
      let histogram = series.histogram
      var cumulative: UInt64 = 0
      var slot = 0
      for (lastSlot, le) in bounds {
        while slot <= lastSlot {
          cumulative &+= histogram.counts[slot]
          slot += 1
        }
        out += "\(family)_bucket{\(base),le=\"\(number(le * unitSeconds))\"} \(cumulative)\n"
      }
      out += "\(family)_bucket{\(base),le=\"+Inf\"} \(histogram.total)\n"
      if let sum = histogram.sumNanoseconds {
        out += "\(family)_sum{\(base)} \(number(Double(sum) / 1e9))\n"
      }
      out += "\(family)_count{\(base)} \(histogram.total)\n"
      out += "\(family)_created{\(base)} \(created)\n"
    }
    let errors = metricName(snapshot.profileName) + "_errors"
    let failing = snapshot.series.filter { !$0.failures.isEmpty }
    if !failing.isEmpty {
      out += "# TYPE \(errors) counter\n"
      out += "# HELP \(errors) Failed calls traced by profile \(snapshot.profileName), by errno.\n"
      for series in failing {
        for failure in series.failures {
          let labels = "\(metricName(snapshot.keyLabel))=\"\(escape(series.keyName))\",errno=\"\(failure.name)\""
          out += "\(errors)_total{\(labels)} \(failure.count)\n"
          out += "\(errors)_created{\(labels)} \(created)\n"
        }
      }
    }
    return out + "# EOF\n"
  }

  /// The fixed buckets of a layout: for each, its last slot and its upper bound `le` in units
  /// (exclusive of the bucket: the next one's start). Every closed slot starting within the
  /// horizon; a profile always exports the same set.
  static func bucketBounds(_ layout: BucketLayout, unit: TimeUnit) -> [(lastSlot: Int, le: Double)] {
    let horizon = horizonSeconds * 1e9 / Double(unit.nanoseconds)
    var result: [(Int, Double)] = []
    for slot in 0..<layout.slotCount {
      if case .linear(0, _, _) = layout, slot == 0 { continue }  // below 0: no value lands there
      let (low, high) = layout.bounds(ofSlot: slot)
      guard let high, high < .max, Double(low) < horizon else { break }
      result.append((slot, Double(high) + 1))
    }
    return result
  }

  /// Metric and label names allow `[a-zA-Z_][a-zA-Z0-9_]*` (the loader keeps key labels so).
  func metricName(_ name: String) -> String {
    let cleaned = String(name.map { $0.isLetter || $0.isNumber || $0 == "_" ? $0 : "_" })
    return cleaned.first?.isNumber == false ? cleaned : "_" + cleaned
  }

  /// A float as OpenMetrics writes it: integers without a fraction.
  func number(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
  }

  func escape(_ value: String) -> String {
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
}

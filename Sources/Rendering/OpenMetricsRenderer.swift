import Histograms

/// OpenMetrics text: one histogram family per profile, cumulative `le` buckets in seconds,
/// exact `_sum` and `_count`, a label from the profile's key label.
public struct OpenMetricsRenderer: Sendable {
  public init() {}

  public func render(_ snapshot: Snapshot) -> String {
    let family = metricName(snapshot.profileName) + "_latency_seconds"
    let unitSeconds = Double(snapshot.unit.nanoseconds) / 1e9
    var out = "# TYPE \(family) histogram\n# UNIT \(family) seconds\n"
    out += "# HELP \(family) Latency of calls traced by profile \(snapshot.profileName).\n"
    for series in snapshot.series {
      var labels = ["\(labelName(snapshot.keyLabel))=\"\(escape(series.keyName))\""]
      if let outcome = series.outcome { labels.append("outcome=\"\(outcome.name)\"") }
      let base = labels.joined(separator: ",")
      let histogram = series.histogram
      var cumulative: UInt64 = 0
      let last = histogram.occupiedSlots?.upperBound ?? -1
      for slot in histogram.counts.indices where slot <= last {
        cumulative &+= histogram.counts[slot]
        guard let high = histogram.layout.bounds(ofSlot: slot).high else { continue }
        let le = Double(high &+ 1) * unitSeconds
        out += "\(family)_bucket{\(base),le=\"\(le)\"} \(cumulative)\n"
      }
      out += "\(family)_bucket{\(base),le=\"+Inf\"} \(histogram.total)\n"
      if let sum = histogram.sumNanoseconds {
        out += "\(family)_sum{\(base)} \(Double(sum) / 1e9)\n"
      }
      out += "\(family)_count{\(base)} \(histogram.total)\n"
    }
    let errors = metricName(snapshot.profileName) + "_errors"
    let failing = snapshot.series.filter { !$0.failures.isEmpty }
    if !failing.isEmpty {
      out += "# TYPE \(errors) counter\n"
      out += "# HELP \(errors) Failed calls traced by profile \(snapshot.profileName), by errno.\n"
      for series in failing {
        for failure in series.failures {
          out += "\(errors)_total{\(labelName(snapshot.keyLabel))=\"\(escape(series.keyName))\",errno=\"\(failure.name)\"} \(failure.count)\n"
        }
      }
    }
    return out + "# EOF\n"
  }

  /// Metric names allow `[a-zA-Z_:][a-zA-Z0-9_:]*`.
  func metricName(_ name: String) -> String {
    let cleaned = String(name.map { $0.isLetter || $0.isNumber || $0 == "_" ? $0 : "_" })
    return cleaned.first?.isNumber == false ? cleaned : "_" + cleaned
  }

  func labelName(_ name: String) -> String {
    let cleaned = metricName(name)
    return cleaned == "le" ? "key_le" : cleaned
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

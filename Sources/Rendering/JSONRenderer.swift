import Histograms

/// One JSON object per print (`-j`), keys in a fixed order. Schema 1:
/// `{"schema":1,"profile":…,"timestamp":…,"unit":…,"buckets":…,"key_label":…,
///   "accounting":{…},"max_concurrent":…,"histograms":[{"key":…,"raw":…,"outcome":…,"title":…,
///   "count":…,"sum_ns":…,"mean":…,"p50":…,"p90":…,"p99":…,"relative_error":…,
///   "max_concurrent":…,"errors":{"ENOENT":…},"buckets":[{"low":…,"high":…,"count":…}]}]}`;
///   `high` is null for an open last bucket; `max_concurrent` is null without --concurrency;
///   `errors` counts failed calls by errno, most first.
public struct JSONRenderer: Sendable {
  public init() {}

  public func render(_ snapshot: Snapshot) -> String {
    let histograms = snapshot.series.map { series(of: $0, unit: snapshot.unit) }
    let accounting = snapshot.accounting
    return object([
      ("schema", "1"),
      ("profile", string(snapshot.profileName)),
      ("timestamp", number(snapshot.timestamp)),
      ("unit", string(snapshot.unit.rawValue)),
      ("buckets", string(snapshot.layout.kindName)),
      ("key_label", string(snapshot.keyLabel)),
      (
        "accounting",
        object([
          ("counted", String(accounting.counted)),
          ("dropped", String(accounting.dropped)),
          ("key_out_of_range", String(accounting.keyOutOfRange)),
          ("map_full", String(accounting.mapFull)),
          ("dispatch_failed", String(accounting.dispatchFailed)),
        ])
      ),
      ("max_concurrent", snapshot.maxConcurrent.map(String.init) ?? "null"),
      ("histograms", "[" + histograms.joined(separator: ",") + "]"),
    ])
  }

  func series(of series: Series, unit: TimeUnit) -> String {
    let histogram = series.histogram
    let buckets = histogram.counts.indices.filter { histogram.counts[$0] > 0 }.map { slot in
      let (low, high) = histogram.layout.bounds(ofSlot: slot)
      return object([
        ("low", String(low)), ("high", high.map(String.init) ?? "null"),
        ("count", String(histogram.counts[slot])),
      ])
    }
    return object([
      ("key", string(series.keyName)),
      ("raw", series.rawKey.map(String.init) ?? "null"),
      ("outcome", series.outcome.map { string($0.name) } ?? "null"),
      ("title", string(series.title)),
      ("count", String(histogram.total)),
      ("sum_ns", histogram.sumNanoseconds.map(String.init) ?? "null"),
      ("mean", histogram.mean(in: unit).map(number) ?? "null"),
      ("p50", histogram.quantile(0.5).map(number) ?? "null"),
      ("p90", histogram.quantile(0.9).map(number) ?? "null"),
      ("p99", histogram.quantile(0.99).map(number) ?? "null"),
      ("relative_error", number(Double(histogram.layout.relativeErrorPercent) / 100)),
      ("max_concurrent", series.maxConcurrent.map(String.init) ?? "null"),
      ("errors", object(series.failures.map { (string($0.name), String($0.count)) }.map { ($0.0, $0.1) }, quoted: true)),
      ("buckets", "[" + buckets.joined(separator: ",") + "]"),
    ])
  }

  func object(_ fields: [(String, String)], quoted: Bool = false) -> String {
    "{" + fields.map { (quoted ? $0.0 : string($0.0)) + ":" + $0.1 }.joined(separator: ",") + "}"
  }

  func number(_ value: Double) -> String {
    guard value.isFinite else { return "null" }
    if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
    return String(value)
  }

  func string(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\t": out += "\\t"
      case "\r": out += "\\r"
      case _ where scalar.value < 0x20:
        let hex = String(scalar.value, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }
}

import Foundation

/// Prometheus' exposition formats: OpenMetrics 1.0, which Prometheus asks for; its protobuf
/// (`MetricFamily` messages, length-delimited), which it asks for first with native histograms
/// on and which alone carries them (`ProtobufExposition`, serve only); and the 0.0.4 text format
/// every other scraper (and `curl`) gets.
public enum ExpositionFormat: Sendable, Equatable {
  case openMetrics
  case prometheus
  case protobuf

  /// The format an `Accept` header prefers, by its q-values (1 when unsaid), among the three;
  /// on a tie, the one that says the most (protobuf, then OpenMetrics); 0.0.4 when it names
  /// none of them.
  public init(accept: String?) {
    var best: (format: ExpositionFormat, q: Double)?
    for range in (accept ?? "").split(separator: ",") {
      let parameters = range.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
      guard let type = parameters.first?.lowercased() else { continue }
      // a parameter's value, unquoted (RFC 9110 allows either)
      let value = { (name: String) in
        parameters.dropFirst().first { $0.lowercased().hasPrefix(name + "=") }.map { String($0.dropFirst(name.count + 1)) }
          .map { $0.count >= 2 && $0.hasPrefix("\"") && $0.hasSuffix("\"") ? String($0.dropFirst().dropLast()) : $0 }
      }
      let format: ExpositionFormat
      switch type {
      case "application/vnd.google.protobuf":
        guard value("proto") == "io.prometheus.client.MetricFamily", value("encoding") == "delimited" else { continue }
        format = .protobuf
      case "application/openmetrics-text": format = .openMetrics
      case "text/plain": format = .prometheus
      default: continue
      }
      let q = value("q").flatMap(Double.init) ?? 1
      guard q > 0 else { continue }
      if best == nil || q > best!.q || (q == best!.q && format.preference > best!.format.preference) { best = (format, q) }
    }
    self = best?.format ?? .prometheus
  }

  private var preference: Int {
    switch self {
    case .protobuf: return 2
    case .openMetrics: return 1
    case .prometheus: return 0
    }
  }

  public var contentType: String {
    switch self {
    case .openMetrics: return "application/openmetrics-text; version=1.0.0; charset=utf-8"
    case .prometheus: return "text/plain; version=0.0.4; charset=utf-8"
    case .protobuf: return "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
    }
  }
}

/// Where and how serve pushes OTLP, from its flags and the variables every OpenTelemetry SDK
/// reads: `OTEL_EXPORTER_OTLP_[METRICS_]ENDPOINT`, `_HEADERS`, `_TIMEOUT` and `_PROTOCOL`,
/// `OTEL_METRIC_EXPORT_INTERVAL`, `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_SERVICE_NAME`. A flag
/// wins over a variable, a metrics-only variable over the general one.
public struct OTLPConfig: Sendable, Equatable {
  public var host: String
  public var port: Int
  /// The request's path: `/v1/metrics` under a general endpoint.
  public var path: String
  public var headers: [Header]
  public var timeoutMilliseconds: Int
  public var intervalMilliseconds: Int
  /// The resource's attributes: service.name, host.name, then `OTEL_RESOURCE_ATTRIBUTES`'.
  public var resource: [Header]

  public struct Header: Sendable, Equatable {
    public var key: String
    public var value: String
  }

  /// Why the configuration is refused, in one line naming the flag or variable.
  public struct Problem: Error, CustomStringConvertible, Sendable {
    public let description: String
  }

  public static let defaultEndpoint = "http://localhost:4318"

  public init(endpoint flag: String?, intervalMilliseconds intervalFlag: Int?, environment: [String: String], hostName: String) throws(Problem) {
    func variable(_ name: String) -> (name: String, value: String)? {
      for full in ["OTEL_EXPORTER_OTLP_METRICS_" + name, "OTEL_EXPORTER_OTLP_" + name] {
        if let value = environment[full], !value.isEmpty { return (full, value) }
      }
      return nil
    }
    if let (name, protocolName) = variable("PROTOCOL"), protocolName != "http/protobuf" {
      throw Problem(description: "\(name)=\(protocolName): serve pushes OTLP over HTTP as protobuf only (http/protobuf)")
    }
    let (source, url, general): (String, String, Bool)
    if let flag {
      (source, url, general) = ("--otlp-endpoint", flag, false)
    } else if let value = environment["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"], !value.isEmpty {
      (source, url, general) = ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", value, false)
    } else if let value = environment["OTEL_EXPORTER_OTLP_ENDPOINT"], !value.isEmpty {
      (source, url, general) = ("OTEL_EXPORTER_OTLP_ENDPOINT", value, true)
    } else {
      (source, url, general) = ("the default endpoint", Self.defaultEndpoint, true)
    }
    guard let parsed = Self.parse(url) else {
      throw Problem(description: "\(source) \(url): expected http://HOST[:PORT][/PATH] (no TLS: push to a collector on this host)")
    }
    (host, port) = (parsed.host, parsed.port)
    path = general ? (parsed.path.hasSuffix("/") ? parsed.path : parsed.path + "/") + "v1/metrics" : (parsed.path.isEmpty ? "/" : parsed.path)
    headers = []
    if let (name, value) = variable("HEADERS") { headers = try Self.pairs(value, name) }
    timeoutMilliseconds = 10_000
    if let (name, value) = variable("TIMEOUT") { timeoutMilliseconds = try Self.milliseconds(value, name) }
    intervalMilliseconds = 60_000
    if let intervalFlag {
      intervalMilliseconds = intervalFlag
    } else if let value = environment["OTEL_METRIC_EXPORT_INTERVAL"] {
      intervalMilliseconds = try Self.milliseconds(value, "OTEL_METRIC_EXPORT_INTERVAL")
    }
    var resource = [Header(key: "service.name", value: environment["OTEL_SERVICE_NAME"].flatMap { $0.isEmpty ? nil : $0 } ?? "bpfsyscalldist")]
    resource.append(Header(key: "host.name", value: hostName))
    var attributes: [Header] = []
    if let value = environment["OTEL_RESOURCE_ATTRIBUTES"] { attributes = try Self.pairs(value, "OTEL_RESOURCE_ATTRIBUTES") }
    for pair in attributes {
      // OTEL_SERVICE_NAME wins over a service.name among the attributes
      if pair.key == "service.name", environment["OTEL_SERVICE_NAME"]?.isEmpty == false { continue }
      resource.removeAll { $0.key == pair.key }
      resource.append(pair)
    }
    self.resource = resource
  }

  /// `http://host[:port][/path]`; an IPv6 host in brackets.
  static func parse(_ url: String) -> (host: String, port: Int, path: String)? {
    guard url.hasPrefix("http://") else { return nil }
    let rest = url.dropFirst("http://".count)
    let authority = rest.prefix { $0 != "/" }
    let path = String(rest.dropFirst(authority.count))
    var host = Substring(authority), port = 80
    if authority.hasPrefix("[") {
      guard let close = authority.firstIndex(of: "]") else { return nil }
      host = authority[authority.index(after: authority.startIndex)..<close]
      let after = authority[authority.index(after: close)...]
      if !after.isEmpty {
        guard after.first == ":", let number = Int(after.dropFirst()) else { return nil }
        port = number
      }
    } else if let colon = authority.lastIndex(of: ":") {
      guard let number = Int(authority[authority.index(after: colon)...]) else { return nil }
      (host, port) = (authority[..<colon], number)
    }
    guard !host.isEmpty, (1...65535).contains(port), !path.contains(where: { $0 == " " || $0 == "?" || $0 == "#" }) else { return nil }
    return (String(host), port, path)
  }

  /// `key1=value1,key2=value2`, each part percent-decoded (the W3C baggage form the spec uses).
  static func pairs(_ text: String, _ name: String) throws(Problem) -> [Header] {
    var pairs: [Header] = []
    for part in text.split(separator: ",") {
      let fields = part.split(separator: "=", maxSplits: 1)
      guard fields.count == 2, let key = decoded(fields[0]), let value = decoded(fields[1]), !key.isEmpty else {
        throw Problem(description: "\(name): '\(part)' is not KEY=VALUE (a list of them, comma-separated, percent-encoded)")
      }
      pairs.append(Header(key: key, value: value))
    }
    return pairs
  }

  static func decoded(_ text: Substring) -> String? {
    var bytes: [UInt8] = []
    var index = text.utf8.startIndex
    let utf8 = text.utf8
    while index < utf8.endIndex {
      let byte = utf8[index]
      if byte == UInt8(ascii: "%") {
        let high = utf8.index(after: index)
        guard high < utf8.endIndex, utf8.index(after: high) < utf8.endIndex,
          let value = UInt8(String(decoding: utf8[high...utf8.index(after: high)], as: UTF8.self), radix: 16)
        else { return nil }
        bytes.append(value)
        index = utf8.index(high, offsetBy: 2)
      } else {
        bytes.append(byte)
        index = utf8.index(after: index)
      }
    }
    return String(validating: bytes, as: UTF8.self).map { $0.trimmingWhitespace }
  }

  static func milliseconds(_ text: String, _ name: String) throws(Problem) -> Int {
    guard let value = Int(text), value > 0, value <= 86_400_000 else {
      throw Problem(description: "\(name)=\(text): expected a whole number of milliseconds, from 1 to 86400000")
    }
    return value
  }
}

extension String {
  fileprivate var trimmingWhitespace: String {
    String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
  }
}

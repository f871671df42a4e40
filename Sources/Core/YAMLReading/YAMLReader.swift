/// Every problem of one YAML file, each with its place and the line it is on.
public struct DiagnosticLog {
  public let file: String
  let lines: [Substring]
  public var diagnostics: [Diagnostic] = []

  public init(file: String, text: String) {
    self.file = file
    self.lines = text.split(separator: "\n", omittingEmptySubsequences: false)
  }

  public mutating func error(_ message: String, at location: SourceLocation) {
    let line = location.line - 1
    let source = lines.indices.contains(line) ? String(lines[line]) : nil
    diagnostics.append(Diagnostic(file: file, location: location, message: message, sourceLine: source))
  }

  /// The file's YAML tree, or its syntax error, in libyaml's words except where a plainer cause
  /// is known: a tab where indentation goes.
  public mutating func parse(_ text: String) throws(ProfileError) -> YAMLNode {
    do {
      return try YAMLNode.parse(text)
    } catch {
      let line = error.location.line - 1
      let column = error.location.column - 1
      if lines.indices.contains(line), lines[line].utf8.count > column,
        lines[line].utf8[lines[line].utf8.index(lines[line].utf8.startIndex, offsetBy: column)] == UInt8(ascii: "\t")
      {
        self.error("YAML syntax: a tab cannot indent YAML; use spaces", at: error.location)
      } else {
        self.error(error.message, at: error.location)
      }
      throw ProfileError(diagnostics)
    }
  }
}

/// A walk over a YAML file that reports every problem of it: profiles, the serve config.
public protocol YAMLReader {
  var log: DiagnosticLog { get set }
}

/// Typed access to YAML values: each records what is wrong where, and returns nil, so that one
/// walk reports every error of a file.
extension YAMLReader {
  public mutating func error(_ message: String, at location: SourceLocation) {
    log.error(message, at: location)
  }

  /// The fields of a mapping, after checking that every key is allowed, none repeats and the
  /// required ones are there. Nil when `node` is not a mapping.
  public mutating func fields(
    of node: YAMLNode, in context: String, allowed: [String], required: [String]
  ) -> [String: YAMLNode]? {
    guard case .mapping(let pairs, let location) = node else {
      error("\(context) must be a mapping, found \(node.kindName)", at: node.location)
      return nil
    }
    var result: [String: YAMLNode] = [:]
    for (keyNode, value) in pairs {
      guard case .scalar(let key, _, let keyLocation) = keyNode else {
        error("keys in \(context) must be plain names", at: keyNode.location)
        continue
      }
      guard allowed.contains(key) else {
        error(
          "unknown key '\(key)' in \(context); expected one of: \(allowed.joined(separator: ", "))",
          at: keyLocation)
        continue
      }
      if result[key] != nil {
        error("'\(key)' appears twice in \(context)", at: keyLocation)
      }
      result[key] = value
    }
    for key in required where result[key] == nil {
      error("\(context) is missing '\(key)'", at: location)
    }
    return result
  }

  public mutating func string(_ node: YAMLNode, _ what: String) -> String? {
    guard case .scalar(let text, _, _) = node else {
      error("\(what) must be a string, found \(node.kindName)", at: node.location)
      return nil
    }
    return text
  }

  public mutating func integer(_ node: YAMLNode, _ what: String) -> Int64? {
    guard case .scalar(let text, let quoted, _) = node, !quoted else {
      error("\(what) must be a number, found \(node.kindName == "a scalar" ? "a string" : node.kindName)", at: node.location)
      return nil
    }
    let digits = text.hasPrefix("-") ? text.dropFirst() : text[...]
    let magnitude =
      digits.hasPrefix("0x") ? UInt64(digits.dropFirst(2), radix: 16) : UInt64(digits, radix: 10)
    guard let magnitude, magnitude <= UInt64(Int64.max) else {
      error("\(what) must be a whole number, found '\(text)'", at: node.location)
      return nil
    }
    return text.hasPrefix("-") ? -Int64(magnitude) : Int64(magnitude)
  }

  public mutating func boolean(_ node: YAMLNode, _ what: String) -> Bool? {
    if case .scalar(let text, false, _) = node {
      if text == "true" { return true }
      if text == "false" { return false }
    }
    error("\(what) must be true or false", at: node.location)
    return nil
  }
}

import CYAML

/// A YAML value with the place it was written, from libyaml's document API.
public indirect enum YAMLNode {
  case scalar(String, quoted: Bool, SourceLocation)
  case mapping([(key: YAMLNode, value: YAMLNode)], SourceLocation)
  case sequence([YAMLNode], SourceLocation)

  public var location: SourceLocation {
    switch self {
    case .scalar(_, _, let location), .mapping(_, let location), .sequence(_, let location):
      return location
    }
  }

  /// What a value is, for "expected a mapping, found a sequence".
  public var kindName: String {
    switch self {
    case .scalar: return "a scalar"
    case .mapping: return "a mapping"
    case .sequence: return "a sequence"
    }
  }

  /// A syntax error: libyaml's own words and position.
  public struct SyntaxError: Error {
    public var message: String
    public var location: SourceLocation
  }

  /// Parses the first document of `text`; an empty file is an empty mapping at 1:1.
  public static func parse(_ text: String) throws(SyntaxError) -> YAMLNode {
    var parser = yaml_parser_t()
    guard yaml_parser_initialize(&parser) == 1 else {
      throw SyntaxError(message: "cannot start the YAML parser", location: .init(line: 1, column: 1))
    }
    defer { yaml_parser_delete(&parser) }
    let bytes = Array(text.utf8)
    if let alias = firstAlias(in: bytes) {
      throw SyntaxError(
        message: "YAML aliases (*name) are not allowed in profiles; write the value out", location: alias)
    }
    var document = yaml_document_t()
    let loaded = bytes.withUnsafeBufferPointer { buffer -> Int32 in
      yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
      return yaml_parser_load(&parser, &document)
    }
    guard loaded == 1 else {
      let problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
      let context = parser.context.map { String(cString: $0) + ": " } ?? ""
      let mark = parser.problem_mark
      throw SyntaxError(
        message: "YAML syntax: \(context)\(problem)",
        location: .init(line: Int(mark.line) + 1, column: Int(mark.column) + 1))
    }
    defer { yaml_document_delete(&document) }
    guard let root = yaml_document_get_root_node(&document) else {
      return .mapping([], .init(line: 1, column: 1))
    }
    return convert(root, in: &document)
  }

  /// Where the first alias is: the document loader would share its node, but a walk of the tree
  /// expands it, and nine nested aliases ("billion laughs") make a billion nodes.
  private static func firstAlias(in bytes: [UInt8]) -> SourceLocation? {
    var parser = yaml_parser_t()
    guard yaml_parser_initialize(&parser) == 1 else { return nil }
    defer { yaml_parser_delete(&parser) }
    return bytes.withUnsafeBufferPointer { buffer -> SourceLocation? in
      yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
      var event = yaml_event_t()
      while yaml_parser_parse(&parser, &event) == 1 {
        defer { yaml_event_delete(&event) }
        if event.type == YAML_ALIAS_EVENT {
          return SourceLocation(line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1)
        }
        if event.type == YAML_STREAM_END_EVENT { return nil }
      }
      return nil  // a syntax error: the loader reports it
    }
  }

  private static func convert(
    _ node: UnsafeMutablePointer<yaml_node_t>, in document: inout yaml_document_t
  ) -> YAMLNode {
    let mark = node.pointee.start_mark
    let location = SourceLocation(line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    switch node.pointee.type {
    case YAML_SCALAR_NODE:
      let scalar = node.pointee.data.scalar
      let buffer = UnsafeBufferPointer(start: scalar.value, count: Int(scalar.length))
      let quoted = scalar.style != YAML_PLAIN_SCALAR_STYLE && scalar.style != YAML_ANY_SCALAR_STYLE
      return .scalar(String(decoding: buffer, as: UTF8.self), quoted: quoted, location)
    case YAML_SEQUENCE_NODE:
      var items: [YAMLNode] = []
      var item = node.pointee.data.sequence.items.start
      while let current = item, current != node.pointee.data.sequence.items.top {
        if let child = yaml_document_get_node(&document, current.pointee) {
          items.append(convert(child, in: &document))
        }
        item = current + 1
      }
      return .sequence(items, location)
    case YAML_MAPPING_NODE:
      var pairs: [(key: YAMLNode, value: YAMLNode)] = []
      var pair = node.pointee.data.mapping.pairs.start
      while let current = pair, current != node.pointee.data.mapping.pairs.top {
        if let key = yaml_document_get_node(&document, current.pointee.key),
          let value = yaml_document_get_node(&document, current.pointee.value)
        {
          pairs.append((convert(key, in: &document), convert(value, in: &document)))
        }
        pair = current + 1
      }
      return .mapping(pairs, location)
    default:
      return .mapping([], location)
    }
  }
}

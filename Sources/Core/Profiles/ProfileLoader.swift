import Histograms
import YAMLReading

/// Enums and struct layouts of the running kernel's BTF. The BPF layer provides the real one;
/// tests pass tables.
public protocol EnumSource: Sendable {
  /// The enumerators of `name` by value (the first name of a value), nil if there is no such enum.
  func enumerators(of name: String) -> [UInt64: String]?
  /// The size of `struct name` or `union name` and its fields' offsets and sizes (those of
  /// anonymous members too); nil if there is neither.
  func typeLayout(of name: String) -> TypeLayout?
}

/// A struct or union as the kernel lays it out, for a key part's `read: {type: ..., field: ...}`.
public struct TypeLayout: Equatable, Sendable {
  public var size: Int
  public var fields: [String: (offset: Int, size: Int)]

  public init(size: Int, fields: [String: (offset: Int, size: Int)]) {
    self.size = size
    self.fields = fields
  }

  public static func == (a: TypeLayout, b: TypeLayout) -> Bool {
    a.size == b.size && a.fields.mapValues { [$0.offset, $0.size] } == b.fields.mapValues { [$0.offset, $0.size] }
  }
}

/// Turns profile text into a `Profile`, or every problem in it, each with its place.
public struct ProfileLoader: Sendable {
  /// Checks `btf_enum` names; nil skips the check (the tracer still resolves them at run time).
  public var enumSource: (any EnumSource)?

  public init(enumSource: (any EnumSource)?) {
    self.enumSource = enumSource
  }

  public func load(text: String, file: String) throws(ProfileError) -> Profile {
    var builder = ProfileBuilder(log: DiagnosticLog(file: file, text: text), enumSource: enumSource)
    let root = try builder.log.parse(text)
    let profile = builder.profile(from: root)
    guard let profile, builder.log.diagnostics.isEmpty else {
      throw ProfileError(builder.log.diagnostics)
    }
    return profile
  }
}

/// Builds a `Profile` from the YAML tree in one walk, collecting every diagnostic instead of
/// stopping at the first.
struct ProfileBuilder: YAMLReader {
  var log: DiagnosticLog
  let enumSource: (any EnumSource)?

  // MARK: - The schema

  /// Metric labels the tool itself writes beside the key's, or that Prometheus gives a meaning.
  static let reservedLabels = [
    "le": "it is the label of histogram buckets",
    "quantile": "it is the label of Prometheus summaries",
    "errno": "it is the label the tool gives failed calls",
    "state": "it is the label of the time split's states (--off-cpu)",
    "kind": "it is the label of the lock waits' kinds (--off-cpu)",
  ]

  mutating func profile(from root: YAMLNode) -> Profile? {
    guard
      let top = fields(
        of: root, in: "the profile",
        allowed: ["version", "name", "description", "probe", "key", "histogram", "title", "slower_than", "off_cpu"],
        required: ["version", "name", "probe"])
    else { return nil }

    if let version = top["version"] {
      if let number = integer(version, "'version'"), number != 1 {
        error("unsupported profile version \(number); this bpfsyscalldist reads version 1", at: version.location)
      }
    }
    var name: String?
    if let node = top["name"], let value = string(node, "'name'") {
      if value.isEmpty || !value.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) {
        error("'name' may hold only letters, digits, '-', '_' and '.'", at: node.location)
      } else {
        name = value
      }
    }
    let description = top["description"].flatMap { string($0, "'description'") } ?? ""
    let target = top["probe"].flatMap { probe($0) }
    let key = key(top["key"], target: target)
    let (layout, unit) = histogram(top["histogram"])
    let exported = exportRange(top["histogram"])
    var title = "\(key?.label ?? "key")({key})"
    if let parts = key?.parts, !parts.isEmpty { title = parts.map { "\($0.label)({\($0.label)})" }.joined(separator: " ") }
    if let node = top["title"], let value = string(node, "'title'") {
      checkPlaceholders(value, parts: key?.parts ?? [], at: node.location)
      title = value
    }
    var slowerThan: UInt64?
    if let node = top["slower_than"], let text = string(node, "'slower_than'") {
      slowerThan = TimeUnit.nanoseconds(parsing: text)
      if slowerThan == nil {
        error("'slower_than' must be a duration with its unit: ns, us, ms or s (e.g. 10ms)", at: node.location)
      }
    }
    let offCPU = top["off_cpu"].flatMap { boolean($0, "'off_cpu'") } ?? false
    guard let name, let target, let key, let layout, let unit else { return nil }
    var profile = Profile(
      name: name, description: description, target: target, keySource: key.source,
      keyLabel: key.label, decoding: key.decoding, layout: layout, unit: unit, title: title)
    profile.keyParts = key.parts
    profile.slowerThanNanoseconds = slowerThan
    profile.offCPU = offCPU
    profile.exportRange = exported
    return profile
  }

  mutating func probe(_ node: YAMLNode) -> Profile.Target? {
    guard
      let probe = fields(
        of: node, in: "'probe'", allowed: ["syscall", "syscalls", "kernel_function"], required: [])
    else { return nil }
    guard probe.count == 1, let (field, value) = probe.first else {
      error(
        "'probe' needs exactly one of 'syscall: NAME', 'syscalls: all' or 'kernel_function: NAME'",
        at: node.location)
      return nil
    }
    guard let text = string(value, "'probe.\(field)'") else { return nil }
    switch field {
    case "syscall":
      guard let number = UAPINames.syscallNumbers[text] else {
        let hint = UAPINames.suggestion(forSyscall: text).map { " (did you mean '\($0)'?)" } ?? ""
        error("unknown syscall '\(text)'\(hint)", at: value.location)
        return nil
      }
      return .syscall(name: text, number: number)
    case "syscalls":
      guard text == "all" else {
        error("'syscalls' takes only 'all' (for one syscall, write 'syscall: NAME')", at: value.location)
        return nil
      }
      return .allSyscalls
    default:
      let identifier = text.first.map { $0.isLetter || $0 == "_" } == true
        && text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }
      guard identifier else {
        error("'\(text)' is not a kernel function name", at: value.location)
        return nil
      }
      return .kernelFunction(text)
    }
  }

  mutating func histogram(_ node: YAMLNode?) -> (BucketLayout?, TimeUnit?) {
    guard let node else { return (.log2, .us) }
    guard
      let histogram = fields(
        of: node, in: "'histogram'", allowed: ["buckets", "unit", "linear", "log2-linear", "schema", "export"],
        required: [])
    else { return (nil, nil) }
    var unit: TimeUnit? = .us
    if let unitNode = histogram["unit"], let text = string(unitNode, "'unit'") {
      unit = TimeUnit(rawValue: text)
      if unit == nil {
        error("unknown unit '\(text)'; expected one of: ns, us, ms, s", at: unitNode.location)
      }
    }
    var kind = BucketLayout.Kind.log2
    if let bucketsNode = histogram["buckets"], let text = string(bucketsNode, "'buckets'") {
      guard let named = BucketLayout.Kind(rawValue: text) else {
        let kinds = BucketLayout.Kind.allCases.map(\.rawValue).joined(separator: ", ")
        error("unknown bucket kind '\(text)'; expected one of: \(kinds)", at: bucketsNode.location)
        return (nil, unit)
      }
      kind = named
    }
    for settings in [BucketLayout.Kind.linear, .log2Linear] {
      if let extra = histogram[settings.rawValue], kind != settings {
        error(
          "'\(settings.rawValue)' settings need 'buckets: \(settings.rawValue)' (buckets are \(kind.rawValue))",
          at: extra.location)
      }
    }
    if let schemaNode = histogram["schema"], kind != .exponential {
      error("'schema' needs 'buckets: exponential' (buckets are \(kind.rawValue))", at: schemaNode.location)
    }
    switch kind {
    case .exponential:
      guard let schemaNode = histogram["schema"] else { return (.exponential(schema: ExponentialScale.defaultSchema), unit) }
      guard let schema = integer(schemaNode, "'schema'").map(Int.init) else { return (nil, unit) }
      guard ExponentialScale.schemas.contains(schema) else {
        error("'schema' must be from -4 to 8 (got \(schema)); 3 puts any value within 4.4% of its bucket's middle", at: schemaNode.location)
        return (nil, unit)
      }
      return (.exponential(schema: schema), unit)
    case .linear:
      guard let linearNode = histogram["linear"] else {
        error("'buckets: linear' needs 'linear: {min: ..., max: ..., step: ...}'", at: node.location)
        return (nil, unit)
      }
      return (linear(linearNode), unit)
    case .log2Linear:
      var bits: UInt32 = 2
      if let settings = histogram["log2-linear"] {
        guard let fields = fields(of: settings, in: "'log2-linear'", allowed: ["sub_buckets"], required: []) else {
          return (nil, unit)
        }
        if let subNode = fields["sub_buckets"], let sub = integer(subNode, "'sub_buckets'") {
          guard let choice = BucketLayout.subBucketChoices.firstIndex(of: UInt32(clamping: max(0, sub))) else {
            error("'sub_buckets' must be one of 1, 2, 4, 8, 16 (got \(sub))", at: subNode.location)
            return (nil, unit)
          }
          bits = UInt32(choice)
        }
      }
      return (.log2Linear(subBucketBits: bits), unit)
    case .log2:
      return (.log2, unit)
    }
  }

  /// `histogram: {export: {min: 1us, max: 10s}}`: the bucket bounds exported to Prometheus, in
  /// seconds (smaller ones fold into the first, larger ones into +Inf).
  mutating func exportRange(_ histogramNode: YAMLNode?) -> ClosedRange<Double>? {
    guard case .mapping(let pairs, _)? = histogramNode,
      let node = pairs.first(where: { if case .scalar("export", _, _) = $0.key { return true } else { return false } })?.value,
      let export = fields(of: node, in: "'export'", allowed: ["min", "max"], required: [])
    else { return nil }
    var bounds: [Double] = []
    for (field, fallback) in [("min", 0.0), ("max", Double.infinity)] {
      guard let valueNode = export[field] else {
        bounds.append(fallback)
        continue
      }
      guard let text = string(valueNode, "'export.\(field)'"), let ns = TimeUnit.nanoseconds(parsing: text), ns > 0 else {
        error("'export.\(field)' must be a duration with its unit: ns, us, ms or s (e.g. 10s)", at: valueNode.location)
        return nil
      }
      bounds.append(Double(ns) / 1e9)
    }
    guard bounds[0] < bounds[1] else {
      error("'export.min' must be below 'export.max'", at: node.location)
      return nil
    }
    return bounds[0]...bounds[1]
  }

  mutating func linear(_ node: YAMLNode) -> BucketLayout? {
    guard
      let linear = fields(
        of: node, in: "'linear'", allowed: ["min", "max", "step"], required: ["max", "step"])
    else { return nil }
    let minimum = linear["min"].map { integer($0, "'min'") } ?? 0
    let maximum = linear["max"].flatMap { integer($0, "'max'") }
    let step = linear["step"].flatMap { integer($0, "'step'") }
    guard let minimum, let maximum, let step else { return nil }
    var valid = true
    if minimum < 0 {
      error("'min' must not be negative", at: linear["min"]!.location)
      valid = false
    }
    if step <= 0 {
      error("'step' must be greater than 0", at: linear["step"]!.location)
      valid = false
    }
    if maximum <= minimum {
      error("'max' (\(maximum)) must be greater than 'min' (\(minimum))", at: linear["max"]!.location)
      valid = false
    }
    guard valid else { return nil }
    if (maximum - minimum) % step != 0 {
      error("'max' - 'min' (\(maximum - minimum)) must be a multiple of 'step' (\(step))", at: linear["max"]!.location)
      return nil
    }
    let layout = BucketLayout.linear(min: UInt64(minimum), max: UInt64(maximum), step: UInt64(step))
    if layout.slotCount > BucketLayout.maxSlots {
      error(
        "\(layout.slotCount - 2) linear buckets are too many; at most \(BucketLayout.maxSlots - 2) (raise 'step')",
        at: linear["step"]!.location)
      return nil
    }
    return layout
  }

  mutating func checkPlaceholders(_ title: String, parts: [KeyPart], at location: SourceLocation) {
    var rest = title[...]
    while let open = rest.firstIndex(of: "{") {
      guard let close = rest[open...].firstIndex(of: "}") else {
        error("'title' has an unclosed '{'", at: location)
        return
      }
      let name = rest[rest.index(after: open)..<close]
      let partLabels = parts.map(\.label)
      if !(["key", "raw", "label"] + partLabels).contains(String(name)) {
        let names = (["key", "raw", "label"] + partLabels).map { "{\($0)}" }
        let choices = names.dropLast().joined(separator: ", ") + " or " + names.last!
        error("'title' has unknown placeholder '{\(name)}'; use \(choices)", at: location)
      }
      rest = rest[rest.index(after: close)...]
    }
  }
}

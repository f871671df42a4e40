import YAMLReading

/// `key:`: one source (a mapping), or a list of up to `KeyPart.maxParts` parts counted as one key.
extension ProfileBuilder {
  struct Key {
    var source: Profile.KeySource
    var label: String
    var decoding: Profile.Decoding
    /// A key of parts: then `source` is `none` and `label` the parts' labels joined by `_`.
    var parts: [KeyPart] = []
  }

  mutating func key(_ node: YAMLNode?, target: Profile.Target?) -> Key? {
    guard let node else { return Key(source: .none, label: "key", decoding: .init()) }
    if case .sequence(let items, let location) = node { return key(ofParts: items, at: location, target: target) }
    guard let part = keyPart(node, target: target, earlier: []) else { return nil }
    if part.read == nil && !part.fd && part.condition == nil {
      return Key(source: part.source, label: part.label, decoding: part.decoding)
    }
    return key(of: [part], target: target, at: node.location)
  }

  private mutating func key(ofParts items: [YAMLNode], at location: SourceLocation, target: Profile.Target?) -> Key? {
    guard !items.isEmpty else {
      error("'key' lists no parts; give one or more, each with a 'source'", at: location)
      return nil
    }
    if items.count > KeyPart.maxParts {
      error("a key has at most \(KeyPart.maxParts) parts (this one has \(items.count))", at: items[KeyPart.maxParts].location)
      return nil
    }
    var parts: [KeyPart] = []
    for item in items {
      guard let part = keyPart(item, target: target, earlier: parts) else { return nil }
      if ["key", "raw", "label"].contains(part.label) {
        error("a key part cannot be labelled '\(part.label)': {\(part.label)} in a title is the whole key's", at: item.location)
        return nil
      }
      if parts.contains(where: { $0.label == part.label }) {
        error("two key parts are labelled '\(part.label)': give each its own 'label'", at: item.location)
        return nil
      }
      parts.append(part)
    }
    return key(of: parts, target: target, at: location)
  }

  private mutating func key(of parts: [KeyPart], target: Profile.Target?, at location: SourceLocation) -> Key? {
    let words = parts.map(\.words).reduce(0, +)
    if words > KeyPart.maxWords {
      error(
        "the key's parts take \(words) words of \(KeyPart.maxWords) (a comm takes 2, an fd 3, any other 1): drop a part",
        at: location)
      return nil
    }
    if parts.filter(\.fd).count > KeyPart.maxFDParts {
      error("a key names at most \(KeyPart.maxFDParts) fds", at: location)
      return nil
    }
    return Key(source: .none, label: parts.map(\.label).joined(separator: "_"), decoding: .init(), parts: parts)
  }

  /// One part: `source`, `label`, `decode`, and for an argument `read` and `when`.
  private mutating func keyPart(_ node: YAMLNode, target: Profile.Target?, earlier: [KeyPart]) -> KeyPart? {
    guard
      let key = fields(
        of: node, in: "'key'", allowed: ["source", "label", "decode", "read", "when"], required: ["source"]),
      let sourceNode = key["source"], let sourceName = string(sourceNode, "'key.source'")
    else { return nil }
    guard let source = Profile.KeySource.byName.first(where: { $0.key == sourceName })?.value else {
      let names = Profile.KeySource.byName.map(\.key).joined(separator: ", ")
      error("unknown key source '\(sourceName)'; expected one of: \(names)", at: sourceNode.location)
      return nil
    }
    if source == .syscall, case .kernelFunction = target {
      error("key source 'syscall' needs a syscall probe, not a kernel function", at: sourceNode.location)
    }
    var label = sourceName
    if let labelNode = key["label"], let text = string(labelNode, "'key.label'") {
      if text.isEmpty || !text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
        || text.first!.isNumber
      {
        error("'key.label' must be a name of letters, digits and '_' (it becomes a metric label)", at: labelNode.location)
      } else if let reason = Self.reservedLabels[text] ?? (text.hasPrefix("__") ? "reserved by Prometheus" : nil) {
        error("'key.label' cannot be '\(text)': \(reason); pick another name", at: labelNode.location)
      } else {
        label = text
      }
    }
    var part = KeyPart(source: source, label: label)
    if let readNode = key["read"] {
      guard case .argument = source else {
        error("'read' follows a pointer argument: it needs 'source: arg0' to 'arg5'", at: readNode.location)
        return nil
      }
      guard let read = userRead(readNode) else { return nil }
      part.read = read
    }
    var errno = false
    if let decodeNode = key["decode"] {
      guard let decoded = decode(decodeNode, source: source, sourceName: sourceName, read: part.read) else { return nil }
      (part.decoding, errno, part.fd) = decoded
    }
    if errno { part.source = .errno }
    if target == .allSyscalls, part.read != nil || part.fd, let node = key["read"] ?? key["decode"] {
      error("every syscall's arguments differ: 'read' and 'fd' need one syscall ('probe: {syscall: NAME}')", at: node.location)
      return nil
    }
    if let whenNode = key["when"] {
      guard let condition = condition(whenNode, earlier: earlier) else { return nil }
      guard part.fd else {
        error("'when' is for a part that names an fd (a value of its own cannot say 'not read')", at: whenNode.location)
        return nil
      }
      part.condition = condition
    }
    return part
  }

  /// `read: {offset: N, size: S}` or `read: {type: T, field: F}` (the running kernel's BTF
  /// places the field); with `type`, a read past its end is refused.
  private mutating func userRead(_ node: YAMLNode) -> KeyPart.UserRead? {
    guard let read = fields(of: node, in: "'read'", allowed: ["type", "field", "offset", "size"], required: []) else {
      return nil
    }
    let typeName = read["type"].flatMap { string($0, "'read.type'") }
    var layout: TypeLayout?
    if let typeName, let typeNode = read["type"], let enumSource {
      layout = enumSource.typeLayout(of: typeName)
      if layout == nil {
        error("the running kernel's BTF has no struct or union '\(typeName)'", at: typeNode.location)
        return nil
      }
    }
    if let fieldNode = read["field"], let field = string(fieldNode, "'read.field'") {
      guard typeName != nil, read["offset"] == nil, read["size"] == nil else {
        error("'read.field' needs 'read.type', and takes the place of 'offset' and 'size'", at: fieldNode.location)
        return nil
      }
      guard let layout else {
        error("'read.field' needs the running kernel's BTF to place it: give 'offset' and 'size'", at: fieldNode.location)
        return nil
      }
      guard let place = layout.fields[field] else {
        error("'\(typeName!)' has no field '\(field)'", at: fieldNode.location)
        return nil
      }
      guard [1, 2, 4, 8].contains(place.size) else {
        error("'\(field)' is \(place.size) bytes: a key part reads 1, 2, 4 or 8", at: fieldNode.location)
        return nil
      }
      return KeyPart.UserRead(offset: place.offset, size: place.size)
    }
    guard let offsetNode = read["offset"], let sizeNode = read["size"] else {
      error("'read' needs 'offset' and 'size', or 'type' and 'field'", at: node.location)
      return nil
    }
    guard let offset = integer(offsetNode, "'read.offset'"), let size = integer(sizeNode, "'read.size'") else { return nil }
    guard (0...(1 << 20)).contains(offset) else {
      error("'read.offset' must be from 0 to 1048576", at: offsetNode.location)
      return nil
    }
    guard [1, 2, 4, 8].contains(size) else {
      error("'read.size' must be 1, 2, 4 or 8 bytes", at: sizeNode.location)
      return nil
    }
    if let layout, Int(offset + size) > layout.size {
      error("'read' of \(size) bytes at \(offset) reads past '\(typeName!)' (\(layout.size) bytes)", at: node.location)
      return nil
    }
    return KeyPart.UserRead(offset: Int(offset), size: Int(size))
  }

  /// `when: {LABEL: [VALUE, ...]}`: an earlier part's label and the values (names it decodes to,
  /// or numbers below 64) for which this part is read.
  private mutating func condition(_ node: YAMLNode, earlier: [KeyPart]) -> KeyPart.Condition? {
    guard case .mapping(let pairs, _) = node, pairs.count == 1, let (labelNode, valuesNode) = pairs.first,
      let label = string(labelNode, "a 'when' label")
    else {
      error("'when' takes one earlier part's label and its values: {cmd: [BPF_MAP_LOOKUP_ELEM, ...]}", at: node.location)
      return nil
    }
    guard let index = earlier.firstIndex(where: { $0.label == label }), earlier[index].knownAtEntry,
      !earlier[index].fd
    else {
      error("'when' names '\(label)', which is no earlier argument or syscall part", at: labelNode.location)
      return nil
    }
    let items: [YAMLNode]
    if case .sequence(let list, _) = valuesNode { items = list } else { items = [valuesNode] }
    let decoding = earlier[index].decoding
    var byName: [String: UInt64] = [:]
    for (value, name) in decoding.names { byName[name] = value }
    if let name = decoding.btfEnum, let enumerators = enumSource?.enumerators(of: name) {
      for (value, enumerator) in enumerators { byName[enumerator] = value }
    }
    guard !items.isEmpty else {
      error("'when' lists no values of '\(label)': the part would never be read", at: valuesNode.location)
      return nil
    }
    var values: Set<UInt64> = []
    for item in items {
      guard let text = string(item, "a 'when' value") else { return nil }
      guard let value = byName[text] ?? UInt64(text), value < 64 else {
        error("'\(text)' is no value of '\(label)' below 64 (the ones 'when' can test)", at: item.location)
        return nil
      }
      values.insert(value)
    }
    return KeyPart.Condition(part: index, values: values)
  }

  /// The decoders; whether `errno: true` turns a return value into an errno; whether `fd: true`
  /// makes the part what its fd names.
  mutating func decode(
    _ node: YAMLNode, source: Profile.KeySource, sourceName: String, read: KeyPart.UserRead?
  ) -> (Profile.Decoding, errno: Bool, fd: Bool)? {
    guard
      let decode = fields(
        of: node, in: "'key.decode'", allowed: ["btf_enum", "map", "syscall_name", "errno", "fd"],
        required: [])
    else { return nil }
    var decoding = Profile.Decoding()
    if [.comm, .cgroup, .none].contains(source) || source.namesContainers {
      error("key source '\(sourceName)' cannot be decoded", at: node.location)
    }
    if let enumNode = decode["btf_enum"], let name = string(enumNode, "'btf_enum'") {
      if let enumSource, enumSource.enumerators(of: name) == nil {
        error("the running kernel's BTF has no enum '\(name)'", at: enumNode.location)
      }
      decoding.btfEnum = name
    }
    if let mapNode = decode["map"] {
      decoding.names = names(mapNode)
    }
    if let flag = decode["syscall_name"], let on = boolean(flag, "'syscall_name'") {
      decoding.syscallNames = on
    }
    var errno = false
    if let flag = decode["errno"], let on = boolean(flag, "'errno'") {
      if on && source != .retval {
        error("'errno' decodes return values: it needs 'source: retval'", at: flag.location)
      }
      errno = on
    }
    var fd = false
    if let flag = decode["fd"], let on = boolean(flag, "'fd'"), on {
      if case .argument = source {
        if let read, read.size != 4 {
          error("'fd' decodes an fd, an int of 4 bytes: this part reads \(read.size)", at: flag.location)
        }
      } else {
        error("'fd' decodes an fd argument (or one read through it): it needs 'source: arg0' to 'arg5'", at: flag.location)
      }
      if decode.count > 1 {
        error("'fd' names what the fd is: it takes no other decoder", at: flag.location)
      }
      fd = true
    }
    return (decoding, errno, fd)
  }

  mutating func names(_ node: YAMLNode) -> [UInt64: String] {
    guard case .mapping(let pairs, _) = node else {
      error("'map' must be a mapping of numbers to names, found \(node.kindName)", at: node.location)
      return [:]
    }
    var names: [UInt64: String] = [:]
    for (keyNode, valueNode) in pairs {
      guard let number = integer(keyNode, "a 'map' key"), let name = string(valueNode, "a 'map' name")
      else { continue }
      guard number >= 0 else {
        error("'map' keys are non-negative numbers", at: keyNode.location)
        continue
      }
      if names[UInt64(number)] != nil {
        error("'map' names \(number) twice", at: keyNode.location)
      }
      if name == Profile.overflowKeyName {
        error("'\(name)' is what serve names the keys past --max-series: pick another name", at: valueNode.location)
      }
      names[UInt64(number)] = name
    }
    return names
  }
}

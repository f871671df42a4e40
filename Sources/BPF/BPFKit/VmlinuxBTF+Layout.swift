extension VmlinuxBTF {
  /// A struct or union as the running kernel lays it out: its size and its fields' places, the
  /// fields of its anonymous members (`union bpf_attr`'s commands) among them.
  public struct Layout: Equatable, Sendable {
    public struct Field: Equatable, Sendable {
      public var offset: Int
      public var size: Int
    }

    public var size: Int
    /// By name; a name two anonymous members share is the first one's. Bit fields are left out.
    public var fields: [String: Field]
  }

  /// The layout of `struct name` or `union name`; nil if the kernel's BTF has neither.
  public func layout(of name: String) -> Layout? {
    guard let file = try? BTFFile(path, maps: maps) else { return nil }
    let names = stringOffsets(equalTo: name, in: file)
    guard !names.isEmpty else { return nil }
    var found: BTFType?
    let types = index(file) { type in
      if found == nil, type.kind == Kind.structure || type.kind == Kind.union, type.vlen > 0,
        names.contains(type.nameOffset)
      {
        found = type
      }
    }
    guard let found else { return nil }
    let resolved = types.resolved
    func size(of type: BTFType?, depth: Int = 0) -> Int {
      guard let type, depth < 8 else { return 0 }
      switch type.kind {
      case Kind.pointer: return 8
      case Kind.array:
        // struct btf_array { type, index_type, nelems }
        guard let element = file.u32(at: type.data), let count = file.u32(at: type.data + 8) else { return 0 }
        return size(of: resolved(element), depth: depth + 1) * Int(count)
      default: return Int(type.sizeOrType)  // INT, STRUCT, UNION, ENUM, ENUM64, FLOAT
      }
    }
    var fields: [String: Layout.Field] = [:]
    func add(_ aggregate: BTFType, at base: Int, depth: Int) {
      let bitfields = aggregate.info & (1 << 31) != 0
      for index in 0..<aggregate.vlen {
        // struct btf_member { name_off, type, offset }; with kind_flag, offset is size << 24 | bits
        let at = aggregate.data + index * 12
        guard let nameOffset = file.u32(at: at), let memberType = file.u32(at: at + 4),
          let bits = file.u32(at: at + 8)
        else { continue }
        let bitSize = bitfields ? bits >> 24 : 0
        let bitOffset = bitfields ? bits & 0xff_ffff : bits
        guard bitSize == 0, bitOffset % 8 == 0 else { continue }
        let member = resolved(memberType)
        let offset = base + Int(bitOffset / 8)
        if nameOffset == 0 {
          if let member, member.kind == Kind.structure || member.kind == Kind.union, depth < 8 {
            add(member, at: offset, depth: depth + 1)
          }
        } else if let memberName = string(at: Int(nameOffset), in: file), fields[memberName] == nil {
          fields[memberName] = Layout.Field(offset: offset, size: size(of: member))
        }
      }
    }
    add(found, at: 0, depth: 0)
    return Layout(size: Int(found.sizeOrType), fields: fields)
  }
}

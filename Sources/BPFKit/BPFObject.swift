import CLibbpf
@preconcurrency import Glibc

/// A BPF object opened from memory but not yet loaded: maps can be sized, read-only data
/// written and programs chosen. `load()` turns it into a `LoadedObject` (libbpf-rs's
/// `OpenObject` → `Object`); dropped unloaded, it is closed.
public final class OpenObject {
  fileprivate var pointer: OpaquePointer?
  /// libbpf keeps a pointer to the bytes until load: they live here until then.
  private let bytes: UnsafeMutableRawBufferPointer

  public init(bytes source: [UInt8], name: String) throws(BPFError) {
    bytes = .allocate(byteCount: source.count, alignment: 8)
    bytes.copyBytes(from: source)
    var options = bpf_object_open_opts()
    options.sz = MemoryLayout<bpf_object_open_opts>.size
    let opened = name.withCString { cName -> OpaquePointer? in
      options.object_name = cName
      return bpf_object__open_mem(bytes.baseAddress, bytes.count, &options)
    }
    do {
      pointer = try check("open BPF object '\(name)' from memory", opened)
    } catch {
      bytes.deallocate()
      throw error
    }
  }

  deinit {
    if let pointer { bpf_object__close(pointer) }
    bytes.deallocate()
  }

  /// Sets the number of entries of map `name` (before load).
  public func setMaxEntries(_ count: Int, ofMap name: String) throws(BPFError) {
    let map = try self.map(name)
    try check("set max_entries of map '\(name)' to \(count)", bpf_map__set_max_entries(map, UInt32(count)))
  }

  /// Sets the value size of map `name` (before load), for maps declared without a BTF value type.
  public func setValueSize(_ size: Int, ofMap name: String) throws(BPFError) {
    let map = try self.map(name)
    try check("set value_size of map '\(name)' to \(size)", bpf_map__set_value_size(map, UInt32(size)))
  }

  /// Overwrites the start of `.rodata` (the `const volatile` globals) with `value`'s bytes.
  public func writeReadOnlyData<T>(_ value: T) throws(BPFError) {
    let map = try self.map(".rodata")
    var size = 0
    let data = try check("read the initial value of .rodata", bpf_map__initial_value(map, &size))
    guard size == MemoryLayout<T>.size else {
      throw BPFError(
        ".rodata is \(size) bytes but the settings are \(MemoryLayout<T>.size): the object and the header disagree",
        .invalid)
    }
    // libbpf hands out the pre-load copy of the map's data, which is ours to write until load
    let writable = UnsafeMutableRawPointer(mutating: data)
    withUnsafeBytes(of: value) { writable.copyMemory(from: $0.baseAddress!, byteCount: size) }
  }

  /// Names of all programs in the object.
  public var programNames: [String] {
    var names: [String] = []
    var program = bpf_object__next_program(pointer, nil)
    while let current = program {
      names.append(String(cString: bpf_program__name(current)))
      program = bpf_object__next_program(pointer, current)
    }
    return names
  }

  /// Loads only the programs in `names`; the others stay in the object, unverified.
  public func setAutoload(only names: Set<String>) {
    var program = bpf_object__next_program(pointer, nil)
    while let current = program {
      bpf_program__set_autoload(current, names.contains(String(cString: bpf_program__name(current))))
      program = bpf_object__next_program(pointer, current)
    }
  }

  /// For fentry/fexit programs: the kernel function they trace.
  public func setAttachTarget(_ function: String, ofProgram name: String) throws(BPFError) {
    let program = try check(
      "find program '\(name)'", bpf_object__find_program_by_name(pointer, name))
    try check(
      "set attach target of '\(name)' to \(function)",
      bpf_program__set_attach_target(program, 0, function))
  }

  /// Verifies and loads the chosen programs and creates the maps.
  public func load() throws(BPFError) -> LoadedObject {
    try check("load BPF object", bpf_object__load(pointer))
    let loaded = LoadedObject(pointer: pointer!)
    pointer = nil
    return loaded
  }

  private func map(_ name: String) throws(BPFError) -> OpaquePointer {
    try check("find map '\(name)'", bpf_object__find_map_by_name(pointer, name))
  }
}

/// A loaded BPF object. It owns every map fd: the kernel empties a PROG_ARRAY when its last fd
/// closes, even while links use it, so this must outlive the links.
public final class LoadedObject {
  let pointer: OpaquePointer

  fileprivate init(pointer: OpaquePointer) {
    self.pointer = pointer
  }

  deinit {
    bpf_object__close(pointer)
  }

  public func map(_ name: String) throws(BPFError) -> Map {
    let map = try check("find map '\(name)'", bpf_object__find_map_by_name(pointer, name))
    let type = bpf_map__type(map)
    return Map(
      name: name, fd: bpf_map__fd(map), valueSize: Int(bpf_map__value_size(map)),
      keySize: Int(bpf_map__key_size(map)), maxEntries: Int(bpf_map__max_entries(map)),
      isPerCPU: [BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH].contains(type),
      owner: self)
  }

  public func program(_ name: String) throws(BPFError) -> Program {
    let program = try check("find program '\(name)'", bpf_object__find_program_by_name(pointer, name))
    return Program(name: name, pointer: program, owner: self)
  }
}

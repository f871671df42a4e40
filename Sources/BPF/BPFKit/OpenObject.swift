import CLibbpf
@preconcurrency import Glibc

/// A BPF object opened from memory but not yet loaded: maps can be sized, read-only data
/// written and programs chosen. `load()` consumes it and gives a `LoadedObject` (libbpf-rs's
/// `OpenObject` → `Object`); dropped unloaded, it is closed.
public struct OpenObject: ~Copyable {
  private let pointer: OpaquePointer
  /// libbpf reads the ELF bytes until load: they live as long as this.
  private let bytes: UnsafeMutableRawBufferPointer

  public init(bytes source: [UInt8], name: String) throws(BPFError) {
    let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: source.count, alignment: 8)
    bytes.copyBytes(from: source)
    var options = bpf_object_open_opts()
    options.sz = MemoryLayout<bpf_object_open_opts>.size
    let opened = name.withCString { cName -> OpaquePointer? in
      options.object_name = cName
      return bpf_object__open_mem(bytes.baseAddress, bytes.count, &options)
    }
    do {
      pointer = try check(.openObject(name), opened)
    } catch {
      bytes.deallocate()
      throw error
    }
    self.bytes = bytes
  }

  deinit {
    bpf_object__close(pointer)
    bytes.deallocate()
  }

  /// Sets the number of entries of map `name` (before load).
  public func setMaxEntries(_ count: Int, ofMap name: String) throws(BPFError) {
    try check(.setMaxEntries(map: name, count), bpf_map__set_max_entries(try map(name), UInt32(count)))
  }

  /// Sets the value size of map `name` (before load), for maps declared without a BTF value type.
  public func setValueSize(_ size: Int, ofMap name: String) throws(BPFError) {
    try check(.setValueSize(map: name, size), bpf_map__set_value_size(try map(name), UInt32(size)))
  }

  /// Sets the key size of map `name` (before load), for maps declared without a BTF key type.
  public func setKeySize(_ size: Int, ofMap name: String) throws(BPFError) {
    try check(.setKeySize(map: name, size), bpf_map__set_key_size(try map(name), UInt32(size)))
  }

  /// Sets the type of map `name` (before load): a map declared per-CPU may become a plain one.
  public func setType(_ type: MapType, ofMap name: String) throws(BPFError) {
    try check(.setType(map: name, type.kernelType.rawValue), bpf_map__set_type(try map(name), type.kernelType))
  }

  /// Sets `.rodata` (the `const volatile` globals) to `value`'s bytes, which must be all of it.
  public func setReadOnlyData<T>(_ value: T) throws(BPFError) {
    let map = try self.map(".rodata")
    let size = Int(bpf_map__value_size(map))
    guard size == MemoryLayout<T>.size else {
      throw BPFError(.setReadOnlyData(expected: MemoryLayout<T>.size, actual: size), .invalidArgument)
    }
    let result = withUnsafeBytes(of: value) { bpf_map__set_initial_value(map, $0.baseAddress, $0.count) }
    try check(.setInitialValue(map: ".rodata"), result)
  }

  /// Loads only the programs in `names`; the others stay in the object, unverified.
  public func setAutoload(only names: Set<String>) {
    for program in programs {
      bpf_program__set_autoload(program, names.contains(String(cString: bpf_program__name(program))))
    }
  }

  /// Whether the object has a map `name` (`.rodata` and `.bss` by the section they hold).
  public func hasMap(_ name: String) -> Bool {
    bpf_object__find_map_by_name(pointer, name) != nil
  }

  /// The names of the object's programs and maps, as the ELF file has them.
  public var programNames: [String] { programs.map { String(cString: bpf_program__name($0)) } }

  /// Each program's instructions as (opcode, immediate), for checks of what a kernel accepts.
  public var instructions: [String: [(code: UInt8, imm: Int32)]] {
    Dictionary(uniqueKeysWithValues: programs.map { program in
      let count = Int(bpf_program__insn_cnt(program))
      let insns = UnsafeBufferPointer(start: bpf_program__insns(program), count: count)
      return (String(cString: bpf_program__name(program)), insns.map { ($0.code, $0.imm) })
    })
  }
  public var mapNames: [String] { maps.map { String(cString: bpf_map__name($0)) } }

  /// libbpf's lists of the object's programs and maps, walked as sequences.
  private var programs: UnfoldSequence<OpaquePointer, OpaquePointer?> {
    let object = pointer
    return sequence(state: nil) { previous in
      previous = bpf_object__next_program(object, previous)
      return previous
    }
  }

  private var maps: UnfoldSequence<OpaquePointer, OpaquePointer?> {
    let object = pointer
    return sequence(state: nil) { previous in
      previous = bpf_object__next_map(object, previous)
      return previous
    }
  }

  /// For fentry/fexit programs: the kernel function they trace.
  public func setAttachTarget(_ function: String, ofProgram name: String) throws(BPFError) {
    let program = try check(.findProgram(name), bpf_object__find_program_by_name(pointer, name))
    try check(.setAttachTarget(program: name, function: function), bpf_program__set_attach_target(program, 0, function))
  }

  /// Verifies and loads the chosen programs and creates the maps.
  public consuming func load() throws(BPFError) -> LoadedObject {
    let pointer = self.pointer
    let bytes = self.bytes
    discard self
    defer { bytes.deallocate() }  // libbpf is done with the ELF bytes once load returns
    do {
      try check(.load, bpf_object__load(pointer))
    } catch {
      bpf_object__close(pointer)
      throw error
    }
    return LoadedObject(pointer: pointer)
  }

  private func map(_ name: String) throws(BPFError) -> OpaquePointer {
    try check(.findMap(name), bpf_object__find_map_by_name(pointer, name))
  }
}

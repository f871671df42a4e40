import CLibbpf
@preconcurrency import Glibc

/// A loaded BPF object. It owns every map fd: the kernel empties a PROG_ARRAY when its last fd
/// closes, even while links use it, so this must outlive the links.
public final class LoadedObject {
  let pointer: OpaquePointer

  init(pointer: OpaquePointer) {
    self.pointer = pointer
  }

  deinit {
    bpf_object__close(pointer)
  }

  public func map(_ name: String) throws(BPFError) -> Map {
    let map = try check(.findMap(name), bpf_object__find_map_by_name(pointer, name))
    let type = bpf_map__type(map)
    return Map(
      name: name, fd: bpf_map__fd(map), valueSize: Int(bpf_map__value_size(map)),
      keySize: Int(bpf_map__key_size(map)), maxEntries: Int(bpf_map__max_entries(map)),
      isPerCPU: [BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH].contains(type),
      owner: self)
  }

  public func program(_ name: String) throws(BPFError) -> Program {
    let program = try check(.findProgram(name), bpf_object__find_program_by_name(pointer, name))
    return Program(name: name, pointer: program, owner: self)
  }
}

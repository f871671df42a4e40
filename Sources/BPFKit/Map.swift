import CLibbpf
@preconcurrency import Glibc

/// A map of a loaded object; holds the object so the fd stays valid.
public struct Map {
  public let name: String
  public let fd: Int32
  public let valueSize: Int
  public let keySize: Int
  public let maxEntries: Int
  let owner: LoadedObject

  /// CPUs a per-CPU map keeps a value for (possible, not online, CPUs).
  public static var possibleCPUs: Int { Int(libbpf_num_possible_cpus()) }

  /// Stores a program fd at `index` of a PROG_ARRAY.
  public func setProgram(_ program: Program, at index: UInt32) throws(BPFError) {
    var key = index
    var value = program.fd
    try check(
      "put program '\(program.name)' into '\(name)'[\(index)]",
      bpf_map_update_elem(fd, &key, &value, UInt64(BPF_ANY)))
  }

  /// Every entry of a per-CPU array of `UInt64`: `result[entry * cpus + cpu]`, read in batches.
  public func perCPUArrayCounters() throws(BPFError) -> [UInt64] {
    let cpus = Self.possibleCPUs
    let raw = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: maxEntries * cpus)
    defer { raw.deallocate() }
    raw.initialize(repeating: 0)
    _ = try readAllInBatches(into: UnsafeMutableRawPointer(raw.baseAddress!), bytesPerEntry: 8 * cpus)
    return Array(raw)
  }

  /// Every entry of a per-CPU hash with `UInt64` values, keys as `Key`.
  public func perCPUHashCounters<Key>(keyType: Key.Type) throws(BPFError) -> [(key: Key, perCPU: [UInt64])] {
    precondition(MemoryLayout<Key>.size == keySize, "key type does not match map '\(name)'")
    let cpus = Self.possibleCPUs
    var result: [(Key, [UInt64])] = []
    var key = [UInt8](repeating: 0, count: keySize)
    var nextKey = [UInt8](repeating: 0, count: keySize)
    var values = [UInt64](repeating: 0, count: cpus)
    var first = true
    while true {
      let step = first
        ? bpf_map_get_next_key(fd, nil, &nextKey) : bpf_map_get_next_key(fd, &key, &nextKey)
      if step < 0 {
        if errno == ENOENT { break }
        throw BPFError("walk map '\(name)'", .current)
      }
      first = false
      key = nextKey
      if bpf_map_lookup_elem(fd, &key, &values) == 0 {
        let typed = key.withUnsafeBytes { $0.loadUnaligned(as: Key.self) }
        result.append((typed, values))
      }
    }
    return result
  }

  /// Every value of a plain array whose values are `Value`s.
  public func arrayValues<Value>(of type: Value.Type) throws(BPFError) -> [Value] {
    precondition(MemoryLayout<Value>.stride == valueSize, "value type does not match map '\(name)'")
    let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: maxEntries * valueSize, alignment: 8)
    defer { raw.deallocate() }
    let read = try readAllInBatches(into: raw.baseAddress!, bytesPerEntry: valueSize)
    return (0..<read).map { raw.loadUnaligned(fromByteOffset: $0 * valueSize, as: Value.self) }
  }

  /// Reads an array map's values with BPF_MAP_LOOKUP_BATCH; returns how many entries came.
  private func readAllInBatches(
    into values: UnsafeMutableRawPointer, bytesPerEntry: Int
  ) throws(BPFError) -> Int {
    var keys = [UInt32](repeating: 0, count: maxEntries)
    var options = bpf_map_batch_opts()
    options.sz = MemoryLayout<bpf_map_batch_opts>.size
    let cursor = UnsafeMutablePointer<UInt32>.allocate(capacity: 2)  // in_batch, out_batch
    defer { cursor.deallocate() }
    cursor.initialize(repeating: 0, count: 2)
    var done = 0
    while done < maxEntries {
      var count = UInt32(maxEntries - done)
      let result = keys.withUnsafeMutableBufferPointer { keyBuffer in
        bpf_map_lookup_batch(
          fd, done == 0 ? nil : cursor, cursor + 1, keyBuffer.baseAddress! + done,
          values + done * bytesPerEntry, &count, &options)
      }
      let failure = errno
      done += Int(count)
      cursor[0] = cursor[1]
      if result < 0 {
        if failure == ENOENT { break }  // read to the end
        throw BPFError("read map '\(name)' in batches", Errno(rawValue: failure))
      }
      if count == 0 { break }
    }
    return done
  }
}

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

  /// Calls `body` with each entry of a per-CPU array whose values are `UInt64` words:
  /// `words[cpu * wordsPerCPU + word]`. Reads `chunk` entries at a time.
  public func forEachPerCPUEntry(
    chunk: Int = 256, _ body: (_ index: Int, _ words: UnsafeBufferPointer<UInt64>) -> Void
  ) throws(BPFError) {
    let bytesPerEntry = Self.possibleCPUs * ((valueSize + 7) / 8 * 8)  // per CPU: rounded to 8
    try forEachEntry(chunk: chunk, bytesPerEntry: bytesPerEntry) { index, bytes in
      body(index, bytes.assumingMemoryBound(to: UInt64.self))
    }
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

  /// Calls `body` with every value of a plain array whose values are `Value`s, `chunk` entries
  /// at a time, so a large array (one slot per possible thread) is never all in memory.
  public func forEachArrayValue<Value>(
    of type: Value.Type, chunk: Int = 4096, _ body: (_ index: Int, _ value: Value) -> Void
  ) throws(BPFError) {
    precondition(MemoryLayout<Value>.stride == valueSize, "value type does not match map '\(name)'")
    try forEachEntry(chunk: chunk, bytesPerEntry: valueSize) { index, bytes in
      body(index, bytes.loadUnaligned(as: Value.self))
    }
  }

  private func forEachEntry(
    chunk: Int, bytesPerEntry: Int, _ body: (Int, UnsafeRawBufferPointer) -> Void
  ) throws(BPFError) {
    let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk * bytesPerEntry, alignment: 8)
    defer { raw.deallocate() }
    var start = 0
    while start < maxEntries {
      let count = min(chunk, maxEntries - start)
      let read = try readInBatches(from: start, count: count, into: raw.baseAddress!, bytesPerEntry: bytesPerEntry)
      for index in 0..<read {
        body(start + index, UnsafeRawBufferPointer(rebasing: raw[index * bytesPerEntry..<(index + 1) * bytesPerEntry]))
      }
      guard read == count else { return }
      start += count
    }
  }

  /// Reads `count` values of an array map from index `first` with BPF_MAP_LOOKUP_BATCH;
  /// returns how many came.
  private func readInBatches(
    from first: Int, count wanted: Int, into values: UnsafeMutableRawPointer, bytesPerEntry: Int
  ) throws(BPFError) -> Int {
    var keys = [UInt32](repeating: 0, count: wanted)
    var options = bpf_map_batch_opts()
    options.sz = MemoryLayout<bpf_map_batch_opts>.size
    let cursor = UnsafeMutablePointer<UInt32>.allocate(capacity: 2)  // in_batch, out_batch
    defer { cursor.deallocate() }
    // in_batch is the last key already read (the kernel continues after it), nil to start at 0
    cursor.initialize(repeating: UInt32(max(0, first - 1)), count: 2)
    var done = 0
    while done < wanted {
      var count = UInt32(wanted - done)
      let result = keys.withUnsafeMutableBufferPointer { keyBuffer in
        bpf_map_lookup_batch(
          fd, first == 0 && done == 0 ? nil : cursor, cursor + 1, keyBuffer.baseAddress! + done,
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

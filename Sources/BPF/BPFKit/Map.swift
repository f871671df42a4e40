import CLibbpf
import SystemPackage

@preconcurrency import Glibc

/// The map types a program's declaration may be changed to before load.
public enum MapType: Sendable {
  case array

  var kernelType: bpf_map_type {
    switch self {
    case .array: return BPF_MAP_TYPE_ARRAY
    }
  }
}

/// A map of a loaded object; holds the object so the fd stays valid.
public struct Map {
  public let name: String
  public let fd: Int32
  public let valueSize: Int
  public let keySize: Int
  public let maxEntries: Int
  /// A per-CPU map: each value is a copy per possible CPU.
  public let isPerCPU: Bool
  let owner: LoadedObject

  /// CPUs a per-CPU map keeps a value for (possible, not online, CPUs).
  public static var possibleCPUs: Int { Int(libbpf_num_possible_cpus()) }

  /// Stores a program fd at `index` of a PROG_ARRAY.
  public func setProgram(_ program: Program, at index: UInt32) throws(BPFError) {
    try store(program.fd, at: index)
  }

  /// Stores an fd (a cgroup directory's, for a CGROUP_ARRAY) at `index`; the map keeps what it
  /// refers to, so the fd may be closed afterwards.
  public func setFileDescriptor(_ descriptor: FileDescriptor, at index: UInt32) throws(BPFError) {
    try store(descriptor.rawValue, at: index)
  }

  private func store(_ descriptor: Int32, at index: UInt32) throws(BPFError) {
    var key = index
    var value = descriptor
    try check(.updateMap(name, index: index), bpf_map_update_elem(fd, &key, &value, UInt64(BPF_ANY)))
  }

  /// The bytes one entry's value takes in user space: per-CPU maps hold a copy per possible CPU,
  /// each rounded up to 8 bytes.
  public var bytesPerValue: Int {
    isPerCPU ? Self.possibleCPUs * ((valueSize + 7) / 8 * 8) : valueSize
  }

  /// Calls `body` with each entry in `range` of an array whose values are `UInt64` words (of a
  /// per-CPU array: `words[cpu * wordsPerCPU + word]`). Reads `chunk` entries at a time.
  public func forEachWordsEntry(
    in range: Range<Int>? = nil, chunk: Int = 256, _ body: (_ index: Int, _ words: UnsafeBufferPointer<UInt64>) -> Void
  ) throws(BPFError) {
    try forEachEntry(in: range ?? 0..<maxEntries, chunk: chunk, bytesPerEntry: bytesPerValue) { index, bytes in
      body(index, bytes.assumingMemoryBound(to: UInt64.self))
    }
  }

  /// Writes `bytes` (all of the entry: every CPU's copy for a per-CPU map) at `index` of an array.
  public func set(_ bytes: [UInt8], at index: UInt32) throws(BPFError) {
    precondition(bytes.count == bytesPerValue, "value does not fit map '\(name)'")
    var key = index
    let result = bytes.withUnsafeBytes { bpf_map_update_elem(fd, &key, $0.baseAddress, UInt64(BPF_ANY)) }
    try check(.updateMap(name, index: index), result)
  }

  /// The value at a 32-bit key as 64-bit words (a stack map's addresses); nil when absent.
  public func words(at key: UInt32) throws(BPFError) -> [UInt64]? {
    var key = key
    var words = [UInt64](repeating: 0, count: (bytesPerValue + 7) / 8)
    let result = words.withUnsafeMutableBytes { bpf_map_lookup_elem(fd, &key, $0.baseAddress) }
    if result < 0 && errno == ENOENT { return nil }
    try check(.lookUp(map: name, key: key), result)
    return words
  }

  /// Reads every entry of a hash and deletes it, `chunk` at a time; meant for a map nothing
  /// writes any more (the other generation), so that nothing is lost between read and delete.
  public func drain(
    chunk: Int = 1024, _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Void
  ) throws(BPFError) {
    var capacity = chunk
    while true {
      let keys = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity * keySize, alignment: 8)
      let values = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity * bytesPerValue, alignment: 8)
      defer {
        keys.deallocate()
        values.deallocate()
      }
      var options = bpf_map_batch_opts()
      options.sz = MemoryLayout<bpf_map_batch_opts>.size
      var count = UInt32(capacity)
      var cursor: UInt32 = 0
      let result = bpf_map_lookup_and_delete_batch(fd, nil, &cursor, keys.baseAddress, values.baseAddress, &count, &options)
      let failure = errno
      for index in 0..<Int(count) {
        body(
          UnsafeRawBufferPointer(rebasing: keys[index * keySize..<(index + 1) * keySize]),
          UnsafeRawBufferPointer(rebasing: values[index * bytesPerValue..<(index + 1) * bytesPerValue]))
      }
      if result == 0 { continue }  // more buckets after these: start again from the first
      if failure == ENOENT { return }  // empty now
      if failure == ENOSPC, count == 0 {  // one bucket holds more entries than fit
        capacity *= 2
        continue
      }
      throw BPFError(.drainMap(name), Errno(rawValue: failure))
    }
  }

  /// Reads every entry of a hash, leaving it in place (the next key, then its value, one at a
  /// time): for a small hash that programs only add to.
  public func forEachHashEntry(
    _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Void
  ) throws(BPFError) {
    var key = [UInt8](repeating: 0, count: keySize), next = key
    var value = [UInt8](repeating: 0, count: bytesPerValue)
    var first = true
    while true {
      let stepped = key.withUnsafeBytes { current in
        next.withUnsafeMutableBytes { bpf_map_get_next_key(fd, first ? nil : current.baseAddress, $0.baseAddress) }
      }
      if stepped < 0 {
        if errno == ENOENT { return }  // past the last key
        throw BPFError(.readMap(name), .current)
      }
      first = false
      key = next
      let found = key.withUnsafeBytes { k in value.withUnsafeMutableBytes { bpf_map_lookup_elem(fd, k.baseAddress, $0.baseAddress) } }
      if found == 0 { key.withUnsafeBytes { k in value.withUnsafeBytes { body(k, $0) } } }
    }
  }

  /// Calls `body` with every value of a plain array whose values are `Value`s, `chunk` entries
  /// at a time, so a large array (one slot per possible thread) is never all in memory.
  public func forEachArrayValue<Value>(
    of type: Value.Type, chunk: Int = 4096, _ body: (_ index: Int, _ value: Value) -> Void
  ) throws(BPFError) {
    precondition(MemoryLayout<Value>.stride == valueSize, "value type does not match map '\(name)'")
    try forEachEntry(in: 0..<maxEntries, chunk: chunk, bytesPerEntry: valueSize) { index, bytes in
      body(index, bytes.loadUnaligned(as: Value.self))
    }
  }

  private func forEachEntry(
    in range: Range<Int>, chunk: Int, bytesPerEntry: Int, _ body: (Int, UnsafeRawBufferPointer) -> Void
  ) throws(BPFError) {
    let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk * bytesPerEntry, alignment: 8)
    defer { raw.deallocate() }
    var start = range.lowerBound
    while start < range.upperBound {
      let count = min(chunk, range.upperBound - start)
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
      // 524: the kernel-internal ENOTSUPP, which bpf() returns for map types without batch
      // operations (per-CPU arrays before Linux 5.13): then one lookup per element
      if result < 0, done == 0, [EINVAL, 524, EOPNOTSUPP].contains(failure) {
        return try readOneByOne(from: first, count: wanted, into: values, bytesPerEntry: bytesPerEntry)
      }
      done += Int(count)
      cursor[0] = cursor[1]
      if result < 0 {
        if failure == ENOENT { break }  // read to the end
        throw BPFError(.readMap(name), Errno(rawValue: failure))
      }
      if count == 0 { break }
    }
    return done
  }

  /// The same, a lookup per element, where the kernel has no batch lookup for the map's type.
  private func readOneByOne(
    from first: Int, count: Int, into values: UnsafeMutableRawPointer, bytesPerEntry: Int
  ) throws(BPFError) -> Int {
    for index in 0..<count {
      var key = UInt32(first + index)
      try check(.lookUp(map: name, key: key), bpf_map_lookup_elem(fd, &key, values + index * bytesPerEntry))
    }
    return count
  }
}

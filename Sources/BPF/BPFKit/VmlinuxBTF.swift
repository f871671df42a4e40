import CLinuxShims
import Synchronization
import SystemPackage

@preconcurrency import Glibc

/// The running kernel's BTF (`/sys/kernel/btf/vmlinux`), read for the few things the tool asks
/// of it: an enum's names (`bpf_cmd`) and whether a function exists. It walks the file in place
/// (`BTFFile`) instead of parsing all of it (libbpf's `btf__load_vmlinux_btf` costs about
/// 12 MB and 20 ms, for 5 MB of types the tool never looks at).
public final class VmlinuxBTF: Sendable {
  let path: String
  /// False only in tests: the reads older kernels' sysfs allows, on a file that could be mapped.
  let maps: Bool
  private let typeStart: Int, typeEnd: Int, stringStart: Int, stringEnd: Int
  /// Enums already read: checking a profile and running it ask for the same one.
  private let enumCache = Mutex<[String: [UInt64: String]?]>([:])

  public static let vmlinuxPath = "/sys/kernel/btf/vmlinux"

  public convenience init(path: String = vmlinuxPath) throws(BPFError) {
    try self.init(path: path, maps: true)
  }

  init(path: String, maps: Bool) throws(BPFError) {
    self.path = path
    self.maps = maps
    let file = try BTFFile(path, maps: maps)
    // struct btf_header: magic u16, version u8, flags u8, hdr_len, type_off, type_len, str_off, str_len
    guard let magic = file.u16(at: 0), magic == 0xEB9F, let headerLength = file.u32(at: 4),
      let typeOffset = file.u32(at: 8), let typeLength = file.u32(at: 12),
      let stringOffset = file.u32(at: 16), let stringLength = file.u32(at: 20)
    else { throw BPFError(.readBTF(path: path), .invalidArgument) }
    typeStart = Int(headerLength + typeOffset)
    typeEnd = typeStart + Int(typeLength)
    stringStart = Int(headerLength + stringOffset)
    stringEnd = stringStart + Int(stringLength)
  }

  /// The enumerators of `enum name` by value, the first name of each value; nil if absent.
  public func enumerators(of name: String) -> [UInt64: String]? {
    if let cached = enumCache.withLock({ $0[name] }) { return cached }
    let found = readEnumerators(of: name)
    enumCache.withLock { $0[name] = found }
    return found
  }

  private func readEnumerators(of name: String) -> [UInt64: String]? {
    guard let file = try? BTFFile(path, maps: maps) else { return nil }
    let names = stringOffsets(equalTo: name, in: file)
    guard !names.isEmpty else { return nil }
    var members: [(nameOffset: UInt32, value: UInt64)]?
    walkTypes(in: file) { type in
      guard type.kind == Kind.enumeration || type.kind == Kind.enumeration64, names.contains(type.nameOffset)
      else { return true }
      let stride = type.kind == Kind.enumeration ? 8 : 12
      members = (0..<type.vlen).compactMap { index in
        let at = type.data + index * stride
        guard let memberName = file.u32(at: at), let low = file.u32(at: at + 4) else { return nil }
        let high = type.kind == Kind.enumeration64 ? UInt64(file.u32(at: at + 8) ?? 0) << 32 : 0
        return (memberName, high | UInt64(low))
      }
      return false
    }
    guard let members else { return nil }
    var result: [UInt64: String] = [:]
    for member in members where result[member.value] == nil {
      result[member.value] = string(at: Int(member.nameOffset), in: file)
    }
    return result
  }

  /// True when the kernel has a function named `name` in its BTF (fentry needs one).
  public func hasFunction(_ name: String) -> Bool {
    guard let file = try? BTFFile(path, maps: maps) else { return false }
    let names = stringOffsets(equalTo: name, in: file)
    var found = false
    walkTypes(in: file) { type in
      found = type.kind == Kind.function && names.contains(type.nameOffset)
      return !found
    }
    return found
  }

  /// True when the kernel has the BTF tracepoint `name` (tp_btf attaches by its
  /// `btf_trace_NAME` typedef): `lock:contention_begin` is there from Linux 5.19 on.
  public func hasBTFTracepoint(_ name: String) -> Bool {
    guard let file = try? BTFFile(path, maps: maps) else { return false }
    let names = stringOffsets(equalTo: "btf_trace_" + name, in: file)
    var found = false
    walkTypes(in: file) { type in
      found = type.kind == Kind.typedef && names.contains(type.nameOffset)
      return !found
    }
    return found
  }

  /// The byte offsets of `members` in `struct name`, as the running kernel lays them out; nil if
  /// the struct is absent. A member that is missing, or a bit field, is left out of the result.
  public func memberOffsets(of name: String, _ members: [String]) -> [String: Int]? {
    guard let layout = layout(of: name) else { return nil }
    return layout.fields.filter { members.contains($0.key) }.mapValues(\.offset)
  }

  /// What a kernel function's probes need of its prototype: where in fentry's context each
  /// argument starts and where fexit finds the return value (a struct of up to 16 bytes takes
  /// two 8-byte slots), and whether it returns a 32-bit signed int (whose register holds it in
  /// its lower half only).
  public struct FunctionSignature: Equatable, Sendable {
    public var argumentSlots: [Int]
    /// Bytes of each argument's value: a u32 in a 64-bit register or slot is only its lower half.
    public var argumentSizes: [Int]
    /// Arguments that point to a type the BTF only forward-declares (the syscall wrappers'
    /// pt_regs in Linux 5.10): the verifier refuses to let fentry read them.
    public var opaquePointerArguments: Set<Int>
    public var returnSlot: Int
    /// Not void: fexit's context has a return value after the arguments.
    public var returnsValue: Bool
    public var returnsInt32: Bool

    public var arguments: Int { argumentSlots.count }
  }

  /// The prototype of function `name`, nil if the kernel's BTF has no such function.
  public func signature(ofFunction name: String) -> FunctionSignature? {
    guard let file = try? BTFFile(path, maps: maps) else { return nil }
    let names = stringOffsets(equalTo: name, in: file)
    var prototype: UInt32?
    let types = index(file) { type in
      if prototype == nil, type.kind == Kind.function, names.contains(type.nameOffset) { prototype = type.sizeOrType }
    }
    let (type, resolved) = (types.type, types.resolved)
    guard let prototype, let proto = type(prototype), proto.kind == Kind.functionPrototype else { return nil }
    var slots: [Int] = []
    var sizes: [Int] = []
    var opaque: Set<Int> = []
    var next = 0
    for index in 0..<proto.vlen {
      // struct btf_param { name_off, type }
      guard let parameter = file.u32(at: proto.data + index * 8 + 4), parameter != 0 else { break }  // varargs
      let parameterType = resolved(parameter)
      let size = parameterType.map { [4, 5, 1, 6, 19].contains($0.kind) ? Int($0.sizeOrType) : 8 } ?? 8
      slots.append(next)
      sizes.append(size)
      if let pointer = parameterType, pointer.kind == Kind.pointer, resolved(pointer.sizeOrType)?.kind == Kind.forward {
        opaque.insert(index)
      }
      next += max(1, (size + 7) / 8)  // STRUCT, UNION, INT, ENUM, ENUM64 by size; pointers 8
    }
    var returnsInt32 = false
    if let returned = resolved(proto.sizeOrType), returned.kind == Kind.integer, returned.sizeOrType == 4,
      let encoding = file.u32(at: returned.data)
    {
      returnsInt32 = (encoding >> 24) & 0x1 != 0  // BTF_INT_SIGNED
    }
    return FunctionSignature(
      argumentSlots: slots, argumentSizes: sizes, opaquePointerArguments: opaque, returnSlot: next,
      returnsValue: proto.sizeOrType != 0, returnsInt32: returnsInt32)
  }

  /// Every type's place by id, to follow one type to the next.
  struct TypeIndex {
    let btf: VmlinuxBTF
    let file: BTFFile
    let offsets: [Int]

    func type(_ id: UInt32) -> BTFType? {
      offsets.indices.contains(Int(id)) && id > 0 ? btf.header(at: offsets[Int(id)], id: Int(id), in: file) : nil
    }

    /// A type through typedefs and qualifiers.
    func resolved(_ id: UInt32) -> BTFType? {
      var current = type(id)
      while let found = current, [8, 9, 10, 11, 18].contains(found.kind) { current = type(found.sizeOrType) }
      return current
    }
  }

  /// Walks every type, calling `visit` with each, and indexes them.
  func index(_ file: BTFFile, _ visit: (BTFType) -> Void) -> TypeIndex {
    var offsets: [Int] = [0]  // by type id; 0 is void
    walkTypes(in: file) { type in
      offsets.append(type.offset)
      visit(type)
      return true
    }
    return TypeIndex(btf: self, file: file, offsets: offsets)
  }

  /// BTF_KIND_* values the reader needs.
  enum Kind {
    static let integer: UInt32 = 1
    static let pointer: UInt32 = 2
    static let array: UInt32 = 3
    static let structure: UInt32 = 4
    static let union: UInt32 = 5
    static let forward: UInt32 = 7
    static let typedef: UInt32 = 8
    static let enumeration: UInt32 = 6
    static let function: UInt32 = 12
    static let functionPrototype: UInt32 = 13
    static let enumeration64: UInt32 = 19
  }

  /// One `struct btf_type` and where the bytes that follow it start.
  struct BTFType {
    var id: Int
    var offset: Int
    var kind: UInt32
    var nameOffset: UInt32
    var vlen: Int
    var info: UInt32
    var sizeOrType: UInt32
    var data: Int
  }

  func header(at offset: Int, id: Int, in file: BTFFile) -> BTFType? {
    // struct btf_type { name_off, info, size or type }: one read of its 12 bytes
    guard let (nameOffset, info, sizeOrType) = file.withBytes(at: offset, 12, { bytes in
      (bytes.loadUnaligned(as: UInt32.self), bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self),
       bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
    }) else { return nil }
    return BTFType(
      id: id, offset: offset, kind: (info >> 24) & 0x1f, nameOffset: nameOffset, vlen: Int(info & 0xffff),
      info: info, sizeOrType: sizeOrType, data: offset + 12)
  }

  /// Calls `visit` for each type, in id order from 1, until it returns false.
  func walkTypes(in file: BTFFile, _ visit: (BTFType) -> Bool) {
    var offset = typeStart
    var id = 1
    while offset + 12 <= typeEnd, let type = header(at: offset, id: id, in: file) {
      guard visit(type) else { return }
      // the bytes that follow struct btf_type, by kind (include/uapi/linux/btf.h)
      switch type.kind {
      case 1, 14, 17: offset = type.data + 4  // INT, VAR, DECL_TAG
      case 3: offset = type.data + 12  // ARRAY
      case 4, 5, 15, 19: offset = type.data + type.vlen * 12  // STRUCT, UNION, DATASEC, ENUM64
      case 6, 13: offset = type.data + type.vlen * 8  // ENUM, FUNC_PROTO
      default: offset = type.data  // PTR, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, FLOAT, TYPE_TAG
      }
      id += 1
    }
  }

  /// Offsets in the string section of every string equal to `name`: each place its bytes and
  /// their NUL occur (a name offset may point into a longer string: "xbpf_cmd" + 1 is
  /// "bpf_cmd"), found by memmem 64 KiB at a time. Chunks overlap by the needle's length, so a
  /// string across a chunk's edge is whole in the next chunk.
  func stringOffsets(equalTo name: String, in file: BTFFile) -> Set<UInt32> {
    let needle = Array(name.utf8) + [0]
    let chunk = 1 << 16
    var result: Set<UInt32> = []
    var start = stringStart
    while start < stringEnd {
      let length = min(chunk, stringEnd - start)
      let read: Void? = file.withBytes(at: start, length) { bytes in
        var from = 0
        while let hit = CLinuxShims_memmem(bytes.baseAddress! + from, bytes.count - from, needle, needle.count) {
          let at = bytes.baseAddress!.distance(to: UnsafeRawPointer(hit))
          result.insert(UInt32(start + at - stringStart))
          from = at + 1
        }
      }
      guard read != nil, start + length < stringEnd, length > needle.count else { break }
      start += length - needle.count
    }
    return result
  }

  func string(at offset: Int, in file: BTFFile) -> String? {
    let at = stringStart + offset
    return file.withBytes(at: at, min(4096, stringEnd - at)) { bytes -> String? in
      guard let end = memchr(bytes.baseAddress!, 0, bytes.count) else { return nil }
      let length = bytes.baseAddress!.distance(to: UnsafeRawPointer(end))
      return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[0..<length]), as: UTF8.self)
    } ?? nil
  }
}

/// The bytes of a BTF file: mapped whole where the kernel lets its BTF be mapped (Linux 6.16
/// and later; a regular file too), with no copy and no read per 4 KiB, the most sysfs hands
/// out at once; else read in order through one 64 KiB window.
final class BTFFile {
  private let file: FileDescriptor
  private let mapped: UnsafeRawBufferPointer?
  private let window: UnsafeMutableRawBufferPointer
  private var windowStart = 0
  private var windowCount = 0

  init(_ path: String, maps: Bool) throws(BPFError) {
    do {
      file = try FileDescriptor.open(path, .readOnly, options: .closeOnExec)
    } catch {
      throw BPFError(.readBTF(path: path), error as? Errno ?? .ioError)
    }
    var status = stat()
    if maps, fstat(file.rawValue, &status) == 0, status.st_size > 0,
      let base = mmap(nil, Int(status.st_size), PROT_READ, MAP_PRIVATE, file.rawValue, 0), base != MAP_FAILED
    {
      mapped = UnsafeRawBufferPointer(start: base, count: Int(status.st_size))
      window = .allocate(byteCount: 0, alignment: 8)
    } else {
      mapped = nil
      window = .allocate(byteCount: 1 << 16, alignment: 8)
    }
  }

  deinit {
    if let mapped { munmap(UnsafeMutableRawPointer(mutating: mapped.baseAddress), mapped.count) }
    try? file.close()
    window.deallocate()
  }

  /// Calls `body` with `length` bytes at `offset` (at most 64 KiB); nil past the end.
  func withBytes<R>(at offset: Int, _ length: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R? {
    if let mapped {
      guard offset >= 0, length >= 0, offset + length <= mapped.count else { return nil }
      return body(UnsafeRawBufferPointer(rebasing: mapped[offset..<offset + length]))
    }
    if offset < windowStart || offset + length > windowStart + windowCount {
      windowStart = offset
      windowCount = 0
      // sysfs returns at most a page per read: fill the window in a loop (an interrupted read
      // is retried; an error or the end of the file ends it)
      while windowCount < window.count {
        let rest = UnsafeMutableRawBufferPointer(rebasing: window[windowCount...])
        guard let read = try? file.read(fromAbsoluteOffset: Int64(offset + windowCount), into: rest), read > 0
        else { break }
        windowCount += read
      }
      guard length <= windowCount else { return nil }
    }
    let start = offset - windowStart
    return body(UnsafeRawBufferPointer(rebasing: window[start..<start + length]))
  }

  /// BTF is in the host's byte order (this reader runs where the kernel runs).
  func u32(at offset: Int) -> UInt32? {
    withBytes(at: offset, 4) { $0.loadUnaligned(as: UInt32.self) }
  }

  func u16(at offset: Int) -> UInt16? {
    withBytes(at: offset, 2) { $0.loadUnaligned(as: UInt16.self) }
  }
}

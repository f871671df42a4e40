/// One frame of a stack, named as far as it could be.
public struct Frame: Equatable, Sendable {
  public var address: UInt64
  /// The function and the offset into it; nil when no symbol covers the address.
  public var function: String?
  public var offset: UInt64
  /// The file the address is in (a user frame), or the kernel module ("[nf_tables]").
  public var module: String?

  public init(address: UInt64, function: String?, offset: UInt64 = 0, module: String? = nil) {
    self.address = address
    self.function = function
    self.offset = offset
    self.module = module
  }

  /// `function+0x1c`, or `[unknown]` as bcc and perf print a frame they cannot name.
  public var name: String {
    guard let function else { return "[unknown]" }
    return offset == 0 ? function : "\(function)+0x\(String(offset, radix: 16))"
  }
}

/// Names the addresses of processes' user stacks: `/proc/PID/maps` says which file an address is
/// in, that file's ELF symbols name it. Files are read through `/proc/PID/root` (a container's
/// files are its own), once each. A process that has exited by then cannot be resolved: its
/// frames are `[unknown]`, and `exited` says so.
public final class UserSymbols {
  struct Mapping {
    var start: UInt64
    var end: UInt64
    var fileOffset: UInt64
    var path: String
    /// "device inode": which file it is, whatever its path in which namespace.
    var identity: String
  }

  private var mappings: [UInt32: [Mapping]] = [:]
  private var files: [String: ELFSymbols?] = [:]
  /// Processes remembered at most; past it, forgotten and read again when seen.
  private let processLimit = 1024

  public init() {}

  /// Names `addresses` (innermost first) of process `pid`. The first is where the thread was;
  /// the others are return addresses, named by the call before them.
  public func frames(_ addresses: [UInt64], pid: UInt32) -> (frames: [Frame], exited: Bool) {
    guard var known = mappings(of: pid, refresh: false) else {
      return (addresses.map { Frame(address: $0, function: nil) }, true)
    }
    var frames: [Frame] = []
    for (index, address) in addresses.enumerated() {
      let lookup = index == 0 ? address : address &- 1
      if !known.contains(where: { lookup >= $0.start && lookup < $0.end }), let fresh = mappings(of: pid, refresh: true) {
        known = fresh  // mapped since it was first read (a library loaded later)
      }
      frames.append(frame(address, lookup: lookup, in: known, pid: pid))
    }
    return (frames, false)
  }

  private func frame(_ address: UInt64, lookup: UInt64, in mappings: [Mapping], pid: UInt32) -> Frame {
    guard let mapping = mappings.first(where: { lookup >= $0.start && lookup < $0.end }) else {
      return Frame(address: address, function: nil)
    }
    guard mapping.path.hasPrefix("/") else {  // [vdso], [heap], anonymous (JIT code)
      return Frame(address: address, function: nil, module: mapping.path.isEmpty ? nil : mapping.path)
    }
    let symbols = file(mapping, pid: pid)
    let fileOffset = lookup - mapping.start + mapping.fileOffset
    guard let symbols, let virtual = symbols.virtualAddress(ofFileOffset: fileOffset),
      let (name, offset) = symbols.function(at: virtual)
    else { return Frame(address: address, function: nil, module: mapping.path) }
    return Frame(address: address, function: name, offset: offset + (address - lookup), module: mapping.path)
  }

  private func file(_ mapping: Mapping, pid: UInt32) -> ELFSymbols? {
    if let known = files[mapping.identity] { return known }
    // map_files: the very file mapped, even deleted or in another mount namespace; then by path
    let mapped = "/proc/\(pid)/map_files/\(String(mapping.start, radix: 16))-\(String(mapping.end, radix: 16))"
    let symbols = ELFSymbols(path: mapped) ?? ELFSymbols(path: "/proc/\(pid)/root\(mapping.path)")
      ?? ELFSymbols(path: mapping.path)
    files[mapping.identity] = symbols
    return symbols
  }

  private func mappings(of pid: UInt32, refresh: Bool) -> [Mapping]? {
    if !refresh, let known = mappings[pid] { return known }
    guard let text = ProcFile.read("/proc/\(pid)/maps") else { return mappings[pid] }
    if mappings.count >= processLimit { mappings.removeAll() }
    let parsed = Self.parse(maps: text)
    mappings[pid] = parsed
    return parsed
  }

  /// `/proc/PID/maps` lines: `START-END PERMS OFFSET DEV INODE [PATH]`; executable ones only.
  static func parse(maps text: [UInt8]) -> [Mapping] {
    text.split(separator: UInt8(ascii: "\n")).compactMap { line in
      let fields = line.split(separator: UInt8(ascii: " "), maxSplits: 5, omittingEmptySubsequences: true)
      guard fields.count >= 5, fields[1].contains(UInt8(ascii: "x")) else { return nil }
      let range = fields[0].split(separator: UInt8(ascii: "-"))
      func hex(_ bytes: ArraySlice<UInt8>) -> UInt64? { UInt64(String(decoding: bytes, as: UTF8.self), radix: 16) }
      guard range.count == 2, let start = hex(range[0]), let end = hex(range[1]), let offset = hex(fields[2]) else {
        return nil
      }
      let path = fields.count > 5 ? String(decoding: fields[5], as: UTF8.self).trimmingLeadingSpaces : ""
      let identity = String(decoding: fields[3], as: UTF8.self) + " " + String(decoding: fields[4], as: UTF8.self)
      return Mapping(start: start, end: end, fileOffset: offset, path: path, identity: identity == "00:00 0" ? path : identity)
    }
  }
}

extension String {
  fileprivate var trimmingLeadingSpaces: String { String(drop { $0 == " " }) }
}

@preconcurrency import Glibc

/// The kernel's code symbols from `/proc/kallsyms` (modules included), for naming the frames of
/// kernel stacks. Addresses read as 0 without CAP_SYSLOG (kptr_restrict): then nothing resolves.
public struct Kallsyms: Sendable {
  /// Sorted by address; names in one buffer, so 200,000 symbols cost a few MiB, not one String
  /// each. A module's symbol has its module's name after its own (`name[module]` in `names`).
  private let addresses: [UInt64]
  private let nameRanges: [(name: Range<Int>, module: Range<Int>?)]
  private let names: [UInt8]

  /// Parses kallsyms' text: `ADDRESS TYPE NAME [MODULE]`, keeping code (types t, T, w, W).
  public init(kallsyms text: [UInt8]) {
    var entries: [(address: UInt64, name: Range<Int>, module: Range<Int>?)] = []
    var names: [UInt8] = []
    names.reserveCapacity(text.count / 2)
    var lineStart = 0
    while lineStart < text.count {
      let lineEnd = text[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? text.count
      if let entry = Self.entry(text[lineStart..<lineEnd], into: &names) { entries.append(entry) }
      lineStart = lineEnd + 1
    }
    entries.sort { $0.address < $1.address }
    addresses = entries.map(\.address)
    nameRanges = entries.map { ($0.name, $0.module) }
    self.names = names
  }

  /// Reads `/proc/kallsyms`; nil when it cannot be read.
  public init?(path: String = "/proc/kallsyms") {
    guard let bytes = ProcFile.read(path) else { return nil }
    self.init(kallsyms: bytes)
  }

  /// The function at or before `address`; unnamed below the first symbol or when every
  /// address is 0 (hidden from the reader).
  public func frame(at address: UInt64) -> Frame {
    guard let last = addresses.last, last != 0 else { return Frame(address: address, function: nil) }
    var low = 0
    var high = addresses.count
    while low < high {  // the first symbol above the address
      let middle = (low + high) / 2
      if addresses[middle] <= address { low = middle + 1 } else { high = middle }
    }
    guard low > 0 else { return Frame(address: address, function: nil) }
    let ranges = nameRanges[low - 1]
    return Frame(
      address: address, function: String(decoding: names[ranges.name], as: UTF8.self),
      offset: address - addresses[low - 1], module: ranges.module.map { String(decoding: names[$0], as: UTF8.self) })
  }

  /// Names a kernel stack (innermost first): the first address is where it was, the others are
  /// return addresses, named by the call before them.
  public func frames(_ addresses: [UInt64]) -> [Frame] {
    addresses.enumerated().map { index, address in
      guard index > 0 else { return frame(at: address) }
      var named = frame(at: address &- 1)
      named.address = address
      named.offset &+= 1
      return named
    }
  }

  private static func entry(
    _ line: ArraySlice<UInt8>, into names: inout [UInt8]
  ) -> (UInt64, Range<Int>, Range<Int>?)? {
    let fields = line.split(separator: UInt8(ascii: " "), maxSplits: 2)
    guard fields.count == 3, fields[1].count == 1, "tTwW".utf8.contains(fields[1].first!),
      let address = UInt64(String(decoding: fields[0], as: UTF8.self), radix: 16)
    else { return nil }
    // "name\t[module]" for a module's symbol
    let parts = fields[2].split(separator: UInt8(ascii: "\t"), maxSplits: 1)
    let start = names.count
    names.append(contentsOf: parts[0])
    let name = start..<names.count
    guard parts.count == 2 else { return (address, name, nil) }
    let module = parts[1].filter { $0 != UInt8(ascii: "[") && $0 != UInt8(ascii: "]") }
    names.append(contentsOf: module)
    return (address, name, name.upperBound..<names.count)
  }
}

import Histograms
import Profiles

/// Turns a raw key into the name users read; the first decoder that knows a value wins, and a
/// value no decoder knows prints as its number (`cmd(36)`), never disappears. Return values are
/// signed (`-9`, not 18446744073709551607). A key of parts is decoded part by part.
public struct KeyDecoder: Sendable {
  let enumerators: [UInt64: String]
  let decoding: Profile.Decoding
  let signed: Bool
  /// Keys are errnos, 0 a success.
  let errno: Bool
  /// Keys are syscall numbers, a 32-bit caller's keyed apart (`UAPINames.compatABI`).
  let syscallKeys: Bool
  /// Keys are cgroup ids: their paths, where the caller can find them.
  let cgroupPath: (@Sendable (UInt64) -> String?)?
  /// A key of parts: each part's label and decoder.
  private(set) var parts: [(label: String, decoder: KeyDecoder)]
  /// What BPF map and program types are called, for a part that names an fd.
  let fdTypes: FDObject.TypeNames

  /// `enumerators`: the profile's `btf_enum` as the running kernel has it (empty when absent),
  /// and `partEnumerators` each key part's; `cgroupPath`: a cgroup id's path (the tracer's
  /// `CgroupPaths`), for the `cgroup` key.
  public init(
    for profile: Profile, enumerators: [UInt64: String], partEnumerators: [[UInt64: String]] = [],
    fdTypes: FDObject.TypeNames = .init(), cgroupPath: (@Sendable (UInt64) -> String?)? = nil
  ) {
    self.init(
      source: profile.keySource, decoding: profile.decoding, enumerators: enumerators, fdTypes: fdTypes,
      cgroupPath: cgroupPath)
    parts = profile.keyParts.enumerated().map { index, part in
      let enumerators = partEnumerators.indices.contains(index) ? partEnumerators[index] : [:]
      return (
        part.label,
        KeyDecoder(source: part.source, decoding: part.decoding, enumerators: enumerators, fdTypes: fdTypes, cgroupPath: cgroupPath)
      )
    }
  }

  private init(
    source: Profile.KeySource, decoding: Profile.Decoding, enumerators: [UInt64: String], fdTypes: FDObject.TypeNames,
    cgroupPath: (@Sendable (UInt64) -> String?)?
  ) {
    self.decoding = decoding
    self.enumerators = enumerators
    self.errno = source == .errno
    self.signed = source == .retval
    self.syscallKeys = source == .syscall
    self.cgroupPath = source == .cgroup ? cgroupPath : nil
    self.fdTypes = fdTypes
    parts = []
  }

  /// The key as a number, with the sign the profile's key source gives it; a syscall key, as the
  /// number its caller passed (a 32-bit caller's own).
  public func number(_ raw: UInt64) -> KeyNumber {
    if syscallKeys { return .unsigned(UAPINames.syscallNumber(forKey: raw)) }
    return signed ? .signed(Int64(bitPattern: raw)) : .unsigned(raw)
  }

  public func name(for raw: UInt64) -> String {
    if let cgroupPath { return cgroupPath(raw) ?? "cgroup \(raw)" }
    if let name = enumerators[raw] ?? decoding.names[raw] { return name }
    if let compat = UAPINames.compatABI, syscallKeys, raw >= UInt64(compat.keyBase) {
      // never the bare number: it would read as the native syscall of that number
      let number = UAPINames.syscallNumber(forKey: raw)
      return decoding.syscallNames ? UAPINames.syscallName(forKey: raw) ?? "\(raw)" : "\(compat.name):\(number)"
    }
    if decoding.syscallNames, let name = UAPINames.syscalls[Int(clamping: raw)] { return name }
    if errno, raw <= UInt64(UInt32.max) { return UAPINames.outcomeName(UInt32(raw)) }
    return number(raw).description
  }

  /// A key as users read it: its number where it is one, its name, and a key of parts' each part;
  /// the name of a key of several parts is theirs as `label(name)`, side by side.
  public func decode(_ key: Key) -> DecodedKey {
    switch key {
    case .number(let raw): return DecodedKey(raw: number(raw), name: name(for: raw))
    case .name(let name): return DecodedKey(raw: nil, name: name)
    case .fd(let object): return DecodedKey(raw: nil, name: object.description(fdTypes))
    case .parts(let keys):
      let named = zip(parts, keys).map { part, key in
        let decoded = part.decoder.decode(key)
        return KeyPartName(label: part.label, name: decoded.name, raw: decoded.raw)
      }
      let name = named.count == 1 ? named[0].name : named.map { "\($0.label)(\($0.name))" }.joined(separator: " ")
      var decoded = DecodedKey(raw: named.count == 1 ? named[0].raw : nil, name: name)
      decoded.parts = named
      return decoded
    }
  }
}

/// A key decoded: what `Series` and a slow call's line carry.
public struct DecodedKey: Equatable, Sendable {
  public var raw: KeyNumber?
  public var name: String
  /// A key of parts: each part's label and name; empty for a key of one.
  public var parts: [KeyPartName] = []
}

/// One part of a key of several, as users read it.
public struct KeyPartName: Equatable, Sendable {
  public var label: String
  public var name: String
  public var raw: KeyNumber?

  public init(label: String, name: String, raw: KeyNumber? = nil) {
    self.label = label
    self.name = name
    self.raw = raw
  }
}

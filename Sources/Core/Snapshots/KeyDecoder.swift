import Histograms
import Profiles

/// Turns a raw key into the name users read; the first decoder that knows a value wins, and a
/// value no decoder knows prints as its number (`cmd(36)`), never disappears. Return values are
/// signed (`-9`, not 18446744073709551607).
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

  /// `enumerators`: the profile's `btf_enum` as the running kernel has it (empty when absent);
  /// `cgroupPath`: a cgroup id's path (the tracer's `CgroupPaths`), for the `cgroup` key.
  public init(
    for profile: Profile, enumerators: [UInt64: String], cgroupPath: (@Sendable (UInt64) -> String?)? = nil
  ) {
    self.decoding = profile.decoding
    self.enumerators = enumerators
    self.errno = profile.keySource == .errno
    self.signed = profile.keySource == .retval
    self.syscallKeys = profile.keySource == .syscall
    self.cgroupPath = profile.keySource == .cgroup ? cgroupPath : nil
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
}

/// Turns a raw key into the name users read; the first decoder that knows a value wins, and a
/// value no decoder knows prints as its number (`cmd(36)`), never disappears.
public struct KeyDecoder: Sendable {
  let enumerators: [UInt64: String]
  let decoding: Profile.Decoding

  /// `enumerators`: the profile's `btf_enum` as the running kernel has it (empty when absent).
  public init(decoding: Profile.Decoding, enumerators: [UInt64: String]) {
    self.decoding = decoding
    self.enumerators = enumerators
  }

  public func name(for raw: UInt64) -> String {
    if let name = enumerators[raw] ?? decoding.names[raw] { return name }
    if decoding.syscallNames, let name = KernelNames.syscalls[Int(clamping: raw)] { return name }
    if decoding.errnoNames {
      if raw == 0 { return "ok" }
      if let name = KernelNames.errnos[Int(clamping: raw)] ?? KernelNames.kernelInternalErrnos[Int(clamping: raw)] {
        return name
      }
    }
    return String(raw)
  }
}

/// Where the kernel keeps a profile's histograms: a dense per-CPU array when keys are small
/// numbers with a known bound (one inlined lookup per call), else a per-CPU hash.
public enum KeySpace: Equatable, Sendable {
  case dense(keyCount: Int)
  case sparse

  /// Keys a dense array may span before a hash is the better deal.
  public static let denseLimit = 4096

  public init(for profile: Profile, enumerators: [UInt64: String]) {
    switch profile.keySource {
    case .none:
      self = .dense(keyCount: 1)
    case .syscall:
      self = .dense(keyCount: KernelNames.syscallKeyCount)
    case .retval where profile.decoding.errnoNames:
      self = .dense(keyCount: KernelNames.errnoKeyCount)
    case .argument:
      var highest = enumerators.keys.max() ?? 0
      highest = max(highest, profile.decoding.names.keys.max() ?? 0)
      if profile.decoding.syscallNames { highest = max(highest, UInt64(KernelNames.syscallKeyCount - 1)) }
      guard !(enumerators.isEmpty && profile.decoding.names.isEmpty && !profile.decoding.syscallNames),
        highest < UInt64(Self.denseLimit)
      else {
        self = .sparse
        return
      }
      // the next power of two leaves room for values newer than the names (a new bpf cmd)
      var count = 64
      while count <= highest && count < Self.denseLimit { count *= 2 }
      self = .dense(keyCount: count)
    default:
      self = .sparse
    }
  }
}

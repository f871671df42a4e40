import Histograms

/// Where the kernel keeps a profile's histograms: a dense array when keys are small numbers with
/// a known bound and the array fits its memory budget (one inlined lookup per call), else a hash,
/// whose memory grows with the keys seen, not with their range. `CountStorage` decides.
public enum KeySpace: Equatable, Sendable {
  case dense(keyCount: Int)
  case sparse

  /// Keys a dense array may span before a hash is the better deal.
  public static let denseLimit = 4096
  /// Kernel memory the dense histograms may pin (two generations, every copy): past it per CPU,
  /// one copy shared by every CPU; past it shared, the hash.
  public static let denseBudget = 16 << 20

  /// Kernel memory each of the two sparse hashes may pin, by default.
  public static let sparseBudget = 8 << 20

  /// The series each sparse hash holds within `budget` bytes, at most 65,536. An entry costs its
  /// value (the bucket counters and three words), 72 bytes of element and key (a key of two
  /// words; a key of parts' more words add theirs), and up to 32 of hash buckets (a power of two
  /// of 16-byte buckets): measured against the maps' fdinfo.
  public static func sparseSeries(layout: BucketLayout, keyWords: Int = 2, budget: Int = sparseBudget) -> Int {
    min(65_536, max(1, budget / (layout.wordsPerSeries * 8 + 104 + 8 * max(0, keyWords - 2))))
  }

  /// How many dense keys a profile's keys need, or nil when they have no small bound.
  static func denseKeys(for profile: Profile, enumerators: [UInt64: String]) -> Int? {
    if profile.hasKeyParts { return nil }  // no small bound on parts side by side
    switch profile.keySource {
    case .none:
      return 1
    case .syscall:
      return profile.keysCompatCallsApart ? UAPINames.allSyscallKeyCount : UAPINames.syscallKeyCount
    case .errno:
      return UAPINames.errnoKeyCount
    case .argument:
      var highest = enumerators.keys.max() ?? 0
      highest = max(highest, profile.decoding.names.keys.max() ?? 0)
      if profile.decoding.syscallNames { highest = max(highest, UInt64(UAPINames.syscallKeyRange - 1)) }
      guard !(enumerators.isEmpty && profile.decoding.names.isEmpty && !profile.decoding.syscallNames),
        highest < UInt64(Self.denseLimit)
      else { return nil }
      // the next power of two leaves room for values newer than the names (a new bpf cmd)
      var count = 64
      while count <= highest && count < Self.denseLimit { count *= 2 }
      return count
    default:
      return nil
    }
  }
}

extension Profile {
  /// The words of the key the kernel's hashes keep: a one-part key's two (a comm's 16 bytes),
  /// or all its parts'.
  public var keyWords: Int {
    hasKeyParts ? keyParts.map(\.words).reduce(0, +) : 2
  }

  /// Every syscall keyed by number: 32-bit callers' calls are keyed apart, and named, where this
  /// architecture has their table (`UAPINames.compatABI`); otherwise they are only counted.
  public var keysCompatCallsApart: Bool {
    if case .allSyscalls = target, keySource == .syscall { return UAPINames.compatABI != nil }
    return false
  }
}

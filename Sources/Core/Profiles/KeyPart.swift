/// One part of a key of several (`key:` as a list), or a key of one part that reads user memory
/// or names an fd: the kernel counts the parts side by side as one key.
public struct KeyPart: Equatable, Sendable {
  /// Bytes of user memory at the argument plus `offset`, read at entry: the part is their value.
  public struct UserRead: Equatable, Sendable {
    public var offset: Int
    public var size: Int

    public init(offset: Int, size: Int) {
      self.offset = offset
      self.size = size
    }
  }

  /// The part is read only for calls whose earlier part `part` (known at entry) has one of
  /// `values`; for the others it is `Self.notRead`.
  public struct Condition: Equatable, Sendable {
    public var part: Int
    /// Values below 64: the kernel tests them as the bits of one word.
    public var values: Set<UInt64>

    public init(part: Int, values: Set<UInt64>) {
      self.part = part
      self.values = values
    }
  }

  /// The most parts a key has, and the most 8-byte words they take together (`SD_KEY_PARTS`,
  /// `SD_KEY_WORDS`); the most of them that name fds (`SD_KEY_FD_PARTS`).
  public static let maxParts = 4
  public static let maxWords = 8
  public static let maxFDParts = 2
  /// What a part whose condition did not hold reads as.
  public static let notRead = "-"

  public var source: Profile.KeySource
  public var label: String
  public var decoding: Profile.Decoding
  public var read: UserRead?
  /// `decode: {fd: true}`: the value is an fd; the part is what it named (a BPF map, a program,
  /// a file's kind), found in the kernel at entry and checked again at the end.
  public var fd = false
  public var condition: Condition?
  /// The kernel does not count this part: it is named from the words of the earlier part
  /// `derivedFrom` (serve's `labels:` name a cgroup's namespace, pod and container from one id).
  public var derivedFrom: Int?

  public init(source: Profile.KeySource, label: String, decoding: Profile.Decoding = .init()) {
    self.source = source
    self.label = label
    self.decoding = decoding
  }

  /// The words of the key the part takes: a comm's 16 bytes are two; an fd's kind, type and id,
  /// then its object's name, three.
  public var words: Int {
    derivedFrom != nil ? 0 : fd ? 3 : source == .comm ? 2 : 1
  }

  /// Known at entry (an argument, the syscall), not found at exit.
  public var knownAtEntry: Bool {
    switch source {
    case .argument, .syscall: return true
    default: return false
    }
  }
}

extension Profile {
  /// The key is counted as parts (`keyParts`): several, or one that reads memory or names an fd.
  public var hasKeyParts: Bool { !keyParts.isEmpty }

  /// The parts the kernel counts: all but the derived ones, which come last.
  public var countedKeyParts: ArraySlice<KeyPart> {
    keyParts.prefix { $0.derivedFrom == nil }
  }

  /// Whether the kernel sums a call's blocked time by wait site and its lock waits (--off-cpu)
  /// under the call's key: a key of one part known at entry (an argument, the syscall, none);
  /// else the probe's calls share one set.
  public var waitSitesPerKey: Bool {
    if hasKeyParts { return false }
    switch keySource {
    case .argument, .syscall, .none: return true
    default: return false
    }
  }

  /// The labels of the key's parts, or the one key label.
  public var keyLabels: [String] {
    hasKeyParts ? keyParts.map(\.label) : [keyLabel]
  }
}

import Histograms

/// How many keys the kernel's hashes hold per collection window, as users may set them.
public struct StorageLimits: Equatable, Sendable {
  /// Keys each sparse histogram hash holds (nil: as many as `KeySpace.sparseBudget` holds).
  public var maxKeys: Int?
  /// (key, errno) pairs each errors hash holds: failed calls past them are counted, not itemized.
  public var maxErrors: Int

  /// Every syscall the kernel has (about 470) with 8 errnos each, and room to spare.
  public static let defaultMaxErrors = 8192
  /// The most any hash may be asked to hold: 16 M entries.
  public static let ceiling = 1 << 24

  public init(maxKeys: Int? = nil, maxErrors: Int = Self.defaultMaxErrors) {
    self.maxKeys = maxKeys
    self.maxErrors = maxErrors
  }
}

/// Where and how the kernel keeps a run's counts on a host with `cpus` possible CPUs, and what
/// that pins (the man page's KERNEL MEMORY has the same formulas).
///
/// Each CPU keeping its own copy of a series needs no atomics but costs memory times the CPU
/// count, allocated for every *possible* CPU: fine for a few keys, 70 MiB for every syscall on
/// 128 CPUs. Past `KeySpace.denseBudget`, and for hashes always, one series per key is shared by
/// every CPU (atomic adds; the largest and smallest by compare-and-swap), so that memory and
/// capacity do not depend on the CPU count. Linux 5.10 to 5.12 have no BPF compare-and-swap:
/// there (`atomics` false) series stay per CPU.
public struct CountStorage: Equatable, Sendable {
  public var keySpace: KeySpace
  /// One series per key that every CPU adds to, instead of one per key and CPU.
  public var shared: Bool
  /// Entries of each sparse histogram hash: keys, or (key, CPU) pairs where not shared.
  public var sparseEntries: Int
  /// Entries of each errors hash: (key, errno) pairs.
  public var errorEntries: Int
  public var cpus: Int
  public var wordsPerSeries: Int
  /// The sparse and errors hashes' key: 8 bytes, then the key's words.
  public var keyBytes: Int

  public init(
    for profile: Profile, enumerators: [UInt64: String], cpus: Int, splitOutcome: Bool = false, atomics: Bool = true,
    limits: StorageLimits = StorageLimits(), splitTime: Bool = false
  ) {
    // --off-cpu: the ns blocked and waiting for a CPU after the series' other words
    let words = profile.layout.wordsPerSeries + (splitTime ? TimeSplit.kernelWords : 0)
    self.cpus = cpus
    wordsPerSeries = words
    errorEntries = limits.maxErrors
    sparseEntries = limits.maxKeys ?? KeySpace.sparseSeries(layout: profile.layout, keyWords: profile.keyWords)
    keyBytes = 8 + 8 * profile.keyWords
    let keys = splitOutcome ? nil : KeySpace.denseKeys(for: profile, enumerators: enumerators)
    if let keys, words * 8 <= Self.perCPUValueLimit, Self.arrayBytes(keys: keys, words: words, copies: cpus) <= KeySpace.denseBudget {
      (keySpace, shared) = (.dense(keyCount: keys), false)
    } else if let keys, atomics, Self.arrayBytes(keys: keys, words: words, copies: 1) <= KeySpace.denseBudget {
      (keySpace, shared) = (.dense(keyCount: keys), true)
    } else {
      (keySpace, shared) = (.sparse, atomics)
    }
  }

  /// The largest value a per-CPU map may have (the kernel's PCPU_MIN_UNIT_SIZE): an exponential
  /// series of schema 6 and up is larger, and is then shared or kept in a hash.
  static let perCPUValueLimit = 32 << 10

  /// The bytes the histograms pin: both generations.
  public var histogramBytes: Int {
    switch keySpace {
    case .dense(let keys):
      return Self.arrayBytes(keys: keys, words: wordsPerSeries, copies: shared ? 1 : cpus)
    case .sparse:
      return 2 * Self.hashBytes(entries: sparseEntries, keyBytes: keyBytes, valueBytes: wordsPerSeries * 8, cpus: cpus)
    }
  }

  /// The bytes the errors hashes pin: both generations.
  public var errorBytes: Int { 2 * Self.hashBytes(entries: errorEntries, keyBytes: keyBytes, valueBytes: 8, cpus: cpus) }

  /// What `--check` and `-v` say of it.
  public var description: String {
    let copies = shared ? "one series per key shared by \(cpus) CPUs" : "a series per key and CPU (\(cpus) CPUs)"
    let histograms: String
    switch keySpace {
    case .dense(let keys):
      histograms = "array of keys 0..\(keys - 1), \(copies)"
    case .sparse:
      histograms = "hash with room for \(sparseEntries) \(shared ? "keys" : "(key, CPU) series") (--max-keys), \(copies)"
    }
    return "\(histograms): \(histogramBytes >> 10) KiB; errors hash with room for \(errorEntries) (key, errno) pairs "
      + "(--max-errors): \(errorBytes >> 10) KiB"
  }

  /// A per-CPU array (`copies` = CPUs) or a plain one (1): two generations of `keys` series.
  static func arrayBytes(keys: Int, words: Int, copies: Int) -> Int {
    2 * keys * words * 8 * copies
  }

  /// A preallocated hash: each element holds a 48-byte header, the key (24 bytes for a key of
  /// one part, 8 more a word for a key of parts) and the value; the kernel adds one spare element
  /// per possible CPU, and a power of two of 16-byte buckets.
  static func hashBytes(entries: Int, keyBytes: Int, valueBytes: Int, cpus: Int) -> Int {
    var buckets = 1
    while buckets < entries { buckets *= 2 }
    return (entries + cpus) * (48 + keyBytes + valueBytes) + buckets * 16
  }
}

import Histograms
import Profiles

/// What `--check` prints: the profile as the tool will run it.
enum ProfileSummary {
  /// `storage`: how the kernel would keep the counts on this host, and what that pins.
  static func render(_ profile: Profile, enumerators: [UInt64: String], storage: CountStorage) -> String {
    var target = "\(profile.target)"
    if case .syscall(_, let number) = profile.target { target += " (\(number))" }
    let decoders = decoders(profile.decoding, source: profile.keySource, enumerators: enumerators)
    let layout = profile.layout
    var buckets = "\(layout.kind.rawValue), \(layout.slotCount) slots"
    if case .linear(let min, let max, let step) = layout { buckets += " (min \(min), max \(max), step \(step))" }
    if case .log2Linear(let bits) = layout { buckets += " (\(1 << bits) sub-buckets)" }
    if case .exponential(let schema) = layout { buckets += " (schema \(schema))" }
    return """
      profile:     \(profile.name)
      description: \(profile.description)
      probe:       \(target)
      key:         \(key(profile))
      decode:      \(profile.hasKeyParts ? "each part's, above" : decoders.isEmpty ? "numbers" : decoders.joined(separator: ", then "))
      storage:     \(storage.description)
      buckets:     \(buckets)
      unit:        \(profile.unit.rawValue)
      title:       \(profile.title)

      """
  }

  /// How a key's numbers become names, in order; `enumerators`, where known, its btf_enum's.
  private static func decoders(_ decoding: Profile.Decoding, source: Profile.KeySource, enumerators: [UInt64: String]?) -> [String] {
    var decoders: [String] = []
    if let name = decoding.btfEnum {
      decoders.append("btf_enum \(name)" + (enumerators.map { $0.isEmpty ? " (not in this kernel's BTF)" : " (\($0.count) names)" } ?? ""))
    }
    if !decoding.names.isEmpty { decoders.append("map (\(decoding.names.count) names)") }
    if decoding.syscallNames { decoders.append("syscall names") }
    if source == .errno { decoders.append("errno names") }
    return decoders
  }

  /// The key's source and label, or each part's: where it comes from, what it reads, whether it
  /// names an fd and when.
  private static func key(_ profile: Profile) -> String {
    guard profile.hasKeyParts else { return "\(profile.keySource.name), label '\(profile.keyLabel)'" }
    let parts = profile.keyParts.map { part in
      var text = "'\(part.label)' \(part.source.name)"
      let decoders = decoders(part.decoding, source: part.source, enumerators: nil)
      if !decoders.isEmpty { text += " (\(decoders.joined(separator: ", then ")))" }
      if let read = part.read { text += ", its \(read.size) bytes at +\(read.offset)" }
      if part.fd { text += ", as the fd's object" }
      if let condition = part.condition {
        text += ", when '\(profile.keyParts[condition.part].label)' is one of \(condition.values.sorted())"
      }
      return text
    }
    return "\(parts.count) part\(parts.count == 1 ? "" : "s") in \(profile.keyWords) words: " + parts.joined(separator: "; ")
  }
}

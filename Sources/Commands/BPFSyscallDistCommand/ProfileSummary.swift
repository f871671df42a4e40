import Histograms
import Profiles

/// What `--check` prints: the profile as the tool will run it.
enum ProfileSummary {
  /// `storage`: how the kernel would keep the counts on this host, and what that pins.
  static func render(_ profile: Profile, enumerators: [UInt64: String], storage: CountStorage) -> String {
    var target = "\(profile.target)"
    if case .syscall(_, let number) = profile.target { target += " (\(number))" }
    var decoders: [String] = []
    if let name = profile.decoding.btfEnum {
      decoders.append("btf_enum \(name) (\(enumerators.isEmpty ? "not in this kernel's BTF" : "\(enumerators.count) names"))")
    }
    if !profile.decoding.names.isEmpty { decoders.append("map (\(profile.decoding.names.count) names)") }
    if profile.decoding.syscallNames { decoders.append("syscall names") }
    if profile.keySource == .errno { decoders.append("errno names") }
    let layout = profile.layout
    var buckets = "\(layout.kind.rawValue), \(layout.slotCount) slots"
    if case .linear(let min, let max, let step) = layout { buckets += " (min \(min), max \(max), step \(step))" }
    if case .log2Linear(let bits) = layout { buckets += " (\(1 << bits) sub-buckets)" }
    if case .exponential(let schema) = layout { buckets += " (schema \(schema))" }
    return """
      profile:     \(profile.name)
      description: \(profile.description)
      probe:       \(target)
      key:         \(profile.keySource.name), label '\(profile.keyLabel)'
      decode:      \(decoders.isEmpty ? "numbers" : decoders.joined(separator: ", then "))
      storage:     \(storage.description)
      buckets:     \(buckets)
      unit:        \(profile.unit.rawValue)
      title:       \(profile.title)

      """
  }
}

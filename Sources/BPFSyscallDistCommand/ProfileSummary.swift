import Histograms
import Profiles

/// What `--check` prints: the profile as the tool will run it.
enum ProfileSummary {
  /// `cpus`: the CPUs per-CPU maps keep a copy for, which the dense storage's memory grows with.
  static func render(_ profile: Profile, enumerators: [UInt64: String], cpus: Int) -> String {
    var target = "\(profile.target)"
    if case .syscall(_, let number) = profile.target { target += " (\(number))" }
    var decoders: [String] = []
    if let name = profile.decoding.btfEnum {
      decoders.append("btf_enum \(name) (\(enumerators.isEmpty ? "not in this kernel's BTF" : "\(enumerators.count) names"))")
    }
    if !profile.decoding.names.isEmpty { decoders.append("map (\(profile.decoding.names.count) names)") }
    if profile.decoding.syscallNames { decoders.append("syscall names") }
    if profile.keySource == .errno { decoders.append("errno names") }
    let storage: String
    switch KeySpace(for: profile, enumerators: enumerators, cpus: cpus) {
    case .dense(let keyCount):
      let bytes = KeySpace.denseBytes(keys: keyCount, layout: profile.layout, cpus: cpus)
      storage = "dense per-CPU array, keys 0..\(keyCount - 1) (\(bytes / 1024) KiB on \(cpus) CPUs)"
    case .sparse:
      let series = KeySpace.sparseSeries(layout: profile.layout)
      storage = "hash by key and CPU, room for \(series) series (\(KeySpace.sparseBudget >> 20) MiB, twice)"
    }
    let layout = profile.layout
    var buckets = "\(layout.kind.rawValue), \(layout.slotCount) slots"
    if case .linear(let min, let max, let step) = layout { buckets += " (min \(min), max \(max), step \(step))" }
    if case .log2Linear(let bits) = layout { buckets += " (\(1 << bits) sub-buckets)" }
    return """
      profile:     \(profile.name)
      description: \(profile.description)
      probe:       \(target)
      key:         \(profile.keySource.name), label '\(profile.keyLabel)'
      decode:      \(decoders.isEmpty ? "numbers" : decoders.joined(separator: ", then "))
      storage:     \(storage)
      buckets:     \(buckets)
      unit:        \(profile.unit.rawValue)
      title:       \(profile.title)

      """
  }
}

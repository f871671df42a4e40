import Histograms

/// What to measure and how to show it: the parsed form of a profile file. Every value only
/// selects among paths of the pre-built BPF program or fills its settings.
public struct Profile: Equatable, Sendable {
  /// What the probe times.
  public enum Target: Equatable, Sendable {
    case syscall(name: String, number: Int)
    case allSyscalls
    case kernelFunction(String)
  }

  /// Where each call's histogram key comes from.
  public enum KeySource: Equatable, Sendable {
    case argument(Int)
    case syscall
    case retval
    /// The process id (the thread-group id), what users call the pid.
    case pid
    case tid
    case comm
    case none
  }

  /// How raw keys become names; the first decoder that knows a value wins.
  public struct Decoding: Equatable, Sendable {
    /// An enum in the running kernel's BTF (e.g. `bpf_cmd`).
    public var btfEnum: String?
    /// Names written in the profile: the fallback, or the only decoder.
    public var names: [UInt64: String]
    public var syscallNames: Bool
    public var errnoNames: Bool

    public init(
      btfEnum: String? = nil, names: [UInt64: String] = [:], syscallNames: Bool = false,
      errnoNames: Bool = false
    ) {
      self.btfEnum = btfEnum
      self.names = names
      self.syscallNames = syscallNames
      self.errnoNames = errnoNames
    }
  }

  public var name: String
  public var description: String
  public var target: Target
  public var keySource: KeySource
  public var keyLabel: String
  public var decoding: Decoding
  public var layout: BucketLayout
  public var unit: TimeUnit
  /// The heading of each histogram: `{key}` the decoded name, `{raw}` the number, `{label}`.
  public var title: String
  /// `slower_than`: report each call of at least this many nanoseconds as it ends, unless the
  /// command line says otherwise.
  public var slowerThanNanoseconds: UInt64?

  public init(
    name: String, description: String, target: Target, keySource: KeySource, keyLabel: String,
    decoding: Decoding, layout: BucketLayout, unit: TimeUnit, title: String
  ) {
    self.name = name
    self.description = description
    self.target = target
    self.keySource = keySource
    self.keyLabel = keyLabel
    self.decoding = decoding
    self.layout = layout
    self.unit = unit
    self.title = title
  }

  /// The profile shown in another unit, as `--ns`, `-u` and `-m` ask: log2 buckets are then cut
  /// in that unit (as bcc's `-m` does), but linear buckets stay where they are in time, which
  /// needs their bounds in whole numbers of the new unit; nil when they are not.
  public func showing(_ newUnit: TimeUnit) -> Profile? {
    var result = self
    result.unit = newUnit
    if case .linear(let min, let max, let step) = layout {
      func converted(_ value: UInt64) -> UInt64? {
        let (nanoseconds, overflow) = value.multipliedReportingOverflow(by: unit.nanoseconds)
        guard !overflow, nanoseconds % newUnit.nanoseconds == 0 else { return nil }
        return nanoseconds / newUnit.nanoseconds
      }
      guard let min = converted(min), let max = converted(max), let step = converted(step), step > 0 else { return nil }
      result.layout = .linear(min: min, max: max, step: step)
    }
    return result
  }

  /// The heading for one key, with the placeholders filled in.
  public func title(forKey name: String, raw: String) -> String {
    title.replacingAll("{key}", with: name).replacingAll("{raw}", with: raw)
      .replacingAll("{label}", with: keyLabel)
  }
}

extension String {
  /// Plain substring replacement, so the pure modules need no Foundation.
  func replacingAll(_ target: String, with replacement: String) -> String {
    guard !target.isEmpty else { return self }
    var result = ""
    var rest = self[...]
    while let range = rest.range(of: target) {
      result += rest[..<range.lowerBound]
      result += replacement
      rest = rest[range.upperBound...]
    }
    return result + rest
  }
}

extension Substring {
  func range(of target: String) -> Range<Index>? {
    var index = startIndex
    while index < endIndex {
      if self[index...].hasPrefix(target) {
        return index..<self.index(index, offsetBy: target.count)
      }
      index = self.index(after: index)
    }
    return nil
  }
}

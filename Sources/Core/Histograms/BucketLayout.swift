import CSyscallDist

/// How latencies are cut into buckets. The slot math here mirrors `bpf/sd_count.bpf.h` exactly;
/// the kernel counts slots, user space turns them back into bounds.
public enum BucketLayout: Equatable, Sendable {
  /// Powers of two, as bcc prints them: slot 0 is 0…1, slot i is 2^i…2^(i+1)-1.
  case log2
  /// `min`, then one bucket per `step` up to `max`: slot 0 holds values below `min`, the last
  /// slot values at or above `max`.
  case linear(min: UInt64, max: UInt64, step: UInt64)
  /// Each power of two split into 2^`subBucketBits` equal parts (HDR-histogram style).
  case log2Linear(subBucketBits: UInt32)
  /// Prometheus native and OpenTelemetry exponential buckets (`ExponentialScale`), in ns
  /// whatever the profile's unit: their bounds are powers of two of seconds.
  case exponential(schema: Int)

  /// The kinds a profile names in `buckets:`.
  public enum Kind: String, CaseIterable, Sendable {
    case log2, linear
    case log2Linear = "log2-linear"
    case exponential
  }

  public var kind: Kind {
    switch self {
    case .log2: return .log2
    case .linear: return .linear
    case .log2Linear: return .log2Linear
    case .exponential: return .exponential
    }
  }

  /// How outputs name the layout: its kind, and an exponential one's schema (`exponential:3`,
  /// as `--buckets` takes it).
  public var name: String {
    if case .exponential(let schema) = self { return "exponential:\(schema)" }
    return kind.rawValue
  }

  /// Whether the kernel buckets nanoseconds rather than the profile's unit.
  public var bucketsNanoseconds: Bool { kind == .exponential }

  /// The exponential layout's scale, nil for the others.
  public var exponentialScale: ExponentialScale? {
    if case .exponential(let schema) = self { return .of(schema: schema) }
    return nil
  }

  /// The sub-bucket counts a log2-linear layout accepts; more would pass the kernel's slot cap.
  public static let subBucketChoices: [UInt32] = [1, 2, 4, 8, 16]
  /// The most slots a linear or log2-linear layout may have.
  public static let maxSlots = Int(SD_MAX_BUCKET_SLOTS.rawValue)

  /// How many slots the kernel side keeps per key.
  public var slotCount: Int {
    switch self {
    case .log2: return Int(SD_LOG2_SLOTS.rawValue)
    case .linear(let min, let max, let step):
      return Int((max - min + step - 1) / step) + 2
    case .log2Linear(let bits):
      let sub = 1 << Int(bits)
      return sub * (65 - Int(bits))
    case .exponential(let schema):
      return ExponentialScale.of(schema: schema).slotCount
    }
  }

  /// The slot a value falls in: the same arithmetic as the BPF bucket steps.
  public func slot(for value: UInt64) -> Int {
    let raw: Int
    switch self {
    case .log2:
      raw = Self.log2(value)
    case .linear(let min, _, let step):
      let steps = (value - Swift.min(value, min)) / step
      raw = value < min ? 0 : steps < UInt64(slotCount) ? Int(steps) + 1 : slotCount  // no + 1 past 2^64 - 1
    case .log2Linear(let bits):
      let sub = UInt64(1) << UInt64(bits)
      if value < sub {
        raw = Int(value)
      } else {
        let exp = Self.log2(value)
        raw = Int(sub) * (exp - Int(bits) + 1) + Int((value >> UInt64(exp - Int(bits))) - sub)
      }
    case .exponential(let schema):
      raw = ExponentialScale.of(schema: schema).slot(for: value)
    }
    return Swift.min(raw, slotCount - 1)
  }

  /// The values slot `index` holds, both ends included; `high` is nil for an open last slot.
  public func bounds(ofSlot index: Int) -> (low: UInt64, high: UInt64?) {
    switch self {
    case .log2:
      let high = index >= 63 ? UInt64.max : (UInt64(1) << UInt64(index + 1)) - 1
      let low = index == 0 ? 0 : UInt64(1) << UInt64(index)
      return (low, high)
    case .linear(let min, let max, let step):
      if index == 0 { return (0, min == 0 ? 0 : min - 1) }
      if index == slotCount - 1 { return (max, nil) }
      let low = min + UInt64(index - 1) * step
      return (low, Swift.min(low + step, max) - 1)
    case .log2Linear(let bits):
      let sub = 1 << Int(bits)
      if index < sub { return (UInt64(index), UInt64(index)) }
      let exp = index / sub - 1 + Int(bits)
      let width = UInt64(1) << UInt64(exp - Int(bits))
      let low = (UInt64(sub) + UInt64(index % sub)) * width
      return (low, exp >= 63 && index % sub == sub - 1 ? UInt64.max : low + width - 1)
    case .exponential(let schema):
      // a slot no whole ns falls in has low = high + 1
      let uppers = ExponentialScale.of(schema: schema).uppers
      return index == 0 ? (0, 0) : (uppers[index - 1] + 1, uppers[index])
    }
  }

  /// The values slot `index` holds in nanoseconds, when the kernel bucketed ns / `unit`.
  public func nanosecondBounds(ofSlot index: Int, unit: TimeUnit) -> (low: UInt64, high: UInt64?) {
    let (low, high) = bounds(ofSlot: index)
    if bucketsNanoseconds || unit == .ns { return (low, high) }
    let (lowProduct, lowOverflow) = low.multipliedReportingOverflow(by: unit.nanoseconds)
    var highNs: UInt64? = nil
    if let high, high < .max {
      let (end, overflow) = (high + 1).multipliedReportingOverflow(by: unit.nanoseconds)
      highNs = overflow ? nil : end - 1
    }
    return (lowOverflow ? .max : lowProduct, highNs)
  }

  /// The 64-bit words the kernel keeps per series: a counter per slot, then the latency sum,
  /// the largest and the smallest (`SD_SERIES_EXTRA_WORDS`).
  public var wordsPerSeries: Int { slotCount + Int(SD_SERIES_EXTRA_WORDS.rawValue) }

  /// floor(log2(value)), 0 for 0 and 1: bcc's `log2l`.
  static func log2(_ value: UInt64) -> Int {
    value <= 1 ? 0 : 63 - value.leadingZeroBitCount
  }
}

extension BucketLayout {
  /// What `--buckets` takes: every kind but linear, whose bounds only a profile can give.
  public static let flagForms = "log2, log2-linear[:SUB_BUCKETS] or exponential[:SCHEMA]"

  /// A layout written as `--buckets` takes it: `log2`, `log2-linear:8`, `exponential`,
  /// `exponential:5`. nil, with what is wrong, for anything else.
  public static func parse(flag text: String) -> Result<BucketLayout, FlagError> {
    let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
    let argument = parts.count == 2 ? Int(parts[1]) : nil
    if parts.count == 2, argument == nil { return .failure(FlagError("'\(parts[1])' is not a whole number")) }
    switch Kind(rawValue: String(parts[0])) {
    case .log2 where parts.count == 1:
      return .success(.log2)
    case .log2Linear:
      let sub = argument ?? 4
      guard let bits = subBucketChoices.firstIndex(of: UInt32(clamping: max(0, sub))) else {
        return .failure(FlagError("log2-linear takes 1, 2, 4, 8 or 16 sub-buckets (got \(sub))"))
      }
      return .success(.log2Linear(subBucketBits: UInt32(bits)))
    case .exponential:
      let schema = argument ?? ExponentialScale.defaultSchema
      guard ExponentialScale.schemas.contains(schema) else {
        return .failure(FlagError("the exponential schema must be from -4 to 8 (got \(schema))"))
      }
      return .success(.exponential(schema: schema))
    case .linear:
      return .failure(FlagError("linear buckets need min, max and step: write them in a profile"))
    default:
      return .failure(FlagError("expected \(flagForms)"))
    }
  }

  /// Why a `--buckets` value was refused.
  public struct FlagError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
  }
}

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

  /// The kinds a profile names in `buckets:`.
  public enum Kind: String, CaseIterable, Sendable {
    case log2, linear
    case log2Linear = "log2-linear"
  }

  public var kind: Kind {
    switch self {
    case .log2: return .log2
    case .linear: return .linear
    case .log2Linear: return .log2Linear
    }
  }

  /// The sub-bucket counts a log2-linear layout accepts; more would pass the kernel's slot cap.
  public static let subBucketChoices: [UInt32] = [1, 2, 4, 8, 16]
  /// The most slots one key may have.
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
    }
  }

  /// The 64-bit words the kernel keeps per series: a counter per slot, then the latency sum,
  /// the largest and the smallest (`SD_SERIES_EXTRA_WORDS`).
  public var wordsPerSeries: Int { slotCount + Int(SD_SERIES_EXTRA_WORDS.rawValue) }

  /// floor(log2(value)), 0 for 0 and 1: bcc's `log2l`.
  static func log2(_ value: UInt64) -> Int {
    value <= 1 ? 0 : 63 - value.leadingZeroBitCount
  }
}

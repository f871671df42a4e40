/// One key's latency distribution: a count per slot of a layout.
public struct Histogram: Equatable, Sendable {
  public let layout: BucketLayout
  public private(set) var counts: [UInt64]
  /// The exact sum of the latencies in nanoseconds, when the kernel kept one.
  public var sumNanoseconds: UInt64?

  public init(layout: BucketLayout, counts: [UInt64]? = nil, sumNanoseconds: UInt64? = nil) {
    self.layout = layout
    self.counts = counts ?? Array(repeating: 0, count: layout.slotCount)
    self.sumNanoseconds = sumNanoseconds
  }

  public mutating func record(_ value: UInt64) {
    counts[layout.slot(for: value)] &+= 1
  }

  /// Every call counted, what the origin tool printed as "sum".
  public var total: UInt64 { counts.reduce(0, &+) }

  /// The lowest and highest slots with a count, nil when empty.
  public var occupiedSlots: ClosedRange<Int>? {
    guard let first = counts.firstIndex(where: { $0 > 0 }),
      let last = counts.lastIndex(where: { $0 > 0 })
    else { return nil }
    return first...last
  }

  /// The value below which `fraction` of the calls fall, interpolated inside its bucket.
  public func quantile(_ fraction: Double) -> Double? {
    let total = total
    guard total > 0 else { return nil }
    let rank = fraction * Double(total)
    var seen: UInt64 = 0
    for (slot, count) in counts.enumerated() where count > 0 {
      if Double(seen + count) >= rank {
        let (low, high) = layout.bounds(ofSlot: slot)
        let top = Double(high ?? low) + 1
        let within = (rank - Double(seen)) / Double(count)
        return Double(low) + (top - Double(low)) * Swift.max(0, Swift.min(1, within))
      }
      seen += count
    }
    return nil
  }

  /// The mean in `unit`: exact from the kernel's sum, else each call at its bucket's midpoint.
  public func mean(in unit: TimeUnit) -> Double? {
    let total = total
    guard total > 0 else { return nil }
    if let sumNanoseconds {
      return Double(sumNanoseconds) / Double(unit.nanoseconds) / Double(total)
    }
    var sum = 0.0
    for (slot, count) in counts.enumerated() where count > 0 {
      let (low, high) = layout.bounds(ofSlot: slot)
      sum += (Double(low) + Double(high ?? low)) / 2 * Double(count)
    }
    return sum / Double(total)
  }
}

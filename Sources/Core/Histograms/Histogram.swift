/// One key's latency distribution: a count per slot of a layout, in `unit`, and what the
/// kernel keeps exactly beside it (the sum, the smallest and the largest latency).
public struct Histogram: Equatable, Sendable {
  public let layout: BucketLayout
  public private(set) var counts: [UInt64]
  /// The exact sum of the latencies in nanoseconds, when the kernel kept one: 128 bits, as
  /// 64 wrap after 584 years of calls (21 days of 10,000 threads blocked in a call).
  public var sumNanoseconds: UInt128?
  /// The exact smallest and largest latency in nanoseconds, when the kernel kept them.
  public var minNanoseconds: UInt64?
  public var maxNanoseconds: UInt64?
  /// With --off-cpu: where the calls' time went.
  public var timeSplit: TimeSplit?

  public init(
    layout: BucketLayout, counts: [UInt64]? = nil, sumNanoseconds: UInt128? = nil,
    minNanoseconds: UInt64? = nil, maxNanoseconds: UInt64? = nil, timeSplit: TimeSplit? = nil
  ) {
    self.timeSplit = timeSplit
    self.layout = layout
    self.counts = counts ?? Array(repeating: 0, count: layout.slotCount)
    self.sumNanoseconds = sumNanoseconds
    self.minNanoseconds = minNanoseconds
    self.maxNanoseconds = maxNanoseconds
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

  /// A percentile as far as the histogram knows it: the value lies in `low...high` (both in
  /// nanoseconds), and `estimate` is a point inside.
  public struct Percentile: Equatable, Sendable {
    public var estimate: Double
    public var low: UInt64
    public var high: UInt64

    /// The most `estimate` can be off, relative to the true value: nil when the true value may
    /// be 0 (any error is infinite relative to it).
    public var relativeError: Double? {
      guard low > 0 else { return nil }
      return max((estimate - Double(low)) / Double(low), (Double(high) - estimate) / Double(high))
    }
  }

  /// The `fraction` percentile by nearest rank (the ceil(fraction × count)-th smallest latency).
  /// The counts are exact, so that latency lies in the bucket where the rank falls, and between
  /// the smallest and largest latency: the bounds are that intersection, and always hold.
  public func percentile(_ fraction: Double, unit: TimeUnit) -> Percentile? {
    let total = total
    guard total > 0 else { return nil }
    let rank = Swift.max(1, UInt64((fraction * Double(total)).rounded(.up)))
    var seen: UInt64 = 0
    for (slot, count) in counts.enumerated() where count > 0 {
      guard seen + count >= rank else {
        seen += count
        continue
      }
      // the bucket's values as nanoseconds: the kernel bucketed ns / unit
      let bounds = layout.nanosecondBounds(ofSlot: slot, unit: unit)
      var (lowNs, highNs) = (bounds.low, bounds.high ?? .max)
      if let minimum = minNanoseconds { lowNs = Swift.max(lowNs, minimum) }
      if let maximum = maxNanoseconds { highNs = Swift.min(highNs, maximum) }
      highNs = Swift.max(highNs, lowNs)
      let within = (Double(rank - seen) - 0.5) / Double(count)
      let estimate = Double(lowNs) + (Double(highNs) - Double(lowNs)) * within
      return Percentile(estimate: estimate, low: lowNs, high: highNs)
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
    // each call at its bucket's midpoint, in the unit the kernel bucketed (ns for exponential)
    let bucketUnit = layout.bucketsNanoseconds ? TimeUnit.ns : unit
    var sum = 0.0
    for (slot, count) in counts.enumerated() where count > 0 {
      let (low, high) = layout.bounds(ofSlot: slot)
      sum += (Double(low) + Double(high ?? low)) / 2 * Double(count)
    }
    return sum / Double(total) * Double(bucketUnit.nanoseconds) / Double(unit.nanoseconds)
  }
}

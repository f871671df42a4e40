import Foundation
import Synchronization

/// The buckets of Prometheus native histograms and OpenTelemetry exponential histograms, at one
/// `schema` (OpenTelemetry's scale): bucket `index` holds the durations in
/// (2^((index-1)/2^schema), 2^(index/2^schema)] seconds, so every power of two of seconds is a
/// boundary from schema 0 up, and any value is within 2^(2^-schema) of its bucket's ends.
///
/// A latency of n ns is the duration `Double(n) / 1e9` s, put where Prometheus' own rule puts it
/// (client_golang's `findBucket`: `frexp`, then the first bound not below the fraction). The
/// kernel cannot do that arithmetic; it compares n against `uppers`, the largest n of each slot
/// under the same rule, so it places every n exactly as the rule does. Slot 0 is the zero
/// bucket (0 ns); slot 1 is the bucket of 1 ns, the last the bucket of 2^64 - 1 ns.
public struct ExponentialScale: Sendable {
  /// The schemas Prometheus defines for exponential buckets.
  public static let schemas = -4...8
  public static let defaultSchema = 3

  public let schema: Int
  /// The bucket index of slot 1 (1 ns).
  public let firstIndex: Int
  /// The largest ns each slot holds. Where buckets are narrower than a nanosecond (below 2^schema
  /// ns or so), some hold no whole ns: their upper bound is the one before's.
  public let uppers: [UInt64]

  /// The scale of `schema`, computed once per schema in a process.
  public static func of(schema: Int) -> ExponentialScale {
    cache.withLock { scales in
      if let scale = scales[schema] { return scale }
      let scale = ExponentialScale(computing: schema)
      scales[schema] = scale
      return scale
    }
  }

  private static let cache = Mutex<[Int: ExponentialScale]>([:])

  private init(computing schema: Int) {
    precondition(Self.schemas.contains(schema), "schema \(schema)")
    self.schema = schema
    let bounds = Self.fractionBounds(schema)
    let first = Self.index(seconds: 1e-9, fractionBounds: bounds, schema: schema)
    let last = Self.index(seconds: Double(UInt64.max) / 1e9, fractionBounds: bounds, schema: schema)
    firstIndex = first
    var uppers: [UInt64] = [0]
    uppers.reserveCapacity(last - first + 2)
    for index in first...last {
      uppers.append(Self.largestNanoseconds(inIndex: index, after: uppers.last!, bounds: bounds, schema: schema))
    }
    self.uppers = uppers
  }

  public var slotCount: Int { uppers.count }

  /// The bucket index (Prometheus' key; OpenTelemetry's index is one less) of slot `slot` ≥ 1.
  public func index(ofSlot slot: Int) -> Int { firstIndex + slot - 1 }

  /// The slot of a latency in ns, by Prometheus' rule.
  public func slot(for nanoseconds: UInt64) -> Int {
    guard nanoseconds > 0 else { return 0 }
    let bounds = Self.fractionBounds(schema)
    return Self.index(seconds: Double(nanoseconds) / 1e9, fractionBounds: bounds, schema: schema) - firstIndex + 1
  }

  /// The slot of 2^i ns, for each i below 64: the kernel's starting point for each power of two.
  public var octaveSlots: [UInt32] { (0..<64).map { UInt32(slot(for: UInt64(1) << UInt64($0))) } }

  /// The upper bound of bucket `index` in seconds, 2^(index/2^schema).
  public func upperSeconds(ofIndex index: Int) -> Double {
    exp2(Double(index) * exp2(Double(-schema)))
  }

  /// 2^(i/2^schema) / 2 for each i below 2^schema: the fractions `frexp` gives that end a bucket
  /// (client_golang's `nativeHistogramBounds`); schemas up to 0 need none.
  static func fractionBounds(_ schema: Int) -> [Double] {
    guard schema > 0 else { return [] }
    return (0..<(1 << schema)).map { exp2(Double($0) / Double(1 << schema)) / 2 }
  }

  /// Prometheus' rule: the index of the bucket holding `seconds` > 0.
  static func index(seconds: Double, fractionBounds bounds: [Double], schema: Int) -> Int {
    let (fraction, exponent) = frexp(seconds)  // seconds = fraction * 2^exponent, fraction in [0.5, 1)
    if schema > 0 {
      var (low, high) = (0, bounds.count)
      while low < high {
        let mid = (low + high) / 2
        if bounds[mid] >= fraction { high = mid } else { low = mid + 1 }
      }
      return low + (exponent - 1) * bounds.count
    }
    let key = fraction == 0.5 ? exponent - 1 : exponent
    return (key + (1 << -schema) - 1) >> -schema
  }

  /// The largest n whose bucket index is at most `index`, searched from `after` (the previous
  /// index's) up: the rule is monotonic in n.
  static func largestNanoseconds(inIndex target: Int, after: UInt64, bounds: [Double], schema: Int) -> UInt64 {
    func holds(_ n: UInt64) -> Bool { index(seconds: Double(n) / 1e9, fractionBounds: bounds, schema: schema) <= target }
    // a bracket from the bound's value in double, then halving to the exact integer
    let estimate = exp2(Double(target) * exp2(Double(-schema))) * 1e9
    let guess = estimate >= 1.8e19 ? UInt64.max : UInt64(max(1, estimate))
    var low = max(after, guess - min(guess, guess >> 20 + 2))
    while low > after, !holds(low) { low = max(after, low - max(1, low >> 16)) }
    var high = guess >= UInt64.max - (guess >> 20 + 2) ? UInt64.max : guess + guess >> 20 + 2
    while high < .max, holds(high) { high = high >= UInt64.max - max(1, high >> 16) ? .max : high + max(1, high >> 16) }
    if holds(high) { return high }
    // invariant: holds(low) or low == after; !holds(high)
    while high - low > 1 {
      let mid = low + (high - low) / 2
      if holds(mid) { low = mid } else { high = mid }
    }
    return low
  }
}

extension ExponentialScale: Equatable {
  public static func == (a: Self, b: Self) -> Bool { a.schema == b.schema }
}

/// Two recorded runs of one profile side by side, per series: counts, error rates and the
/// percentiles' bounds, with a verdict only where the bounds do not overlap, so that no verdict
/// is ever an artefact of the buckets.
public struct Comparison: Sendable {
  public enum Verdict: String, Sendable {
    case slower, faster
    case noDifference = "no difference the buckets can show"
  }

  public static let percentiles: [(name: String, fraction: Double)] = [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)]

  public struct Row: Sendable {
    public var name: SeriesName
    public var before: RecordedSeries
    public var after: RecordedSeries
    /// p50, p90, p99: each side's bounds (ns) and the verdict.
    public var percentiles: [(name: String, before: ClosedRange<UInt64>, after: ClosedRange<UInt64>, verdict: Verdict)]
  }

  public var before: Recording
  public var after: Recording
  public var rows: [Row]
  public var onlyBefore: [SeriesName]
  public var onlyAfter: [SeriesName]

  /// Where one side's exponential buckets were folded into the other's coarser schema.
  public var folded: String?

  /// Refuses runs of different layouts, their buckets cutting time at different places, but
  /// for exponential schemas: the finer side is folded into the coarser, exactly.
  public init(_ before: Recording, _ after: Recording) throws(ComparisonError) {
    var (before, after) = (before, after)
    if let schemaBefore = before.exponentialSchema, let schemaAfter = after.exponentialSchema, schemaBefore != schemaAfter {
      let finer = schemaAfter > schemaBefore ? after : before
      let coarse = try finer.folded(toSchema: min(schemaBefore, schemaAfter))
      folded = "\(finer.file)'s \(finer.bucketKind) buckets folded into \(coarse.bucketKind), exactly"
      if schemaAfter > schemaBefore { after = coarse } else { before = coarse }
    }
    guard before.bucketKind == after.bucketKind, before.unit == after.unit else {
      throw .differentLayouts(
        "\(before.file) has \(before.bucketKind) buckets in \(before.unit.rawValue), \(after.file) \(after.bucketKind) in \(after.unit.rawValue)")
    }
    let buckets = Set(before.series.values.flatMap(\.buckets.keys) + after.series.values.flatMap(\.buckets.keys)).sorted {
      ($0.low, $0.high ?? .max) < ($1.low, $1.high ?? .max)
    }
    for (a, b) in zip(buckets, buckets.dropFirst()) where (a.high ?? .max) > b.low {
      throw .differentLayouts(
        "their buckets overlap (\(a.low)-\(a.high.map(String.init) ?? "") ns and \(b.low)-\(b.high.map(String.init) ?? "") ns): the profiles' layouts differ")
    }
    self.before = before
    self.after = after
    let names = Set(before.series.keys).intersection(after.series.keys).sorted()
    rows = names.compactMap { name in
      let (b, a) = (before.series[name]!, after.series[name]!)
      let percentiles = Self.percentiles.compactMap { p -> (String, ClosedRange<UInt64>, ClosedRange<UInt64>, Verdict)? in
        guard let low = b.percentile(p.fraction), let high = a.percentile(p.fraction) else { return nil }
        return (p.name, low, high, Self.verdict(low, high))
      }
      return Row(name: name, before: b, after: a, percentiles: percentiles)
    }
    onlyBefore = Set(before.series.keys).subtracting(after.series.keys).sorted()
    onlyAfter = Set(after.series.keys).subtracting(before.series.keys).sorted()
  }

  static func verdict(_ before: ClosedRange<UInt64>, _ after: ClosedRange<UInt64>) -> Verdict {
    if after.lowerBound > before.upperBound { return .slower }
    if after.upperBound < before.lowerBound { return .faster }
    return .noDifference
  }

  /// Every breach of the gates, one line each.
  public func breaches(of gates: [Gate]) -> [String] {
    rows.flatMap { row in gates.compactMap { $0.breach(row) } }
  }
}

public enum ComparisonError: Error, Equatable, CustomStringConvertible {
  case differentLayouts(String)

  public var description: String {
    switch self {
    case .differentLayouts(let why): return "cannot compare: " + why + "; compare runs of the same profile"
    }
  }
}

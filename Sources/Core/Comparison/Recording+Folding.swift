import Histograms

extension Recording {
  /// The schema of an exponential recording (`exponential:3`), nil for other layouts.
  public var exponentialSchema: Int? {
    guard bucketKind.hasPrefix("exponential:") else { return nil }
    return Int(bucketKind.dropFirst("exponential:".count))
  }

  /// The same run in the coarser exponential `schema`: each bucket into the one that holds it.
  /// Exact: a schema's boundaries are every other one of the next finer schema's, and both are
  /// computed from the same powers of two. Refused for a bucket that straddles a coarser
  /// boundary (a file that is not what bpfsyscalldist wrote).
  public func folded(toSchema schema: Int) throws(ComparisonError) -> Recording {
    guard let own = exponentialSchema, schema < own, ExponentialScale.schemas.contains(schema) else {
      throw .differentLayouts("\(file)'s \(bucketKind) buckets do not fold into exponential:\(schema): only exponential ones fold, into a coarser schema from -4")
    }
    let scale = ExponentialScale.of(schema: schema)
    let straddles = ComparisonError.differentLayouts(
      "\(file)'s \(bucketKind) buckets do not fold into exponential:\(schema) (a bucket straddles a coarser boundary)")
    func coarse(_ bucket: RecordedSeries.Bucket) -> RecordedSeries.Bucket? {
      let slot = scale.slot(for: bucket.low)
      guard scale.slot(for: bucket.high.map { $0 - 1 } ?? .max) == slot else { return nil }
      let last = scale.uppers[slot]
      return RecordedSeries.Bucket(low: slot == 0 ? 0 : scale.uppers[slot - 1] + 1, high: last == .max ? nil : last + 1)
    }
    func fold(_ counts: [RecordedSeries.Bucket: UInt64]) -> [RecordedSeries.Bucket: UInt64]? {
      var folded: [RecordedSeries.Bucket: UInt64] = [:]
      for (bucket, count) in counts {
        guard let into = coarse(bucket) else { return nil }
        folded[into, default: 0] &+= count
      }
      return folded
    }
    var result = self
    result.bucketKind = "exponential:\(schema)"
    for (name, series) in series {
      guard let buckets = fold(series.buckets) else { throw straddles }
      result.series[name]?.buckets = buckets
    }
    for (index, column) in columns.enumerated() {
      for (name, counts) in column.buckets {
        guard let buckets = fold(counts) else { throw straddles }
        result.columns[index].buckets[name] = buckets
      }
    }
    return result
  }
}

import Histograms
import Profiles

extension Counts {
  /// The snapshot users read: keys decoded, titles filled in, sorted by key. `inFlight` is the
  /// number of calls running at the print (from the counters since attach).
  public func snapshot(
    profile: Profile, decoder: KeyDecoder, timestamp: Double, since: Double = 0, inFlight: UInt64 = 0
  ) -> Snapshot {
    let series = histograms.keys.sorted().map { countKey -> Series in
      let counts = histograms[countKey]!
      let (rawKey, name) = decoded(countKey.key, decoder)
      var title = profile.title(forKey: name, raw: rawKey?.description ?? name)
      let outcome = countKey.outcome.map { Outcome(UAPINames.outcomeName($0)) }
      if let outcome { title += " outcome(\(outcome.name))" }
      // split outcomes already show each errno; otherwise the key's failures go under it
      let errnos = countKey.outcome != nil ? [] : failures.filter { $0.key.key == countKey.key }
        .map { (name: UAPINames.errnoName($0.key.errno), count: $0.value) }
        .sorted { $0.count == $1.count ? $0.name < $1.name : $0.count > $1.count }
      var concurrency: UInt64?
      if case .number(let raw) = countKey.key { concurrency = maxConcurrent[raw] }
      return Series(
        rawKey: rawKey, keyName: name, outcome: outcome, title: title, maxConcurrent: concurrency,
        failures: errnos,
        histogram: Histogram(
          layout: profile.layout, counts: counts.buckets, sumNanoseconds: counts.sumNanoseconds,
          minNanoseconds: counts.minNanoseconds, maxNanoseconds: counts.maxNanoseconds, timeSplit: counts.timeSplit))
    }
    var snapshot = Snapshot(
      profileName: profile.name, keyLabel: profile.keyLabel, unit: profile.unit,
      layout: profile.layout, series: series, accounting: accounting(inFlight: inFlight), timestamp: timestamp,
      since: since, maxConcurrent: maxConcurrentOverall)
    snapshot.profileDescription = profile.description
    snapshot.exportRange = profile.exportRange
    return snapshot
  }

  private func decoded(_ key: Key, _ decoder: KeyDecoder) -> (KeyNumber?, String) {
    switch key {
    case .number(let raw): return (decoder.number(raw), decoder.name(for: raw))
    case .name(let name): return (nil, name)
    }
  }
}

import Histograms
import Profiles

extension Counts {
  /// The snapshot users read: keys decoded, titles filled in, sorted by key. `inFlight` is the
  /// number of calls running at the print (from the counters since attach). `waitSiteName`
  /// names a wait site's stack (--off-cpu).
  public func snapshot(
    profile: Profile, decoder: KeyDecoder, timestamp: Double, since: Double = 0, inFlight: UInt64 = 0,
    waitSiteName: (Int64) -> String = { _ in "" }
  ) -> Snapshot {
    let waitSitesPerKey = profile.waitSitesPerKey
    let series = histograms.keys.sorted().map { countKey -> Series in
      let counts = histograms[countKey]!
      let decoded = decoder.decode(countKey.key)
      let (rawKey, name) = (decoded.raw, decoded.name)
      var title = profile.title(forKey: name, raw: rawKey?.description ?? name, parts: decoded.parts.map(\.name))
      let outcome = countKey.outcome.map { Outcome(UAPINames.outcomeName($0)) }
      if let outcome { title += " outcome(\(outcome.name))" }
      // split outcomes already show each errno; otherwise the key's failures go under it
      let errnos = countKey.outcome != nil ? [] : failures.filter { $0.key.key == countKey.key }
        .map { (name: UAPINames.errnoName($0.key.errno), count: $0.value) }
        .sorted { $0.count == $1.count ? $0.name < $1.name : $0.count > $1.count }
      var concurrency: UInt64?
      var (sites, locks): ([NamedWaitSite], [NamedWaitSite]) = ([], [])
      if case .number(let raw) = countKey.key {
        concurrency = maxConcurrent[raw]
        // a key split by outcome shares its sites: they go with the first (ok) series
        if waitSitesPerKey, countKey.outcome ?? 0 == 0 {
          (sites, locks) = Self.named(waitSites.filter { $0.key.key == raw }, waitSiteName)
        }
      }
      var series = Series(
        rawKey: rawKey, keyName: name, outcome: outcome, title: title, maxConcurrent: concurrency,
        failures: errnos,
        histogram: Histogram(
          layout: profile.layout, counts: counts.buckets, sumNanoseconds: counts.sumNanoseconds,
          minNanoseconds: counts.minNanoseconds, maxNanoseconds: counts.maxNanoseconds, timeSplit: counts.timeSplit))
      series.waitSites = sites
      series.lockWaits = locks
      series.keyParts = decoded.parts
      return series
    }
    var snapshot = Snapshot(
      profileName: profile.name, keyLabel: profile.keyLabel, unit: profile.unit,
      layout: profile.layout, series: series, accounting: accounting(inFlight: inFlight), timestamp: timestamp,
      since: since, maxConcurrent: maxConcurrentOverall)
    if !waitSitesPerKey { (snapshot.waitSites, snapshot.lockWaits) = Self.named(waitSites, waitSiteName) }
    snapshot.profileDescription = profile.description
    snapshot.exportRange = profile.exportRange
    return snapshot
  }

  /// Wait sites by stack, named by `waitSiteName`, and the waits for locks by kind.
  static func named(_ sites: [WaitSiteKey: WaitTotals], _ waitSiteName: (Int64) -> String) -> (stacks: [NamedWaitSite], locks: [NamedWaitSite]) {
    let stacks = sites.filter { $0.key.lockFlags == nil }.map { ($0.key.stack, $0.value) }
    var locks: [UInt64: WaitTotals] = [:]
    for (site, totals) in sites { if let flags = site.lockFlags { locks[flags, default: .zero].add(totals) } }
    return (NamedWaitSite.named(stacks, waitSiteName), NamedWaitSite.lockKinds(locks))
  }
}

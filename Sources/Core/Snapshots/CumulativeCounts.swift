import Histograms
import Profiles

/// One profile's counts since the start, as `serve` exposes them, in bounded memory: at most
/// `seriesLimit` series, the overflow series included (once keys take all but one place, the
/// calls of any further key, whatever their outcome, are summed into the one series keyed
/// `Profile.overflowKeyName`, and counted), and a series that has not changed for `idleSeconds`
/// is forgotten (it leaves the exposition; if its key comes back, it starts afresh with a new
/// `_created`), so keys that come and go (pids, comms, cgroups) cannot grow it over weeks.
public struct CumulativeCounts: Sendable {
  public let profile: Profile
  public let decoder: KeyDecoder
  /// Both may change on a reload: a lower limit removes no series, it only stops new ones.
  public var seriesLimit: Int
  public var idleSeconds: Double
  /// When the counts began (the tracer's attach).
  public let since: Double

  /// A series by what users read: its decoded key and outcome; or the overflow series.
  struct SeriesID: Hashable {
    var name: String
    var outcome: UInt32?
    var overflow = false

    static let overflowSeries = SeriesID(name: Profile.overflowKeyName, outcome: nil, overflow: true)
  }

  struct Entry {
    var raw: KeyNumber?
    /// A key of parts' each part (the overflow series': each labelled as overflow).
    var parts: [KeyPartName] = []
    var counts: SeriesCounts
    var failures: [UInt32: UInt64] = [:]
    /// --off-cpu on Linux 5.19+: the time its calls waited for locks, by the kinds' flags.
    var lockWaits: [UInt64: WaitTotals] = [:]
    var created: Double
    var changed: Double
  }

  private var series: [SeriesID: Entry] = [:]
  /// Series of keys: all but the overflow series.
  private var keySeries = 0
  private var stats = CallStats()
  private var accounting = Accounting()
  private var maxConcurrent: [UInt64: UInt64] = [:]
  private var maxConcurrentOverall: UInt64?
  /// Lock waits of keys found at exit: the probe's calls share them.
  private var probeLockWaits: [UInt64: WaitTotals] = [:]
  /// Lock waits of a key whose calls are still running (no series yet), kept until it has one
  /// or for the idle time, by key.
  private var pendingLockWaits: [UInt64: (waits: [UInt64: WaitTotals], since: Double)] = [:]
  /// Calls counted in the overflow series: their key found the series limit reached.
  public private(set) var overflowCalls: UInt64 = 0

  public init(profile: Profile, decoder: KeyDecoder, seriesLimit: Int, idleSeconds: Double, since: Double) {
    self.profile = profile
    self.decoder = decoder
    self.seriesLimit = seriesLimit
    self.idleSeconds = idleSeconds
    self.since = since
  }

  /// Series held now, the overflow series included.
  public var seriesCount: Int { series.count }

  /// Adds what the kernel counted since the previous collect, at `now` (wall-clock seconds).
  public mutating func add(_ counts: Counts, at now: Double) {
    var placed: [Key: SeriesID] = [:]
    for (countKey, counted) in counts.histograms {
      let id = place(countKey, counted, at: now)
      if countKey.outcome == nil { placed[countKey.key] = id }
    }
    for (failure, count) in counts.failures {
      guard let id = placed[failure.key] else { continue }  // a failure is counted with its call
      series[id]?.failures[failure.errno, default: 0] &+= count
    }
    stats = stats.adding(counts.stats)
    accounting = accounting.adding(counts.accounting(inFlight: stats.inFlight))
    if !counts.maxConcurrent.isEmpty { maxConcurrent = counts.maxConcurrent }
    maxConcurrentOverall = counts.maxConcurrentOverall ?? maxConcurrentOverall
    series = series.filter { now - $0.value.changed < idleSeconds }
    keySeries = series.keys.filter { !$0.overflow }.count
    addLockWaits(counts.waitSites, at: now)
  }

  /// Lock waits go with their key's series (with split outcomes its ok one, as printed snapshots
  /// have them, else its lowest outcome so far; the overflow series once the key would go
  /// there), or with the whole profile when the kernel sums them for all its calls (keys found
  /// at exit, keys of parts).
  private mutating func addLockWaits(_ sites: [WaitSiteKey: WaitTotals], at now: Double) {
    for (site, totals) in sites {
      guard let flags = site.lockFlags else { continue }
      if profile.waitSitesPerKey {
        pendingLockWaits[site.key, default: ([:], now)].waits[flags, default: .zero].add(totals)
      } else {
        probeLockWaits[flags, default: .zero].add(totals)
      }
    }
    guard !pendingLockWaits.isEmpty else { return }
    var byName: [String: SeriesID] = [:]  // each key's series: its lowest outcome
    for id in series.keys where !id.overflow && (byName[id.name]?.outcome ?? .max) > (id.outcome ?? 0) { byName[id.name] = id }
    let overflow: SeriesID? = keySeries >= seriesLimit - 1 && series[.overflowSeries] != nil ? .overflowSeries : nil
    for (key, pending) in pendingLockWaits {
      if let id = byName[decoder.decode(.number(key)).name] ?? overflow {
        for (flags, totals) in pending.waits { series[id]?.lockWaits[flags, default: .zero].add(totals) }
        pendingLockWaits[key] = nil
      } else if now - pending.since >= idleSeconds {
        pendingLockWaits[key] = nil
      }
    }
  }

  /// The series a key's calls go in: its own, a new one while the limit allows, else the overflow.
  private mutating func place(_ countKey: CountKey, _ counted: SeriesCounts, at now: Double) -> SeriesID {
    let decoded = decoder.decode(countKey.key)
    var (raw, parts) = (decoded.raw, decoded.parts)
    var id = SeriesID(name: decoded.name, outcome: countKey.outcome)
    if series[id] == nil && keySeries >= seriesLimit - 1 {
      id = .overflowSeries
      raw = nil
      parts = profile.keyParts.map { KeyPartName(label: $0.label, name: Profile.overflowKeyName) }
      overflowCalls &+= counted.buckets.reduce(0, &+)
    }
    if var existing = series[id] {
      existing.counts = existing.counts.merging(counted)
      existing.changed = now
      series[id] = existing
    } else {
      series[id] = Entry(raw: raw, parts: parts, counts: counted, created: now, changed: now)
      if !id.overflow { keySeries += 1 }
    }
    return id
  }

  /// The series as a snapshot, sorted by key, with each one's `_created` (wall-clock seconds).
  public func snapshot(at now: Double) -> (snapshot: Snapshot, created: [Double]) {
    let sorted = series.sorted { a, b in
      a.key.name != b.key.name ? a.key.name < b.key.name : (a.key.outcome ?? 0) < (b.key.outcome ?? 0)
    }
    var rows: [Entry] = []
    let items = sorted.map { id, entry -> Series in
      rows.append(entry)
      var concurrency: UInt64?
      if case .unsigned(let raw) = entry.raw { concurrency = maxConcurrent[raw] }
      var series = Series(
        rawKey: entry.raw, keyName: id.name, outcome: id.outcome.map { Outcome(UAPINames.outcomeName($0)) },
        title: id.name, maxConcurrent: concurrency,
        failures: entry.failures.map { (name: UAPINames.errnoName($0.key), count: $0.value) }
          .sorted { $0.count == $1.count ? $0.name < $1.name : $0.count > $1.count },
        histogram: Histogram(
          layout: profile.layout, counts: entry.counts.buckets, sumNanoseconds: entry.counts.sumNanoseconds,
          minNanoseconds: entry.counts.minNanoseconds, maxNanoseconds: entry.counts.maxNanoseconds,
          timeSplit: entry.counts.timeSplit))
      series.keyParts = entry.parts
      series.lockWaits = NamedWaitSite.lockKinds(entry.lockWaits)
      return series
    }
    var snapshot = Snapshot(
      profileName: profile.name, keyLabel: profile.keyLabel, unit: profile.unit, layout: profile.layout,
      series: items, accounting: accounting, timestamp: now, since: since, maxConcurrent: maxConcurrentOverall)
    snapshot.profileDescription = profile.description
    snapshot.exportRange = profile.exportRange
    snapshot.accounting.inFlight = stats.inFlight
    snapshot.lockWaits = NamedWaitSite.lockKinds(probeLockWaits)
    return (snapshot, rows.map(\.created))
  }
}

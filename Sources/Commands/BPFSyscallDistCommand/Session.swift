import CommandCore
import Histograms
import Snapshots
import Profiles
import Rendering
import Tracer

@preconcurrency import Glibc

/// One run: wait, print, repeat per the timing options; detach at the end. Text and JSON print
/// what was counted since the previous print; OpenMetrics, what was counted since the start.
public struct Session {
  let tracer: Tracer
  let profile: Profile
  let decoder: KeyDecoder
  let timing: TimingOptions
  let format: OutputFormat
  /// With --slower-than: prints each slow call as it ends.
  let slowCalls: SlowCallPrinter?
  /// With --record or --report: each print's counts since the previous one, as JSON.
  let recorder: RunRecorder?
  /// With --heatmap: draws each text print as a heatmap column instead.
  let heatmap: LiveHeatmap?
  /// With --off-cpu: names the places calls blocked at.
  let waitSiteNamer: WaitSiteNamer

  /// Without a print due, the kernel's hashes are still emptied this often (seconds), so that a
  /// run of any length keeps room for new keys.
  static let collectPeriod = 5.0

  func run() throws {
    let start = Clock.monotonic()
    let since = Clock.wall()
    // what the next print shows: since the previous print, or since the start for OpenMetrics
    var pending = Counts()
    // what the next record line holds: since the previous print, whatever the format
    var sincePrint = Counts()
    // the whole run, for the last line: counters only, so a long run keyed by pid does not keep
    // every key it ever saw
    var run = Accounting()
    var runStats = CallStats()
    var nextPrint = timing.interval.map { start + $0 }
    var printed = 0
    var last = false
    var costLines: String?
    while !last {
      let untilEnd = timing.duration.map { max(0, $0 - (Clock.monotonic() - start)) }
      let untilPrint = nextPrint.map { max(0, $0 - Clock.monotonic()) }
      let wait = [untilPrint, untilEnd, Self.collectPeriod].compactMap { $0 }.min()
      last = try waitForStop(seconds: wait) || (untilEnd != nil && wait == untilEnd)
      let printDue = nextPrint.map { Clock.monotonic() >= $0 } ?? false
      if printDue, let count = timing.count, printed + 1 >= count { last = true }
      if last {
        tracer.detach()  // the last collect is then exact: nothing runs any more
        try printSlowCalls()  // and every slow call is either shown now or counted as dropped
      }
      let counts: Counts
      do {
        counts = try tracer.collect()
      } catch {
        throw Failure.tracer(error)
      }
      runStats = runStats.adding(counts.stats)
      run = run.adding(counts.accounting(inFlight: runStats.inFlight))
      pending.merge(counts)
      sincePrint.merge(counts)
      if printDue || last {
        let cost = last ? try measuredCost(countedCalls: run.counted) : nil
        try show(pending, since: since, inFlight: runStats.inFlight, cost: cost)
        if let recorder {
          try recorder.append(JSONRenderer().render(snapshot(sincePrint, since: since, inFlight: runStats.inFlight, cost: cost)))
          sincePrint = Counts()
        }
        if let cost, format == .text { costLines = CostRenderer.text(cost) }
        if format != .openmetrics { pending = Counts() }
        printed += 1
        // the next print on the interval's grid after now: the prints the loop fell behind on are
        // skipped at once, never caught up one by one (a due time of weeks of uptime plus a tiny
        // interval can equal itself); where the grid is lost to rounding, an interval from now
        if let due = nextPrint, let interval = timing.interval {
          let now = Clock.monotonic()
          let next = due + (((now - due) / interval).rounded(.down) + 1) * interval
          nextPrint = next > now ? next : now + interval
        }
      }
    }
    try slowCalls?.finish()
    try recorder?.finish()
    if format == .text { Output.status(AccountingLine.render(run)) }
    if let costLines { Output.status(costLines) }
  }

  private func measuredCost(countedCalls: UInt64) throws -> ToolCost? {
    do {
      return try tracer.cost(countedCalls: countedCalls)
    } catch {
      throw Failure.tracer(error)
    }
  }

  /// Waits for a stop signal or `seconds`, printing slow calls as they come meanwhile.
  private func waitForStop(seconds: Double?) throws -> Bool {
    guard let descriptor = tracer.slowCallDescriptor else { return Signals.waitForStop(seconds: seconds) }
    return try Signals.waitForStop(seconds: seconds, watching: descriptor) { try printSlowCalls() }
  }

  private func printSlowCalls() throws {
    guard let slowCalls else { return }
    do {
      try slowCalls.print(try tracer.takeSlowCalls())
    } catch let error as TracerError {
      throw Failure.tracer(error)
    }
  }

  private func snapshot(_ counts: Counts, since: Double, inFlight: UInt64, cost: ToolCost?) -> Snapshot {
    var snapshot = counts.snapshot(
      profile: profile, decoder: decoder, timestamp: Clock.wall(), since: since, inFlight: inFlight,
      waitSiteName: waitSiteNamer.name)
    snapshot.cost = cost
    return snapshot
  }

  func show(_ counts: Counts, since: Double, inFlight: UInt64, cost: ToolCost?) throws {
    let snapshot = snapshot(counts, since: since, inFlight: inFlight, cost: cost)
    switch format {
    case .text:
      if let heatmap { return try heatmap.show(adding: JSONRenderer().render(snapshot)) }
      if timing.timestamp { try Output.print(Self.clockLine()) }
      try Output.write(TextRenderer().render(snapshot))
    case .json:
      try Output.print(JSONRenderer().render(snapshot))
    case .openmetrics:
      try Output.write(OpenMetricsRenderer().render(snapshot))
    }
  }

  /// `HH:MM:SS`, as bcc's -T prints it.
  static func clockLine() -> String {
    var seconds = time(nil)
    var parts = tm()
    localtime_r(&seconds, &parts)
    func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
    return "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
  }
}

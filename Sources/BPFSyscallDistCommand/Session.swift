import Histograms
import Profiles
import Rendering
import Tracer

@preconcurrency import Glibc

/// One run: wait, print, repeat per the timing options; detach at the end.
struct Session {
  let tracer: Tracer
  let profile: Profile
  let decoder: KeyDecoder
  let timing: TimingOptions
  let format: OutputFormat

  func run() throws {
    let start = Self.now()
    var previous = Counts()
    var printed = 0
    var stopping = false
    while !stopping {
      let untilEnd = timing.duration.map { max(0, $0 - (Self.now() - start)) }
      let wait = [timing.interval, untilEnd].compactMap { $0 }.min()
      stopping = Signals.waitForStop(seconds: wait)
      if let untilEnd, wait == untilEnd { stopping = true }
      let current: Counts
      do {
        current = try tracer.counts()
      } catch {
        throw Failure.runtime(String(describing: error))
      }
      if timing.interval != nil || stopping {
        let interval = timing.interval == nil ? current : current.subtracting(previous)
        try show(interval)
        previous = current
        printed += 1
      }
      if let count = timing.count, printed >= count { stopping = true }
    }
    if format == .text {
      var accounting = previous.snapshot(profile: profile, decoder: decoder, timestamp: 0).accounting
      if let unfinished = try? tracer.unfinishedCalls() {
        accounting.inFlight = UInt64(unfinished.inFlight)
        accounting.abandoned = UInt64(unfinished.abandoned)
      }
      Output.status(AccountingLine.render(accounting))
    }
    tracer.detach()
  }

  func show(_ counts: Counts) throws {
    let snapshot = counts.snapshot(profile: profile, decoder: decoder, timestamp: Self.wallClock())
    switch format {
    case .text:
      if timing.timestamp { try Output.print(Self.clockLine()) }
      try Output.write(TextRenderer().render(snapshot))
    case .json:
      try Output.print(JSONRenderer().render(snapshot))
    case .openmetrics:
      try Output.write(OpenMetricsRenderer().render(snapshot))
    }
  }

  static func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
  }

  static func wallClock() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_REALTIME, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
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

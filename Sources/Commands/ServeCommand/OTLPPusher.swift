import CommandCore
import Dispatch
import MetricsServer
import OTLPMetrics
import Synchronization

/// serve's OTLP push: every interval, on a thread of its own, the counts since the start as one
/// export (cumulative, so a point that is not delivered loses nothing: the next one has it all).
/// Nothing queues: memory is one export whatever the receiver does. A push that fails (refused,
/// down, no answer within the timeout) backs off, doubling from the interval up to ten seconds
/// or the interval, whichever is longer; the intervals skipped meanwhile and the failures are
/// counted, said once per outage, and exported both ways (`bpfsyscalldist_otlp_exports_total`).
final class OTLPPusher: Sendable {
  private let config: OTLPConfig
  private let pages: ServePages
  private let since: Double
  private let poster: Mutex<HTTPPoster>
  private let wake = DispatchSemaphore(value: 0)
  private let state = Mutex(State())

  private struct State {
    var stopping = false
    var outcomes = OTLPRequest.Outcomes()
  }

  init(_ config: OTLPConfig, pages: ServePages, since: Double) {
    (self.config, self.pages, self.since) = (config, pages, since)
    poster = Mutex(HTTPPoster(host: config.host, port: config.port, timeoutMilliseconds: config.timeoutMilliseconds))
  }

  var endpoint: String { "http://\(config.host.contains(":") ? "[\(config.host)]" : config.host):\(config.port)\(config.path)" }

  /// Starts the pushing; `stop()` ends it after one last push.
  func start() {
    DispatchQueue(label: "otlp-push").async { self.run() }
  }

  func stop() {
    state.withLock { $0.stopping = true }
    wake.signal()
    done.wait()
  }

  private let done = DispatchSemaphore(value: 0)

  private func run() {
    let interval = Double(config.intervalMilliseconds) / 1000
    var backoff = 0.0, resumeAt = 0.0, failing = false
    while true {
      _ = wake.wait(timeout: .now() + interval)
      let stopping = state.withLock { $0.stopping }
      let now = Clock.monotonic()
      if !stopping && now < resumeAt {
        record { $0.skipped += 1 }
        continue
      }
      do {
        // the last push, at stop, waits 2 s at most: a receiver that is down does not hold serve
        let status = try push(at: Clock.wall(), timeoutMilliseconds: stopping ? min(2000, config.timeoutMilliseconds) : nil)
        guard (200..<300).contains(status) else { throw Refused(status: status) }
        record { $0.sent += 1 }
        if failing { Output.status("note: OTLP push to \(endpoint) works again") }
        (backoff, failing) = (0, false)
      } catch {
        record { $0.failed += 1 }
        if !failing { Output.status("note: OTLP push to \(endpoint) failed (\(error)); counting goes on, the next push has it all") }
        failing = true
        backoff = min(max(interval, 10), backoff == 0 ? interval : backoff * 2)
        resumeAt = now + backoff
      }
      // a stop asked for while this push waited: that push was the last
      if stopping || state.withLock({ $0.stopping }) { break }
    }
    done.signal()
  }

  private struct Refused: Error, CustomStringConvertible {
    var status: Int
    var description: String { "HTTP status \(status)" }
  }

  private func push(at now: Double, timeoutMilliseconds: Int?) throws -> Int {
    let outcomes = state.withLock { $0.outcomes }
    let body = OTLPRequest.encode(pages.otlpProfiles(), resource: config.resource.map { ($0.key, $0.value) }, version: Release.version, now: now, since: since, outcomes: outcomes)
    let headers = [("Content-Type", "application/x-protobuf"), ("User-Agent", "bpfsyscalldist/\(Release.version)")] + config.headers.map { ($0.key, $0.value) }
    return try poster.withLock { try $0.post(path: config.path, headers: headers, body: body, timeoutMilliseconds: timeoutMilliseconds) }
  }

  private func record(_ change: (inout OTLPRequest.Outcomes) -> Void) {
    let outcomes = state.withLock { state in
      change(&state.outcomes)
      return state.outcomes
    }
    pages.update(otlp: outcomes)
  }
}

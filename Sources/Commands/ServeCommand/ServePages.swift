import CommandCore
import Histograms
import MetricsServer
import OTLPMetrics
import ProtobufExposition
import Rendering
import Snapshots
import Synchronization

/// What `serve` exposes, shared by the collecting thread (which adds) and the server's (which
/// reads): each profile's counts since the start, and the pages rendered from them, at most once
/// per format between two collections, however many scrapers ask. A scrape never changes what
/// is counted.
final class ServePages: MetricsPages {
  /// One served profile as the pages show it.
  struct Exposed: Sendable {
    var counts: CumulativeCounts
    var buckets: BucketSet
    /// How it hooks the kernel and what it filters, for the index page.
    var summary: String
    /// With --cost: its programs' runs and time, as of the last collection.
    var cost: ToolCost?
  }

  private struct State {
    var profiles: [Exposed] = []
    /// Bumped by every change: a cached page of an older version is rendered anew.
    var version = 0
    var cache: [ExpositionFormat: (version: Int, page: Page)] = [:]
    /// With an OTLP push: what it did so far.
    var otlp: OTLPRequest.Outcomes?
  }

  private let state = Mutex(State())
  private let version: String

  init(version: String) {
    self.version = version
  }

  /// Changes the profiles (a collection, a reload) under the lock.
  func update(_ body: (inout [Exposed]) -> Void) {
    state.withLock { state in
      body(&state.profiles)
      state.version += 1
    }
  }

  func metrics(_ format: ExpositionFormat) -> Page {
    state.withLock { state in
      if let cached = state.cache[format], cached.version == state.version { return cached.page }
      let families = families(state.profiles, otlp: state.otlp)
      let page = Page(format == .protobuf ? ProtobufExposition.render(families) : ExpositionRenderer().renderBytes(families, as: format))
      state.cache[format] = (state.version, page)
      return page
    }
  }

  /// The OTLP push's outcomes, for the pages.
  func update(otlp outcomes: OTLPRequest.Outcomes) {
    state.withLock { state in
      state.otlp = outcomes
      state.version += 1
    }
  }

  /// Every profile's counts since the start, as an OTLP export takes them.
  func otlpProfiles() -> [OTLPRequest.Profile] {
    let now = Clock.wall()
    return state.withLock { state in
      state.profiles.map { exposed in
        let (snapshot, created) = exposed.counts.snapshot(at: now)
        return OTLPRequest.Profile(snapshot: snapshot, starts: created)
      }
    }
  }

  private func families(_ profiles: [Exposed], otlp: OTLPRequest.Outcomes?) -> [MetricFamily] {
    let now = Clock.wall()
    var families: [MetricFamily] = []
    let renderer = OpenMetricsRenderer()
    for exposed in profiles {
      let (snapshot, created) = exposed.counts.snapshot(at: now)
      families += renderer.families(snapshot, buckets: exposed.buckets) { created[$0] }
      families += renderer.accountingFamilies(
        snapshot, overflowCalls: exposed.counts.overflowCalls, since: exposed.counts.since)
      if var cost = exposed.cost {
        cost.countedCalls = snapshot.accounting.counted  // both since the profile attached
        families += CostRenderer.families(cost, profileName: snapshot.profileName, since: exposed.counts.since)
      }
    }
    if let otlp {
      var exports = MetricFamily(
        name: "bpfsyscalldist_otlp_exports", kind: .counter,
        help: "OTLP pushes since serve started, by result: sent, failed (refused, down or no answer in time), skipped (backing off).")
      for (result, count) in [("sent", otlp.sent), ("failed", otlp.failed), ("skipped", otlp.skipped)] {
        exports.add("_total", Labels.render([("result", result)]), .count(count))
      }
      families.append(exports)
    }
    return families
  }

  func index() -> Page {
    let rows = state.withLock { state in
      state.profiles.map { "<li><b>\(Self.html($0.counts.profile.name))</b>: \(Self.html($0.counts.profile.description)) (\(Self.html($0.summary)))</li>" }
    }
    return Page(
      """
      <!DOCTYPE html>
      <html><head><title>bpfsyscalldist</title></head><body>
      <h1>bpfsyscalldist \(Self.html(version))</h1>
      <p><a href="/metrics">/metrics</a>: latency histograms since the start, for Prometheus.</p>
      <ul>
      \(rows.joined(separator: "\n"))
      </ul>
      </body></html>

      """)
  }

  static func html(_ text: String) -> String {
    text.replacing("&", with: "&amp;").replacing("<", with: "&lt;").replacing(">", with: "&gt;")
  }
}

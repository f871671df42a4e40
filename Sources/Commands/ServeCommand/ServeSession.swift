import CommandCore
import BPFKit
import Histograms
import MetricsServer
import OTLPMetrics
import Profiles
import Rendering
import Snapshots
import Tracer

@preconcurrency import Glibc

/// A `serve` run: the server up, every profile attached, what the kernel counted collected each
/// second into the counts since the start, until SIGINT or SIGTERM (then detach, exit 0); SIGHUP
/// reloads the config, keeping the counts of the profiles it did not change.
final class ServeSession {
  /// One attached profile: what the config said, and its tracer.
  struct Served {
    var plan: ServePlan.Entry
    var tracer: Tracer
  }

  private let options: ServeOptions
  private let pages = ServePages(version: Release.version)
  private let server: MetricsServer
  private var served: [Served] = []
  private let pusher: OTLPPusher?
  private var limits: (series: Int, idleSeconds: Double, buckets: ClosedRange<Double>?)
  /// Profiles whose last collection failed: said once, not every second, until one succeeds.
  private var failing: Set<String> = []

  /// How often what the kernel counted is added to the counts since the start.
  static let collectSeconds = 1.0

  init(_ options: ServeOptions) throws {
    self.options = options
    LibbpfLog.install(verbose: options.verbose)
    let plan = try ServePlan(options)
    let pushConfig = try Self.pushConfig(options)
    let pages = self.pages
    pusher = pushConfig.map { OTLPPusher($0, pages: pages, since: Clock.wall()) }
    limits = Self.limits(plan, options)
    let (host, port) = ServeOptions.address(plan.listen ?? "127.0.0.1:\(ServeOptions.defaultPort)")!
    do {
      server = try MetricsServer(
        host: host, port: port, pages: pages,
        requestTimeout: .nanoseconds(Int64(TimeUnit.nanoseconds(parsing: options.requestTimeout)!)))
    } catch {
      throw Failure.usage("cannot listen on \(host):\(port): \(error)")
    }
    Output.status("note: serving http://\(server.address)/metrics (\(plan.entries.count) profile\(plan.entries.count == 1 ? "" : "s"))")
    do {
      served = try plan.entries.map { try attach($0) }
    } catch {
      server.close()
      throw error
    }
    pages.update { $0 = served.map(exposed) }
    if let pusher, let pushConfig {
      Output.status("note: pushing OTLP to \(pusher.endpoint) every \(Double(pushConfig.intervalMilliseconds) / 1000)s")
      pusher.start()
    }
    Output.status("Serving. Hit Ctrl-C to end.")
  }

  /// The OTLP push the flags and the environment ask for, if any; refused in one line when it
  /// cannot be.
  private static func pushConfig(_ options: ServeOptions) throws -> OTLPConfig? {
    let environment = Self.environment()
    let exporters = (environment["OTEL_METRICS_EXPORTER"] ?? "").split(separator: ",").map { $0.trimmingPrefix(" ") }
    guard options.otlpEndpoint != nil || options.otlpInterval != nil || exporters.contains("otlp") else { return nil }
    let interval = options.otlpInterval.flatMap(TimeUnit.nanoseconds(parsing:)).map { Int(max(1, $0 / 1_000_000)) }
    var name = [CChar](repeating: 0, count: 256)
    gethostname(&name, name.count - 1)
    let config: OTLPConfig
    do {
      config = try OTLPConfig(
        endpoint: options.otlpEndpoint, intervalMilliseconds: interval, environment: environment,
        hostName: String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    } catch {
      throw Failure.usage(error.description)
    }
    return config
  }

  /// The process's environment variables.
  private static func environment() -> [String: String] {
    var variables: [String: String] = [:]
    var entry = environ
    while let pointer = entry.pointee {
      let text = String(cString: pointer)
      if let equals = text.firstIndex(of: "=") { variables[String(text[..<equals])] = String(text[text.index(after: equals)...]) }
      entry += 1
    }
    return variables
  }

  /// The series limit, the idle time and the bucket range a plan and the flags give.
  private static func limits(_ plan: ServePlan, _ options: ServeOptions) -> (series: Int, idleSeconds: Double, buckets: ClosedRange<Double>?) {
    let seconds = { (text: String?) in text.flatMap(TimeUnit.nanoseconds(parsing:)).map { Double($0) / 1e9 } }
    let low = seconds(options.minBucket) ?? 0, high = seconds(options.maxBucket) ?? .infinity
    return (
      plan.maxSeries ?? ServeOptions.defaultMaxSeries, seconds(plan.seriesIdle ?? ServeOptions.defaultSeriesIdle)!,
      low == 0 && high == .infinity ? nil : low...high
    )
  }

  private func attach(_ entry: ServePlan.Entry) throws -> Served {
    let tracer: Tracer
    do {
      tracer = try Tracer(entry.request)
    } catch {
      throw Failure.tracer(error, profile: entry.metricName)
    }
    for line in tracer.notes { Output.status("note: \(entry.metricName): " + line) }
    for attachment in tracer.attachments { Output.status("Attached \(attachment) for \(entry.metricName)") }
    if tracer.method == .rawTracepoint || tracer.method == .btfTracepoint || entry.profile.target == .allSyscalls {
      Output.status(
        "note: \(entry.metricName) runs on every syscall of this host (\(tracer.method.rawValue)): each pays its cost (bpfsyscalldist(8), COST)")
    }
    return Served(plan: entry, tracer: tracer)
  }

  private func exposed(_ served: Served) -> ServePages.Exposed {
    let entry = served.plan
    var profile = entry.profile
    profile.name = entry.metricName
    return ServePages.Exposed(
      counts: CumulativeCounts(
        profile: profile, decoder: entry.decoder, seriesLimit: limits.series, idleSeconds: limits.idleSeconds,
        since: Clock.wall()),
      buckets: BucketSet(profile.layout, unit: profile.unit, range: limits.buckets ?? profile.exportRange),
      summary: "\(served.tracer.method.rawValue)\(entry.filtersDescription)")
  }

  func run() throws {
    while true {
      let signal = Signals.waitForSignal(seconds: Self.collectSeconds)
      if signal == SIGINT || signal == SIGTERM {
        collect()
        pusher?.stop()  // after one last push
        server.close()
        served.removeAll()  // detaches
        return
      }
      collect()
      if signal == SIGHUP { reload() }
    }
  }

  /// Adds what each profile's kernel side counted since the last collection. A profile whose
  /// maps cannot be read this time is said to fail (once, until it recovers) and adds nothing:
  /// the others, and the counts it has, go on being served. A read that failed part way loses
  /// what it had drained of that collection (said in the note).
  private func collect() {
    let now = Clock.wall()
    var counted: [(counts: Counts, cost: ToolCost?)?] = []
    for profile in served {
      let name = profile.plan.metricName
      do {
        let counts = try profile.tracer.collect()
        counted.append((counts, try profile.tracer.cost(countedCalls: 0)))  // the pages count the calls
        if failing.remove(name) != nil { Output.status("note: \(name): collecting again") }
      } catch {
        counted.append(nil)
        if failing.insert(name).inserted {
          Output.status("note: \(name): cannot collect (this collection's counts are lost), still serving its counts so far: \(Failure.tracer(error, profile: name))")
        }
      }
    }
    pages.update { exposed in
      for index in exposed.indices {
        guard let (counts, cost) = counted[index] else { continue }
        exposed[index].counts.add(counts, at: now)
        exposed[index].cost = cost
      }
    }
  }

  /// SIGHUP: the config again. Profiles whose entry and profile did not change keep their tracer
  /// and counts; the others are attached anew (their counts start again) or detached. A config
  /// that does not load, or a profile that does not attach, changes nothing: the run goes on as
  /// it was, and says why.
  private func reload() {
    guard options.config != nil else {
      Output.status("note: SIGHUP: nothing to reload without --config")
      return
    }
    do {
      let plan = try ServePlan(options)
      let newLimits = Self.limits(plan, options)
      var next: [Served] = []
      var kept: [String: Int] = [:]
      for entry in plan.entries {
        if let index = served.firstIndex(where: { $0.plan == entry }) {
          kept[entry.metricName] = index
          next.append(served[index])
        } else {
          next.append(try attach(entry))
        }
      }
      limits = newLimits
      pages.update { exposed in
        let previous = exposed
        exposed = next.map { profile in
          guard var kept = kept[profile.plan.metricName].map({ previous[$0] }) else { return self.exposed(profile) }
          // a lower limit takes no series away: new keys go to the overflow until enough leave
          kept.counts.seriesLimit = newLimits.series
          kept.counts.idleSeconds = newLimits.idleSeconds
          return kept
        }
      }
      served = next  // the profiles no longer served detach here, with their last reference
      Output.status(
        "note: reloaded \(options.config!): \(next.count) profiles, \(kept.count) kept with their counts; max_series \(newLimits.series), series_idle \(Int(newLimits.idleSeconds))s")
    } catch let failure as Failure {
      Output.status("note: SIGHUP: \(options.config!) not reloaded, still serving as before:\n\(failure.description)")
    } catch {
      Output.status("note: SIGHUP: \(options.config!) not reloaded, still serving as before: \(error)")
    }
  }
}

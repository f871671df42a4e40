import CommandCore
import BPFKit
import Profiles
import Rendering
import Snapshots
import Tracer
import YAMLReading

/// What `serve` is to run, from its flags or its config file, every profile loaded and checked
/// before anything attaches: a mistake anywhere is refused at start (exit 2, file:line:col).
struct ServePlan {
  /// One profile to serve: its request and how its keys read.
  struct Entry: Equatable {
    var metricName: String
    var profile: Profile
    var request: TraceRequest
    var decoder: KeyDecoder
    /// ", pid 42, comm nginx": for the index page.
    var filtersDescription: String
    /// What the config says of it: an entry that says the same, with the same profile, keeps its
    /// tracer and counts across a reload.
    var source: ServeConfig.Entry

    static func == (a: Entry, b: Entry) -> Bool {
      a.metricName == b.metricName && a.profile == b.profile && a.source == b.source
    }
  }

  var entries: [Entry] = []
  var listen: String?
  var maxSeries: Int?
  var seriesIdle: String?

  init(_ options: ServeOptions) throws {
    listen = options.listen
    maxSeries = options.maxSeries
    seriesIdle = options.seriesIdle
    var sources: [ServeConfig.Entry] = []
    var configFile: String?
    if let file = options.config {
      configFile = file
      let config = try Self.config(file)
      listen = options.listen ?? config.listen
      maxSeries = options.maxSeries ?? config.maxSeries
      seriesIdle = options.seriesIdle ?? config.seriesIdleNanoseconds.map { "\($0)ns" }
      let runtimeRoot = options.filterOptions.filters.runtimeRoot ?? config.runtimeRoot
      sources = config.profiles.map { entry in
        var entry = entry
        entry.filters.runtimeRoot = runtimeRoot
        return entry
      }
    } else {
      let filters = options.filterOptions.filters
      sources = (options.profiles.isEmpty ? ["bpfsyscalldist"] : options.profiles).map { profile in
        var entry = ServeConfig.Entry(profile: profile, location: SourceLocation(line: 1, column: 1))
        entry.filters = filters
        entry.splitOutcome = options.splitOutcome
        entry.concurrency = options.concurrency
        entry.limits = options.storage.limits
        if let method = options.probeMethod.method { entry.probeMethod = (method.rawValue, entry.location) }
        return entry
      }
    }
    let catalog = ProfileCatalog.standard()
    let btf = try? VmlinuxBTF()
    let cgroups = CgroupPaths()
    for source in sources {
      var entry = try Self.entry(source, configFile: configFile, catalog: catalog, btf: btf, cgroups: cgroups)
      if let layout = options.bucketLayout { (entry.profile.layout, entry.request.profile.layout) = (layout, layout) }
      entry.request.measureCost = options.cost
      entry.request.splitTime = options.offCPU || entry.profile.offCPU
      // compared as the exposition writes them: "a-b" and "a.b" are both a_b
      let written = Labels.metricName(entry.metricName)
      if let twin = entries.first(where: { Labels.metricName($0.metricName) == written }) {
        let problem = "two profiles would both be '\(written)' in the metrics"
        guard let configFile else { throw Failure.usage(problem + ": serve each once") }
        throw Self.diagnostic(
          configFile, source.location, "\(problem) (the other at line \(twin.source.location.line)): give one a 'name'")
      }
      entries.append(entry)
    }
  }

  private static func config(_ file: String) throws -> ServeConfig {
    let text: String
    do {
      text = try ProfileCatalog.read(file)
    } catch {
      guard case .unreadable(_, let reason) = error else { throw Failure.usage(error.description) }
      throw Failure.usage("cannot read the serve config '\(file)': \(reason)")
    }
    do {
      return try ServeConfig.load(text: text, file: file)
    } catch {
      throw Failure.profile(error)
    }
  }

  private static func entry(
    _ source: ServeConfig.Entry, configFile: String?, catalog: ProfileCatalog, btf: VmlinuxBTF?, cgroups: CgroupPaths
  ) throws -> Entry {
    var profile = try ProfileLookup.profile(source.profile, catalog, btf)
    if !source.labels.isEmpty {
      let (labelled, problem) = profile.labelled(by: source.labels)
      if let problem { throw configFile.map { diagnostic($0, source.location, problem) } ?? Failure.usage(problem) }
      profile = labelled
    }
    var method: ProbeMethod?
    if let (name, location) = source.probeMethod {
      method = ProbeMethod(rawValue: name)
      if method == nil && name != "auto" {
        let names = (["auto"] + ProbeMethod.allCases.map(\.rawValue)).joined(separator: ", ")
        throw configFile.map { diagnostic($0, location, "unknown probe method '\(name)'; expected one of: \(names)") }
          ?? Failure.usage("unknown probe method '\(name)'")
      }
    }
    if source.splitOutcome && profile.keyLabels.contains("outcome") {
      let problem = "split outcomes add the label 'outcome', which profile \(profile.name) already uses for its key"
      throw configFile.map { diagnostic($0, source.location, problem) } ?? Failure.usage(problem)
    }
    let enumerators = profile.decoding.btfEnum.flatMap { btf?.enumerators(of: $0) } ?? [:]
    var request = TraceRequest(
      profile: profile, enumerators: enumerators, filters: source.filters, splitOutcome: source.splitOutcome,
      forcedMethod: method, limits: source.limits, trackConcurrency: source.concurrency)
    request.laterNotes = { Output.status("note: " + $0) }
    return Entry(
      metricName: source.name ?? profile.name, profile: profile, request: request,
      decoder: ProfileLookup.decoder(for: profile, enumerators: enumerators, btf: btf, cgroups: cgroups),
      filtersDescription: source.filters.summary, source: source)
  }

  private static func diagnostic(_ file: String, _ location: SourceLocation, _ message: String) -> Failure {
    .profile(ProfileError([Diagnostic(file: file, location: location, message: message, sourceLine: nil)]))
  }
}

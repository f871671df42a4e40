import Histograms
import Profiles
import YAMLReading

/// What `bpfsyscalldist serve --config FILE.yaml` serves: the profiles, each with its own
/// filters, and the server's settings. For systemd: one file instead of a long command line.
///
/// ```yaml
/// listen: 127.0.0.1:9435
/// max_series: 1000          # per profile; further keys are summed into "(over max_series)"
/// series_idle: 10m          # a series unchanged this long leaves the exposition
/// runtime_root: /host       # as --runtime-root: where the host's / is, for container names
/// profiles:
///   - profile: bpfsyscalldist
///   - profile: futex        # a name or a file, as --profile takes it
///     name: futex_nginx     # the metrics' prefix instead of the profile's name
///     comm: nginx           # pid, tid, comm, cgroup, container, pod: as -p, -t, -c, --cgroup, ...
///     labels: [namespace, pod, container]  # each call's, as labels beside the key's
///     split_outcome: true
///     concurrency: true
///     probe_method: tp_btf
///     max_keys: 20000       # as --max-keys and --max-errors
///     max_errors: 8192
/// ```
public struct ServeConfig: Equatable, Sendable {
  public var listen: String?
  public var maxSeries: Int?
  public var seriesIdleNanoseconds: UInt64?
  public var runtimeRoot: String?
  public var profiles: [Entry] = []

  public struct Entry: Equatable, Sendable {
    /// A profile name or file, as `--profile` takes it.
    public var profile: String
    /// The metrics' prefix instead of the profile's name.
    public var name: String?
    /// As -p, -t, -c and --cgroup give them.
    public var filters = Filters()
    public var splitOutcome = false
    public var concurrency = false
    /// Each call's namespace, pod and container as further labels, in this order.
    public var labels: [ContainerLabel] = []
    public var limits = StorageLimits()
    /// As `--probe-method` takes it (the tracer checks the name), and where it is written.
    public var probeMethod: (name: String, location: SourceLocation)?
    /// Where the entry is: its errors beyond this file's (a broken profile, an unknown method).
    public var location: SourceLocation

    public init(profile: String, location: SourceLocation) {
      self.profile = profile
      self.location = location
    }

    public static func == (a: Entry, b: Entry) -> Bool {
      a.profile == b.profile && a.name == b.name && a.filters == b.filters
        && a.splitOutcome == b.splitOutcome && a.concurrency == b.concurrency && a.labels == b.labels
        && a.limits == b.limits && a.probeMethod?.name == b.probeMethod?.name
    }
  }

  public init() {}

  /// Reads a config file's text; every problem at once, each with its place.
  public static func load(text: String, file: String) throws(ProfileError) -> ServeConfig {
    var builder = ServeConfigBuilder(log: DiagnosticLog(file: file, text: text))
    let root = try builder.log.parse(text)
    let config = builder.config(from: root)
    guard let config, builder.log.diagnostics.isEmpty else { throw ProfileError(builder.log.diagnostics) }
    return config
  }
}

struct ServeConfigBuilder: YAMLReader {
  var log: DiagnosticLog

  mutating func config(from root: YAMLNode) -> ServeConfig? {
    guard
      let top = fields(
        of: root, in: "the serve config", allowed: ["listen", "max_series", "series_idle", "runtime_root", "profiles"],
        required: ["profiles"])
    else { return nil }
    var config = ServeConfig()
    config.listen = top["listen"].flatMap { string($0, "'listen'") }
    if let node = top["max_series"], let limit = integer(node, "'max_series'") {
      if limit < 1 || limit > 1_000_000 {
        error("'max_series' must be from 1 to 1000000", at: node.location)
      }
      config.maxSeries = Int(limit)
    }
    if let node = top["series_idle"], let text = string(node, "'series_idle'") {
      config.seriesIdleNanoseconds = TimeUnit.nanoseconds(parsing: text)
      if config.seriesIdleNanoseconds.map({ $0 == 0 }) ?? true {
        error("'series_idle' must be a duration with its unit: ns, us, ms or s (e.g. 600s)", at: node.location)
      }
    }
    if let node = top["runtime_root"], let path = string(node, "'runtime_root'") {
      if let problem = Filters.runtimeRootProblem(path) { error("'runtime_root' " + problem, at: node.location) }
      config.runtimeRoot = path
    }
    guard let profilesNode = top["profiles"] else { return nil }
    guard case .sequence(let items, _) = profilesNode, !items.isEmpty else {
      error("'profiles' must be a list of at least one profile ('- profile: NAME')", at: profilesNode.location)
      return nil
    }
    config.profiles = items.compactMap { entry($0) }
    return config
  }

  mutating func entry(_ node: YAMLNode) -> ServeConfig.Entry? {
    guard
      let item = fields(
        of: node, in: "a 'profiles' entry",
        allowed: [
          "profile", "name", "pid", "tid", "comm", "cgroup", "container", "pod", "labels", "split_outcome", "concurrency", "probe_method",
          "max_keys", "max_errors",
        ],
        required: ["profile"]),
      let profileNode = item["profile"], let profile = string(profileNode, "'profile'")
    else { return nil }
    var entry = ServeConfig.Entry(profile: profile, location: node.location)
    if let nameNode = item["name"], let name = string(nameNode, "'name'") {
      if name.isEmpty || !name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) {
        error("'name' becomes a metric name: letters, digits and '_' only", at: nameNode.location)
      }
      entry.name = name
    }
    entry.filters.pid = taskID(item["pid"], "pid", "process")
    entry.filters.tid = taskID(item["tid"], "tid", "thread")
    if let commNode = item["comm"], let comm = string(commNode, "'comm'") {
      if let problem = Filters.commProblem(comm) { error("'comm' " + problem, at: commNode.location) }
      entry.filters.comm = comm
    }
    entry.filters.cgroupPath = item["cgroup"].flatMap { string($0, "'cgroup'") }
    if let containerNode = item["container"], let container = string(containerNode, "'container'") {
      if container.isEmpty { error("'container' must name a container", at: containerNode.location) }
      entry.filters.container = container
    }
    if let podNode = item["pod"], let pod = string(podNode, "'pod'") {
      if let problem = Filters.podProblem(pod) { error("'pod' " + problem, at: podNode.location) }
      entry.filters.pod = pod
    }
    if let problem = entry.filters.combinationProblem { error(problem, at: node.location) }
    if let labelsNode = item["labels"] { entry.labels = labels(labelsNode) }
    entry.splitOutcome = item["split_outcome"].flatMap { boolean($0, "'split_outcome'") } ?? false
    entry.concurrency = item["concurrency"].flatMap { boolean($0, "'concurrency'") } ?? false
    if let methodNode = item["probe_method"], let method = string(methodNode, "'probe_method'") {
      entry.probeMethod = (method, methodNode.location)
    }
    entry.limits.maxKeys = entryLimit(item["max_keys"], "max_keys")
    entry.limits.maxErrors = entryLimit(item["max_errors"], "max_errors") ?? StorageLimits.defaultMaxErrors
    return entry
  }

  /// `labels:`: a list of namespace, pod and container, each once.
  mutating func labels(_ node: YAMLNode) -> [ContainerLabel] {
    let expected = ContainerLabel.allCases.map(\.rawValue).joined(separator: ", ")
    guard case .sequence(let items, _) = node, !items.isEmpty else {
      error("'labels' must be a list of some of: \(expected)", at: node.location)
      return []
    }
    var labels: [ContainerLabel] = []
    for item in items {
      guard let name = string(item, "a label") else { continue }
      guard let label = ContainerLabel(rawValue: name) else {
        error("unknown label '\(name)'; expected one of: \(expected)", at: item.location)
        continue
      }
      if labels.contains(label) { error("label '\(name)' is given twice", at: item.location) }
      labels.append(label)
    }
    return labels
  }

  /// A hash's entries: 1 to `StorageLimits.ceiling`.
  mutating func entryLimit(_ node: YAMLNode?, _ field: String) -> Int? {
    guard let node, let value = integer(node, "'\(field)'") else { return nil }
    guard value >= 1 && value <= Int64(StorageLimits.ceiling) else {
      error("'\(field)' must be from 1 to \(StorageLimits.ceiling)", at: node.location)
      return nil
    }
    return Int(value)
  }

  /// A pid or tid: a positive 32-bit number.
  mutating func taskID(_ node: YAMLNode?, _ field: String, _ what: String) -> Int32? {
    guard let node, let id = integer(node, "'\(field)'") else { return nil }
    if let problem = Filters.taskIDProblem(id, of: what) {
      error("'\(field)' " + problem, at: node.location)
      return nil
    }
    return Int32(id)
  }
}

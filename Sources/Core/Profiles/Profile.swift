import Histograms

/// What to measure and how to show it: the parsed form of a profile file. Every value only
/// selects among paths of the pre-built BPF program or fills its settings.
public struct Profile: Equatable, Sendable {
  /// The key of the series `serve` sums the keys past its series limit into: no key can read so
  /// (longer than a comm, not a number, a C name or a cgroup path; refused in a profile's `map`).
  public static let overflowKeyName = "(over max_series)"

  /// What the probe times.
  public enum Target: Equatable, Sendable {
    case syscall(name: String, number: Int)
    case allSyscalls
    case kernelFunction(String)
  }

  /// Where each call's histogram key comes from.
  public enum KeySource: Equatable, Sendable {
    case argument(Int)
    case syscall
    /// The return value, signed.
    case retval
    /// The return value as an errno: 0 for a success, else the errno the call failed with
    /// (`source: retval` with `decode: {errno: true}`).
    case errno
    /// The process id (the thread-group id), what users call the pid.
    case pid
    case tid
    case comm
    /// The task's cgroup (v2), shown as its path: a pod's, a service's.
    case cgroup
    /// The task's container (`namespace/pod/name` in a Kubernetes pod) and its pod
    /// (`namespace/name`): its cgroup, named by the container runtime's files.
    case container, pod
    /// Each name alone, as Prometheus' Kubernetes metrics label them (`namespace="default"`,
    /// `pod="web-1"`, `container="nginx"`): serve's `labels:`.
    case namespace, podName, containerName
    case none

    /// The names `key: {source: NAME}` takes, and what each means (`tgid` is `pid`'s other name).
    public static let byName: KeyValuePairs<String, KeySource> = [
      "arg0": .argument(0), "arg1": .argument(1), "arg2": .argument(2), "arg3": .argument(3),
      "arg4": .argument(4), "arg5": .argument(5), "syscall": .syscall, "retval": .retval, "pid": .pid,
      "tgid": .pid, "tid": .tid, "comm": .comm, "cgroup": .cgroup, "container": .container,
      "pod": .pod, "namespace": .namespace, "pod_name": .podName, "container_name": .containerName, "none": .none,
    ]

    /// Named in user space from the task's cgroup, by the container runtime's files.
    public var namesContainers: Bool {
      [.container, .pod, .namespace, .podName, .containerName].contains(self)
    }

    /// The source as `--check` names it.
    public var name: String {
      switch self {
      case .errno: return "retval (as errno)"
      default: return Self.byName.first { $0.value == self }!.key
      }
    }
  }

  /// How raw keys become names; the first decoder that knows a value wins.
  public struct Decoding: Equatable, Sendable {
    /// An enum in the running kernel's BTF (e.g. `bpf_cmd`).
    public var btfEnum: String?
    /// Names written in the profile: the fallback, or the only decoder.
    public var names: [UInt64: String]
    public var syscallNames: Bool

    public init(btfEnum: String? = nil, names: [UInt64: String] = [:], syscallNames: Bool = false) {
      self.btfEnum = btfEnum
      self.names = names
      self.syscallNames = syscallNames
    }
  }

  public var name: String
  public var description: String
  public var target: Target
  /// A one-part key: where it comes from, its label and names. With `keyParts`, the source is
  /// `none` and the label the parts' labels joined by `_`.
  public var keySource: KeySource
  public var keyLabel: String
  public var decoding: Decoding
  /// `key:` as a list (or one part that reads memory or names an fd); empty for a one-part key.
  public var keyParts: [KeyPart] = []
  public var layout: BucketLayout
  public var unit: TimeUnit
  /// The heading of each histogram: `{key}` the decoded name, `{raw}` the number, `{label}`.
  public var title: String
  /// `slower_than`: report each call of at least this many nanoseconds as it ends, unless the
  /// command line says otherwise.
  public var slowerThanNanoseconds: UInt64?
  /// `off_cpu`: split each call's time into on CPU, waiting for a CPU and blocked, as
  /// `--off-cpu` does.
  public var offCPU = false
  /// `histogram.export`: the bucket bounds (seconds) OpenMetrics and `serve` export; nil for all
  /// up to an hour.
  public var exportRange: ClosedRange<Double>?

  public init(
    name: String, description: String, target: Target, keySource: KeySource, keyLabel: String,
    decoding: Decoding, layout: BucketLayout, unit: TimeUnit, title: String
  ) {
    self.name = name
    self.description = description
    self.target = target
    self.keySource = keySource
    self.keyLabel = keyLabel
    self.decoding = decoding
    self.layout = layout
    self.unit = unit
    self.title = title
  }

  /// The profile shown in another unit, as `--ns`, `-u` and `-m` ask: log2 buckets are then cut
  /// in that unit (as bcc's `-m` does), but linear buckets stay where they are in time, which
  /// needs their bounds in whole numbers of the new unit; nil when they are not.
  public func showing(_ newUnit: TimeUnit) -> Profile? {
    var result = self
    result.unit = newUnit
    if case .linear(let min, let max, let step) = layout {
      func converted(_ value: UInt64) -> UInt64? {
        let (nanoseconds, overflow) = value.multipliedReportingOverflow(by: unit.nanoseconds)
        guard !overflow, nanoseconds % newUnit.nanoseconds == 0 else { return nil }
        return nanoseconds / newUnit.nanoseconds
      }
      guard let min = converted(min), let max = converted(max), let step = converted(step), step > 0 else { return nil }
      result.layout = .linear(min: min, max: max, step: step)
    }
    return result
  }

  /// The heading for one key, with the placeholders filled in; a key of parts fills each
  /// `{LABEL}` with its part's name.
  public func title(forKey name: String, raw: String, parts: [String] = []) -> String {
    var heading = title
    for (part, value) in zip(keyParts, parts) { heading = heading.replacing("{\(part.label)}", with: value) }
    return heading.replacing("{key}", with: name).replacing("{raw}", with: raw).replacing("{label}", with: keyLabel)
  }
}

extension Profile.Target: CustomStringConvertible {
  /// How lines name the target: "syscall bpf", "all syscalls", "kernel function vfs_read".
  public var description: String {
    switch self {
    case .syscall(let name, _): return "syscall \(name)"
    case .allSyscalls: return "all syscalls"
    case .kernelFunction(let name): return "kernel function \(name)"
    }
  }
}

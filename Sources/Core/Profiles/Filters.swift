import Foundation

/// Which calls to count, all decided in the kernel.
public struct Filters: Sendable, Equatable {
  /// A process: all its threads.
  public var pid: Int32?
  public var tid: Int32?
  /// A task name (at most 15 bytes, as the kernel keeps it).
  public var comm: String?
  /// A cgroup v2 directory: its tasks and those of every cgroup below it.
  public var cgroupPath: String?
  /// A container (its name, `namespace/pod/name` or id) and a pod (`namespace/name` or uid):
  /// followed as they come and go, through the cgroup they are given.
  public var container: String?
  public var pod: String?
  /// Where the container runtimes' files are read, which name containers and pods (for these
  /// filters and the keys): the host's `/` as a container mounts it; nil: `/`.
  public var runtimeRoot: String?

  public init(
    pid: Int32? = nil, tid: Int32? = nil, comm: String? = nil, cgroupPath: String? = nil, container: String? = nil,
    pod: String? = nil
  ) {
    self.pid = pid
    self.tid = tid
    self.comm = comm
    self.cgroupPath = cgroupPath
    self.container = container
    self.pod = pod
  }

  /// Whether calls are counted by a cgroup's tasks (one slot in the kernel: `--cgroup`, or the
  /// container or pod's).
  public var byCgroup: Bool { cgroupPath != nil || container != nil || pod != nil }

  /// What is wrong with these filters together, nil when nothing.
  public var combinationProblem: String? {
    cgroupPath != nil && (container != nil || pod != nil) ? "give --cgroup or --container/--pod, not both: they are one cgroup" : nil
  }

  /// What is wrong with a `--pod` value, nil when nothing.
  public static func podProblem(_ pod: String) -> String? {
    let parts = pod.split(separator: "/", omittingEmptySubsequences: false)
    let uid = pod.utf8.count == 36 && !pod.contains("/")
    return uid || (parts.count == 2 && parts.allSatisfy { !$0.isEmpty }) ? nil : "must be NAMESPACE/NAME (or the pod's uid)"
  }

  /// What is wrong with a pid or tid, nil when nothing: each caller names its field ("--pid",
  /// "'pid'"). `what`: "process" or "thread".
  public static func taskIDProblem(_ id: Int64, of what: String) -> String? {
    id > 0 && id <= Int64(Int32.max) ? nil : "must be a positive \(what) id"
  }

  /// What is wrong with a runtime root, nil when nothing.
  public static func runtimeRootProblem(_ path: String) -> String? {
    var directory: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
      ? nil : "'\(path)' is not a directory (give where the host's / is mounted, e.g. /host)"
  }

  /// What is wrong with a task name, nil when nothing.
  public static func commProblem(_ comm: String) -> String? {
    comm.isEmpty || comm.utf8.count > 15 ? "must be 1 to 15 bytes, as the kernel keeps task names" : nil
  }

  /// ", pid 42, comm nginx": the filters set, as serve's index page lists them.
  public var summary: String {
    [pid.map { "pid \($0)" }, tid.map { "tid \($0)" }, comm.map { "comm \($0)" }, cgroupPath.map { "cgroup \($0)" },
     container.map { "container \($0)" }, pod.map { "pod \($0)" }]
      .compactMap { $0 }.map { ", " + $0 }.joined()
  }
}

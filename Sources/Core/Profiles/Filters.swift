/// Which calls to count, all decided in the kernel.
public struct Filters: Sendable, Equatable {
  /// A process: all its threads.
  public var pid: Int32?
  public var tid: Int32?
  /// A task name (at most 15 bytes, as the kernel keeps it).
  public var comm: String?
  /// A cgroup v2 directory: its tasks and those of every cgroup below it.
  public var cgroupPath: String?

  public init(pid: Int32? = nil, tid: Int32? = nil, comm: String? = nil, cgroupPath: String? = nil) {
    self.pid = pid
    self.tid = tid
    self.comm = comm
    self.cgroupPath = cgroupPath
  }

  /// What is wrong with a pid or tid, nil when nothing: each caller names its field ("--pid",
  /// "'pid'"). `what`: "process" or "thread".
  public static func taskIDProblem(_ id: Int64, of what: String) -> String? {
    id > 0 && id <= Int64(Int32.max) ? nil : "must be a positive \(what) id"
  }

  /// What is wrong with a task name, nil when nothing.
  public static func commProblem(_ comm: String) -> String? {
    comm.isEmpty || comm.utf8.count > 15 ? "must be 1 to 15 bytes, as the kernel keeps task names" : nil
  }

  /// ", pid 42, comm nginx": the filters set, as serve's index page lists them.
  public var summary: String {
    [pid.map { "pid \($0)" }, tid.map { "tid \($0)" }, comm.map { "comm \($0)" }, cgroupPath.map { "cgroup \($0)" }]
      .compactMap { $0 }.map { ", " + $0 }.joined()
  }
}

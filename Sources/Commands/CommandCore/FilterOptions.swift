import ArgumentParser
import Profiles

/// Which calls to count; every filter runs in the kernel.
public struct FilterOptions: ParsableArguments {
  @Option(name: .shortAndLong, help: "Trace only this process (all its threads).")
  var pid: Int32?

  @Option(name: .shortAndLong, help: "Trace only this thread.")
  var tid: Int32?

  @Option(name: .shortAndLong, help: "Trace only tasks with this name (at most 15 characters).")
  var comm: String?

  @Option(name: .long, help: ArgumentHelp("Trace only tasks in this cgroup v2 directory.", valueName: "path"))
  var cgroup: String?

  @Option(name: .long, help: ArgumentHelp("Trace only this container (its name, namespace/pod/name or id), also when it starts later.", valueName: "name"))
  var container: String?

  @Option(name: .long, help: ArgumentHelp("Trace only this Kubernetes pod's containers, also those started later.", valueName: "namespace/name"))
  var pod: String?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Read the container runtimes' files, which name containers and pods, under this directory: the host's / as a container mounts it (default /).",
      valueName: "dir"))
  var runtimeRoot: String?

  public init() {}

  public func validate() throws {
    for (flag, id, what) in [("--pid", pid, "process"), ("--tid", tid, "thread")] {
      if let id, let problem = Filters.taskIDProblem(Int64(id), of: what) { throw ValidationError("\(flag) " + problem) }
    }
    if let comm, let problem = Filters.commProblem(comm) { throw ValidationError("--comm " + problem) }
    if container?.isEmpty == true { throw ValidationError("--container must name a container") }
    if let pod, let problem = Filters.podProblem(pod) { throw ValidationError("--pod " + problem) }
    if let problem = filters.combinationProblem { throw ValidationError(problem) }
    if let runtimeRoot, let problem = Filters.runtimeRootProblem(runtimeRoot) { throw ValidationError("--runtime-root " + problem) }
  }

  public var filters: Filters {
    var filters = Filters(pid: pid, tid: tid, comm: comm, cgroupPath: cgroup, container: container, pod: pod)
    filters.runtimeRoot = runtimeRoot
    return filters
  }
}

import BPFKit
import Profiles
import Snapshots
import SystemPackage

/// The generic program loaded, configured for one profile and attached. Detaches when released:
/// links first, then the object (which owns the PROG_ARRAY the links depend on).
public final class Tracer {
  public let request: TraceRequest
  public let method: ProbeMethod
  /// Lines for the user about how the tracer got here (a fallback, a private tracefs mount).
  public let notes: [String]
  /// The probe's links, then the hooks that see threads exit inside a call.
  private var links: [Link]
  private var taskHooks: [Link]
  private var schedulerHooks: [Link]
  private let slowCalls: SlowCallReader?
  private let object: LoadedObject
  private var reader: CountReader
  /// With --cost: the run-time statistics, on since before load; the programs they count; and
  /// when the probe was detached (CLOCK_MONOTONIC ns), after which nothing runs.
  private let statistics: RunTimeStatistics?
  private let hooked: [Program]
  private var detachedAt: UInt64?

  /// What was attached, as "Attached ..." lines show it (the probe's own hooks).
  public var attachments: [Attachment] { links.map(\.attachment) }

  /// Names containers and follows a container or pod filter, when the request has one.
  private let containerWatch: ContainerWatch?

  public init(_ request: TraceRequest) throws(TracerError) {
    var request = request
    let missing = HostFacts.missingCapabilities()
    guard missing.isEmpty else { throw .missingPrivileges(missing) }
    if let refusal = HostFacts.bpfRefusal() { throw .bpfRefused(refusal.errno, by: refusal.by) }
    if let pid = request.filters.pid, !HostFacts.processExists(pid) {
      throw .noSuchProcess(pid)
    }
    if let tid = request.filters.tid, !HostFacts.threadExists(tid) {
      throw .noSuchThread(tid)
    }
    let cgroup = try request.filters.cgroupPath.map { path throws(TracerError) in try HostFacts.openCgroup(path) }
    defer { try? cgroup?.close() }
    do {
      statistics = request.measureCost ? try RunTimeStatistics() : nil
    } catch {
      throw .kernel(error)
    }
    containerWatch = try ContainerWatch(for: request)
    request.containers = containerWatch?.names
    let kernel = try LoadPlan(for: request)
    let settings = Self.settings(for: request, kernel: kernel, pidNamespace: HostFacts.pidNamespace)
    let outcome: (chosen: (method: ProbeMethod, value: Started)?, failures: [(ProbeMethod, TracerError)])
    do throws(ProbePlan.PlanError) {
      outcome = try ProbePlan.firstWorking(for: request.profile.target, forced: request.forcedMethod) { method in
        Result { () throws(TracerError) in
          try Self.start(method, request: request, settings: settings, cgroup: cgroup, kernel: kernel)
        }
      }
    } catch {
      throw .probeMethodUnsupported(error)
    }
    guard let (method, started) = outcome.chosen else {
      throw .noProbeMethod(target: "\(request.profile.target)", attempts: outcome.failures)
    }
    self.request = request
    self.method = method
    object = started.object
    links = started.links
    taskHooks = started.taskHooks
    schedulerHooks = started.schedulerHooks
    reader = started.reader
    hooked = started.hooked
    do {
      slowCalls = try request.slowCalls.map { _ throws(BPFError) in try SlowCallReader(object: started.object, request: request) }
    } catch {
      throw .kernel(error)
    }
    containerWatch?.start(filter: try? object.map(.cgroupFilter))
    notes = kernel.notes
      + outcome.failures.map { "\($0.0.rawValue) is not available here (\($0.1.shortReason)); using \(method.rawValue)" }
      + (started.note.map { [$0] } ?? [])
  }

  deinit {
    containerWatch?.stop()
  }

  /// Detaches now (the same happens when the tracer is released). What was counted can still be
  /// collected, and then is exact: nothing runs any more.
  public func detach() {
    links.removeAll()
    taskHooks.removeAll()
    schedulerHooks.removeAll()
    if statistics != nil, detachedAt == nil { detachedAt = RunTimeStatistics.monotonicNanoseconds() }
  }

  /// With --cost: what the programs cost since they were loaded, up to now or the detach, over
  /// `countedCalls` calls; nil without.
  public func cost(countedCalls: UInt64) throws(TracerError) -> ToolCost? {
    guard let statistics else { return nil }
    do {
      let programs = try hooked.map { program throws(BPFError) in
        let (runs, nanoseconds) = try program.runTime()
        return ProgramCost(name: program.name, runs: runs, nanoseconds: nanoseconds)
      }
      let end = detachedAt ?? RunTimeStatistics.monotonicNanoseconds()
      return ToolCost(programs: programs, elapsedNanoseconds: end - statistics.since, countedCalls: countedCalls)
    } catch {
      throw .kernel(error)
    }
  }

  /// The kernel stack of a wait site (--off-cpu), from the stack map the hooks fill.
  public func kernelStack(_ id: Int64) -> StackAddresses {
    guard let stacks = try? object.map(.stacks) else { return .lost(.noSuchFileOrDirectory) }
    return stacks.stack(id)
  }

  /// With slow-call reports: readable (poll(2)) when slow calls are waiting to be taken.
  public var slowCallDescriptor: Int32? { slowCalls?.fileDescriptor }

  /// The slow calls that ended since the previous take, in the order each CPU saw them end.
  public func takeSlowCalls() throws(TracerError) -> [SlowCall] {
    do {
      return try slowCalls?.take() ?? []
    } catch {
      throw .kernel(error)
    }
  }

  /// What was counted since the previous collect (the first: since attach). A call is counted in
  /// the collect after it ended; after `detach()`, everything left is collected.
  public func collect() throws(TracerError) -> Counts {
    do {
      return try reader.collect(everything: links.isEmpty)
    } catch {
      throw .kernel(error)
    }
  }

  /// Runs a bucket step once on the CPU `cpu`, as if a call of `latency` units had ended there
  /// with key `key` (and, failed, with errno `err`; with --off-cpu, `blocked` and `runnable` ns
  /// of it): lets tests check the kernel's own bucket arithmetic at any value, and its maps'
  /// capacity at any key.
  public func runBucketStep(
    latency: UInt64, key: UInt64, cpu: UInt32, err: UInt64 = 0, blocked: UInt64 = 0, runnable: UInt64 = 0
  ) throws(TracerError) {
    do {
      try reader.stage(latency: latency, key: key, err: err, blocked: blocked, runnable: runnable)
      let step = SyscallDistObject.ProgramName(method, .step(request.profile.layout.kind, split: request.splitTime))
      _ = try object.program(step).testRun(context: [0, 0], cpu: cpu)
    } catch {
      throw .kernel(error)
    }
  }
}

import BPFKit
import Containers
import Foundation
import Profiles
import SystemPackage
import Synchronization

/// While a tracer with a `container` or `pod` key or filter runs: names each new cgroup as it is
/// made (`CgroupCreations`) and walks the cgroup tree every `period` (the gone, and what the
/// watches missed), so that containers are named while they live (a call is named after its
/// container even when it is read after the container is gone), and points the kernel's one
/// cgroup filter slot at the container or pod `--container`/`--pod` names, as it comes, goes and
/// comes back. A pod's containers started later are inside its cgroup, and so traced from their
/// first call; a container named alone, from the moment its cgroup is seen.
final class ContainerWatch: @unchecked Sendable {
  let names: ContainerNames
  private let cgroups = CgroupPaths()
  private let creations: CgroupCreations?
  private let container: String?
  private let pod: String?
  private let note: @Sendable (String) -> Void
  private let stopped = Atomic(false)
  private let wake = DispatchSemaphore(value: 0)
  private let done = DispatchSemaphore(value: 0)
  /// Only the watch's own thread touches these once it runs.
  private var slot: Map?
  private var followed: String?
  private var waitingSaid = false
  private var running = false

  /// The walks: with a filter, often enough that a container the watches missed is traced
  /// within a quarter second; for names alone, once a second.
  static let filterPeriod = 0.25
  static let namingPeriod = 1.0

  /// nil when the request has no container or pod key or filter.
  init?(for request: TraceRequest) throws(TracerError) {
    let profile = request.profile
    let sources = [profile.keySource] + profile.keyParts.map(\.source)
    let filters = request.filters
    guard sources.contains(where: \.namesContainers) || filters.container != nil || filters.pod != nil else {
      return nil
    }
    container = filters.container
    pod = filters.pod
    note = request.laterNotes ?? { _ in }
    names = ContainerNames(metadata: RuntimeMetadata(root: filters.runtimeRoot ?? "/")) { [cgroups] in cgroups.path(of: $0) }
    creations = cgroups.root.flatMap { CgroupCreations(root: $0) }
    let live = cgroups.walk()
    names.learn(live)
    creations?.update(live)
    let matches = names.cgroups(matching: container, pod: pod)
    if let container, matches.count > 1 { throw .containerAmbiguous(container, cgroups: matches) }
  }

  /// Runs the watch; `filter`: the kernel's cgroup filter slot, when a container or pod is
  /// the filter.
  func start(filter: Map?) {
    slot = container != nil || pod != nil ? filter : nil
    follow()
    let period = slot != nil ? Self.filterPeriod : Self.namingPeriod
    running = true
    Thread.detachNewThread { [self] in
      let clock = ContinuousClock()
      var walked = clock.now
      while !stopped.load(ordering: .acquiring) {
        if let creations {
          let elapsed = (clock.now - walked).components
          let (created, overflowed) = creations.wait(
            timeout: period - Double(elapsed.seconds) - Double(elapsed.attoseconds) / 1e18)
          if stopped.load(ordering: .acquiring) { break }
          if !created.isEmpty {
            // the new cgroups' subtrees, watched, then walked again: a child made before its
            // parent's watch would be missed until the next walk
            let walk = { created.reduce(into: [UInt64: String]()) { $0.merge(self.cgroups.walk(below: $1)) { $1 } } }
            let first = walk()
            creations.watch(first)
            let found = first.merging(walk()) { $1 }
            creations.watch(found)
            names.learnNew(found)
            follow()
          }
          if !overflowed && clock.now - walked < .seconds(period) { continue }
        } else {
          _ = wake.wait(timeout: .now() + period)
          if stopped.load(ordering: .acquiring) { break }
        }
        let live = cgroups.walk()  // the gone, and whatever the watches missed
        names.learn(live)
        creations?.update(live)
        follow()
        walked = clock.now
      }
      done.signal()
    }
  }

  /// Stops the watch and waits for its thread: nothing touches the maps after.
  func stop() {
    guard running else { return }
    stopped.store(true, ordering: .releasing)
    creations?.interrupt()
    wake.signal()
    done.wait()
  }

  /// Points the slot at the newest cgroup the filter names (the highest id), saying so when it changes.
  private func follow() {
    guard let slot, let root = cgroups.root else { return }
    let what = [pod.map { "pod \($0)" }, container.map { "container \($0)" }].compactMap { $0 }.joined(separator: " ")
    guard let path = names.cgroups(matching: container, pod: pod).last else {
      if followed == nil, !waitingSaid { note("no \(what) yet: counting starts when it appears") }
      if followed != nil { note("\(what) is gone: counting resumes if it comes back") }
      waitingSaid = true
      followed = nil
      return
    }
    guard path != followed else { return }
    do {
      let directory = try FileDescriptor.open(root + path, .readOnly, options: [.directory, .closeOnExec])
      defer { try? directory.close() }
      try slot.setFileDescriptor(directory, at: 0)
      followed = path
      note("counting \(what): cgroup \(path)")
    } catch {
      note("cannot follow \(what) into cgroup \(path): \(error)")  // gone again already; the next walk tries anew
    }
  }
}

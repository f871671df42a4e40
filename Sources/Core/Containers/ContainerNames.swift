import Synchronization

/// The container and pod each cgroup's tasks belong to, by cgroup id (what the kernel keys
/// `container` and `pod` by), learned while the cgroup lives so that its calls are still named
/// after it is gone. Its path says where it is (`CgroupPlace`); the runtimes' files name it
/// (`RuntimeMetadata`).
public final class ContainerNames: Sendable {
  /// Which name a key takes: `namespace/pod/name`, `namespace/name`, or one of the three alone.
  public enum Level: Sendable { case container, pod, namespace, podName, containerName }

  /// What a cgroup's tasks are keyed as.
  public struct Placement: Equatable, Sendable {
    public var place: CgroupPlace
    public var container: RuntimeMetadata.Container?

    /// `namespace/pod/container` in a pod, the runtime's name outside one, a short id when no
    /// runtime's files name it; `-` outside any container (no container can be called that).
    public var containerName: String {
      guard let id = place.container?.id else { return Self.none }
      guard let container else { return String(id.prefix(12)) }
      return container.pod.map { $0.description + "/" + container.name } ?? container.name
    }

    public static let none = "-"
  }

  /// Gone cgroups whose names are kept (for the calls still to be read): the oldest go first.
  public static let goneKept = 65_536

  private struct State {
    var placements: [UInt64: Placement] = [:]
    /// Gone cgroups, oldest first, and as a set.
    var goneOrder: [UInt64] = []
    var gone: Set<UInt64> = []
    var pods: [String: RuntimeMetadata.PodName] = [:]
    /// Walks that found a container no runtime's files name, by cgroup.
    var namingTries: [UInt64: Int] = [:]

    /// Still to be named: runtimes write a container's files before its cgroup, so a few walks
    /// cover a race; one never named (a runtime whose files are elsewhere) is not read again
    /// on every walk.
    func unnamed(_ id: UInt64) -> Bool {
      guard let placement = placements[id] else { return true }
      return placement.needsNaming && namingTries[id, default: 0] < ContainerNames.namingTries
    }
  }

  /// Walks that look for a container's name before it is left as its short id.
  public static let namingTries = 4

  private let metadata: RuntimeMetadata
  private let path: @Sendable (UInt64) -> String?
  private let state = Mutex(State())

  /// `path`: a cgroup id's path relative to the cgroup2 mount, nil when no cgroup has it.
  public init(metadata: RuntimeMetadata = RuntimeMetadata(), path: @escaping @Sendable (UInt64) -> String?) {
    self.metadata = metadata
    self.path = path
  }

  /// The name cgroup `id`'s tasks are keyed by: its container or pod, `-` outside one, and
  /// `cgroup ID (gone)` for a cgroup that was gone before it could be placed.
  public func name(ofCgroup id: UInt64, _ level: Level) -> String {
    guard let placement = placement(of: id) else { return "cgroup \(id) (gone)" }
    switch level {
    case .container: return placement.containerName
    case .pod: return state.withLock { podName(of: placement, $0.pods) }
    case .namespace: return state.withLock { pod(of: placement, $0.pods)?.namespace ?? Placement.none }
    case .podName: return state.withLock { pod(of: placement, $0.pods)?.name ?? podName(of: placement, $0.pods) }
    case .containerName: return placement.container?.name ?? placement.containerName
    }
  }

  /// Takes in a walk of the cgroup tree (every live cgroup's path by id): places the new ones,
  /// names again those no runtime had named yet, and marks the missing ones gone.
  public func learn(_ live: [UInt64: String]) {
    learnNew(live)
    let vanished = state.withLock { state in state.placements.keys.filter { live[$0] == nil && !state.gone.contains($0) } }
    state.withLock { state in
      state.goneOrder += vanished
      state.gone.formUnion(vanished)
      let excess = state.goneOrder.count - Self.goneKept
      if excess > 0 {
        for id in state.goneOrder.prefix(excess) {
          state.placements[id] = nil
          state.namingTries[id] = nil
          state.gone.remove(id)
        }
        state.goneOrder.removeFirst(excess)
      }
    }
  }

  /// Takes in cgroups just made (part of the tree): places them, as a walk would, and names again
  /// those no runtime had named yet; marks none gone.
  public func learnNew(_ created: [UInt64: String]) {
    let unplaced = state.withLock { state in created.filter { state.unnamed($0.key) }.map { ($0.key, $0.value) } }
    let placed = unplaced.map { ($0.0, place($0.1)) }
    state.withLock { state in
      for (id, placement) in placed {
        record(placement, id, &state)
        if placement.needsNaming { state.namingTries[id, default: 0] += 1 }
      }
    }
  }

  /// The live cgroups a `--container`/`--pod` filter names, by path, oldest first (cgroup ids
  /// only grow): the container's own cgroup, or (a pod alone) the pod's. `container`: its name, `namespace/pod/name`, or an id
  /// of at least 12 digits; `pod`: `namespace/name` or its uid.
  public func cgroups(matching container: String?, pod: String?) -> [String] {
    state.withLock { state in
      var found: [String: UInt64] = [:]  // a path and the newest cgroup id in it
      for (id, placement) in state.placements where !state.gone.contains(id) {
        if let pod {
          guard let uid = placement.place.pod?.uid, pod == uid || state.pods[uid]?.description == pod else { continue }
          if container == nil, let path = placement.place.pod?.cgroupPath { found[path] = max(found[path] ?? 0, id) }
        }
        guard let container, let own = placement.place.container, let named = placement.container, !named.sandbox else { continue }
        if container == named.name || container == placement.containerName || (container.count >= 12 && own.id.hasPrefix(container)) {
          found[own.cgroupPath] = max(found[own.cgroupPath] ?? 0, id)
        }
      }
      return found.sorted { $0.value < $1.value }.map(\.key)
    }
  }

  private func placement(of id: UInt64) -> Placement? {
    // a known cgroup is named as it is: the walks retry those no runtime had named yet
    if let known = state.withLock({ $0.placements[id] }) { return known }
    guard let path = path(id) else { return state.withLock { $0.placements[id] } }
    let placement = place(path)
    state.withLock { record(placement, id, &$0) }
    return placement
  }

  private func place(_ path: String) -> Placement {
    let place = CgroupPlace(path: path)
    return Placement(place: place, container: place.container.flatMap { metadata.container($0.id) })
  }

  private func record(_ placement: Placement, _ id: UInt64, _ state: inout State) {
    state.placements[id] = placement
    if let pod = placement.container?.pod, let uid = pod.uid ?? placement.place.pod?.uid { state.pods[uid] = pod }
  }

  /// `namespace/name`, `-` outside a pod, `pod UID` for a pod no runtime's files name.
  private func podName(of placement: Placement, _ pods: [String: RuntimeMetadata.PodName]) -> String {
    if let pod = pod(of: placement, pods) { return pod.description }
    return placement.place.pod.map { "pod \($0.uid)" } ?? Placement.none
  }

  private func pod(of placement: Placement, _ pods: [String: RuntimeMetadata.PodName]) -> RuntimeMetadata.PodName? {
    placement.container?.pod ?? placement.place.pod.flatMap { pods[$0.uid] }
  }
}

extension ContainerNames.Placement {
  /// In a container no runtime has named (yet): asked again while the cgroup lives.
  var needsNaming: Bool { place.container != nil && container == nil }
}

import Synchronization

/// The container and pod each cgroup's tasks belong to, by cgroup id (what the kernel keys
/// `container` and `pod` by), learned while the cgroup lives so that its calls are still named
/// after it is gone. Its path says where it is (`CgroupPlace`); the runtimes' files name it
/// (`RuntimeMetadata`).
public final class ContainerNames: Sendable {
  /// Which name a key takes.
  public enum Level: Sendable { case container, pod }

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
  }

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
    }
  }

  /// Takes in a walk of the cgroup tree (every live cgroup's path by id): places the new ones,
  /// names again those no runtime had named yet, and marks the missing ones gone.
  public func learn(_ live: [UInt64: String]) {
    let (unplaced, vanished): ([(UInt64, String)], [UInt64]) = state.withLock { state in
      (live.filter { state.placements[$0.key]?.needsNaming ?? true }.map { ($0.key, $0.value) },
       state.placements.keys.filter { live[$0] == nil && !state.gone.contains($0) })
    }
    let placed = unplaced.map { ($0.0, place($0.1)) }
    state.withLock { state in
      for (id, placement) in placed { record(placement, id, &state) }
      state.goneOrder += vanished
      state.gone.formUnion(vanished)
      let excess = state.goneOrder.count - Self.goneKept
      if excess > 0 {
        for id in state.goneOrder.prefix(excess) {
          state.placements[id] = nil
          state.gone.remove(id)
        }
        state.goneOrder.removeFirst(excess)
      }
    }
  }

  /// The live cgroups a `--container`/`--pod` filter names, by path: the container's own
  /// cgroup, or (a pod alone) the pod's. `container`: its name, `namespace/pod/name`, or an id
  /// of at least 12 digits; `pod`: `namespace/name` or its uid.
  public func cgroups(matching container: String?, pod: String?) -> [String] {
    state.withLock { state in
      var found: Set<String> = []
      for (id, placement) in state.placements where !state.gone.contains(id) {
        if let pod {
          guard let uid = placement.place.pod?.uid, pod == uid || state.pods[uid]?.description == pod else { continue }
          if container == nil, let path = placement.place.pod?.cgroupPath { found.insert(path) }
        }
        guard let container, let own = placement.place.container, let named = placement.container, !named.sandbox else { continue }
        if container == named.name || container == placement.containerName || (container.count >= 12 && own.id.hasPrefix(container)) {
          found.insert(own.cgroupPath)
        }
      }
      return found.sorted()
    }
  }

  private func placement(of id: UInt64) -> Placement? {
    if let known = state.withLock({ $0.placements[id] }), !known.needsNaming { return known }
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

  private func podName(of placement: Placement, _ pods: [String: RuntimeMetadata.PodName]) -> String {
    if let pod = placement.container?.pod { return pod.description }
    guard let uid = placement.place.pod?.uid else { return Placement.none }
    return pods[uid]?.description ?? "pod \(uid)"
  }
}

extension ContainerNames.Placement {
  /// In a container no runtime has named (yet): asked again while the cgroup lives.
  var needsNaming: Bool { place.container != nil && container == nil }
}

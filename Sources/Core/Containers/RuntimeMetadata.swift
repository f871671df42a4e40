import Foundation

/// What a container runtime wrote about a container on this node: its name and, for a container
/// of a Kubernetes pod, the pod's. Read from the runtimes' own files, no daemon or API server
/// asked: containerd's task bundle (`config.json`, whose CRI annotations name the pod), CRI-O's
/// and podman's container `config.json`, podman's `containers.json` (its names), Docker's
/// `config.v2.json`.
public struct RuntimeMetadata: Sendable {
  /// A container as its runtime names it.
  public struct Container: Equatable, Sendable {
    public var name: String
    public var pod: PodName?
    /// A pod's sandbox (pause) container, which Kubernetes shows as `POD`.
    public var sandbox = false
  }

  public struct PodName: Equatable, Sendable {
    public var namespace: String
    public var name: String
    public var uid: String?

    /// `namespace/name`, as kubectl names a pod.
    public var description: String { namespace + "/" + name }
  }

  /// Where the files are found: `/` on a node, a test's directory in tests.
  public let root: String

  /// containerd's task bundles (`NAMESPACE/ID/config.json`): the system's and k3s's.
  static let containerdTasks = ["run/containerd/io.containerd.runtime.v2.task", "run/k3s/containerd/io.containerd.runtime.v2.task"]
  /// containers/storage (CRI-O, podman): the run root holds each container's `userdata/config.json`,
  /// the graph root each driver's `containers.json`.
  static let storageRunRoot = "run/containers/storage"
  static let storageGraphRoot = "var/lib/containers/storage"
  static let storageDrivers = ["overlay", "vfs", "btrfs", "zfs"]
  static let dockerContainers = "var/lib/docker/containers"

  public init(root: String = "/") {
    self.root = root.hasSuffix("/") ? root : root + "/"
  }

  /// What the runtimes wrote about container `id`, nil when none of them knows it.
  public func container(_ id: String) -> Container? {
    for tasks in Self.containerdTasks {
      for namespace in Self.directories(root + tasks) {
        if let spec = Self.json(root + tasks + "/" + namespace + "/" + id + "/config.json") {
          return Self.fromAnnotations(spec, id: id, fallback: id)
        }
      }
    }
    for driver in Self.storageDrivers {
      let spec = Self.json(root + Self.storageRunRoot + "/\(driver)-containers/\(id)/userdata/config.json")
      let names = podmanNames(driver: driver)
      if spec != nil || names[id] != nil {
        return Self.fromAnnotations(spec ?? [:], id: id, fallback: names[id] ?? String(id.prefix(12)))
      }
    }
    if let docker = Self.json(root + Self.dockerContainers + "/\(id)/config.v2.json"), let name = docker["Name"] as? String {
      return Container(name: name.hasPrefix("/") ? String(name.dropFirst()) : name)
    }
    return nil
  }

  /// A container from its OCI spec's annotations: the CRI's (containerd's, then CRI-O's) name it
  /// and its pod; without them it is `fallback` (its runtime's name for it).
  static func fromAnnotations(_ spec: [String: Any], id: String, fallback: String) -> Container {
    let annotations = spec["annotations"] as? [String: String] ?? [:]
    let keys: [(container: String, namespace: String, pod: String, uid: String, type: String)] = [
      ("io.kubernetes.cri.container-name", "io.kubernetes.cri.sandbox-namespace", "io.kubernetes.cri.sandbox-name",
       "io.kubernetes.cri.sandbox-uid", "io.kubernetes.cri.container-type"),
      ("io.kubernetes.container.name", "io.kubernetes.pod.namespace", "io.kubernetes.pod.name",
       "io.kubernetes.pod.uid", "io.kubernetes.cri-o.ContainerType"),
    ]
    for key in keys {
      guard let namespace = annotations[key.namespace], let pod = annotations[key.pod] else { continue }
      let sandbox = annotations[key.type] == "sandbox"
      let name = sandbox ? "POD" : annotations[key.container] ?? String(id.prefix(12))
      return Container(name: name, pod: PodName(namespace: namespace, name: pod, uid: annotations[key.uid]), sandbox: sandbox)
    }
    return Container(name: annotations["nerdctl/name"] ?? fallback)
  }

  /// podman's names by container id, from a storage driver's `containers.json`.
  func podmanNames(driver: String) -> [String: String] {
    let path = root + Self.storageGraphRoot + "/\(driver)-containers/containers.json"
    guard let data = FileManager.default.contents(atPath: path),
      let list = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]]
    else { return [:] }
    var names: [String: String] = [:]
    for entry in list {
      if let id = entry["id"] as? String, let name = (entry["names"] as? [String])?.first { names[id] = name }
    }
    return names
  }

  static func json(_ path: String) -> [String: Any]? {
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
  }

  static func directories(_ path: String) -> [String] {
    (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
  }
}

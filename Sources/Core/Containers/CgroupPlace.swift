import Foundation

/// Where a cgroup v2 path puts its tasks: in which container (by the id its runtime gave it) and
/// which Kubernetes pod (by uid), as the runtimes and the kubelet name their cgroups. Read from
/// the path alone: the nearest container directory at or above the cgroup wins, so a container's
/// own sub-cgroups are the container's.
public struct CgroupPlace: Equatable, Sendable {
  public struct Container: Equatable, Sendable {
    public var runtime: Runtime
    public var id: String
    /// The container's own cgroup directory, relative to the cgroup2 mount.
    public var cgroupPath: String
  }

  public struct Pod: Equatable, Sendable {
    /// The pod's uid, with dashes (the systemd driver writes them as underscores).
    public var uid: String
    public var cgroupPath: String
  }

  /// Who made the container's cgroup; its metadata is looked for there first.
  public enum Runtime: String, Sendable {
    case containerd, crio = "cri-o", docker, podman
    /// A 64-hex directory under a pod or a runtime's parent that names no runtime (cgroupfs driver).
    case unknown
  }

  public var container: Container?
  public var pod: Pod?

  /// The place of `path` ("/kubepods.slice/.../cri-containerd-ID.scope"); nil parts where the
  /// path is in no container or no pod.
  public init(path: String) {
    let components = path.split(separator: "/").map(String.init)
    for index in components.indices.reversed() {
      let directory = "/" + components[...index].joined(separator: "/")
      let name = components[index]
      if container == nil, pod == nil, let (runtime, id) = Self.container(name, parent: index > 0 ? components[index - 1] : nil) {
        container = Container(runtime: runtime, id: id, cgroupPath: directory)
      }
      if pod == nil, let uid = Self.podUID(name) {
        pod = Pod(uid: uid, cgroupPath: directory)
        break
      }
    }
  }

  /// The runtime and id a directory name says it is a container of: systemd scopes
  /// (`cri-containerd-ID.scope`, `crio-ID.scope`, `docker-ID.scope`, `libpod-ID.scope`), podman's
  /// cgroupfs `libpod-ID`, and a bare 64-hex id below a pod or `/docker`. The runtimes' monitor
  /// scopes (`crio-conmon-ID`, `libpod-conmon-ID`) hold no container task.
  static func container(_ name: String, parent: String?) -> (Runtime, String)? {
    let scoped: [(prefix: String, runtime: Runtime)] = [
      ("cri-containerd-", .containerd), ("crio-", .crio), ("docker-", .docker), ("libpod-", .podman),
    ]
    for (prefix, runtime) in scoped where name.hasPrefix(prefix) {
      var id = name.dropFirst(prefix.count)
      if id.hasSuffix(".scope") { id = id.dropLast(".scope".count) }
      if isContainerID(id) { return (runtime, String(id)) }
    }
    guard isContainerID(name[...]), let parent else { return nil }
    if parent == "docker" { return (.docker, name) }
    return podUID(parent) != nil || parent.hasPrefix("kubepods") || parent == "libpod_parent" ? (.unknown, name) : nil
  }

  /// A container id as runtimes make them: 64 lowercase hex digits.
  static func isContainerID(_ text: Substring) -> Bool {
    text.utf8.count == 64 && text.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
  }

  /// The uid of a kubelet pod directory: `kubepods-besteffort-pod<uid>.slice`,
  /// `kubepods-pod<uid>.slice` (systemd driver, dashes as underscores) or `pod<uid>` (cgroupfs).
  static func podUID(_ name: String) -> String? {
    var uid: Substring
    if name.hasPrefix("kubepods"), name.hasSuffix(".slice"), let range = name.range(of: "-pod", options: .backwards) {
      uid = name[range.upperBound...].dropLast(".slice".count)
    } else if name.hasPrefix("pod") {
      uid = name.dropFirst(3)
    } else {
      return nil
    }
    let text = uid.replacingOccurrences(of: "_", with: "-")
    let valid = text.utf8.count == 36 && text.utf8.allSatisfy { $0 == UInt8(ascii: "-") || UInt8(ascii: "0")...UInt8(ascii: "9") ~= $0 || UInt8(ascii: "a")...UInt8(ascii: "f") ~= $0 }
    return valid ? text : nil
  }
}

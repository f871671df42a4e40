import Foundation
import Synchronization
import XCTest

@testable import Containers

/// The runtimes' files, as each writes them, in a directory standing for a node's root.
final class ContainerNamesTests: XCTestCase {
  var root = ""
  let uid = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
  func id(_ n: Int) -> String { String(repeating: String(format: "%02x", n * 17), count: 32) }
  var podPath: String { "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod\(uid.replacingOccurrences(of: "-", with: "_")).slice" }

  override func setUp() {
    root = NSTemporaryDirectory() + "containers-\(UUID().uuidString)"
  }

  override func tearDown() {
    try? FileManager.default.removeItem(atPath: root)
  }

  func write(_ path: String, _ json: Any) {
    let url = URL(fileURLWithPath: root + "/" + path)
    try! FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try! JSONSerialization.data(withJSONObject: json).write(to: url)
  }

  func containerd(_ id: String, _ annotations: [String: String], namespace: String = "k8s.io") {
    write("run/containerd/io.containerd.runtime.v2.task/\(namespace)/\(id)/config.json", ["annotations": annotations])
  }

  func cri(_ name: String, type: String = "container") -> [String: String] {
    ["io.kubernetes.cri.container-name": name, "io.kubernetes.cri.container-type": type,
     "io.kubernetes.cri.sandbox-name": "shop-1", "io.kubernetes.cri.sandbox-namespace": "prod", "io.kubernetes.cri.sandbox-uid": uid]
  }

  func testEachRuntimesFilesNameItsContainers() {
    containerd(id(1), cri("web"))
    containerd(id(2), cri("", type: "sandbox"))
    containerd(id(3), [:], namespace: "default")
    write("run/containers/storage/overlay-containers/\(id(4))/userdata/config.json", ["annotations": [
      "io.kubernetes.container.name": "db", "io.kubernetes.pod.name": "shop-2", "io.kubernetes.pod.namespace": "prod",
      "io.kubernetes.pod.uid": "u2"]])
    write("var/lib/containers/storage/vfs-containers/containers.json", [["id": id(5), "names": ["cache"]]])
    write("var/lib/docker/containers/\(id(6))/config.v2.json", ["Name": "/proxy"])
    let metadata = RuntimeMetadata(root: root)
    let pod = RuntimeMetadata.PodName(namespace: "prod", name: "shop-1", uid: uid)
    XCTAssertEqual(metadata.container(id(1)), .init(name: "web", pod: pod))
    XCTAssertEqual(metadata.container(id(2)), .init(name: "POD", pod: pod, sandbox: true))
    XCTAssertEqual(metadata.container(id(3)), .init(name: id(3)), "ctr's own id is its name")
    XCTAssertEqual(metadata.container(id(4)), .init(name: "db", pod: .init(namespace: "prod", name: "shop-2", uid: "u2")))
    XCTAssertEqual(metadata.container(id(5)), .init(name: "cache"))
    XCTAssertEqual(metadata.container(id(6)), .init(name: "proxy"))
    XCTAssertNil(metadata.container(id(7)))
  }

  func testCgroupsOfOnePodOrContainerShareItsNameAndGoneOnesKeepTheirs() {
    containerd(id(1), cri("web"))
    containerd(id(2), cri("sidecar"))
    let paths: [UInt64: String] = [
      10: podPath + "/cri-containerd-\(id(1)).scope", 11: podPath + "/cri-containerd-\(id(1)).scope/worker",
      12: podPath + "/cri-containerd-\(id(2)).scope", 13: "/system.slice/ssh.service", 14: podPath,
      15: "/libpod_parent/libpod-\(id(9))",
    ]
    let live = Mutex(paths)
    let names = ContainerNames(metadata: RuntimeMetadata(root: root)) { id in live.withLock { $0[id] } }
    names.learn(paths)
    XCTAssertEqual([10, 11, 12, 13, 15].map { names.name(ofCgroup: $0, .container) },
                   ["prod/shop-1/web", "prod/shop-1/web", "prod/shop-1/sidecar", "-", String(id(9).prefix(12))])
    XCTAssertEqual([10, 12, 13, 14].map { names.name(ofCgroup: $0, .pod) }, ["prod/shop-1", "prod/shop-1", "-", "prod/shop-1"])
    live.withLock { $0[12] = nil }
    try? FileManager.default.removeItem(atPath: root + "/run/containerd/io.containerd.runtime.v2.task/k8s.io/\(id(2))")
    names.learn(live.withLock { $0 })
    XCTAssertEqual(names.name(ofCgroup: 12, .container), "prod/shop-1/sidecar", "named while it lived")
    XCTAssertEqual(names.name(ofCgroup: 99, .container), "cgroup 99 (gone)", "never seen: says so")
    XCTAssertEqual(names.name(ofCgroup: 99, .pod), "cgroup 99 (gone)")
  }

  func testFiltersMatchNamesFullNamesIdsAndPods() {
    containerd(id(1), cri("web"))
    containerd(id(2), cri("", type: "sandbox"))
    write("var/lib/containers/storage/vfs-containers/containers.json", [["id": id(5), "names": ["web"]]])
    let paths: [UInt64: String] = [
      10: podPath + "/cri-containerd-\(id(1)).scope", 11: podPath + "/cri-containerd-\(id(2)).scope", 12: podPath,
      15: "/libpod_parent/libpod-\(id(5))",
    ]
    let names = ContainerNames(metadata: RuntimeMetadata(root: root)) { paths[$0] }
    names.learn(paths)
    XCTAssertEqual(names.cgroups(matching: "web", pod: nil), [paths[10]!, paths[15]!].sorted(), "a name two runtimes use")
    XCTAssertEqual(names.cgroups(matching: "prod/shop-1/web", pod: nil), [paths[10]!])
    XCTAssertEqual(names.cgroups(matching: "web", pod: "prod/shop-1"), [paths[10]!])
    XCTAssertEqual(names.cgroups(matching: String(id(5).prefix(12)), pod: nil), [paths[15]!])
    XCTAssertEqual(names.cgroups(matching: String(id(5).prefix(11)), pod: nil), [], "too short an id prefix")
    XCTAssertEqual(names.cgroups(matching: nil, pod: "prod/shop-1"), [podPath])
    XCTAssertEqual(names.cgroups(matching: nil, pod: uid), [podPath])
    XCTAssertEqual(names.cgroups(matching: "POD", pod: nil), [], "a sandbox is never a filter's container")
    XCTAssertEqual(names.cgroups(matching: nil, pod: "prod/shop-9"), [])
  }

  func testAContainerNoRuntimeNamesIsAskedAFewWalksThenLeftAsItsShortID() {
    let paths: [UInt64: String] = [20: "/libpod_parent/libpod-\(id(3))", 21: "/libpod_parent/libpod-\(id(4))"]
    let names = ContainerNames(metadata: RuntimeMetadata(root: root)) { paths[$0] }
    names.learn([20: paths[20]!])
    XCTAssertEqual(names.name(ofCgroup: 20, .container), String(id(3).prefix(12)))
    write("var/lib/containers/storage/vfs-containers/containers.json", [["id": id(3), "names": ["late"]]])
    names.learn([20: paths[20]!])
    XCTAssertEqual(names.name(ofCgroup: 20, .container), "late", "named by a later walk")
    for _ in 0..<ContainerNames.namingTries { names.learn([21: paths[21]!]) }
    write("var/lib/containers/storage/vfs-containers/containers.json", [["id": id(4), "names": ["never"]]])
    names.learn([21: paths[21]!])
    XCTAssertEqual(names.name(ofCgroup: 21, .container), String(id(4).prefix(12)), "not read on every walk for ever")
  }

  func testAFilterFollowsTheNewestOfTheCgroupsItNames() {
    containerd(id(9), cri("web"))
    containerd(id(1), cri("web"))
    let older = podPath + "/cri-containerd-\(id(9)).scope", newer = podPath + "/cri-containerd-\(id(1)).scope"
    let paths: [UInt64: String] = [10: older, 30: newer]
    let names = ContainerNames(metadata: RuntimeMetadata(root: root)) { paths[$0] }
    names.learn(paths)
    XCTAssertEqual(names.cgroups(matching: "prod/shop-1/web", pod: nil), [older, newer], "by cgroup id, not by path")
  }
}

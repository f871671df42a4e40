import XCTest

@testable import Containers

/// Cgroup paths as the kubelet (both drivers), containerd, CRI-O, podman and Docker make them.
final class CgroupPlaceTests: XCTestCase {
  let id = String(repeating: "ab12", count: 16)
  let uid = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
  var systemdUID: String { uid.replacingOccurrences(of: "-", with: "_") }

  func testKubeletSystemdLayoutWithEachCRIRuntime() {
    let pod = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod\(systemdUID).slice"
    for (scope, runtime) in [("cri-containerd-\(id).scope", CgroupPlace.Runtime.containerd), ("crio-\(id).scope", .crio)] {
      let place = CgroupPlace(path: pod + "/" + scope)
      XCTAssertEqual(place.container, .init(runtime: runtime, id: id, cgroupPath: pod + "/" + scope))
      XCTAssertEqual(place.pod, .init(uid: uid, cgroupPath: pod))
    }
    let guaranteed = "/kubepods.slice/kubepods-pod\(systemdUID).slice"
    XCTAssertEqual(CgroupPlace(path: guaranteed + "/cri-containerd-\(id).scope").pod?.cgroupPath, guaranteed)
    XCTAssertNil(CgroupPlace(path: pod + "/crio-conmon-\(id).scope").container, "conmon is no container")
    XCTAssertEqual(CgroupPlace(path: pod).pod?.uid, uid)
    XCTAssertNil(CgroupPlace(path: pod).container)
  }

  func testKubeletCgroupfsLayout() {
    let place = CgroupPlace(path: "/kubepods/besteffort/pod\(uid)/\(id)")
    XCTAssertEqual(place.container, .init(runtime: .unknown, id: id, cgroupPath: "/kubepods/besteffort/pod\(uid)/\(id)"))
    XCTAssertEqual(place.pod?.cgroupPath, "/kubepods/besteffort/pod\(uid)")
  }

  func testPodmanDockerAndNestedCgroups() {
    XCTAssertEqual(CgroupPlace(path: "/libpod_parent/libpod-\(id)").container?.runtime, .podman)
    XCTAssertEqual(CgroupPlace(path: "/machine.slice/libpod-\(id).scope").container?.id, id)
    XCTAssertNil(CgroupPlace(path: "/machine.slice/libpod-conmon-\(id).scope").container)
    XCTAssertEqual(CgroupPlace(path: "/system.slice/docker-\(id).scope").container?.runtime, .docker)
    XCTAssertEqual(CgroupPlace(path: "/docker/\(id)").container?.runtime, .docker)
    let nested = CgroupPlace(path: "/system.slice/docker-\(id).scope/init.scope")
    XCTAssertEqual(nested.container?.cgroupPath, "/system.slice/docker-\(id).scope", "a container's sub-cgroup is the container's")
    XCTAssertNil(nested.pod)
  }

  func testHostCgroupsAndLookAlikesAreInNoContainer() {
    for path in ["/", "/system.slice/ssh.service", "/user.slice/user-0.slice/session-1.scope", "/\(id)",
                 "/system.slice/docker-\(id.prefix(63)).scope", "/kubepods.slice/kubepods-podnotauid.slice"] {
      let place = CgroupPlace(path: path)
      XCTAssertNil(place.container, path)
      XCTAssertNil(place.pod, path)
    }
  }
}

import Foundation
import XCTest

/// `container` and `pod` keys and the `--container`/`--pod` filters, against real containerd and
/// podman containers (`ContainerRuntimes`), each making a known number of getppid calls. The
/// runtimes' own tasks in a container's cgroup (runc's init) make calls too: counts are taken for
/// the workload's comm, a third key part.
final class ContainerTests: XCTestCase {
  nonisolated(unsafe) static var runtimes: ContainerRuntimes?  // one containerd for the class

  override class func tearDown() {
    runtimes = nil
  }

  func runtimes() throws -> ContainerRuntimes {
    if let runtimes = Self.runtimes { return runtimes }
    let made = try ContainerRuntimes()
    Self.runtimes = made
    return made
  }

  let profile = """
    version: 1
    name: ppid-by-container
    probe: {syscall: getppid}
    key:
      - {source: pod, label: pod}
      - {source: container, label: container}
      - {source: comm, label: comm}
    """

  /// The workload's counts by "pod container", from the JSON `keys` of a run's last print.
  func workloadCounts(_ run: ToolRun) -> [String: Int] {
    var counts: [String: Int] = [:]
    for histogram in run.jsonObjects.last?["histograms"] as? [[String: Any]] ?? [] {
      guard let keys = histogram["keys"] as? [String: String], keys["comm"] == "sd-workload" else { continue }
      counts["\(keys["pod"]!) \(keys["container"]!)", default: 0] += histogram["count"] as? Int ?? 0
    }
    return counts
  }

  func testCallsAreCountedPerPodAndContainerAndKeepTheirNamesAfterTheContainerIsGone() throws {
    let runtimes = try runtimes()
    let tool = try ToolRun(["--runtime-root", runtimes.runtimeRoot, "--profile", try temporaryProfile(profile), "-j"])
    try tool.waitUntilAttached()
    let shop1 = ContainerRuntimes.Pod(namespace: "prod", name: "shop-1"), shop2 = ContainerRuntimes.Pod(namespace: "prod", name: "shop-2")
    let containers = [
      try runtimes.containerd(shop1, "web", "getppid", "300"), try runtimes.containerd(shop1, "sidecar", "getppid", "200"),
      try runtimes.containerd(shop2, "web", "getppid", "100"), try runtimes.podman("sd-cache", "getppid", "150"),
    ]
    let host = try Workload("getppid", "70")
    // two containers called web: a filter must say which
    let ambiguous = try ToolRun.complete(["--runtime-root", runtimes.runtimeRoot, "--container", "web", "-d", "1"])
    XCTAssertEqual(ambiguous.status, 2, ambiguous.stderr)
    XCTAssertTrue(ambiguous.stderr.contains("--container web names 2 containers"), ambiguous.stderr)
    sleep(2)  // the tool names a container from the walk of the cgroups it makes every second
    for container in containers { try container.finish() }  // each is removed before the tool reads
    _ = try host.finish()
    XCTAssertEqual(tool.stop(), 0, tool.stderr)
    XCTAssertEqual(workloadCounts(tool), [
      "prod/shop-1 prod/shop-1/web": 300, "prod/shop-1 prod/shop-1/sidecar": 200, "prod/shop-2 prod/shop-2/web": 100,
      "- sd-cache": 150, "- -": 70,
    ])
  }

  func testAPodFilterWaitsForThePodAndCountsItsContainersStartedLater() throws {
    let runtimes = try runtimes()
    let shop3 = ContainerRuntimes.Pod(namespace: "prod", name: "shop-3"), shop4 = ContainerRuntimes.Pod(namespace: "prod", name: "shop-4")
    let tool = try ToolRun(["--runtime-root", runtimes.runtimeRoot, "--profile", try temporaryProfile(profile), "-j", "--pod", "prod/shop-3"])
    try tool.waitUntilAttached()
    XCTAssertTrue(tool.stderr.contains("note: no pod prod/shop-3 yet: counting starts when it appears"), tool.stderr)
    let sandbox = try runtimes.containerd(shop3, nil, "getppid", "5")
    try waitFor("note: counting pod prod/shop-3: cgroup \(shop3.cgroup)", in: tool)
    let web = try runtimes.containerd(shop3, "web", "getppid", "250")  // after the filter found the pod
    let other = try runtimes.containerd(shop4, "web", "getppid", "40")
    let host = try Workload("getppid", "60")
    sleep(1)  // named by a walk while it lives (every 0.25 s with a filter)
    for container in [web, other, sandbox] { try container.finish() }
    _ = try host.finish()
    XCTAssertEqual(tool.stop(), 0, tool.stderr)
    XCTAssertEqual(workloadCounts(tool), ["prod/shop-3 prod/shop-3/web": 250, "prod/shop-3 prod/shop-3/POD": 5])
  }

  func testAContainerFilterFollowsAContainerStartedAfterTheTool() throws {
    let runtimes = try runtimes()
    let tool = try ToolRun(["--runtime-root", runtimes.runtimeRoot, "--profile", try temporaryProfile(profile), "-j", "--container", "sd-late"])
    try tool.waitUntilAttached()
    XCTAssertTrue(tool.stderr.contains("note: no container sd-late yet"), tool.stderr)
    let late = try runtimes.podman("sd-late", "getppid", "120")
    try waitFor("note: counting container sd-late: cgroup", in: tool)
    let other = try runtimes.podman("sd-other", "getppid", "30")
    for container in [late, other] { try container.finish() }
    XCTAssertEqual(tool.stop(), 0, tool.stderr)
    XCTAssertEqual(workloadCounts(tool), ["- sd-late": 120])
  }

  /// Containers each gone well within a walk's second are named all the same: a cgroup is named
  /// as it is made (inotify), not at the next walk. Five, one after another: walks alone would
  /// name all five about once in a thousand runs.
  func testContainersGoneBeforeAWalkAreNamed() throws {
    let runtimes = try runtimes()
    let tool = try ToolRun(["--runtime-root", runtimes.runtimeRoot, "--profile", try temporaryProfile(profile), "-j"])
    try tool.waitUntilAttached()
    for index in 1...5 { try runtimes.podman("sd-brief-\(index)", "getppid", "10").finish() }
    // cgroupfs never ends a removed cgroup's watch: after a walk the tool watches live cgroups alone
    sleep(2)
    let watched = inotifyWatchedInodes(of: tool.process.processIdentifier)
    XCTAssertFalse(watched.isEmpty, "the tool watches the cgroup tree")
    XCTAssertEqual(watched.subtracting(liveCgroupInodes()), [], "watches of removed cgroups")
    XCTAssertEqual(tool.stop(), 0, tool.stderr)
    XCTAssertEqual(workloadCounts(tool), Dictionary(uniqueKeysWithValues: (1...5).map { ("- sd-brief-\($0)", 10) }))
  }

  /// serve's `labels:` on a profile keyed by comm alone: each call's namespace, pod and container
  /// as their own labels, read by prometheus_client's OpenMetrics parser.
  func testServeLabelsEachCallWithItsNamespacePodAndContainer() throws {
    let runtimes = try runtimes()
    let byComm = try temporaryProfile("version: 1\nname: ppid\nprobe: {syscall: getppid}\nkey: {source: comm, label: comm}\n")
    let config = try temporaryProfile(
      "runtime_root: \(runtimes.runtimeRoot)\nprofiles:\n  - profile: \(byComm)\n    labels: [namespace, pod, container]\n", name: "serve")
    let serve = try ServeRun(["--config", config])
    let shop5 = ContainerRuntimes.Pod(namespace: "prod", name: "shop-5")
    let containers = [
      try runtimes.containerd(shop5, "web", "getppid", "300"), try runtimes.containerd(shop5, "sidecar", "getppid", "200"),
      try runtimes.podman("sd-labelled", "getppid", "150"),
    ]
    let host = try Workload("getppid", "70")
    sleep(2)  // named by a walk while they live
    for container in containers { try container.finish() }
    _ = try host.finish()
    usleep(1_500_000)  // serve reads the kernel's counts every second
    let counts = try python(
      """
      import sys
      from prometheus_client.openmetrics.parser import text_string_to_metric_families
      for family in text_string_to_metric_families(sys.stdin.read()):
          for s in family.samples:
              if s.name == "ppid_latency_seconds_count" and s.labels["comm"] == "sd-workload":
                  print(s.labels["namespace"], s.labels["pod"], s.labels["container"], int(s.value))
      """, input: try serve.metrics())
    XCTAssertEqual(serve.stop(), 0, serve.tool.stderr)
    XCTAssertEqual(
      Set(counts.split(separator: "\n")),
      ["prod shop-5 web 300", "prod shop-5 sidecar 200", "- - sd-labelled 150", "- - - 70"])
  }

  /// The inodes process `pid`'s inotify instances watch, from /proc/PID/fdinfo ("ino:1f2" in hex).
  func inotifyWatchedInodes(of pid: Int32) -> Set<UInt64> {
    let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
    return Set(fds.filter { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)")) == "anon_inode:inotify" }
      .flatMap { fd in
        ((try? String(contentsOfFile: "/proc/\(pid)/fdinfo/\(fd)", encoding: .utf8)) ?? "").split(separator: "\n")
          .compactMap { line in line.split(separator: " ").first { $0.hasPrefix("ino:") }.flatMap { UInt64($0.dropFirst(4), radix: 16) } }
      })
  }

  /// Every cgroup v2 directory's inode now.
  func liveCgroupInodes() -> Set<UInt64> {
    let root = FileManager.default.fileExists(atPath: "/sys/fs/cgroup/unified/cgroup.procs") ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup"
    var inodes: Set<UInt64> = []
    var pending = [root]
    while let directory = pending.popLast() {
      var info = stat()
      guard stat(directory, &info) == 0 else { continue }
      inodes.insert(UInt64(info.st_ino))
      let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
      for entry in entries {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory + "/" + entry, isDirectory: &isDirectory), isDirectory.boolValue {
          pending.append(directory + "/" + entry)
        }
      }
    }
    return inodes
  }

  func waitFor(_ line: String, in tool: ToolRun, file: StaticString = #filePath, lineNumber: UInt = #line) throws {
    let deadline = Date().addingTimeInterval(30)
    while !tool.stderr.contains(line) {
      guard Date() < deadline, tool.process.isRunning else {
        return XCTFail("no '\(line)' from the tool: \(tool.stderr)", file: file, line: lineNumber)
      }
      usleep(20_000)
    }
  }
}

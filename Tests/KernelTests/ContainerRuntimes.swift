import Foundation
import XCTest

/// Real container runtimes from Debian's packages: containerd (its `ctr`, with runc) given the
/// cgroups and CRI annotations a kubelet gives a pod's containers, and podman (with runc). Each
/// container runs `sd-workload --stop MODE N` from a root file system of the workload and the
/// libraries it links, and waits, stopped, until the test lets it run.
final class ContainerRuntimes {
  let scratch = Scratch.directory.appending(path: "containers-\(UUID().uuidString)").path
  var rootfs: String { scratch + "/rootfs" }
  /// The runtimes keep their files below this, each where it would be under a node's / (the
  /// tool reads them with --runtime-root): a containerd or podman of the host is not touched.
  /// Short: podman refuses a run root of more than 50 bytes.
  let runtimeRoot = "/run/sd-tests-\(getpid())"
  /// A socket path must be short (at most 104 bytes with its ttrpc suffix).
  let socket = "/run/sd-tests-containerd-\(getpid()).sock"
  private var containerd: Process?
  /// Where the host mounts cgroup2 (`/sys/fs/cgroup/unified` on a hybrid host).
  let cgroupRoot: String

  init() throws {
    let mounts = try String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)
    let fields: [[Substring]] = mounts.split(separator: "\n").map { $0.split(separator: " ") }
    let cgroup2: [Substring]? = fields.first { $0.count > 2 && $0[2] == "cgroup2" }
    cgroupRoot = cgroup2.map { String($0[1]) } ?? "/sys/fs/cgroup"
    try makeRootfs()
    try startContainerd()
  }

  deinit {
    containerd?.terminate()
    containerd?.waitUntilExit()
    // containerd leaves its sockets behind
    for path in [runtimeRoot, socket, socket + ".ttrpc"] { try? FileManager.default.removeItem(atPath: path) }
  }

  /// The workload and every library `ldd` says it loads.
  private func makeRootfs() throws {
    let manager = FileManager.default
    try manager.createDirectory(atPath: rootfs, withIntermediateDirectories: true)
    try manager.copyItem(atPath: Products.workload, toPath: rootfs + "/sd-workload")
    let ldd = try Self.run("/usr/bin/ldd", [Products.workload])
    for path in ldd.split(whereSeparator: { " \n\t".contains($0) }) where path.hasPrefix("/") {
      let target = rootfs + path
      try manager.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      try manager.copyItem(atPath: URL(fileURLWithPath: String(path)).resolvingSymlinksInPath().path, toPath: target)
    }
  }

  /// containerd with its state where a node's is below `runtimeRoot` (`run/containerd`, where
  /// the tool reads the task bundles), its own root and socket.
  private func startContainerd() throws {
    let config = scratch + "/containerd.toml"
    try FileManager.default.createDirectory(atPath: runtimeRoot + "/run/containerd", withIntermediateDirectories: true)
    try "version = 2\nroot = \"\(scratch)/containerd\"\nstate = \"\(runtimeRoot)/run/containerd\"\n[grpc]\n  address = \"\(socket)\"\n"
      .write(toFile: config, atomically: true, encoding: .utf8)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/containerd")
    process.arguments = ["--config", config]
    let log = scratch + "/containerd.log"
    _ = FileManager.default.createFile(atPath: log, contents: nil)
    process.standardOutput = FileHandle(forWritingAtPath: log)
    process.standardError = FileHandle(forWritingAtPath: log)
    try process.run()
    containerd = process
    let deadline = Date().addingTimeInterval(60)
    while (try? Self.run("/usr/bin/ctr", ["-a", socket, "version"])) == nil {
      guard Date() < deadline, process.isRunning else {
        throw RuntimeError.notStarted("containerd: " + ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").suffix(600))
      }
      usleep(100_000)
    }
  }

  /// A pod as the kubelet lays it out (systemd driver, best effort).
  struct Pod {
    var namespace: String
    var name: String
    var uid = UUID().uuidString.lowercased()
    var cgroup: String {
      "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod\(uid.replacingOccurrences(of: "-", with: "_")).slice"
    }
  }

  /// A container of `pod` (its sandbox when `name` is nil), started stopped.
  func containerd(_ pod: Pod, _ name: String?, _ arguments: String...) throws -> Container {
    let id = (UUID().uuidString + UUID().uuidString).replacingOccurrences(of: "-", with: "").lowercased()
    let annotations = [
      "io.kubernetes.cri.container-type": name == nil ? "sandbox" : "container", "io.kubernetes.cri.sandbox-name": pod.name,
      "io.kubernetes.cri.sandbox-namespace": pod.namespace, "io.kubernetes.cri.sandbox-uid": pod.uid,
    ].merging(name.map { ["io.kubernetes.cri.container-name": $0] } ?? [:]) { $1 }
    let cgroup = pod.cgroup + "/cri-containerd-\(id).scope"
    return try Container(
      ["/usr/bin/ctr", "-a", socket, "run", "--rm", "--rootfs", "--cgroup", cgroup]
        + annotations.sorted { $0.key < $1.key }.flatMap { ["--annotation", "\($0.key)=\($0.value)"] }
        + [rootfs, id, "/sd-workload", "--stop"] + arguments,
      cgroup: cgroupRoot + cgroup)
  }

  /// podman with its stores where a node's are below `runtimeRoot`, and its own temporary files.
  var podmanOptions: [String] {
    ["--root", runtimeRoot + "/var/lib/containers/storage", "--runroot", runtimeRoot + "/run/containers/storage",
     "--tmpdir", scratch + "/podman", "--runtime", "runc", "--cgroup-manager", "cgroupfs", "--storage-driver", "vfs"]
  }

  /// A podman container named `name`, started stopped.
  func podman(_ name: String, _ arguments: String...) throws -> Container {
    let conf = scratch + "/containers.conf"  // podman's default ulimits are more than runc may set here
    try "[containers]\ndefault_ulimits = []\n".write(toFile: conf, atomically: true, encoding: .utf8)
    let id = try Self.run(
      "/usr/bin/podman",
      podmanOptions + ["run", "-d", "--name", name, "--network", "none", "--rootfs", rootfs, "/sd-workload", "--stop"] + arguments,
      environment: ["CONTAINERS_CONF": conf]).trimmingCharacters(in: .whitespacesAndNewlines)
    return try Container(
      ["/usr/bin/podman"] + podmanOptions + ["wait", id], cgroup: cgroupRoot + "/libpod_parent/libpod-\(id)",
      removal: ["/usr/bin/podman"] + podmanOptions + ["rm", "-f", id])
  }

  enum RuntimeError: Error { case notStarted(String), failed(String, String) }

  /// Runs `tool` to its exit, its output through files: podman's monitor (conmon) inherits and
  /// keeps them open after podman exits, so a pipe would never end. posix_spawn and waitpid, not
  /// Foundation's Process, which left podman's exit unreaped here.
  @discardableResult
  static func run(_ tool: String, _ arguments: [String], environment: [String: String] = [:]) throws -> String {
    let base = Scratch.directory.appending(path: "run-\(UUID().uuidString)").path
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, base + ".out", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, base + ".err", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    let variables = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { "\($0.key)=\($0.value)" }
    let argv = ([tool] + arguments).map { strdup($0) } + [nil], envp = variables.map { strdup($0) } + [nil]
    defer { (argv + envp).forEach { free($0) } }
    var pid: pid_t = 0, status: Int32 = 0
    guard posix_spawn(&pid, tool, &actions, nil, argv, envp) == 0 else { throw RuntimeError.failed(tool, "cannot run it") }
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let output = (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? ""
    guard status == 0 else {
      let problem = (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? ""
      throw RuntimeError.failed(([tool] + arguments).joined(separator: " "), problem)
    }
    return output
  }

  /// A running container whose workload waits, stopped, in its cgroup.
  final class Container {
    let process = Process()
    let cgroup: String
    private let removal: [String]?

    /// `command` runs while the container does (ctr's run, podman's wait).
    init(_ command: [String], cgroup: String, removal: [String]? = nil) throws {
      self.cgroup = cgroup
      self.removal = removal
      process.executableURL = URL(fileURLWithPath: command[0])
      process.arguments = Array(command.dropFirst())
      process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
      process.standardError = FileHandle(forWritingAtPath: "/dev/null")
      try process.run()
      let deadline = Date().addingTimeInterval(60)
      while stoppedTasks.isEmpty {
        guard Date() < deadline, process.isRunning else { throw RuntimeError.notStarted("the container in \(cgroup)") }
        usleep(10_000)
      }
    }

    /// The container's tasks stopped by their own SIGSTOP.
    var stoppedTasks: [Int32] {
      let procs = (try? String(contentsOfFile: cgroup + "/cgroup.procs", encoding: .utf8)) ?? ""
      return procs.split(separator: "\n").compactMap { Int32($0) }.filter { pid in
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        return stat.split(separator: ")").last?.split(separator: " ").first == "T"
      }
    }

    /// Lets the workload run, and waits until the container is gone (ctr's `--rm` removes it).
    func finish() throws {
      for pid in stoppedTasks { kill(pid, SIGCONT) }
      process.waitUntilExit()
      if let removal { try ContainerRuntimes.run(removal[0], Array(removal.dropFirst())) }
      XCTAssertFalse(FileManager.default.fileExists(atPath: cgroup), "the container's cgroup is gone")
    }
  }
}

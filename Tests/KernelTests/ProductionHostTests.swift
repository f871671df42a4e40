import Foundation
@testable import Tracer
import XCTest

/// Conditions every production host has and this VM does not show by default, reproduced:
/// systemd's pid_max, reused thread ids, kernels newer than the build headers, 32-bit callers,
/// nested cgroups and pid namespaces. Each ran wrong before it was fixed.
final class ProductionHostTests: XCTestCase {
  /// Runs the tool with `arguments + ["-p", PID, "-j"]` around `workload`; returns its objects.
  func trace(_ arguments: [String], _ workload: Workload) throws -> (objects: [[String: Any]], report: [String: Any]) {
    let tool = try ToolRun(arguments + ["-p", String(workload.pid), "-j"])
    try tool.waitUntilAttached()
    let report = try workload.finish()
    XCTAssertEqual(tool.stop(), 0, tool.stderr)
    return (tool.jsonObjects, report)
  }

  func accounting(_ objects: [[String: Any]]) -> [String: Any] {
    objects.last?["accounting"] as? [String: Any] ?? [:]
  }

  /// systemd sets kernel.pid_max to 4194304: the default profile must not pin memory in
  /// proportion to it, and a thread whose id is far above 100,000 is counted like any other.
  func testAtSystemdsPidMaxTheDefaultProfilePinsAtMost16MiBAndCountsHighThreadIDs() throws {
    let pidMax = try writeProcFile("/proc/sys/kernel/pid_max", "4194304")
    defer { _ = try? writeProcFile("/proc/sys/kernel/pid_max", pidMax) }
    try writeProcFile("/proc/sys/kernel/ns_last_pid", "150000")
    let workload = try Workload("bpf-mix", "100")
    XCTAssertGreaterThan(workload.pid, 100_000)
    let tool = try ToolRun(["-p", String(workload.pid), "-j"])
    try tool.waitUntilAttached()
    let pinned = try pinnedMapMemory(ofProcess: tool.pid)
    XCTAssertGreaterThan(pinned, 0)
    XCTAssertLessThanOrEqual(pinned, 16 << 20, "the maps pin \(pinned) bytes")
    let issued = try workload.finish()["counts"] as? [String: Int]
    XCTAssertEqual(tool.stop(), 0, tool.stderr)
    XCTAssertEqual(countsByKey(jsonObjects: tool.jsonObjects), issued)
  }

  /// What `--check` (and the man page's formula) says the histograms and the errors hashes pin
  /// is what the kernel charges for them (the `memlock:` of each map's fdinfo), give or take the
  /// maps' bookkeeping. Parsed with XCTUnwrap: a line of another shape fails, never crashes the run.
  /// Before Linux 6.4 (no per-map memory usage) a hash's memlock is an estimate of keys and values
  /// alone: there the stated figure must be at least it.
  func testTheStatedMemoryOfTheMapsIsWhatTheKernelPins() throws {
    let release = HostFacts.release.split(separator: ".").prefix(2).compactMap { Int($0) }
    let hashesCharged = release.count == 2 && (release[0], release[1]) >= (6, 4)
    for name in ["bpfsyscalldist", "syscalldist", "read-by-process"] {
      let check = try ToolRun.complete(["--check", name])
      let storage = try XCTUnwrap(check.stdout.split(separator: "\n").first { $0.hasPrefix("storage:") }, check.stdout)
      let stated = storage.matches(of: /(\d+) KiB/).map { Int($0.output.1)! * 1024 }
      XCTAssertEqual(stated.count, 2, String(storage))
      let errorEntries = try XCTUnwrap(storage.firstMatch(of: /room for (\d+) \(key, errno\)/)?.output.1)
      let tool = try ToolRun(["--profile", name, "-c", "no-such-task"])
      try tool.waitUntilAttached()
      let maps = try mapInfo(ofProcess: tool.pid)
      XCTAssertEqual(tool.stop(), 0)
      // the histograms: the per-CPU or shared array `counts`, or the two sparse hashes
      let histogramNames: Set<String> = storage.contains("array of keys") ? ["counts"] : ["sparse_0", "sparse_1"]
      let histograms = maps.filter { histogramNames.contains($0["name"] ?? "") }
      XCTAssertEqual(histograms.count, histogramNames.count, "\(name): \(maps)")
      let charged = histograms.compactMap { Int($0["memlock"] ?? "") }.reduce(0, +)
      if histogramNames.count == 1 || hashesCharged {
        XCTAssertGreaterThanOrEqual(charged, stated[0] * 9 / 10, "\(name): histograms")
      }
      XCTAssertLessThanOrEqual(charged, stated[0] * 11 / 10 + 64 * 1024, "\(name): histograms")
      let errors = maps.filter { ["errors_0", "errors_1"].contains($0["name"] ?? "") }
      XCTAssertEqual(errors.map { $0["max_entries"] }, [String(errorEntries), String(errorEntries)], name)
      let errorsCharged = errors.compactMap { Int($0["memlock"] ?? "") }.reduce(0, +)
      if hashesCharged { XCTAssertGreaterThanOrEqual(errorsCharged, stated[1] * 9 / 10, "\(name): errors") }
      XCTAssertLessThanOrEqual(errorsCharged, stated[1] * 11 / 10, "\(name): errors")
    }
  }

  /// A kernel of 5.13 or later built without BTF (its /sys/kernel/btf hidden by an empty tmpfs
  /// in a mount namespace of the test's): it was told its BTF "has no struct task_struct" and
  /// refused; the build that needs no BTF runs instead, counts exactly, and says so. What needs
  /// BTF is refused in one line naming it.
  func testWithoutKernelBTFTheCompatBuildCountsExactly() throws {
    let workload = try Workload("getppid", "1000")
    let tool = try ToolRun(btfHidden(["--profile", "syscalldist", "-p", String(workload.pid), "-j"]), executable: "/usr/bin/unshare")
    try tool.waitUntilAttached()
    let issued = try XCTUnwrap(workload.finish()["n"] as? Int)
    XCTAssertEqual(tool.stop(), 0, tool.stderr)
    XCTAssertTrue(tool.stderr.contains("the kernel has no BTF"), tool.stderr)
    XCTAssertEqual(countsByKey(jsonObjects: tool.jsonObjects)["getppid"], issued)
    for (flags, needs) in [(["--slower-than", "1ms"], "--slower-than needs the kernel's BTF"), (["--concurrency"], "--concurrency needs Linux 5.13 or later with its BTF")] {
      let refused = try ToolRun.complete(btfHidden(flags + ["-d", "1"]), executable: "/usr/bin/unshare")
      XCTAssertEqual(refused.status, 1, refused.stderr)
      XCTAssertTrue(refused.stderr.contains(needs), refused.stderr)
      XCTAssertEqual(refused.stderr.split(separator: "\n").count, 1, refused.stderr)
    }
  }

  /// A thread that is not its process's leader calls execve: the kernel gives it the leader's id
  /// and frees its own, with no exit. The build for Linux 5.10 to 5.12 (here: the kernel's BTF
  /// hidden), which keeps a start by thread id, left the execve's under the old id: the execve
  /// went uncounted, and the next thread of that id finished it from its first return (clone's),
  /// 10 ms and more after the execve had returned. Both builds: one execve, within the time the
  /// workload's own clocks allow it.
  func testExecveFromAThreadIsCountedOnceWithinItsTime() throws {
    for compat in [false, true] {
      let build = compat ? "5.10-5.12 build" : "main build"
      let workload = try Workload("exec-thread")
      let arguments = ["--profile", "syscalldist", "-p", String(workload.pid), "-j"]
      let tool = compat
        ? try ToolRun(btfHidden(arguments), executable: "/usr/bin/unshare") : try ToolRun(arguments)
      try tool.waitUntilAttached()
      let report = try workload.finish()
      XCTAssertEqual(tool.stop(), 0, tool.stderr)
      XCTAssertEqual(report["reused"] as? Bool, true, "\(build): the workload could not hand the id over: \(report)")
      XCTAssertEqual(tool.stderr.contains("the kernel has no BTF"), compat, tool.stderr)
      let execve = tool.jsonObjects.flatMap { $0["histograms"] as? [[String: Any]] ?? [] }
        .filter { $0["key"] as? String == "execve" }
      XCTAssertEqual(execve.compactMap { $0["count"] as? Int }.reduce(0, +), 1, "\(build): \(execve)")
      let bound = try XCTUnwrap(report["execve_bound_ns"] as? Int)
      for series in execve {
        XCTAssertLessThanOrEqual(try XCTUnwrap(series["max_ns"] as? Int), bound, "\(build): \(series)")
      }
      XCTAssertEqual(countsByKey(jsonObjects: tool.jsonObjects)["getppid"], report["attempts"] as? Int, build)
    }
  }

  /// A thread dies inside `exit`; a new thread gets its id and returns from clone, a syscall it
  /// never entered. That return must not finish the dead thread's call.
  func testAReusedThreadIDNeverFinishesTheDeadThreadsCall() throws {
    let (objects, report) = try trace(["--profile", "syscalldist"], try Workload("reuse"))
    XCTAssertEqual(report["reused"] as? Bool, true, "the workload could not hand the id over: \(report)")
    let counts = countsByKey(jsonObjects: objects)
    XCTAssertNil(counts["exit"], "exit never returns, yet it was counted: \(counts)")
    XCTAssertNil(counts["exit_group"])
    XCTAssertEqual(counts["getppid"], 1)
    XCTAssertEqual(
      (accounting(objects)["not_counted"] as? [String: Any])?["abandoned"] as? Int, report["never_return"] as? Int)
  }

  /// 40,000 threads one after another, each ending in `exit`: more than pid_max (32768 here), so
  /// ids are reused as on any busy host. The calls that never return are reported as abandoned,
  /// and none of them counts.
  func testThreadChurnCountsNoCallThatNeverReturned() throws {
    let (objects, report) = try trace(["--profile", "syscalldist"], try Workload("churn", "40000"))
    let counts = countsByKey(jsonObjects: objects)
    XCTAssertNil(counts["exit"])
    XCTAssertEqual(counts["getppid"], 40000)
    XCTAssertEqual(
      (accounting(objects)["not_counted"] as? [String: Any])?["abandoned"] as? Int, report["never_return"] as? Int)
  }

  /// A signal handler's return is the syscall rt_sigreturn, whose exit the kernel reports as
  /// syscall -1 (it forgets the number). Every hook that sees it counts it, under its name.
  func testSignalReturnsAreCountedOnEveryHook() throws {
    for method in ["raw_tp", "tp_btf", "tracepoint"] {
      let (objects, report) = try trace(["--profile", "syscalldist", "--probe-method", method], try Workload("signals", "150"))
      let counts = countsByKey(jsonObjects: objects)
      XCTAssertEqual(counts["rt_sigreturn"], 150, "\(method): \(counts)")
      XCTAssertEqual(counts["tgkill"], (report["counts"] as? [String: Int])?["tgkill"], method)
      XCTAssertEqual((accounting(objects)["not_counted"] as? [String: Any])?["mismatched"] as? Int, 0, method)
    }
    let profile = try temporaryProfile("version: 1\nname: r\nprobe: {syscall: rt_sigreturn}\n")
    for method in ["raw_tp", "tp_btf", nil] {
      let (objects, _) = try trace(["--profile", profile] + (method.map { ["--probe-method", $0] } ?? []), try Workload("signals", "40"))
      XCTAssertEqual(countsByKey(jsonObjects: objects), ["0": 40], method ?? "auto")
    }
  }

  /// Kernel 6.18 has syscalls Debian 12's headers lack: named from the vendored table, counted;
  /// an unnamed number is shown as a number; numbers no kernel has count together as invalid.
  func testNewerSyscallsAreNamedAndImpossibleNumbersCountAsInvalid() throws {
    for method in ["raw_tp", "tp_btf", "tracepoint"] {
      let (objects, report) = try trace(["--profile", "syscalldist", "--probe-method", method], try Workload("newer", "25"))
      let counts = countsByKey(jsonObjects: objects)
      for (name, count) in report["counts"] as? [String: Int] ?? [:] {
        XCTAssertEqual(counts[name], count, "\(name) via \(method): \(counts)")
      }
      XCTAssertEqual(accounting(objects)["dropped"] as? Int, 0, method)
    }
    let check = try ToolRun.complete(["--check", try temporaryProfile("version: 1\nname: m\nprobe: {syscall: mseal}\n")])
    XCTAssertEqual(check.status, 0, check.stderr)
    XCTAssertTrue(check.stdout.contains("probe:       syscall mseal (462)"), check.stdout)
  }

  /// `int $0x80` from a 64-bit program: ia32 getppid is number 64, x86_64's semget. The hooks
  /// that see every syscall must not show it as semget, nor count it in a semget profile; keyed
  /// by syscall, they name it from the i386 table; keyed by anything else, they count it apart.
  func testIA32CallsAreNamedFromTheirOwnTableNeverAsX86_64Ones() throws {
    #if arch(x86_64)
      for method in ["raw_tp", "tp_btf", "tracepoint"] {
        let (objects, report) = try trace(["--profile", "syscalldist", "--probe-method", method], try Workload("ia32", "200"))
        XCTAssertEqual(report["failed"] as? Int, 0, "int $0x80 getppid did not return the parent's pid")
        let counts = countsByKey(jsonObjects: objects)
        XCTAssertNil(counts["semget"], method)
        XCTAssertEqual(counts["getppid"], 200, method)
        XCTAssertEqual(counts["ia32:getppid"], 200, method)
        let notCounted = accounting(objects)["not_counted"] as? [String: Any]
        XCTAssertEqual(notCounted?["compat"] as? Int, 0, method)
      }
      let byProcess = try temporaryProfile("version: 1\nname: p\nprobe: {syscalls: all}\nkey: {source: pid}\n")
      let workload = try Workload("ia32", "200")
      let (objects, _) = try trace(["--profile", byProcess], workload)
      XCTAssertEqual((accounting(objects)["not_counted"] as? [String: Any])?["compat"] as? Int, 200)
      let semget = try temporaryProfile("version: 1\nname: s\nprobe: {syscall: semget}\n")
      for method in ["raw_tp", "tp_btf"] {
        let (objects, _) = try trace(["--profile", semget, "--probe-method", method], try Workload("ia32", "50"))
        XCTAssertEqual(countsByKey(jsonObjects: objects), [:], method)
      }
    #endif
  }

  /// A pod's cgroup holds its containers' cgroups: `--cgroup PARENT` counts a process in
  /// PARENT/child.
  func testCgroupFilterCountsTasksInNestedCgroups() throws {
    let mounts = try String(contentsOfFile: "/proc/mounts", encoding: .utf8)
    let root = try XCTUnwrap(
      mounts.split(separator: "\n").map { $0.split(separator: " ") }.first { $0.count > 2 && $0[2] == "cgroup2" }?[1],
      "no cgroup v2 hierarchy is mounted")
    let parent = "\(root)/sd-pod-\(getpid())", child = parent + "/container"
    XCTAssertEqual(mkdir(parent, 0o755), 0)
    defer { rmdir(parent) }
    XCTAssertEqual(mkdir(child, 0o755), 0)
    defer { rmdir(child) }
    let inside = try Workload("bpf-mix", "30")
    try String(inside.pid).write(toFile: child + "/cgroup.procs", atomically: false, encoding: .utf8)
    let outside = try Workload("bpf-mix", "30")
    let tool = try ToolRun(["--cgroup", parent, "-j"])
    try tool.waitUntilAttached()
    let issued = try inside.finish()["counts"] as? [String: Int]
    _ = try outside.finish()
    XCTAssertEqual(tool.stop(), 0, tool.stderr)
    XCTAssertEqual(countsByKey(jsonObjects: tool.jsonObjects), issued)
  }

  /// The `cgroup` key: a process in a pod's container cgroup is counted under that cgroup's path,
  /// relative to the cgroup2 mount, as systemd and Kubernetes name it.
  func testCgroupKeysAreTheCgroupsPath() throws {
    let mounts = try String(contentsOfFile: "/proc/mounts", encoding: .utf8)
    let root = try XCTUnwrap(
      mounts.split(separator: "\n").map { $0.split(separator: " ") }.first { $0.count > 2 && $0[2] == "cgroup2" }?[1],
      "no cgroup v2 hierarchy is mounted")
    let relative = "/sd-pod-\(getpid())/container"
    XCTAssertEqual(mkdir("\(root)/sd-pod-\(getpid())", 0o755), 0)
    defer { rmdir("\(root)/sd-pod-\(getpid())") }
    XCTAssertEqual(mkdir(root + relative, 0o755), 0)
    defer { rmdir(root + relative) }
    let workload = try Workload("getppid", "25")
    try String(workload.pid).write(toFile: root + relative + "/cgroup.procs", atomically: false, encoding: .utf8)
    let profile = try temporaryProfile("version: 1\nname: pods\nprobe: {syscall: getppid}\nkey: {source: cgroup}\n")
    let (objects, _) = try trace(["--profile", profile], workload)
    XCTAssertEqual(countsByKey(jsonObjects: objects), [relative: 25])
  }

  /// Inside a pid namespace (a container), `-p` takes the namespace's pids, and the tool's own
  /// bpf() calls (reading its maps every interval) are never counted: the second instance runs
  /// under its own name and traces only that name, which is its own.
  func testInsideAPidNamespaceFiltersUseTheNamespacesIDs() throws {
    let script = """
      "$1" --stop bpf-mix 40 > "$3/workload.json" & w=$!
      until [ "$(cut -d' ' -f3 /proc/$w/stat)" = T ]; do sleep 0.01; done
      "$2" -p $w -j > "$3/pid.json" 2> "$3/pid.err" & t=$!
      ln -s "$2" "$3/sd-self-check"
      "$3/sd-self-check" -c sd-self-check -i 0.2 -j > "$3/self.json" 2> "$3/self.err" & s=$!
      until grep -q 'Hit Ctrl-C' "$3/pid.err" && grep -q 'Hit Ctrl-C' "$3/self.err"; do sleep 0.01; done
      kill -CONT $w; wait $w
      sleep 0.5
      kill -INT $t $s; wait $t; wait $s
      """
    let directory = Scratch.directory.appending(path: "sd-pidns-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let run = try ToolRun.complete(
      ["--pid", "--fork", "--mount-proc", "/bin/sh", "-c", script, "sh", Products.workload, Products.tool, directory],
      executable: "/usr/bin/unshare")
    XCTAssertEqual(run.status, 0, run.stderr)
    let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(directory)/workload.json"))) as? [String: Any]
    let traced = try String(contentsOfFile: "\(directory)/pid.json", encoding: .utf8)
    let errors = try String(contentsOfFile: "\(directory)/pid.err", encoding: .utf8)
    XCTAssertEqual(try countsByKey(json: traced), report?["counts"] as? [String: Int], errors)
    let own = try String(contentsOfFile: "\(directory)/self.json", encoding: .utf8).split(separator: "\n")
    XCTAssertGreaterThan(own.count, 1)
    for line in own { XCTAssertEqual(try countsByKey(json: String(line)), [:], "the tool counted its own calls") }
  }
}

/// `arguments` for unshare: the tool run with the kernel's BTF hidden (an empty tmpfs on
/// /sys/kernel/btf in a mount namespace of its own), as on a kernel built without it.
private func btfHidden(_ arguments: [String]) -> [String] {
  let quoted = ([Products.tool] + arguments).map { "'\($0)'" }.joined(separator: " ")
  return ["-m", "--propagation", "private", "sh", "-c", "mount -t tmpfs none /sys/kernel/btf && exec \(quoted)"]
}

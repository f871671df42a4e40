import Foundation
import XCTest

/// Filters decided in the kernel, output formats read by real parsers, the man page and the
/// installed layout.
final class FilterAndOutputTests: XCTestCase {
  /// Runs the tool with `arguments` around a workload and returns its per-key counts.
  func counts(_ arguments: [String], workload: Workload, setUp: (Int32) throws -> Void = { _ in }) throws -> (traced: [String: Int], issued: [String: Int]) {
    try setUp(workload.pid)
    let tool = try ToolRun(arguments + ["-j"])
    try tool.waitUntilAttached()
    let issued = try workload.finish()["counts"] as? [String: Int] ?? [:]
    XCTAssertEqual(tool.stop(), 0, tool.stderr)
    return (try countsByKey(json: tool.stdout), issued)
  }

  func testCommFilterKeepsOnlyThatTaskName() throws {
    let mine = try counts(["-c", "sd-workload"], workload: try Workload("bpf-mix", "40"))
    XCTAssertEqual(mine.traced, mine.issued)
    let other = try counts(["-c", "no-such-task"], workload: try Workload("bpf-mix", "40"))
    XCTAssertEqual(other.traced, [:])
  }

  func testTidFilterKeepsOnlyThatThread() throws {
    let single = try Workload("bpf-mix", "40")
    let result = try counts(["-t", String(single.pid)], workload: single)
    XCTAssertEqual(result.traced, result.issued)
    // in progarray the main thread only waits: its worker threads make every call
    let threaded = try Workload("progarray", "4", "50")
    let workers = try counts(["-t", String(threaded.pid)], workload: threaded)
    XCTAssertEqual(workers.issued.values.reduce(0, +), 200)
    XCTAssertEqual(workers.traced, [:])
  }

  func testCgroupFilterKeepsOnlyTasksInThatCgroup() throws {
    let mounts = try String(contentsOfFile: "/proc/mounts", encoding: .utf8)
    guard let root = mounts.split(separator: "\n").map({ $0.split(separator: " ") }).first(where: { $0.count > 2 && $0[2] == "cgroup2" })?[1] else {
      throw XCTSkip("no cgroup v2 hierarchy is mounted")
    }
    let directory = "\(root)/sd-test-\(getpid())"
    XCTAssertEqual(mkdir(directory, 0o755), 0)
    defer { rmdir(directory) }
    let inside = try Workload("bpf-mix", "30")
    try String(inside.pid).write(toFile: directory + "/cgroup.procs", atomically: false, encoding: .utf8)
    let outside = try Workload("bpf-mix", "30")
    let tool = try ToolRun(["--cgroup", directory, "-j"])
    try tool.waitUntilAttached()
    let issued = try inside.finish()["counts"] as? [String: Int]
    _ = try outside.finish()
    XCTAssertEqual(tool.stop(), 0, tool.stderr)
    XCTAssertEqual(try countsByKey(json: tool.stdout), issued)
  }

  func testOpenMetricsOutputParsesWithPrometheusClient() throws {
    let workload = try Workload("openat", "20")
    let tool = try ToolRun(["--profile", "openat", "-p", String(workload.pid), "--format", "openmetrics"])
    try tool.waitUntilAttached()
    _ = try workload.finish()
    XCTAssertEqual(tool.stop(), 0)
    let parser = """
      import sys
      from prometheus_client.openmetrics.parser import text_string_to_metric_families
      for family in text_string_to_metric_families(sys.stdin.read()):
          for s in family.samples:
              if s.name.endswith("_count") or s.name.endswith("_total"):
                  print(family.name, family.type, s.labels["outcome"], s.labels.get("errno", "-"), int(s.value))
      """
    let python = Process()
    python.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    python.arguments = ["-c", parser]
    let input = Pipe(), output = Pipe(), errors = Pipe()
    python.standardInput = input
    python.standardOutput = output
    python.standardError = errors
    try python.run()
    input.fileHandleForWriting.write(Data(tool.stdout.utf8))
    try input.fileHandleForWriting.close()
    let parsed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    python.waitUntilExit()
    XCTAssertEqual(python.terminationStatus, 0, String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    XCTAssertEqual(
      parsed,
      "openat_latency_seconds histogram ok - 20\nopenat_latency_seconds histogram ENOENT - 40\n"
        + "openat_errors counter ENOENT ENOENT 40\n")
  }

}

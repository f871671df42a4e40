import BPFKit
import Foundation
import XCTest

/// Where `swift build` put the binaries the tests run.
enum Products {
  static let directory: URL = {
    let testBinary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    return testBinary.deletingLastPathComponent()
  }()

  /// The bpfsyscalldist the tests run: the one built beside them, or `SD_TEST_TOOL` (the kernel
  /// matrix runs the release binary: under emulation it starts in half the time).
  static var tool: String {
    ProcessInfo.processInfo.environment["SD_TEST_TOOL"] ?? directory.appending(path: "bpfsyscalldist").path
  }
  /// The package: this file is Tests/KernelTests/Helpers.swift.
  static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
  static var workload: String { directory.appending(path: "sd-workload").path }
}

/// Where the tests write files: one directory per test run, removed when the run exits (a
/// thousand runs of the suite must not leave a thousand files each in /tmp).
enum Scratch {
  static let directory: URL = {
    let directory = FileManager.default.temporaryDirectory.appending(path: "sd-tests-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(at: Scratch.directory) }
    return directory
  }()
}

enum WorkloadError: Error {
  /// The workload never reached its SIGSTOP: a broken test, never a reason to skip.
  case didNotStop([String])
}

/// `sd-workload --stop MODE ...`: stopped after its setup until `finish()` resumes it.
final class Workload {
  let process = Process()
  private let output = Pipe()

  /// `comm`: the task name it gives itself (SD_WORKLOAD_COMM), else its own.
  init(_ arguments: String..., comm: String? = nil) throws {
    process.executableURL = URL(fileURLWithPath: Products.workload)
    process.arguments = ["--stop"] + arguments
    if let comm { process.environment = ProcessInfo.processInfo.environment.merging(["SD_WORKLOAD_COMM": comm]) { $1 } }
    process.standardOutput = output
    try process.run()
    guard waitUntilStopped() else {
      process.terminate()
      throw WorkloadError.didNotStop(arguments)
    }
  }

  var pid: Int32 { process.processIdentifier }

  /// Waits until the workload stopped itself (state T); false if it exited first or did not
  /// stop within 60 s (a broken workload: under emulation, filling 64 MiB alone takes seconds).
  func waitUntilStopped() -> Bool {
    let deadline = Date().addingTimeInterval(60)
    while Date() < deadline && process.isRunning {
      if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let state = stat.split(separator: ")").last?.split(separator: " ").first, state == "T"
      {
        return true
      }
      usleep(1000)
    }
    return false
  }

  /// Runs the next phase of a workload that stops after each (`close-keys`): resumes it and
  /// waits until it stops again.
  func runPhase() throws {
    kill(pid, SIGCONT)
    guard waitUntilStopped() else { throw WorkloadError.didNotStop(process.arguments ?? []) }
  }

  /// Resumes it, waits for it to exit and returns its JSON report.
  func finish() throws -> [String: Any] {
    kill(pid, SIGCONT)
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    XCTAssertEqual(process.terminationStatus, 0, "sd-workload failed")
    return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
  }
}

/// The built `bpfsyscalldist`, run with its output in files (no pipe can fill up and block it).
final class ToolRun {
  let process = Process()
  let stdoutPath: String
  let stderrPath: String

  init(_ arguments: [String], environment: [String: String]? = nil, executable: String = Products.tool) throws {
    let directory = Scratch.directory.appending(path: "sd-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    stdoutPath = directory.appending(path: "stdout").path
    stderrPath = directory.appending(path: "stderr").path
    _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
    _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    process.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
    process.standardError = FileHandle(forWritingAtPath: stderrPath)
    try process.run()
  }

  var pid: Int32 { process.processIdentifier }
  var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
  /// Each line of stdout as a JSON object (`-j` prints one per print).
  var jsonObjects: [[String: Any]] {
    stdout.split(separator: "\n").compactMap {
      try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }
  }
  var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

  /// Waits until the tool says it is attached ("Hit Ctrl-C to end."); false, the test failed,
  /// if it exited or did not attach in time.
  @discardableResult
  func waitUntilAttached(timeout: Double = 30) throws -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      if stderr.contains("Hit Ctrl-C to end.") { return true }
      if !process.isRunning {
        XCTFail("bpfsyscalldist exited before attaching: \(stderr)")
        return false
      }
      usleep(5000)
    }
    XCTFail("bpfsyscalldist did not attach in \(timeout) s: \(stderr)")
    return false
  }

  /// Lines printed to stdout so far, counted from where the previous count stopped: the file
  /// only grows, and a print of thousands of series is megabytes, too much to reread each poll.
  private var linesCounted = 0
  private var bytesCounted: UInt64 = 0
  var printedLines: Int {
    guard let file = FileHandle(forReadingAtPath: stdoutPath) else { return linesCounted }
    defer { try? file.close() }
    try? file.seek(toOffset: bytesCounted)
    let data = file.readDataToEndOfFile()
    bytesCounted += UInt64(data.count)
    linesCounted += data.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
    return linesCounted
  }

  /// Waits until `count` more lines have been printed to stdout (prints of `-i ... -j`).
  func waitForPrints(_ count: Int, timeout: Double = 60) throws {
    let start = printedLines
    let deadline = Date().addingTimeInterval(timeout)
    while printedLines < start + count {
      guard process.isRunning, Date() < deadline else {
        XCTFail("bpfsyscalldist printed \(printedLines - start) of \(count) lines: \(stderr)")
        return
      }
      usleep(20_000)
    }
  }

  /// Sends `signal` and waits for the exit status; a tool that has not exited 120 s later fails
  /// the test and is killed, instead of hanging the suite.
  @discardableResult
  func stop(with signal: Int32 = SIGINT, file: StaticString = #filePath, line: UInt = #line) -> Int32 {
    kill(process.processIdentifier, signal)
    let deadline = Date().addingTimeInterval(120)
    while process.isRunning && Date() < deadline { usleep(5000) }
    if process.isRunning {
      XCTFail("bpfsyscalldist did not exit 120 s after signal \(signal): \(stderr)", file: file, line: line)
      kill(process.processIdentifier, SIGKILL)
    }
    process.waitUntilExit()
    return process.terminationStatus
  }

  /// Runs to completion (for commands that exit on their own); one that is still running after
  /// `timeout` seconds is killed and fails the test, instead of hanging the suite. 300 s: only
  /// a hang takes that long, even in a guest under emulation beside two others.
  static func complete(
    _ arguments: [String], environment: [String: String]? = nil, executable: String = Products.tool,
    timeout: Double = 300, file: StaticString = #filePath, line: UInt = #line
  ) throws -> (status: Int32, stdout: String, stderr: String) {
    let run = try ToolRun(arguments, environment: environment, executable: executable)
    let deadline = Date().addingTimeInterval(timeout)
    while run.process.isRunning && Date() < deadline { usleep(5000) }
    if run.process.isRunning {
      XCTFail("\(executable) \(arguments) still ran after \(timeout) s", file: file, line: line)
      run.stop(with: SIGKILL)
    }
    run.process.waitUntilExit()
    return (run.process.terminationStatus, run.stdout, run.stderr)
  }
}

/// Counts per key name from one `-j` object: `{"NAME": count}`.
func countsByKey(json line: String) throws -> [String: Int] {
  let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
  var counts: [String: Int] = [:]
  for series in object["histograms"] as? [[String: Any]] ?? [] {
    counts[series["key"] as? String ?? "?", default: 0] += series["count"] as? Int ?? 0
  }
  return counts
}

/// BPF programs, links and maps on the system now (ids), to prove nothing outlives a run.
func bpfObjectIDs() -> (programs: Set<UInt32>, maps: Set<UInt32>, links: Set<UInt32>) {
  (Set(BPFInventory.programIDs()), Set(BPFInventory.mapIDs()), Set(BPFInventory.linkIDs()))
}

/// The kernel frees programs and maps asynchronously (RCU, work queues): waits up to 5 s for
/// the system's objects to be `before` again, and returns what it then sees.
func waitForBPFObjects(
  toReturnTo before: (programs: Set<UInt32>, maps: Set<UInt32>, links: Set<UInt32>)
) -> (programs: Set<UInt32>, maps: Set<UInt32>, links: Set<UInt32>) {
  var now = bpfObjectIDs()
  for _ in 0..<500 {
    let extra = now.programs.subtracting(before.programs).count + now.maps.subtracting(before.maps).count
      + now.links.subtracting(before.links).count
    if extra == 0 { break }
    usleep(10_000)
    now = bpfObjectIDs()
  }
  return now
}

/// The maps a process holds, each as its fdinfo's fields (`map_type`, `max_entries`, `memlock`,
/// `map_id`, ...) and the `name` bpftool reads for its id.
func mapInfo(ofProcess pid: Int32) throws -> [[String: String]] {
  let bpftool = Process()
  bpftool.executableURL = URL(fileURLWithPath: "/usr/sbin/bpftool")
  bpftool.arguments = ["-j", "map", "show"]
  let output = Pipe()
  bpftool.standardOutput = output
  try bpftool.run()
  let listing = output.fileHandleForReading.readDataToEndOfFile()
  bpftool.waitUntilExit()
  let shown = try JSONSerialization.jsonObject(with: listing) as? [[String: Any]] ?? []
  var names: [String: String] = [:]
  for map in shown { if let id = map["id"] as? Int { names[String(id)] = map["name"] as? String } }
  let directory = "/proc/\(pid)/fdinfo"
  var maps: [[String: String]] = []
  for fd in try FileManager.default.contentsOfDirectory(atPath: directory) {
    guard let info = try? String(contentsOfFile: "\(directory)/\(fd)", encoding: .utf8), info.contains("map_type:")
    else { continue }
    var fields = Dictionary(
      info.split(separator: "\n").map { line -> (String, String) in
        let parts = line.split(separator: ":", maxSplits: 1)
        return (String(parts[0]), parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : "")
      }, uniquingKeysWith: { first, _ in first })
    fields["name"] = fields["map_id"].flatMap { names[$0] }
    maps.append(fields)
  }
  return maps
}

/// Kernel memory the maps of a process pin, from the `memlock:` lines of its fds' fdinfo.
func pinnedMapMemory(ofProcess pid: Int32) throws -> Int {
  let directory = "/proc/\(pid)/fdinfo"
  var total = 0
  for fd in try FileManager.default.contentsOfDirectory(atPath: directory) {
    guard let info = try? String(contentsOfFile: "\(directory)/\(fd)", encoding: .utf8), info.contains("map_type:")
    else { continue }
    for line in info.split(separator: "\n") where line.hasPrefix("memlock:") {
      total += Int(line.dropFirst("memlock:".count).trimmingCharacters(in: .whitespaces)) ?? 0
    }
  }
  return total
}

/// Writes a sysctl-like file (as root), returning its old contents to restore.
@discardableResult
func writeProcFile(_ path: String, _ value: String) throws -> String {
  let old = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
  try value.write(toFile: path, atomically: false, encoding: .utf8)
  return old
}

/// Writes `text` to a temporary YAML file and returns its path.
func temporaryProfile(_ text: String, name: String = "profile") throws -> String {
  let path = Scratch.directory.appending(path: "\(name)-\(UUID().uuidString).yaml").path
  try text.write(toFile: path, atomically: true, encoding: .utf8)
  return path
}

/// The histograms of every `-j` print, summed per key name.
func countsByKey(jsonObjects objects: [[String: Any]]) -> [String: Int] {
  var counts: [String: Int] = [:]
  for object in objects {
    for series in object["histograms"] as? [[String: Any]] ?? [] {
      counts[series["key"] as? String ?? "?", default: 0] += series["count"] as? Int ?? 0
    }
  }
  return counts
}

/// Linux 5.10 to 5.12: --concurrency is refused in one line naming what the kernel lacks and
/// the release that has it; exit 1.
func assertConcurrencyIsRefused(file: StaticString = #filePath, line: UInt = #line) throws {
  let result = try ToolRun.complete(["--concurrency", "-d", "1"])
  XCTAssertEqual(result.status, 1, file: file, line: line)
  XCTAssertTrue(
    result.stderr.hasPrefix("bpfsyscalldist: error: --concurrency needs Linux 5.13 or later with its BTF"), result.stderr,
    file: file, line: line)
  XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr, file: file, line: line)
}

/// `bpfsyscalldist serve --listen 127.0.0.1:0 ...`, running until `stop()`: the port it got, from
/// its "note: serving http://127.0.0.1:PORT/metrics" line.
final class ServeRun {
  let tool: ToolRun
  let port: Int

  init(_ arguments: [String], environment: [String: String]? = nil) throws {
    tool = try ToolRun(["serve", "--listen", "127.0.0.1:0"] + arguments, environment: environment)
    try tool.waitUntilAttached()
    let line = tool.stderr.split(separator: "\n").first { $0.hasPrefix("note: serving http://127.0.0.1:") }
    port = line.flatMap { Int($0.split(separator: ":")[3].split(separator: "/")[0]) } ?? 0
    if port == 0 { XCTFail("no port in: \(tool.stderr)") }
  }

  var url: String { "http://127.0.0.1:\(port)" }

  /// GET `path` with curl: the status and the body.
  func get(_ path: String, accept: String? = nil, method: String = "GET") throws -> (status: Int, body: String) {
    var arguments = ["-s", "-o", "-", "-w", "\n%{http_code}", "-X", method, url + path]
    if let accept { arguments += ["-H", "Accept: \(accept)"] }
    let result = try ToolRun.complete(arguments, executable: "/usr/bin/curl", timeout: 30)
    var lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
    let status = Int(lines.popLast() ?? "") ?? 0
    return (status, lines.joined(separator: "\n"))
  }

  /// /metrics in OpenMetrics (as Prometheus asks) or the 0.0.4 text format.
  func metrics(openMetrics: Bool = true) throws -> String {
    let page = try get("/metrics", accept: openMetrics ? "application/openmetrics-text; version=1.0.0" : nil)
    XCTAssertEqual(page.status, 200)
    return page.body
  }

  @discardableResult
  func stop(with signal: Int32 = SIGTERM) -> Int32 { tool.stop(with: signal) }
}

/// A free port on loopback, from the kernel.
func freeLoopbackPort() throws -> Int {
  Int(try python("import socket\ns = socket.socket()\ns.bind(('127.0.0.1', 0))\nprint(s.getsockname()[1])")
    .trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
}

/// Runs Debian's python3 (which has `prometheus_client`) on `script` with `arguments`, `input` on
/// its stdin; returns its stdout, failing the test if it fails.
func python(
  _ script: String, _ arguments: [String] = [], input: String = "", file: StaticString = #filePath, line: UInt = #line
) throws -> String {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
  process.arguments = ["-c", script] + arguments
  let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
  process.standardInput = stdin
  process.standardOutput = stdout
  process.standardError = stderr
  try process.run()
  stdin.fileHandleForWriting.write(Data(input.utf8))
  try stdin.fileHandleForWriting.close()
  let output = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
  let errors = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
  process.waitUntilExit()
  XCTAssertEqual(process.terminationStatus, 0, errors, file: file, line: line)
  return output
}

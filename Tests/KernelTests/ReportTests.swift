import Foundation
import XCTest

/// `--report` and `report` pages opened in Debian's headless chromium (selenium, in the test venv
/// `make setup` makes), checked against their recordings by Tests/KernelTests/Browser/check_report.py;
/// each page's screenshot is kept in .build-tests/artifacts.
final class ReportTests: XCTestCase {
  static let checker = Products.packageRoot.appending(path: "Tests/KernelTests/Browser/check_report.py").path
  static let artefacts = Products.packageRoot.appending(path: ".build-tests/artifacts")

  /// Runs the checker; its lines are the checks it passed, or the one that failed.
  func browse(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws {
    try FileManager.default.createDirectory(at: Self.artefacts, withIntermediateDirectories: true)
    let python = OTLPTests.venvPython
    XCTAssertTrue(FileManager.default.isExecutableFile(atPath: python), "no \(python): make setup makes it", file: file, line: line)
    let run = try ToolRun.complete([Self.checker] + arguments, executable: python)
    XCTAssertEqual(run.status, 0, run.stdout + run.stderr, file: file, line: line)
    XCTAssertTrue(run.stdout.contains("ok: no console message"), run.stdout, file: file, line: line)
  }

  func scratch(_ name: String) -> String { Scratch.directory.appending(path: "\(UUID().uuidString)-\(name)").path }

  /// A real -i run with its time split and slow calls' stacks, by a process whose name is markup:
  /// the page shows what the recording holds, and the name as text.
  func testARunsReportShowsWhatItsRecordingHolds() throws {
    let (record, page) = (scratch("run.json"), scratch("run.html"))
    let workload = try Workload("slow-sleeps", "20", "40", comm: "<img src=x>'\"&")
    let tool = try ToolRun([
      "--profile", "clock_nanosleep", "-p", String(workload.pid), "-i", "0.1", "--off-cpu", "--slower-than", "10ms", "--stacks",
      "--record", record, "--report", page,
    ])
    try tool.waitUntilAttached()
    let report = try workload.finish()
    XCTAssertEqual(tool.stop(), 0, tool.stderr)
    XCTAssertTrue(tool.stderr.contains("Wrote the report to \(page)\n"), tool.stderr)
    let lines = try String(contentsOfFile: record, encoding: .utf8).split(separator: "\n").map {
      try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }
    let counted = lines.filter { $0["type"] == nil }.flatMap { $0["histograms"] as? [[String: Any]] ?? [] }.map { $0["count"] as? Int ?? 0 }
    XCTAssertEqual(counted.reduce(0, +), (report["counts"] as? [String: Int])?["clock_nanosleep"], "the recording counts every call")
    XCTAssertGreaterThanOrEqual(lines.filter { $0["type"] as? String == "slow_call" }.count, report["slow"] as? Int ?? 0, "and keeps each slow call")
    XCTAssertGreaterThan(lines.filter { $0["type"] == nil }.count, 1, "an -i run of several intervals, though stacks are named meanwhile: \(lines.count) lines")
    try browse(["run", page, record, Self.artefacts.appending(path: "report-run.png").path])
  }

  /// A recording whose strings are markup and script: the page shows them as text, runs none.
  func testRecordedStringsAreTextNeverMarkup() throws {
    let (record, page) = (scratch("hostile.json"), scratch("hostile.html"))
    let (comm, key) = ("<img src=x onerror=alert(1)>\"'\nx", "</script><script>alert(2)</script>")
    func string(_ text: String) -> String { String(decoding: try! JSONSerialization.data(withJSONObject: text, options: .fragmentsAllowed), as: UTF8.self) }
    func call(_ user: [String], _ kernel: [String]) -> String {
      func stack(_ names: [String]) -> String { "{\"frames\":[" + names.map { "{\"address\":\"0x1\",\"function\":\"\($0)\",\"offset\":0,\"module\":null}" }.joined(separator: ",") + "],\"note\":null}" }
      return "{\"type\":\"slow_call\",\"time\":1700000000.5,\"comm\":\(string(comm)),\"pid\":7,\"tid\":7,\"latency_ns\":30000000,\"off_cpu_ns\":0,"
        + "\"longest_off_cpu_ns\":0,\"runnable_ns\":null,\"blocked_ns\":null,\"key\":\(string(key)),\"raw\":null,\"outcome\":\"ok\","
        + "\"user_stack\":\(stack(user)),\"kernel_stack\":\(stack(kernel))}\n"
    }
    let print = "{\"schema\":4,\"profile\":\"p\",\"timestamp\":1700000001,\"unit\":\"us\",\"buckets\":\"log2\",\"bucket_schema\":null,\"key_label\":\"cmd\","
      + "\"histograms\":[{\"key\":\(string(key)),\"raw\":null,\"outcome\":null,\"title\":\(string(key)),\"count\":5,\"sum_ns\":150000000,"
      + "\"min_ns\":30000000,\"max_ns\":30000000,\"errors\":{},\"buckets\":[{\"low\":16384,\"high\":32767,\"count\":5}]}]}\n"
    let reads = Array(repeating: call(["read_loop", "main"], ["vfs_read", "ksys_read"]), count: 3)
    let writes = Array(repeating: call(["write_loop", "main"], ["vfs_write"]), count: 2)
    try (reads + writes + [print]).joined().write(toFile: record, atomically: true, encoding: .utf8)
    let made = try ToolRun.complete(["report", record, "-o", page])
    XCTAssertEqual(made.status, 0, made.stderr)
    try browse(["hostile", page, Self.artefacts.appending(path: "report-hostile.png").path, comm, key])
  }

  /// Two runs, 2 ms then 10 ms sleeps: the page's verdicts are `compare -j`'s.
  func testTwoRunsShowCompareVerdicts() throws {
    func record(_ milliseconds: String) throws -> String {
      let file = scratch("sleep-\(milliseconds).json")
      let workload = try Workload("sleep", milliseconds, "30")
      let tool = try ToolRun(["--profile", "clock_nanosleep", "-p", String(workload.pid), "--record", file])
      try tool.waitUntilAttached()
      _ = try workload.finish()
      XCTAssertEqual(tool.stop(), 0, tool.stderr)
      return file
    }
    let (before, after, page, verdicts) = (try record("2"), try record("10"), scratch("ab.html"), scratch("ab.json"))
    let made = try ToolRun.complete(["report", before, after, "-o", page])
    XCTAssertEqual(made.status, 0, made.stderr)
    let compared = try ToolRun.complete(["compare", before, after, "-j"])
    XCTAssertEqual(compared.status, 0, compared.stderr)
    try compared.stdout.write(toFile: verdicts, atomically: true, encoding: .utf8)
    XCTAssertTrue(compared.stdout.contains("\"slower\""), compared.stdout)
    try browse(["compare", page, verdicts, before, after, Self.artefacts.appending(path: "report-compare.png").path])
  }

  /// Files that are no recording: one line naming the file, exit 2, and the page that was there
  /// is left as it was, with no temporary file beside it.
  func testBadRecordingsLeaveThePageAsItWas() throws {
    let directory = scratch("pages")
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let page = directory + "/page.html"
    try "the previous page".write(toFile: page, atomically: true, encoding: .utf8)
    let (empty, truncated, newer, other) = (scratch("empty.json"), scratch("truncated.json"), scratch("newer.json"), scratch("other.json"))
    try "{\"schema\":1,\"profile\":\"p\",\"series\":[]}\n".write(toFile: other, atomically: true, encoding: .utf8)  // compare -j's
    try "".write(toFile: empty, atomically: true, encoding: .utf8)
    try "{\"schema\":4,\"profile\":".write(toFile: truncated, atomically: true, encoding: .utf8)
    try "{\"schema\":99,\"profile\":\"p\",\"unit\":\"us\",\"buckets\":\"log2\",\"key_label\":\"k\",\"histograms\":[]}\n".write(toFile: newer, atomically: true, encoding: .utf8)
    for (file, problem) in [
      (empty, "is empty: no print was recorded"), (truncated, "is truncated: its last line is not a whole JSON object"),
      (newer, "line 1 is of JSON schema 99, newer than this tool reads (4): compare with a newer bpfsyscalldist"),
      ("/nonexistent.json", "cannot be read: no such file"), (other, "line 1 is not a recorded print of bpfsyscalldist -j"),
    ] {
      let run = try ToolRun.complete(["report", file, "-o", page])
      XCTAssertEqual(run.status, 2, run.stderr)
      XCTAssertEqual(run.stderr, "bpfsyscalldist: error: \(file) \(problem)\n")
    }
    XCTAssertEqual(try String(contentsOfFile: page, encoding: .utf8), "the previous page")
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["page.html"])
    let unwritable = try ToolRun.complete(["report", empty, "-o", "/nonexistent/dir/page.html"])
    XCTAssertEqual(unwritable.stderr, "bpfsyscalldist: error: -o /nonexistent/dir/page.html: cannot be written (No such file or directory)\n")
    XCTAssertEqual(unwritable.status, 2)
    let itself = try ToolRun.complete(["report", other, "-o", other])
    XCTAssertEqual(itself.stderr, "bpfsyscalldist: error: -o \(other) is \(other), a recording: write the page elsewhere\n")
    XCTAssertEqual(itself.status, 2)
    let folder = try ToolRun.complete(["--report", directory, "-d", "1"])
    XCTAssertEqual(folder.stderr, "bpfsyscalldist: error: --report \(directory): is a directory\n")
    XCTAssertEqual(folder.status, 2)
    let traced = try ToolRun.complete(["--report", "/nonexistent/dir/page.html", "-d", "1"])
    XCTAssertEqual(traced.stderr, "bpfsyscalldist: error: --report /nonexistent/dir/page.html: cannot be written (No such file or directory)\n")
    XCTAssertEqual(traced.status, 2)
  }
}

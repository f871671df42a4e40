import Foundation
import XCTest

/// `compare` on runs whose truth the workload knows: sleeps of 2 ms then 10 ms are slower at every
/// percentile; a run against itself shows no difference; every verdict on the same sleeps twice
/// agrees with the workload's own clocks; a gate fails only the slower pair.
final class CompareTests: XCTestCase {
  /// Records a run of `sleep MS 100` with the clock_nanosleep profile, printed as text; returns
  /// the file and the sleeps as the workload timed them, sorted.
  func record(sleepMilliseconds: Int) throws -> (file: String, measured: [Int]) {
    let file = Scratch.directory.appending(path: "sleep-\(sleepMilliseconds)-\(UUID().uuidString).json").path
    let workload = try Workload("sleep", String(sleepMilliseconds), "100")
    let tool = try ToolRun(["--profile", "clock_nanosleep", "-p", String(workload.pid), "--record", file])
    try tool.waitUntilAttached()
    let report = try workload.finish()
    XCTAssertEqual(tool.stop(), 0, tool.stderr)
    XCTAssertTrue(tool.stdout.contains("Histogram for syscall(clock_nanosleep)"), "the text is printed as usual")
    XCTAssertEqual((report["counts"] as? [String: Int])?["clock_nanosleep"], 100)
    return (file, (report["measured_ns"] as? [Int] ?? []).sorted())
  }

  /// The percentile by nearest rank of sorted values.
  func percentile(_ sorted: [Int], _ fraction: Double) -> Int { sorted[Int((fraction * Double(sorted.count)).rounded(.up)) - 1] }

  func testSlowerSleepsAreSlowerAndTheSameSleepsShowNoDifference() throws {
    let (two, twoAgain, ten) = (try record(sleepMilliseconds: 2), try record(sleepMilliseconds: 2), try record(sleepMilliseconds: 10))
    let slower = try ToolRun.complete(["compare", two.file, ten.file, "-j"])
    XCTAssertEqual(slower.status, 0, slower.stderr)
    let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(slower.stdout.utf8)) as? [String: Any])
    let series = try XCTUnwrap((object["series"] as? [[String: Any]])?.first)
    XCTAssertEqual(series["title"] as? String, "syscall(clock_nanosleep)")
    let verdicts = try XCTUnwrap(series["verdicts"] as? [String: String])
    XCTAssertEqual(verdicts, ["p50": "slower", "p90": "slower", "p99": "slower"])
    for (name, fraction) in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)] {  // and so the workload's own clocks say
      XCTAssertGreaterThan(percentile(ten.measured, fraction), percentile(two.measured, fraction), name)
    }
    XCTAssertEqual((series["before"] as? [String: Any])?["count"] as? Int, 100)
    // a run against itself: the same calls, no difference at any percentile
    XCTAssertEqual(try verdictsOf(two.file, two.file), ["p50": "no difference the buckets can show", "p90": "no difference the buckets can show", "p99": "no difference the buckets can show"])
    // the same sleeps twice: on an idle host no percentile differs; a loaded one (the emulated
    // guests of the kernel matrix) may delay one run's calls over a bucket line: a true verdict
    // about the two runs. The workload's clock holds each call and the way back to it, so its
    // percentile is at least the call's: a run called slower must have it above the other run's
    // bound from the kernel, one called faster the other way round (not the two workload
    // percentiles against each other: the way back, stalled under emulation, is no part of a call)
    let same = try comparedSeries(two.file, twoAgain.file)
    let sameVerdicts = try XCTUnwrap(same["verdicts"] as? [String: String])
    for (name, fraction) in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)] {
      let (before, after) = (percentile(two.measured, fraction), percentile(twoAgain.measured, fraction))
      let bound = { (side: String, end: String) in ((same[side] as? [String: Any])?[name] as? [String: Any])?[end] as? Int ?? -1 }
      switch sameVerdicts[name] {
      case "slower": XCTAssertGreaterThan(after, bound("before", "high_ns"), "\(name) slower, but not by the workload's clocks")
      case "faster": XCTAssertGreaterThan(before, bound("after", "high_ns"), "\(name) faster, but not by the workload's clocks")
      default: XCTAssertEqual(sameVerdicts[name], "no difference the buckets can show")
      }
    }
    // the gate: only the slower pair breaches it, one line each
    let gated = try ToolRun.complete(["compare", two.file, ten.file, "--fail-if", "p99 > +10%"])
    XCTAssertEqual(gated.status, 1, gated.stderr)
    let breaches = gated.stderr.split(separator: "\n").filter { $0.hasPrefix("bpfsyscalldist: breach: p99 of syscall(clock_nanosleep): ") }
    XCTAssertEqual(breaches.count, 1, gated.stderr)
    XCTAssertEqual(try ToolRun.complete(["compare", two.file, two.file, "--fail-if", "p50 > +10%"]).status, 0)
  }

  /// An -i run's recording as a heatmap: a column per interval the file holds, every call in it.
  func testAHeatmapHasAColumnPerRecordedInterval() throws {
    let file = Scratch.directory.appending(path: "heatmap-\(UUID().uuidString).json").path
    let workload = try Workload("sleep", "3", "100")
    let tool = try ToolRun(["--profile", "clock_nanosleep", "-p", String(workload.pid), "-i", "0.2", "--record", file])
    try tool.waitUntilAttached()
    _ = try workload.finish()
    XCTAssertEqual(tool.stop(), 0, tool.stderr)
    let prints = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").count
    XCTAssertGreaterThan(prints, 1)
    let run = try ToolRun.complete(["heatmap", file, "--color", "never"])
    XCTAssertEqual(run.status, 0, run.stderr)
    let lines = run.stdout.split(separator: "\n")
    XCTAssertTrue(lines.first?.hasPrefix("Heatmap for syscall(clock_nanosleep): 100 calls in \(prints) intervals") == true, run.stdout)
    let rows = lines.filter { $0.hasSuffix("|") }
    XCTAssertFalse(rows.isEmpty, run.stdout)
    for row in rows { XCTAssertEqual(row.split(separator: "|", omittingEmptySubsequences: false)[1].count, prints, String(row)) }
    let unknown = try ToolRun.complete(["heatmap", file, "--key", "nope"])
    XCTAssertEqual(unknown.status, 2)
    XCTAssertEqual(unknown.stderr, "bpfsyscalldist: error: \(file) has no series keyed 'nope'\n")
    let colour = try ToolRun.complete(["heatmap", file, "--color", "always"], environment: ["NO_COLOR": "1"])
    XCTAssertTrue(colour.stdout.contains("\u{1B}[48;5;"), "always is always")
    let plain = try ToolRun.complete(["heatmap", file], environment: ["NO_COLOR": "1"])
    XCTAssertFalse(plain.stdout.contains("\u{1B}"), "NO_COLOR, and no terminal")
  }

  /// `-i --heatmap`, not on a terminal: each interval appends the heatmap of the run so far, the
  /// last with every call in a column per print; no histograms, no colour, no screen clearing.
  func testALiveHeatmapDrawsTheRunSoFarEachInterval() throws {
    let file = Scratch.directory.appending(path: "live-\(UUID().uuidString).json").path
    let workload = try Workload("sleep", "3", "100")
    let tool = try ToolRun(["--profile", "clock_nanosleep", "-p", String(workload.pid), "-i", "0.2", "--heatmap", "--record", file])
    try tool.waitUntilAttached()
    _ = try workload.finish()
    XCTAssertEqual(tool.stop(), 0, tool.stderr)
    let prints = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").count
    let headers = tool.stdout.split(separator: "\n").filter { $0.hasPrefix("Heatmap for ") }
    XCTAssertGreaterThan(headers.count, 1, tool.stdout)
    XCTAssertTrue(headers.last?.hasPrefix("Heatmap for syscall(clock_nanosleep): 100 calls in \(prints) intervals") == true, tool.stdout)
    XCTAssertFalse(tool.stdout.contains("Histogram for"), tool.stdout)
    XCTAssertFalse(tool.stdout.contains("\u{1B}"), "no terminal: no colour and no clearing")
    for (arguments, message) in [
      (["--heatmap"], "--heatmap draws a column per interval: give -i SECONDS"),
      (["--heatmap", "-i", "1", "-j"], "--heatmap draws text: drop -j or --format json (--record keeps the JSON)"),
      (["--heatmap", "-i", "1", "--slower-than", "1ms"], "--heatmap redraws the screen each interval, over --slower-than's lines: keep them with --record or --report instead"),
    ] {
      let run = try ToolRun.complete(arguments + ["-d", "1"])
      XCTAssertEqual(run.status, 2, run.stderr)
      XCTAssertEqual(run.stderr, "bpfsyscalldist: error: \(message)\n")
    }
  }

  /// `compare A B -j`'s one series: counts, bounds and verdicts.
  func comparedSeries(_ before: String, _ after: String) throws -> [String: Any] {
    let run = try ToolRun.complete(["compare", before, after, "-j"])
    XCTAssertEqual(run.status, 0, run.stderr)
    return try XCTUnwrap(
      ((try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])?["series"] as? [[String: Any]])?.first)
  }

  /// `compare A B -j`'s verdicts of the one series.
  func verdictsOf(_ before: String, _ after: String) throws -> [String: String] {
    try XCTUnwrap(try comparedSeries(before, after)["verdicts"] as? [String: String])
  }

  func testBadFilesAndGatesAreOneLine() throws {
    let empty = Scratch.directory.appending(path: "empty-\(UUID().uuidString).json").path
    XCTAssertTrue(FileManager.default.createFile(atPath: empty, contents: Data()))
    for (arguments, message) in [
      (["compare", empty, empty], "bpfsyscalldist: error: \(empty) is empty: no print was recorded"),
      (["compare", "/nonexistent.json", empty], "bpfsyscalldist: error: /nonexistent.json cannot be read: no such file"),
      (["compare", empty, empty, "--fail-if", "p42 > 1%"],
       "bpfsyscalldist: error: --fail-if 'p42 > 1%': expected METRIC > +N% or METRIC < -N%, METRIC one of p50, p90, p99, count, errors"),
    ] {
      let run = try ToolRun.complete(arguments)
      XCTAssertEqual(run.status, 2, run.stderr)
      XCTAssertEqual(run.stderr, message + "\n")
    }
    let unwritable = try ToolRun.complete(["--record", "/nonexistent/dir/run.json", "-d", "1"])
    XCTAssertEqual(unwritable.status, 2)
    XCTAssertEqual(unwritable.stderr, "bpfsyscalldist: error: --record /nonexistent/dir/run.json: cannot be written (No such file or directory)\n")
  }
}

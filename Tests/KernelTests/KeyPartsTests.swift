import BPFKit
import Foundation
import Profiles
import Snapshots
import Tracer
import XCTest

/// Keys of several parts, user memory read through a pointer argument and fds named in the
/// kernel, against workloads that say what they called on which object.
final class KeyPartsTests: XCTestCase {
  static let btf = try? VmlinuxBTF()

  private func trace(
    _ profile: Profile, workload: Workload, method: ProbeMethod? = nil
  ) throws -> (counts: [String: Int], snapshot: Snapshot, report: [String: Any]) {
    let tracer = try Tracer(TraceRequest(profile: profile, filters: Filters(pid: workload.pid), forcedMethod: method))
    if let method { XCTAssertEqual(tracer.method, method) }
    let report = try workload.finish()
    let decoder = KeyDecoder(
      for: profile, enumerators: [:],
      partEnumerators: profile.keyParts.map { $0.decoding.btfEnum.flatMap { Self.btf?.enumerators(of: $0) } ?? [:] },
      fdTypes: FDObject.TypeNames(
        maps: Self.btf?.enumerators(of: "bpf_map_type") ?? [:], programs: Self.btf?.enumerators(of: "bpf_prog_type") ?? [:]))
    let snapshot = try tracer.collect().snapshot(profile: profile, decoder: decoder, timestamp: 0)
    var counts: [String: Int] = [:]
    for series in snapshot.series { counts[series.keyName, default: 0] += Int(series.histogram.total) }
    return (counts, snapshot, report)
  }

  private func shipped(_ name: String) throws -> Profile {
    let entry = try ProfileCatalog(searchDirectories: []).entry(for: name)
    return try ProfileLoader(enumSource: Self.btf).load(text: entry.text, file: entry.fileName)
  }

  /// The origin case: one process updating a hash and a PROG_ARRAY; each map's commands apart,
  /// exactly, on every syscall hook; commands with no map fd read "-", a closed fd as not open.
  func testBPFMapsCountsEachMapsCommandsExactly() throws {
    let profile = try shipped("bpf-maps")
    for method in [ProbeMethod.tracepoint, .rawTracepoint, .btfTracepoint] {
      let (counts, snapshot, report) = try trace(profile, workload: try Workload("bpf-maps", "300"), method: method)
      let rules = "hash sd_rules (id \(report["rules_id"] as? Int ?? -1))"
      let progs = "prog_array sd_progs (id \(report["progs_id"] as? Int ?? -1))"
      XCTAssertEqual(
        counts,
        [
          "cmd(BPF_MAP_UPDATE_ELEM) map(\(rules))": report["hash_updates"] as? Int ?? -1,
          "cmd(BPF_MAP_LOOKUP_ELEM) map(\(rules))": report["hash_lookups"] as? Int ?? -1,
          "cmd(BPF_MAP_UPDATE_ELEM) map(\(progs))": report["prog_array_updates"] as? Int ?? -1,
          "cmd(BPF_OBJ_GET_INFO_BY_FD) map(\(rules))": report["info_calls"] as? Int ?? -1,
          "cmd(BPF_OBJ_GET_INFO_BY_FD) map(\(progs))": report["info_calls"] as? Int ?? -1,
          "cmd(BPF_MAP_LOOKUP_ELEM) map(fd \(report["not_open_fd"] as? Int ?? -1) not open)": 1,
        ], "\(method)")
      XCTAssertEqual(snapshot.accounting.dropped, 0)
      XCTAssertEqual(snapshot.accounting.keyReadsFailed, 0)
      let progSeries = snapshot.series.first { $0.keyName.contains("sd_progs") && $0.keyName.contains("UPDATE") }
      XCTAssertEqual(progSeries?.keyParts.map(\.label), ["cmd", "map"])
      XCTAssertEqual(progSeries?.title, "syscall(BPF) cmd(BPF_MAP_UPDATE_ELEM) map(\(progs))")
    }
  }

  /// An attr pointer the read faults on: the map part is `unreadable`, never fd 0's file, and
  /// each fault is counted once; a command whose `when` fails is not read at all.
  func testAFaultedReadNamesNoFDAndAPartNotWantedIsNotRead() throws {
    let profile = try shipped("bpf-maps")
    let (counts, snapshot, report) = try trace(profile, workload: try Workload("bpf-bad-attr", "50"))
    XCTAssertEqual(
      counts,
      ["cmd(BPF_MAP_LOOKUP_ELEM) map(unreadable)": report["lookups"] as? Int ?? -1,
       "cmd(BPF_PROG_LOAD) map(-)": report["prog_loads"] as? Int ?? -1])
    XCTAssertEqual(snapshot.accounting.keyReadsFailed, UInt64(report["lookups"] as? Int ?? -1))
  }

  /// A read blocked on a pipe whose fd another thread closes, and one whose fd dup2 gives
  /// another pipe: each is shown as such, never as the file the fd names at the end.
  func testAnFDClosedOrReusedDuringTheCallIsShownAsSuch() throws {
    let profile = try ProfileLoader(enumSource: Self.btf).load(
      text: "version: 1\nname: read-fd\nprobe: {syscall: read}\nkey: {source: arg0, label: fd, decode: {fd: true}}\n",
      file: "read-fd.yaml")
    for method in [ProbeMethod.tracepoint, .rawTracepoint, .btfTracepoint] {
      let (counts, snapshot, report) = try trace(profile, workload: try Workload("fd-swap", "200"), method: method)
      XCTAssertEqual(counts["pipe"], report["pipe_reads"] as? Int, "\(method): \(counts)")
      XCTAssertEqual(counts["pipe, closed during the call"], report["closed_in_call"] as? Int, "\(method): \(counts)")
      XCTAssertEqual(counts["pipe, reused during the call"], report["reused_in_call"] as? Int, "\(method): \(counts)")
      // the rest are the workload's reads of /proc while it waits for the blocked thread
      XCTAssertEqual(Set(counts.keys).subtracting(["pipe", "pipe, closed during the call", "pipe, reused during the call"]).subtracting(["regular file"]), [])
      XCTAssertEqual(snapshot.series.first { $0.keyName == "pipe" }?.title, "fd(pipe)")
    }
  }

  /// A part that names an fd on an argument the syscall declares as none, or reads through one
  /// that is no pointer: one line naming the part and the argument, exit status 1.
  func testAPartOnTheWrongKindOfArgumentIsRefusedInOneLine() throws {
    let cases = [
      ("probe: {syscall: bpf}\nkey: {source: arg1, label: map, decode: {fd: true}}",
       "the key part 'map' names an fd, but bpf's arg1 is 'union bpf_attr * uattr': give 'read:' to follow the pointer to one"),
      ("probe: {syscall: read}\nkey: {source: arg2, label: n, decode: {fd: true}}",
       "the key part 'n' names an fd, but read's arg2 is 'size_t count', no fd: drop 'fd'"),
      ("probe: {syscall: read}\nkey: {source: arg0, label: fd, read: {offset: 0, size: 4}}",
       "the key part 'fd' reads memory through read's arg0, which is 'unsigned int fd', no pointer: drop 'read'"),
    ]
    for (body, message) in cases {
      let path = try temporaryProfile("version: 1\nname: wrong\n" + body + "\n")
      let run = try ToolRun.complete(["--profile", path, "-d", "1"])
      XCTAssertEqual(run.status, 1, run.stderr)
      let lines = run.stderr.split(separator: "\n").filter { !$0.hasPrefix("note:") }
      XCTAssertEqual(lines, ["bpfsyscalldist: error: " + message], run.stderr)
    }
  }

  /// Parts found at exit (the comm, the errno) beside one known at entry, through the command
  /// line: text titles, JSON's `keys`, and OpenMetrics labels as prometheus_client reads them.
  func testExitPartsBesideAnEntryPartReachEveryOutput() throws {
    let path = try temporaryProfile(
      """
      version: 1
      name: openat-parts
      probe: {syscall: openat}
      key:
        - {source: syscall, label: call, decode: {syscall_name: true}}
        - {source: comm, label: comm}
        - {source: retval, label: result, decode: {errno: true}}
      """)
    let workload = try Workload("openat", "40", comm: "sd-parts")
    let tool = try ToolRun(["--profile", path, "-p", String(workload.pid), "--format", "openmetrics"])
    try tool.waitUntilAttached()
    _ = try workload.finish()
    XCTAssertEqual(tool.stop(), 0, tool.stderr)
    let parsed = try python(
      """
      import sys
      from prometheus_client.openmetrics.parser import text_string_to_metric_families
      for family in text_string_to_metric_families(sys.stdin.read()):
          for s in family.samples:
              if s.name.endswith("_count"):
                  print(s.labels["call"], s.labels["comm"], s.labels["result"], int(s.value))
      """, input: tool.stdout)
    XCTAssertEqual(parsed, "openat sd-parts ok 40\nopenat sd-parts ENOENT 80\n")

    let json = try Workload("openat", "10", comm: "sd-parts")
    let jsonTool = try ToolRun(["--profile", path, "-p", String(json.pid), "-j"])
    try jsonTool.waitUntilAttached()
    _ = try json.finish()
    XCTAssertEqual(jsonTool.stop(), 0, jsonTool.stderr)
    let series = jsonTool.jsonObjects.last?["histograms"] as? [[String: Any]] ?? []
    let keys = series.compactMap { $0["keys"] as? [String: String] }.sorted { ($0["result"] ?? "") < ($1["result"] ?? "") }
    XCTAssertEqual(keys, [["call": "openat", "comm": "sd-parts", "result": "ENOENT"], ["call": "openat", "comm": "sd-parts", "result": "ok"]])
    XCTAssertEqual(series.compactMap { $0["count"] as? Int }.sorted(), [10, 20])
  }
}

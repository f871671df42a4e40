import BPFKit
import Foundation
import XCTest

/// Kernel functions, on the kernels that can trace them (fentry needs BPF trampolines, kprobe
/// needs CONFIG_KPROBES; this VM has neither, `make test-kernels` boots kernels that have both):
/// every method with exact counts, the shipped profiles, 200 threads inside a kretprobe'd
/// function, re-entrance, recursion misses, and the kernel that lacks a function.
final class KernelFunctionTests: XCTestCase {
  static let hasKprobes = access("/sys/bus/event_source/devices/kprobe/type", F_OK) == 0

  /// The methods this kernel has for kernel functions; skips (saying why) when it has none.
  func methods() throws -> [String] {
    let fentry = BPFFeatures.hasTrampolines && BPFFeatures.tracingProgramsStopRecursion
    let methods = (fentry ? ["fentry"] : []) + (Self.hasKprobes ? ["kprobe"] : [])
    if methods.isEmpty { throw XCTSkip("this kernel has neither BPF trampolines nor kprobes") }
    return methods
  }

  func trace(_ arguments: [String], _ workload: Workload) throws -> (tool: ToolRun, report: [String: Any]) {
    let tool = try ToolRun(arguments + ["-p", String(workload.pid), "-j"])
    try tool.waitUntilAttached()
    let report = try workload.finish()
    XCTAssertEqual(tool.stop(), 0, tool.stderr)
    return (tool, report)
  }

  func profile(_ text: String) throws -> String {
    try temporaryProfile("version: 1\nname: f\n" + text)
  }

  func testEveryMethodCountsAKernelFunctionExactly() throws {
    for method in try methods() {
      let (tool, report) = try trace(["--profile", "vfs_read", "--probe-method", method], try Workload("read", "500"))
      XCTAssertTrue(tool.stderr.contains("Attached \(method)(vfs_read)\n"), tool.stderr)
      XCTAssertEqual(countsByKey(jsonObjects: tool.jsonObjects), report["counts"] as? [String: Int], method)
    }
  }

  /// Auto picks fentry first, then kprobe, and says so when it falls back.
  func testAutoPicksFentryThenKprobe() throws {
    let methods = try methods()
    let (tool, _) = try trace(["--profile", "vfs_read"], try Workload("read", "10"))
    let expected = methods.first!
    XCTAssertTrue(tool.stderr.contains("Attached \(expected)(vfs_read)"), tool.stderr)
    if expected == "kprobe" { XCTAssertTrue(tool.stderr.contains("note: fentry is not available here"), tool.stderr) }
  }

  /// Every shipped kernel-function profile against a workload whose truth is known.
  func testEveryShippedKernelFunctionProfileCountsItsWorkloadExactly() throws {
    _ = try methods()
    let (bpf, bpfReport) = try traceIfFunctionExists("sys-bpf", "__sys_bpf", try Workload("bpf-mix", "100"))
    if let bpf { XCTAssertEqual(countsByKey(jsonObjects: bpf.jsonObjects), bpfReport?["counts"] as? [String: Int]) }
    let (poke, _) = try trace(["--profile", "prog-array-poke"], try Workload("progarray", "4", "60"))
    // each of 4 threads updates and deletes its own slot, 60 times in all: one poke run each
    XCTAssertEqual(countsByKey(jsonObjects: poke.jsonObjects), ["0": 60, "1": 60, "2": 60, "3": 60])
    let (read, readReport) = try trace(["--profile", "vfs_read"], try Workload("read", "300"))
    XCTAssertEqual(countsByKey(jsonObjects: read.jsonObjects), readReport["counts"] as? [String: Int])
    let (send, sendReport) = try trace(["--profile", "tcp_sendmsg"], try Workload("tcp-send", "300"))
    XCTAssertEqual(countsByKey(jsonObjects: send.jsonObjects), sendReport["counts"] as? [String: Int])
  }

  /// The origin tool's probe: `kprobe(__sys_bpf)`, as its write-up shows it; on a kernel without
  /// the function (Linux 5.10 has __do_sys_bpf), one line that names it and the kernel, exit 1.
  func testTheOriginsKprobeOnSysBpf() throws {
    guard Self.hasKprobes else { throw XCTSkip("this kernel has no kprobes") }
    let (tool, report) = try traceIfFunctionExists("sys-bpf", "__sys_bpf", try Workload("bpf-mix", "200"), method: "kprobe")
    guard let tool else { return }
    XCTAssertTrue(tool.stderr.contains("Attached kprobe(__sys_bpf)\nAttached kretprobe(__sys_bpf)\nHit Ctrl-C to end.\n"), tool.stderr)
    XCTAssertEqual(countsByKey(jsonObjects: tool.jsonObjects), report?["counts"] as? [String: Int])
  }

  /// Traces `profile` when the kernel has `function`; else checks the one line that says it
  /// does not, and returns nil.
  func traceIfFunctionExists(
    _ profile: String, _ function: String, _ workload: Workload, method: String? = nil
  ) throws -> (ToolRun?, [String: Any]?) {
    let arguments = ["--profile", profile] + (method.map { ["--probe-method", $0] } ?? [])
    let lookup = try ToolRun.complete(["-qw", function, "/proc/kallsyms"], executable: "/bin/grep")
    if lookup.status == 0 {
      let (tool, report) = try trace(arguments, workload)
      return (tool, report)
    }
    let result = try ToolRun.complete(arguments + ["-p", String(workload.pid)])
    _ = try workload.finish()
    XCTAssertEqual(result.status, 1)
    XCTAssertTrue(
      result.stderr.hasPrefix("bpfsyscalldist: error: kernel function \(function) does not exist in Linux "), result.stderr)
    XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
    return (nil, nil)
  }

  /// A function no kernel has: one line, exit 1, whatever the method.
  func testAKernelFunctionTheKernelLacksIsOneLine() throws {
    let file = try profile("probe: {kernel_function: sd_no_such_function}\n")
    let result = try ToolRun.complete(["--profile", file])
    XCTAssertEqual(result.status, 1)
    XCTAssertTrue(
      result.stderr.hasPrefix("bpfsyscalldist: error: kernel function sd_no_such_function does not exist in Linux "),
      result.stderr)
  }

  /// fentry on a syscall's wrapper (__x64_sys_bpf), the last resort for one syscall; where the
  /// kernel's BTF only forward-declares the wrapper's pt_regs (Linux 5.10), one line that says so.
  func testFentryOnASyscallsWrapperCountsExactly() throws {
    guard BPFFeatures.hasTrampolines else { throw XCTSkip("this kernel has no BPF trampolines") }
    #if arch(arm64)
      let wrapper = "__arm64_sys_bpf"
    #else
      let wrapper = "__x64_sys_bpf"
    #endif
    if let signature = try VmlinuxBTF().signature(ofFunction: wrapper), signature.opaquePointerArguments.contains(0) {
      let result = try ToolRun.complete(["--probe-method", "fentry", "-d", "1"])
      XCTAssertEqual(result.status, 1)
      XCTAssertTrue(result.stderr.contains("declares \(wrapper)'s registers opaque"), result.stderr)
      return
    }
    let (tool, report) = try trace(["--probe-method", "fentry"], try Workload("bpf-mix", "150"))
    XCTAssertTrue(tool.stderr.contains("Attached fentry(\(wrapper))"), tool.stderr)
    XCTAssertEqual(countsByKey(jsonObjects: tool.jsonObjects), report["counts"] as? [String: Int])
  }

  /// The origin scenario under a kretprobe: 200 threads blocked inside __sys_bpf at once. The
  /// kernel's default would track 10 or 2 × CPUs of them and lose the other returns; raised to
  /// its maximum, every call is counted, and the missed count says none were lost.
  func testAKretprobeKeepsTwoHundredThreadsInTheCall() throws {
    guard Self.hasKprobes else { throw XCTSkip("this kernel has no kprobes") }
    let (tool, report) = try traceIfFunctionExists("sys-bpf", "__sys_bpf", try Workload("progarray", "200", "50"), method: "kprobe")
    guard let tool else { return }
    XCTAssertEqual(report?["errors"] as? Int, 0)
    XCTAssertEqual(countsByKey(jsonObjects: tool.jsonObjects), report?["counts"] as? [String: Int])
    XCTAssertEqual((tool.jsonObjects.last?["accounting"] as? [String: Any])?["returns_missed"] as? Int, 0)
  }

  /// __sys_bpf returns int: -ENOENT is 0x00000000fffffffe in its register. Keys by return value
  /// are signed, and the failures are seen as failures.
  func testIntReturnValuesOfKernelFunctionsAreSigned() throws {
    for method in try methods() {
      let file = try profile("probe: {kernel_function: __sys_bpf}\nkey: {source: retval}\n")
      let (tool, report) = try traceIfFunctionExists(file, "__sys_bpf", try Workload("bpf-mix", "40"), method: method)
      guard let tool else { return }
      let failed = (report?["failed"] as? [String: Int] ?? [:]).values.reduce(0, +)
      XCTAssertEqual(countsByKey(jsonObjects: tool.jsonObjects)["-2"], failed, method)
    }
  }

  /// On overlayfs, vfs_getattr_nosec calls itself (through ovl_getattr) for the layer below; on
  /// an overlay stacked on an overlay, twice, nested. (Not vfs_getattr: Linux 6.12 inlines it into
  /// vfs_statx_path, and its overlayfs calls the _nosec one, so it never runs there.) The
  /// innermost call is counted, once per stat; the outer ones, whose starts the inner replaced,
  /// are counted apart, as calls whose return was not seen. With --concurrency (where the kernel
  /// allows it), a replaced call leaves the count of calls in flight: one thread, calls nested
  /// three deep at most, never more at once however many stats.
  func testAReenteredFunctionIsCountedApart() throws {
    let methods = try methods()
    // on a tmpfs of its own: the layers must be on a local file system
    let base = Scratch.directory.appending(path: "sd-overlay-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
    XCTAssertEqual(mount("tmpfs", base, "tmpfs", 0, nil), 0, "mount tmpfs")
    defer { umount2(base, Int32(MNT_DETACH)) }
    for directory in ["l1", "l2", "l3", "mid", "top"] {
      try FileManager.default.createDirectory(atPath: "\(base)/\(directory)", withIntermediateDirectories: true)
    }
    try "x".write(toFile: "\(base)/l1/file", atomically: false, encoding: .utf8)
    XCTAssertEqual(mount("overlay", "\(base)/mid", "overlay", 0, "lowerdir=\(base)/l2:\(base)/l1"), 0, "mount overlay")
    defer { umount2("\(base)/mid", Int32(MNT_DETACH)) }
    XCTAssertEqual(mount("overlay", "\(base)/top", "overlay", 0, "lowerdir=\(base)/l3:\(base)/mid"), 0, "mount overlay on overlay")
    defer { umount2("\(base)/top", Int32(MNT_DETACH)) }
    let file = try profile("probe: {kernel_function: vfs_getattr_nosec}\n")
    let concurrency = BPFFeatures.runsMainObject ? ["--concurrency"] : []
    for method in methods {
      let (tool, _) = try trace(
        ["--profile", file, "--probe-method", method] + concurrency, try Workload("stat", "100", "\(base)/top/file"))
      let accounting = try XCTUnwrap(tool.jsonObjects.last?["accounting"] as? [String: Any])
      XCTAssertEqual(accounting["counted"] as? Int, 100, method)
      let replaced = try XCTUnwrap((accounting["not_counted"] as? [String: Any])?["replaced"] as? Int)
      XCTAssertTrue(replaced == 100 || replaced == 200, "\(method): \(replaced) outer calls for 100 stats")
      if !concurrency.isEmpty {
        // the profile's key is dense, so the most at once is kept per series
        let series = tool.jsonObjects.last?["histograms"] as? [[String: Any]] ?? []
        let most = try XCTUnwrap(series.compactMap { $0["max_concurrent"] as? Int }.max(), tool.stdout)
        XCTAssertLessThanOrEqual(most, 3, "\(method): calls in flight leaked")
      }
    }
  }

  /// Creating a series in its histogram hash, the tool's own program calls htab_map_update_elem:
  /// traced by fentry, that run from inside the tool's program is one the kernel skips (its
  /// recursion protection), and the accounting says how many. The workload's own 50 updates of a
  /// hash map are counted exactly. A kernel without that protection (Linux 5.10, 5.11) would
  /// recurse until it crashed: there fentry on kernel functions is refused in one line, and
  /// the automatic choice takes kprobe, whose programs the kernel never nests; nor does it run
  /// them inside a bpf() map operation (bpf_disable_instrumentation, every version), so there
  /// the workload's 50 updates are not seen at all, as the man page says.
  func testRunsTheKernelSkippedAreReported() throws {
    guard BPFFeatures.hasTrampolines else { throw XCTSkip("this kernel has no BPF trampolines") }
    let file = try profile("probe: {kernel_function: htab_map_update_elem}\nkey: {source: comm}\n")
    guard BPFFeatures.tracingProgramsStopRecursion else {
      let refused = try ToolRun.complete(["--profile", file, "--probe-method", "fentry", "-d", "1"])
      XCTAssertEqual(refused.status, 1)
      XCTAssertTrue(refused.stderr.contains("fentry: fentry on kernel functions needs Linux 5.12 or later"), refused.stderr)
      XCTAssertEqual(refused.stderr.split(separator: "\n").count, 1, refused.stderr)
      let (tool, _) = try trace(["--profile", file], try Workload("bpf-mix", "50"))
      XCTAssertTrue(tool.stderr.contains("Attached kprobe(htab_map_update_elem)"), tool.stderr)
      XCTAssertEqual(countsByKey(jsonObjects: tool.jsonObjects), [:])
      return
    }
    let (tool, _) = try trace(["--profile", file, "--probe-method", "fentry"], try Workload("bpf-mix", "50"))
    XCTAssertEqual(countsByKey(jsonObjects: tool.jsonObjects), ["sd-workload": 50])
    XCTAssertGreaterThan((tool.jsonObjects.last?["accounting"] as? [String: Any])?["kernel_skipped"] as? Int ?? 0, 0)
  }
}

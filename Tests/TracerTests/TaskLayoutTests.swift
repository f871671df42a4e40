import BPFKit
import Foundation
import XCTest

@testable import Tracer

/// Where the program reads a task's fields, as found in the running kernel's BTF, against
/// bpftool's reading of the same BTF.
final class TaskLayoutTests: XCTestCase {
  /// Byte offsets of `members` of struct `name`, from `bpftool btf dump ... format raw`.
  func bpftoolOffsets(of name: String, _ members: [String]) throws -> [String: Int] {
    let dump = Process()
    dump.executableURL = URL(fileURLWithPath: "/usr/sbin/bpftool")
    dump.arguments = ["btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "raw"]
    let output = Pipe()
    dump.standardOutput = output
    try dump.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    dump.waitUntilExit()
    var offsets: [String: Int] = [:]
    var inside = false
    for line in text.split(separator: "\n") {
      if line.hasPrefix("[") {
        if inside { break }
        inside = line.contains("STRUCT '\(name)' ")
      } else if inside, let member = members.first(where: { line.contains("'\($0)' ") }),
        let bits = line.split(separator: "bits_offset=").last.flatMap({ Int($0) })
      {
        offsets[member] = bits / 8
      }
    }
    return offsets
  }

  func testTheTaskFieldsAreWhereBpftoolReadsThem() throws {
    let btf = try VmlinuxBTF()
    let task = try bpftoolOffsets(of: "task_struct", ["pid", "tgid", "comm", "se"])
    let se = try bpftoolOffsets(of: "sched_entity", ["sum_exec_runtime"])
    let layout = try XCTUnwrap(HostFacts.taskLayout(btf, withRuntime: true))
    XCTAssertEqual(layout.pid, task["pid"])
    XCTAssertEqual(layout.tgid, task["tgid"])
    XCTAssertEqual(layout.comm, task["comm"])
    XCTAssertEqual(layout.runtime, try XCTUnwrap(task["se"]) + (try XCTUnwrap(se["sum_exec_runtime"])))
    // only slow calls read the runtime: other runs skip the lookup
    XCTAssertEqual(HostFacts.taskLayout(btf, withRuntime: false)?.runtime, 0)
  }
}

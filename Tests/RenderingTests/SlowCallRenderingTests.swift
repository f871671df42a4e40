import Foundation
import Histograms
import Rendering
import Symbols
import XCTest

final class SlowCallRenderingTests: XCTestCase {
  /// 12:04:31.118 local time today.
  var wallClock: Double {
    var now = time(nil)
    var parts = tm()
    localtime_r(&now, &parts)
    parts.tm_hour = 12
    parts.tm_min = 4
    parts.tm_sec = 31
    return Double(mktime(&parts)) + 0.118
  }

  func call(user: StackReport = .notTaken, kernel: StackReport = .notTaken) -> SlowCallReport {
    SlowCallReport(
      wallClock: wallClock, comm: "acl-agent", pid: 4123, tid: 4131, latencyNanoseconds: 31_207_400,
      offCPUNanoseconds: 30_300_000, longestOffCPUNanoseconds: 30_000_000, key: "BPF_MAP_UPDATE_ELEM",
      rawKey: .unsigned(2), outcome: "ok", userStack: user, kernelStack: kernel)
  }

  /// funcslower's columns, the profile's key label as the key's header.
  func testALineHasTheColumnsOfTheHeader() {
    let renderer = SlowCallTextRenderer(keyLabel: "cmd", thresholdNanoseconds: 10_000_000)
    XCTAssertEqual(
      renderer.header, "TIME          COMM            PID     TID     LAT(ms)  cmd                   RESULT  OFF-CPU")
    XCTAssertEqual(
      renderer.render(call()),
      "12:04:31.118  acl-agent       4123    4131    31.207   BPF_MAP_UPDATE_ELEM   ok      97.1%\n")
  }

  /// --off-cpu: the split instead of OFF-CPU, as shares of the latency: 30.3 ms off CPU of
  /// 31.2074 ms, 0.3 ms of it waiting for a CPU, leaves 0.9074 ms on CPU.
  func testWithTheTimeSplitALineSaysOnCPUWaitingAndBlocked() {
    let renderer = SlowCallTextRenderer(keyLabel: "cmd", thresholdNanoseconds: 10_000_000, timeSplit: true)
    XCTAssertEqual(
      renderer.header,
      "TIME          COMM            PID     TID     LAT(ms)  cmd                   RESULT  ON-CPU  WAIT    BLOCKED")
    var split = call()
    split.runnableNanoseconds = 300_000
    split.blockedNanoseconds = 30_000_000
    XCTAssertEqual(
      renderer.render(split),
      "12:04:31.118  acl-agent       4123    4131    31.207   BPF_MAP_UPDATE_ELEM   ok      2.9%    1.0%    96.1%\n")
    let json = try? JSONSerialization.jsonObject(with: Data(JSONRenderer().render(split).utf8)) as? [String: Any]
    XCTAssertEqual(json?["runnable_ns"] as? Int, 300_000)
    XCTAssertEqual(json?["blocked_ns"] as? Int, 30_000_000)
  }

  func testBelowAMillisecondLatenciesAreInMicroseconds() {
    let renderer = SlowCallTextRenderer(keyLabel: "cmd", thresholdNanoseconds: 500_000)
    XCTAssertTrue(renderer.header.contains("LAT(us)"))
    XCTAssertTrue(renderer.render(call()).contains(" 31207.400 "))
  }

  func testStacksFollowTheirLineInnermostFirst() {
    let kernel = StackReport.frames(
      [Frame(address: 1, function: "__schedule", offset: 0x2b5), Frame(address: 2, function: "do_nanosleep", offset: 0x6e)],
      note: nil)
    let user = StackReport.frames(
      [Frame(address: 3, function: "sd_sleep_syscall", offset: 0x1c, module: "/usr/bin/w"), Frame(address: 4, function: nil)],
      note: "the process had exited: its frames could not be named")
    let text = SlowCallTextRenderer(keyLabel: "cmd", thresholdNanoseconds: 10_000_000).render(call(user: user, kernel: kernel))
    XCTAssertEqual(
      text.split(separator: "\n", omittingEmptySubsequences: false).dropFirst().joined(separator: "\n"),
      """
          blocked longest (30.000 ms) in:
              __schedule+0x2b5
              do_nanosleep+0x6e
          called from:
              sd_sleep_syscall+0x1c (/usr/bin/w)
              [unknown]
              (the process had exited: its frames could not be named)

      """)
    let lost = SlowCallTextRenderer(keyLabel: "cmd", thresholdNanoseconds: 1).render(call(user: .lost("why")))
    XCTAssertTrue(lost.hasSuffix("\n    user stack lost: why\n"), lost)
  }

  func testJSONIsOneObjectOfTypeSlowCall() throws {
    let json = JSONRenderer().render(
      call(user: .frames([Frame(address: 0x401000, function: "main", offset: 3, module: "/bin/w")], note: nil)))
    let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    XCTAssertEqual(object["type"] as? String, "slow_call")
    XCTAssertEqual(object["tid"] as? Int, 4131)
    XCTAssertEqual(object["latency_ns"] as? Int, 31_207_400)
    XCTAssertEqual(object["raw"] as? Int, 2)
    XCTAssertTrue(object["kernel_stack"] is NSNull)
    let frame = try XCTUnwrap(((object["user_stack"] as? [String: Any])?["frames"] as? [[String: Any]])?.first)
    XCTAssertEqual(frame["address"] as? String, "0x401000")
    XCTAssertEqual(frame["function"] as? String, "main")
  }

  /// Brendan Gregg's folded format: outermost first, kernel frames marked, one line per stack.
  func testFoldedStacksCountCallsPerStack() {
    var folded = FoldedStacks()
    let user = StackReport.frames([Frame(address: 1, function: "leaf"), Frame(address: 2, function: "main")], note: nil)
    let kernel = StackReport.frames([Frame(address: 3, function: "__schedule"), Frame(address: 4, function: nil)], note: nil)
    folded.add(call(user: user, kernel: kernel))
    folded.add(call(user: user, kernel: kernel))
    folded.add(call(user: user))
    XCTAssertEqual(
      folded.lines, ["acl-agent;main;leaf;[unknown]_[k];__schedule_[k] 2", "acl-agent;main;leaf 1"])
  }
}

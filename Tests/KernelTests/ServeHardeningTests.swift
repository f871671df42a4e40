import Foundation
import XCTest

/// `serve` on a port anyone may reach: what it answers to what, clients that never finish a
/// request, a crowd of scrapers while the kernel side counts, and its signals.
final class ServeHardeningTests: XCTestCase {
  func testEndpointsMethodsAndQueries() throws {
    let serve = try ServeRun([])
    defer { serve.stop() }
    XCTAssertEqual(try serve.get("/healthz").status, 200)
    let index = try serve.get("/")
    XCTAssertEqual(index.status, 200)
    XCTAssertTrue(index.body.contains("<a href=\"/metrics\">") && index.body.contains("bpfsyscalldist"), index.body)
    XCTAssertEqual(try serve.get("/metrics?collect=1&format=json").status, 200, "a query is never read")
    XCTAssertEqual(try serve.get("/nothing").status, 404)
    XCTAssertEqual(try serve.get("/metrics", method: "POST").status, 405)
    XCTAssertEqual(try serve.get("/metrics", method: "DELETE").status, 405)
    let head = try ToolRun.complete(["-s", "-I", serve.url + "/metrics"], executable: "/usr/bin/curl")
    XCTAssertTrue(head.stdout.hasPrefix("HTTP/1.1 200"), head.stdout)
    XCTAssertTrue(head.stdout.contains("text/plain; version=0.0.4"), head.stdout)
  }

  /// 300 clients that connect and hold their connection: past 256 the server closes each one as
  /// it comes (the process keeps its descriptors), and once they leave it answers again.
  func testHeldConnectionsPastTheLimitAreClosedAndTheServerRecovers() throws {
    let serve = try ServeRun(["--request-timeout", "60s"])
    defer { serve.stop() }
    let outcome = try python(
      """
      import socket, sys
      port = int(sys.argv[1])
      held = [socket.create_connection(("127.0.0.1", port)) for _ in range(256)]
      refused = 0
      for _ in range(44):
          extra = socket.create_connection(("127.0.0.1", port))
          extra.settimeout(5)
          try:
              refused += extra.recv(1) == b""
          except ConnectionResetError:
              refused += 1
          except socket.timeout:
              pass
          extra.close()
      for sock in held:
          sock.close()
      print(refused)
      """, [String(serve.port)])
    XCTAssertEqual(outcome.trimmingCharacters(in: .whitespacesAndNewlines), "44")
    var status = 0
    for _ in 0..<50 where status != 200 {
      usleep(100_000)
      status = (try? serve.get("/healthz").status) ?? 0
    }
    XCTAssertEqual(status, 200)
  }

  /// A client that connects and sends nothing, one that sends its headers a byte a second, and
  /// one whose headers are 64 KiB: each is cut off, and the server still answers.
  func testSlowSilentAndHugeClientsAreCutOff() throws {
    let serve = try ServeRun(["--request-timeout", "1s"])
    defer { serve.stop() }
    let outcome = try python(
      """
      import socket, sys, time
      port = int(sys.argv[1])
      def closed(sock, seconds):
          sock.settimeout(seconds)
          try:
              return sock.recv(1) == b""
          except ConnectionResetError:
              return True
          except socket.timeout:
              return False
      silent = socket.create_connection(("127.0.0.1", port))
      print("silent", "closed" if closed(silent, 5) else "open")
      slow = socket.create_connection(("127.0.0.1", port))
      start = time.monotonic()
      try:
          for byte in b"GET /metrics HTTP/1.1\\r\\nHost: x\\r\\n":
              slow.send(bytes([byte]))
              time.sleep(0.2)
          print("slow", "closed" if closed(slow, 5) else "open")
      except (BrokenPipeError, ConnectionResetError):
          print("slow", "closed")
      huge = socket.create_connection(("127.0.0.1", port))
      huge.settimeout(5)
      try:
          huge.sendall(b"GET /metrics HTTP/1.1\\r\\nHost: x\\r\\nX-Big: " + b"a" * 65536 + b"\\r\\n\\r\\n")
          answer = huge.recv(64)
          print("huge", answer.split(b"\\r\\n")[0].decode() or "closed")
      except (BrokenPipeError, ConnectionResetError):
          print("huge", "closed")
      """, [String(serve.port)])
    let lines = outcome.split(separator: "\n").map(String.init)
    XCTAssertEqual(lines[0], "silent closed")
    XCTAssertEqual(lines[1], "slow closed")
    XCTAssertTrue(lines[2] == "huge closed" || lines[2].hasPrefix("huge HTTP/1.1 4"), lines[2])
    XCTAssertEqual(try serve.get("/healthz").status, 200)
  }

  /// 100 scrapers at once, while the workload runs: every one is answered, and the counts are
  /// exact once it is done (scrapes never change what is counted).
  func testAHundredConcurrentScrapersAreAnsweredWhileCounting() throws {
    let workload = try Workload("bpf-mix", "200")
    let serve = try ServeRun(["-p", String(workload.pid)])
    defer { serve.stop() }
    let crowd = try ToolRun(
      ["-c",
       """
       import concurrent.futures, sys, urllib.request
       def scrape(i):
           with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=30) as r:
               return r.status
       with concurrent.futures.ThreadPoolExecutor(100) as pool:
           print(sorted(set(pool.map(scrape, range(300)))))
       """, String(serve.port)],
      executable: "/usr/bin/python3")
    let issued = try XCTUnwrap(workload.finish()["counts"] as? [String: Int])
    XCTAssertEqual(crowd.stop(with: 0), 0, crowd.stderr)  // signal 0: only wait for it
    XCTAssertEqual(crowd.stdout, "[200]\n", crowd.stderr)
    usleep(2_500_000)
    let samples = try ServeTests.parse(try serve.metrics(), openMetrics: true)
    XCTAssertEqual(ServeTests.counts(samples, "bpfsyscalldist_latency_seconds", label: "cmd"), issued)
  }

  /// SIGTERM and SIGINT: it stops serving, detaches everything and exits 0.
  func testStopSignalsDetachEverythingAndExitZero() throws {
    for signal in [SIGTERM, SIGINT] {
      let before = bpfObjectIDs()
      let serve = try ServeRun(["--profile", "bpfsyscalldist", "--profile", "syscalldist"])
      XCTAssertEqual(serve.stop(with: signal), 0, serve.tool.stderr)
      let after = waitForBPFObjects(toReturnTo: before)
      XCTAssertEqual(after.programs.subtracting(before.programs), [], "signal \(signal)")
      XCTAssertEqual(after.links.subtracting(before.links), [], "signal \(signal)")
      let refused = try ToolRun.complete(["-s", "-o", "/dev/null", serve.url + "/healthz"], executable: "/usr/bin/curl")
      XCTAssertNotEqual(refused.status, 0, "still answering after signal \(signal)")
    }
  }

  /// SIGHUP reloads --config: an unchanged profile keeps its counts, a new one starts from zero, a
  /// removed one leaves; a broken config changes nothing and says why.
  func testSIGHUPReloadsTheConfigKeepingUnchangedCounts() throws {
    let workload = try Workload("bpf-mix", "30")
    let config = Scratch.directory.appending(path: "serve-\(UUID().uuidString).yaml").path
    let keep = "  - profile: bpfsyscalldist\n    pid: \(workload.pid)\n"
    try "profiles:\n\(keep)  - profile: futex\n".write(toFile: config, atomically: true, encoding: .utf8)
    let serve = try ServeRun(["--config", config])
    defer { serve.stop() }
    let issued = try XCTUnwrap(workload.finish()["counts"] as? [String: Int])
    usleep(2_500_000)
    try "profiles:\n\(keep)  - profile: openat\n".write(toFile: config, atomically: true, encoding: .utf8)
    kill(serve.tool.pid, SIGHUP)
    try waitFor("reloaded", in: serve.tool)
    var text = try serve.metrics()
    XCTAssertEqual(ServeTests.counts(try ServeTests.parse(text, openMetrics: true), "bpfsyscalldist_latency_seconds", label: "cmd"), issued)
    XCTAssertTrue(text.contains("openat_calls_counted_total"))
    XCTAssertFalse(text.contains("futex_"), "the removed profile left")
    try "profiles:\n  - profile: bpfsyscalldist\n    pid: -1\n".write(toFile: config, atomically: true, encoding: .utf8)
    kill(serve.tool.pid, SIGHUP)
    try waitFor("not reloaded", in: serve.tool)
    XCTAssertTrue(serve.tool.stderr.contains("\(config):3:10: error: 'pid' must be a positive process id"), serve.tool.stderr)
    text = try serve.metrics()
    XCTAssertTrue(text.contains("openat_calls_counted_total"), "still serving as before")
  }

  /// A reload that raises max_series applies it to a kept profile: keys past the old limit, made
  /// after the reload, get series of their own instead of the overflow's.
  func testSIGHUPAppliesANewSeriesLimitToAKeptProfile() throws {
    let profile = try temporaryProfile("version: 1\nname: fds\nprobe: {syscall: close}\nkey: {source: arg0, label: fd}\n")
    let workload = try Workload("close-keys", "10", "2")
    let config = Scratch.directory.appending(path: "serve-\(UUID().uuidString).yaml").path
    let entry = "profiles:\n  - profile: \(profile)\n    pid: \(workload.pid)\n"
    try "max_series: 5\n\(entry)".write(toFile: config, atomically: true, encoding: .utf8)
    let serve = try ServeRun(["--config", config])
    defer { serve.stop() }
    try workload.runPhase()
    usleep(2_500_000)
    try "max_series: 100\n\(entry)".write(toFile: config, atomically: true, encoding: .utf8)
    kill(serve.tool.pid, SIGHUP)
    try waitFor("max_series 100", in: serve.tool)
    _ = try workload.finish()
    usleep(2_500_000)
    let counts = ServeTests.counts(try ServeTests.parse(try serve.metrics(), openMetrics: true), "fds_latency_seconds", label: "fd")
    XCTAssertEqual(counts["(over max_series)"], 6, "\(counts): 4 keys of the first phase had places, 6 did not")
    XCTAssertEqual(counts.count, 15, "\(counts): the second phase's 10 keys each have a series")
  }

  func waitFor(_ text: String, in tool: ToolRun) throws {
    let deadline = Date().addingTimeInterval(30)
    while !tool.stderr.contains(text) && Date() < deadline { usleep(50_000) }
    XCTAssertTrue(tool.stderr.contains(text), tool.stderr)
  }
}

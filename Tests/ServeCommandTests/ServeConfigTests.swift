import Profiles
import XCTest
import YAMLReading

import ServeCommand

/// `serve --config FILE.yaml`: what it reads, and every mistake with its place.
final class ServeConfigTests: XCTestCase {
  func testAConfigGivesEachProfileItsFilters() throws {
    let config = try ServeConfig.load(
      text: """
        listen: 0.0.0.0:9435
        max_series: 50
        series_idle: 120s
        runtime_root: /tmp
        profiles:
          - profile: bpfsyscalldist
          - profile: /etc/bpfsyscalldist/mine.yaml
            name: mine_nginx
            pid: 42
            comm: nginx
            cgroup: /sys/fs/cgroup/system.slice/nginx.service
            split_outcome: true
            concurrency: true
            probe_method: tp_btf
        """, file: "serve.yaml")
    XCTAssertEqual(config.listen, "0.0.0.0:9435")
    XCTAssertEqual(config.maxSeries, 50)
    XCTAssertEqual(config.seriesIdleNanoseconds, 120_000_000_000)
    XCTAssertEqual(config.profiles.map(\.profile), ["bpfsyscalldist", "/etc/bpfsyscalldist/mine.yaml"])
    let mine = config.profiles[1]
    XCTAssertEqual(mine.name, "mine_nginx")
    XCTAssertEqual(mine.filters.pid, 42)
    XCTAssertEqual(mine.filters.comm, "nginx")
    XCTAssertEqual(mine.filters.cgroupPath, "/sys/fs/cgroup/system.slice/nginx.service")
    XCTAssertTrue(mine.splitOutcome && mine.concurrency)
    XCTAssertEqual(mine.probeMethod?.name, "tp_btf")
    XCTAssertEqual(mine.probeMethod?.location, SourceLocation(line: 14, column: 19))
    XCTAssertEqual(config.runtimeRoot, "/tmp")
  }

  /// Every mistake of the file at once, each with its line and column.
  func testEveryMistakeIsReportedWithItsPlace() {
    let text = """
      listen: [1, 2]
      max_series: 0
      series_idle: 10
      runtime_root: /no/such/host
      profiles:
        - profile: a
          pid: -3
          colour: red
          name: a-b
        - comm: x
      """
    XCTAssertThrowsError(try ServeConfig.load(text: text, file: "serve.yaml")) { error in
      let lines = (error as? ProfileError)?.diagnostics.map(\.headline) ?? []
      XCTAssertEqual(
        lines,
        [
          "serve.yaml:1:9: error: 'listen' must be a string, found a sequence",
          "serve.yaml:2:13: error: 'max_series' must be from 1 to 1000000",
          "serve.yaml:3:14: error: 'series_idle' must be a duration with its unit: ns, us, ms or s (e.g. 600s)",
          "serve.yaml:4:15: error: 'runtime_root' '/no/such/host' is not a directory (give where the host's / is mounted, e.g. /host)",
          "serve.yaml:8:5: error: unknown key 'colour' in a 'profiles' entry; expected one of: profile, name, pid, tid, comm, cgroup, container, pod, labels, split_outcome, concurrency, probe_method, max_keys, max_errors",
          "serve.yaml:9:11: error: 'name' becomes a metric name: letters, digits and '_' only",
          "serve.yaml:7:10: error: 'pid' must be a positive process id",
          "serve.yaml:10:5: error: a 'profiles' entry is missing 'profile'",
        ])
    }
  }

  func testLabelsAreNamespacePodAndContainerEachOnceInTheirOrder() throws {
    let config = try ServeConfig.load(
      text: "profiles:\n  - profile: futex\n    labels: [pod, namespace]\n", file: "serve.yaml")
    XCTAssertEqual(config.profiles[0].labels, [.pod, .namespace])
    let text = """
      profiles:
        - profile: a
          labels: [pod, node, pod]
        - profile: b
          labels: pod
      """
    XCTAssertThrowsError(try ServeConfig.load(text: text, file: "serve.yaml")) { error in
      XCTAssertEqual(
        (error as? ProfileError)?.diagnostics.map(\.headline),
        [
          "serve.yaml:3:19: error: unknown label 'node'; expected one of: namespace, pod, container",
          "serve.yaml:3:25: error: label 'pod' is given twice",
          "serve.yaml:5:13: error: 'labels' must be a list of some of: namespace, pod, container",
        ])
    }
  }

  func testAConfigWithoutProfilesIsRefused() {
    for text in ["listen: 1.2.3.4:5\n", "profiles: []\n", "profiles: bpfsyscalldist\n"] {
      XCTAssertThrowsError(try ServeConfig.load(text: text, file: "c.yaml"), text) { error in
        XCTAssertEqual((error as? ProfileError)?.diagnostics.count, 1, "\(error)")
      }
    }
  }
}

/// `histogram.export`: the bounds exported to Prometheus.
final class ExportRangeTests: XCTestCase {
  func load(_ export: String) throws -> Profile {
    try ProfileLoader(enumSource: nil).load(
      text: "version: 1\nname: x\nprobe: {syscall: read}\nhistogram:\n  unit: us\n  export: \(export)\n", file: "x.yaml")
  }

  func testExportBoundsAreSeconds() throws {
    XCTAssertEqual(try load("{min: 1us, max: 10s}").exportRange, 1e-6...10)
    XCTAssertEqual(try load("{max: 250ms}").exportRange, 0...0.25)
    XCTAssertNil(try ProfileLoader(enumSource: nil).load(text: "version: 1\nname: x\nprobe: {syscall: read}\n", file: "x").exportRange)
  }

  func testABackwardOrUnitlessRangeIsRefusedWithItsPlace() {
    for (export, message) in [
      ("{min: 10s, max: 1s}", "x.yaml:6:11: error: 'export.min' must be below 'export.max'"),
      ("{min: 5}", "x.yaml:6:17: error: 'export.min' must be a duration with its unit: ns, us, ms or s (e.g. 10s)"),
    ] {
      XCTAssertThrowsError(try load(export)) { error in
        XCTAssertEqual((error as? ProfileError)?.diagnostics.map(\.headline), [message], export)
      }
    }
  }
}

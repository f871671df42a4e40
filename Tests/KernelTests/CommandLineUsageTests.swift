import Foundation
import Profiles
import ServeCommand
import XCTest

/// What the command says before it touches the kernel: bad arguments and broken profiles in one
/// line with the right exit status, profile lookup, the man page, `make install`. Run by `make
/// test`; the kernel matrix (scripts/test-kernels.sh) skips this class, whose outcome no kernel
/// changes.
final class CommandLineUsageTests: XCTestCase {
  func testUnknownFlagIsOneLineAndExitTwo() throws {
    let result = try ToolRun.complete(["--frobnicate"])
    XCTAssertEqual(result.status, 2)
    XCTAssertEqual(result.stderr, "bpfsyscalldist: error: Unknown option '--frobnicate' (see --help)\n")
  }

  func testMissingProcessIsOneLineAndExitOne() throws {
    let result = try ToolRun.complete(["-p", "999999"])
    XCTAssertEqual(result.status, 1)
    XCTAssertEqual(result.stderr, "bpfsyscalldist: error: no process with pid 999999\n")
  }

  func testBrokenProfileNamesFileLineAndColumnAndExitsTwo() throws {
    let file = Scratch.directory.appending(path: "broken-\(UUID().uuidString).yaml").path
    try "version: 1\nname: b\nprobe:\n  syscall: opnat\n".write(toFile: file, atomically: true, encoding: .utf8)
    let result = try ToolRun.complete(["--profile", file])
    XCTAssertEqual(result.status, 2)
    XCTAssertEqual(result.stderr, "\(file):4:12: error: unknown syscall 'opnat' (did you mean 'openat'?)\n  syscall: opnat\n           ^\n")
  }

  func testWithoutPrivilegesSaysWhatIsMissing() throws {
    let result = try ToolRun.complete(
      ["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", Products.tool],
      executable: "/usr/bin/setpriv")
    XCTAssertEqual(result.status, 1)
    XCTAssertEqual(result.stderr, "bpfsyscalldist: error: tracing needs root, or the capabilities CAP_BPF and CAP_PERFMON; run it with sudo\n")
  }

  /// Root of a user namespace holds every capability there and none that bpf() takes: the
  /// start-time check names the user namespace. Linux 6.5 and later check CAP_BPF only once a
  /// map's type is known, and the check's map of no type was EINVAL there: the run went on, and
  /// every probe method was blamed instead ("no BPF trampolines").
  func testAUserNamespaceIsNamedAsWhatRefusesBPF() throws {
    let unprivileged = try String(contentsOfFile: "/proc/sys/kernel/unprivileged_bpf_disabled", encoding: .utf8)
    try XCTSkipIf(unprivileged.hasPrefix("0"), "kernel.unprivileged_bpf_disabled is 0: a user namespace may use bpf()")
    for arguments in [["-d", "1"], ["serve", "--listen", "127.0.0.1:0"]] {
      let result = try ToolRun.complete(["--user", "--map-root-user", "--", Products.tool] + arguments, executable: "/usr/bin/unshare")
      XCTAssertEqual(result.status, 1, result.stderr)
      XCTAssertTrue(
        result.stderr.hasSuffix(
          "bpf() is refused (Operation not permitted): this process runs in a user namespace (a rootless container?), whose capabilities the kernel does not take for bpf(); run it as root of the host\n"),
        result.stderr)
      XCTAssertEqual(result.stderr.split(separator: "\n").filter { $0.contains("error:") }.count, 1, result.stderr)
    }
  }

  func testARuntimeRootThatIsNoDirectoryIsAUsageError() throws {
    for arguments in [["--runtime-root", "/no/such/host"], ["serve", "--runtime-root", "/no/such/host"]] {
      let result = try ToolRun.complete(arguments)
      XCTAssertEqual(result.status, 2)
      XCTAssertTrue(
        result.stderr.hasSuffix("error: --runtime-root '/no/such/host' is not a directory (give where the host's / is mounted, e.g. /host) (see --help)\n"),
        result.stderr)
      XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
    }
    // the host's root, not a profile's filter: beside a config too (refused as one before)
    let beside = try ToolRun.complete(["serve", "--config", "/no/such/serve.yaml", "--runtime-root", "/tmp"])
    XCTAssertFalse(beside.stderr.contains("--config gives each profile its own filters"), beside.stderr)
    XCTAssertTrue(beside.stderr.contains("/no/such/serve.yaml"), beside.stderr)
  }

  func testACgroupThatIsNotCgroupV2IsAUsageError() throws {
    let result = try ToolRun.complete(["--cgroup", "/tmp"])
    XCTAssertEqual(result.status, 2)
    XCTAssertEqual(
      result.stderr,
      "bpfsyscalldist: error: cannot use cgroup '/tmp': not on a cgroup v2 file system (give a cgroup v2 directory, e.g. /sys/fs/cgroup/system.slice)\n")
  }

  func testWrongProbeMethodForTheTargetIsAUsageError() throws {
    let result = try ToolRun.complete(["--probe-method", "kprobe"])
    XCTAssertEqual(result.status, 2)
    XCTAssertEqual(result.stderr, "bpfsyscalldist: error: --probe-method kprobe cannot trace syscall bpf; use one of: tracepoint, tp_btf, raw_tp, fentry\n")
  }

  func testUserProfilesDirectoryComesBeforeTheBuiltInOnes() throws {
    let config = Scratch.directory.appending(path: "xdg-\(UUID().uuidString)")
    let directory = config.appending(path: "bpfsyscalldist/profiles")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    try "version: 1\nname: futex\ndescription: mine\nprobe: {syscall: futex}\n".write(
      to: directory.appending(path: "futex.yaml"), atomically: true, encoding: .utf8)
    let list = try ToolRun.complete(["--list-profiles"], environment: ["XDG_CONFIG_HOME": config.path])
    XCTAssertTrue(list.stdout.contains("futex            mine  [\(directory.path)/futex.yaml]"), list.stdout)
  }

  func testEveryHelpFlagIsInTheManPageAndItRendersWithoutWarnings() throws {
    let help = try ["--help", "serve --help", "compare --help", "heatmap --help", "report --help"].map { try ToolRun.complete($0.split(separator: " ").map(String.init)).stdout }
      .joined()
    let manPage = Products.packageRoot.appending(path: "man/bpfsyscalldist.8").path
    let source = try String(contentsOfFile: manPage, encoding: .utf8)
    // every "-x" and "--long-name" token of the help text
    let tokens = help.split(whereSeparator: { " ,.;:'|()[]<>=\n".contains($0) })
    let flags = Set(tokens.filter { $0.hasPrefix("-") && $0.dropFirst().first?.isLetter == true || $0.hasPrefix("--") }.map(String.init))
    XCTAssertGreaterThan(flags.count, 20, help)
    for flag in flags {
      XCTAssertTrue(source.contains(flag.replacingOccurrences(of: "-", with: "\\-")), "\(flag) is in --help but not in man/bpfsyscalldist.8")
    }
    // at a terminal's 80 columns, and as lintian renders it (120: a page break that cuts a table
    // warned there alone)
    for page in ["man/bpfsyscalldist.8", "man/bpfsyscalldist-profile.5"] {
      for width in [80, 120] {
        let render = try ToolRun.complete(
          ["-c", "LC_ALL=C.UTF-8 MANROFFSEQ= MANWIDTH=\(width) man --warnings -E UTF-8 -l -Tutf8 -Z \"$0\" > /dev/null",
           Products.packageRoot.appending(path: page).path],
          executable: "/bin/sh")
        XCTAssertEqual(render.status, 0)
        XCTAssertEqual(render.stderr, "", "\(page) at \(width) columns")
      }
    }
  }

  func testMakeInstallPutsEverythingWhereItBelongs() throws {
    let destination = Scratch.directory.appending(path: "sd-install-\(getpid())").path
    defer { try? FileManager.default.removeItem(atPath: destination) }
    let make = try ToolRun.complete(
      ["-C", Products.packageRoot.path, "install-files", "CONFIG=\(Products.directory.lastPathComponent)", "DESTDIR=\(destination)", "PREFIX=/usr"],
      executable: "/usr/bin/make")
    XCTAssertEqual(make.status, 0, make.stderr)
    for file in [
      "bin/bpfsyscalldist", "bin/syscalldist", "bin/bpfsyscalldist-serve", "share/man/man8/bpfsyscalldist.8",
      "share/man/man8/syscalldist.8", "share/man/man8/bpfsyscalldist-serve.8",
      "share/man/man5/bpfsyscalldist-profile.5", "share/bpfsyscalldist/profiles/futex.yaml",
      "share/bash-completion/completions/bpfsyscalldist", "share/zsh/site-functions/_bpfsyscalldist",
      "share/fish/vendor_completions.d/bpfsyscalldist.fish", "lib/systemd/system/bpfsyscalldist.service",
      "share/bpfsyscalldist/grafana-dashboard.json",
    ] {
      XCTAssertTrue(FileManager.default.fileExists(atPath: "\(destination)/usr/\(file)"), file)
    }
    XCTAssertTrue(FileManager.default.fileExists(atPath: "\(destination)/etc/bpfsyscalldist/serve.yaml"))
    let bash = try String(contentsOfFile: "\(destination)/usr/share/bash-completion/completions/bpfsyscalldist", encoding: .utf8)
    XCTAssertTrue(bash.contains("--split-outcome"))
    // serve's own flags complete after `bpfsyscalldist serve`, in every shell
    XCTAssertTrue(bash.contains("serve") && bash.contains("--series-idle") && bash.contains("--listen"), "bash")
    for file in ["share/zsh/site-functions/_bpfsyscalldist", "share/fish/vendor_completions.d/bpfsyscalldist.fish"] {
      let script = try String(contentsOfFile: "\(destination)/usr/\(file)", encoding: .utf8)
      XCTAssertTrue(script.contains("series-idle") && script.contains("request-timeout"), file)
    }
    // the installed binary finds the installed profiles before its built-in copies
    let list = try ToolRun.complete(["--list-profiles"], environment: ["HOME": destination], executable: "\(destination)/usr/bin/syscalldist")
    XCTAssertTrue(list.stdout.contains("[\(destination)/usr/share/bpfsyscalldist/profiles/futex.yaml]"), list.stdout)
  }

  /// serve is handed its arguments whole: a trace option before the word would be lost there.
  func testServeAfterTraceOptionsIsOneLineNotIgnoredOptions() throws {
    let result = try ToolRun.complete(["-d", "1", "serve", "--listen", "9999"])
    XCTAssertEqual(result.status, 2, result.stderr)
    XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
    XCTAssertTrue(result.stderr.contains("'serve' must be the first word"), result.stderr)
  }

  /// Bad values get one line and exit 2.
  func testBadSlowCallArgumentsAreOneLine() throws {
    for arguments in [
      ["--slower-than", "10"], ["--slower-than", "-1ms"], ["--ring-buffer-size", "3000", "--slower-than", "1ms"],
      ["--stacks"], ["--slower-than", "1ms", "--format", "openmetrics"],
    ] {
      let result = try ToolRun.complete(arguments + ["-d", "1"])
      XCTAssertEqual(result.status, 2, "\(arguments): \(result.stderr)")
      XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
    }
  }

  func testBadBucketFlagsAreOneLineNamingTheFix() throws {
    for (argument, said) in [
      ("exponential:9", "the exponential schema must be from -4 to 8 (got 9)"),
      ("exponential:x", "'x' is not a whole number"), ("linear", "linear buckets need min, max and step"),
      ("hdr", "expected log2, log2-linear[:SUB_BUCKETS] or exponential[:SCHEMA]"),
      ("log2-linear:3", "log2-linear takes 1, 2, 4, 8 or 16 sub-buckets (got 3)"),
    ] {
      let result = try ToolRun.complete(["--buckets", argument, "-d", "1"])
      XCTAssertEqual(result.status, 2, "\(argument): \(result.stderr)")
      XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
      XCTAssertTrue(result.stderr.contains("--buckets \(argument): \(said)"), result.stderr)
    }
  }

  /// openat's key already is the outcome: splitting by outcome would repeat the label.
  func testSplittingAProfileKeyedByOutcomeIsRefused() throws {
    let result = try ToolRun.complete(["--profile", "openat", "--split-outcome"])
    XCTAssertEqual(result.status, 2)
    XCTAssertEqual(
      result.stderr,
      "bpfsyscalldist: error: --split-outcome adds the label 'outcome', which profile openat already uses for its key\n")
  }

  /// "Billion laughs": nine levels of aliases, each nine times the one before.
  func testAYAMLAliasBombIsRefusedAtOnce() throws {
    var text = "version: 1\nname: bomb\nprobe: {syscall: read}\na0: &a0 [x, x, x, x, x, x, x, x, x]\n"
    for level in 1...9 {
      let previous = "*a\(level - 1)"
      text += "a\(level): &a\(level) [\(Array(repeating: previous, count: 9).joined(separator: ", "))]\n"
    }
    let file = try temporaryProfile(text, name: "bomb")
    // refused before anything expands (about 20 ms here): the timeout only tells a hang
    let run = try ToolRun.complete(["--check", file], timeout: 30)
    XCTAssertEqual(run.status, 2)
    // the first alias: line 5 is "a1: &a1 [*a0, ...", its first '*' in column 10
    XCTAssertTrue(run.stderr.hasPrefix("\(file):5:10: "), run.stderr)
    XCTAssertTrue(run.stderr.contains("error: YAML aliases"), run.stderr)
  }

  /// serve's mistakes: one line and exit 2, or a broken config's every diagnostic with its place.
  func testServeRefusesBadArgumentsAndBrokenConfigs() throws {
    for arguments in [
      ["serve", "--config", "x.yaml", "--profile", "futex"], ["serve", "--listen", "localhost"],
      ["serve", "--max-series", "0"], ["serve", "--series-idle", "10"], ["serve", "--config", "/no/such.yaml"],
      ["serve", "--profile", "no-such-profile"], ["serve", "--min-bucket", "2s", "--max-bucket", "1s"],
    ] {
      let result = try ToolRun.complete(arguments)
      XCTAssertEqual(result.status, 2, "\(arguments): \(result.stderr)")
      XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "\(arguments): \(result.stderr)")
    }
    let config = try temporaryProfile("profiles:\n  - profile: futex\n    pid: zero\n", name: "serve")
    let result = try ToolRun.complete(["serve", "--config", config])
    XCTAssertEqual(result.status, 2)
    XCTAssertTrue(result.stderr.hasPrefix("\(config):3:10: error: 'pid' must be a whole number, found 'zero'"), result.stderr)
  }

  /// The unit `make install` writes is one systemd accepts, pointing at the installed binary and
  /// config, and that config is one `serve` accepts.
  func testTheInstalledSystemdUnitAndConfigAreValid() throws {
    let prefix = Scratch.directory.appending(path: "sd-unit-\(getpid())").path
    defer { try? FileManager.default.removeItem(atPath: prefix) }
    let make = try ToolRun.complete(
      [
        "-C", Products.packageRoot.path, "install-files", "CONFIG=\(Products.directory.lastPathComponent)",
        "PREFIX=\(prefix)", "SYSCONFDIR=\(prefix)/etc",
      ], executable: "/usr/bin/make")
    XCTAssertEqual(make.status, 0, make.stderr)
    let unit = "\(prefix)/lib/systemd/system/bpfsyscalldist.service"
    let text = try String(contentsOfFile: unit, encoding: .utf8)
    XCTAssertTrue(text.contains("ExecStart=\(prefix)/bin/bpfsyscalldist serve --config \(prefix)/etc/bpfsyscalldist/serve.yaml"), text)
    let verify = try ToolRun.complete(["verify", "--man=no", unit], executable: "/usr/bin/systemd-analyze")
    XCTAssertEqual(verify.status, 0, verify.stderr)
    XCTAssertEqual(verify.stderr, "")
    let config = try String(contentsOfFile: "\(prefix)/etc/bpfsyscalldist/serve.yaml", encoding: .utf8)
    XCTAssertNoThrow(try ServeConfig.load(text: config, file: "serve.yaml"))
  }
}

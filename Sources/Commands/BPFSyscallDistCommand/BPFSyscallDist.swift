import CommandCore
import ArgumentParser
import BPFKit
import Histograms
import Snapshots
import Profiles
import Rendering
import Tracer

@preconcurrency import Glibc

/// `bpfsyscalldist`: latency histograms of syscalls and kernel functions, as YAML profiles say.
public struct BPFSyscallDist: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "bpfsyscalldist",
    abstract: "Latency histograms of system calls and kernel functions, from eBPF.",
    discussion: """
      Attaches one pre-built BPF program, configured by a YAML profile, and prints a latency \
      histogram per key on Ctrl-C (SIGINT or SIGTERM), after --duration, or every --interval. \
      The default profile, bpfsyscalldist, shows bpf() per command; invoked as syscalldist, \
      the default is every syscall by name. 'bpfsyscalldist serve' serves profiles to Prometheus \
      over HTTP ('bpfsyscalldist serve --help'). See bpfsyscalldist(8) and bpfsyscalldist-profile(5).
      """,
    version: Release.version, subcommands: [ServeEntry.self, CompareCommand.self, HeatmapCommand.self, ReportCommand.self])

  @OptionGroup(title: "Profile") var profileOptions: ProfileOptions
  @OptionGroup(title: "Filters") var filterOptions: FilterOptions
  @OptionGroup(title: "Timing") var timingOptions: TimingOptions
  @OptionGroup(title: "Output") var outputOptions: OutputOptions
  @OptionGroup(title: "Slow calls") var slowCallFlags: SlowCallFlags
  @OptionGroup(title: "Profiles") var catalogOptions: CatalogOptions

  public init() {}

  /// The profile used when --profile is not given: it follows the name the tool was run by.
  static var defaultProfile: String {
    let invokedAs = CommandLine.arguments.first?.split(separator: "/").last.map(String.init)
    return invokedAs == "syscalldist" ? "syscalldist" : "bpfsyscalldist"
  }

  public func run() throws {
    // Before any thread exists: SIGINT/SIGTERM wait for sigtimedwait, even when inherited as ignored.
    Signals.block()
    let catalog = ProfileCatalog.standard()
    if catalogOptions.listProfiles { return try listProfiles(catalog) }
    if let name = catalogOptions.printProfile { return try printProfile(name, catalog) }
    LibbpfLog.install(verbose: outputOptions.verbose)
    let btf = try? VmlinuxBTF()
    if let argument = catalogOptions.check { return try check(argument, catalog, btf) }

    let profile = try loadProfile(profileOptions.profile ?? Self.defaultProfile, catalog, btf)
    if profileOptions.splitOutcome && profile.keyLabels.contains("outcome") {
      throw Failure.usage("--split-outcome adds the label 'outcome', which profile \(profile.name) already uses for its key")
    }
    var notes: [String] = []
    var enumerators: [UInt64: String] = [:]
    if let name = profile.decoding.btfEnum {
      if let found = btf?.enumerators(of: name) {
        enumerators = found
      } else {
        notes.append("the kernel's BTF is not readable: names come from the profile's 'map' alone")
      }
    }
    let slowCalls = try slowCallFlags.options(profileDefault: profile.slowerThanNanoseconds)
    let format = outputOptions.effectiveFormat
    if slowCalls != nil && format == .openmetrics {
      throw Failure.usage("--slower-than prints a line per call, which OpenMetrics cannot carry: use text or JSON")
    }
    if outputOptions.heatmap {
      guard timingOptions.interval != nil else { throw Failure.usage("--heatmap draws a column per interval: give -i SECONDS") }
      guard format == .text else { throw Failure.usage("--heatmap draws text: drop -j or --format \(format.rawValue) (--record keeps the JSON)") }
      guard slowCalls == nil else {
        let asked = slowCallFlags.slowerThan != nil ? "--slower-than's lines" : "the slow calls profile \(profile.name)'s slower_than prints"
        throw Failure.usage("--heatmap redraws the screen each interval, over \(asked): keep them with --record or --report instead")
      }
    }
    var request = TraceRequest(
      profile: profile, enumerators: enumerators, filters: filterOptions.filters,
      splitOutcome: profileOptions.splitOutcome, forcedMethod: profileOptions.probeMethod.method,
      limits: profileOptions.storage.limits, trackConcurrency: profileOptions.concurrency, slowCalls: slowCalls,
      measureCost: outputOptions.cost, splitTime: profileOptions.offCPU || profile.offCPU)
    request.laterNotes = { Output.status("note: " + $0) }
    let cgroups = CgroupPaths()
    let decoder = ProfileLookup.decoder(for: profile, enumerators: enumerators, btf: btf, cgroups: cgroups)
    let session: Session
    let recorder = RunRecorder(
      file: try outputOptions.record.map { try RecordFile(path: $0) },
      report: try outputOptions.report.map { try ReportFile(path: $0, flag: "--report") })
    do {
      let tracer = try Tracer(request)
      session = Session(
        tracer: tracer, profile: profile, decoder: decoder, timing: timingOptions, format: format,
        slowCalls: slowCalls.map {
          SlowCallPrinter(
            format: format, stacks: slowCallFlags.stacks, decoder: decoder, keyLabel: profile.keyLabel,
            threshold: $0.thresholdNanoseconds, timeSplit: request.splitTime, recorder: recorder)
        }, recorder: recorder, heatmap: outputOptions.heatmap ? LiveHeatmap() : nil, waitSiteNamer: WaitSiteNamer(tracer: tracer))
    } catch {
      throw Failure.tracer(error)
    }
    if outputOptions.verbose { notes.append("kernel maps: " + request.storage.description) }
    for line in notes + session.tracer.notes { Output.status("note: " + line) }
    for attachment in session.tracer.attachments { Output.status("Attached \(attachment)") }
    if let slowCalls {
      Output.status("Tracing calls slower than \(SlowCallFlags.spoken(slowCalls.thresholdNanoseconds)). Hit Ctrl-C to end.")
      try session.slowCalls?.start()
    } else {
      Output.status("Hit Ctrl-C to end.")
    }
    try session.run()
  }

  /// The profile a name or file gives, shown in the unit `--ns`, `-u` or `-m` asks for.
  func loadProfile(_ argument: String, _ catalog: ProfileCatalog, _ btf: VmlinuxBTF?) throws -> Profile {
    var profile = try ProfileLookup.profile(argument, catalog, btf)
    if let buckets = profileOptions.buckets {
      switch BucketLayout.parse(flag: buckets) {
      case .success(let layout): profile.layout = layout
      case .failure(let problem): throw Failure.usage("--buckets \(buckets): \(problem)")
      }
    }
    guard let (flag, unit) = outputOptions.unitOverride else { return profile }
    guard let shown = profile.showing(unit) else {
      guard case .linear(let min, let max, let step) = profile.layout else { return profile }
      throw Failure.usage(
        "\(flag) cannot show profile \(profile.name)'s linear buckets (min \(min), max \(max), step \(step) \(profile.unit.rawValue)) in \(unit.rawValue): they are not whole \(unit.rawValue)")
    }
    return shown
  }

  func listProfiles(_ catalog: ProfileCatalog) throws {
    let entries = catalog.all()
    let width = entries.map(\.name.count).max() ?? 0
    for entry in entries {
      let description = (try? ProfileLoader(enumSource: nil).load(text: entry.text, file: entry.fileName))?.description ?? "(does not load: --check it)"
      try Output.print(entry.name.padding(to: width) + "  " + description + "  [\(entry.origin)]")
    }
  }

  func printProfile(_ name: String, _ catalog: ProfileCatalog) throws {
    do {
      try Output.write(try catalog.entry(for: name).text)
    } catch let error as ProfileCatalog.LookupError {
      throw Failure.usage(error.description)
    }
  }

  func check(_ argument: String, _ catalog: ProfileCatalog, _ btf: VmlinuxBTF?) throws {
    let profile = try loadProfile(argument, catalog, btf)
    let enumerators = profile.decoding.btfEnum.flatMap { btf?.enumerators(of: $0) } ?? [:]
    let request = TraceRequest(
      profile: profile, enumerators: enumerators, splitOutcome: profileOptions.splitOutcome,
      limits: profileOptions.storage.limits)
    try Output.write(ProfileSummary.render(profile, enumerators: enumerators, storage: request.storage))
  }
}

extension BPFSyscallDist {
  /// The word that runs `bpfsyscalldist-serve` instead: `bpfsyscalldist serve ...`.
  static let serveCommand = "serve"

  public static func runAndExit() -> Never {
    let arguments = Array(CommandLine.arguments.dropFirst())
    // serve is its own binary beside this one: linking SwiftNIO here grew every run's peak
    // RSS by 14% (bench/README.md); it is found by its first word, as git finds its commands
    if arguments.first == serveCommand {
      let failure = Self.exec("bpfsyscalldist-serve", Array(arguments.dropFirst()))
      Output.status(failure.description)
      Glibc.exit(failure.exitCode)
    }
    // parsed as a command of its own: the trace mode's options (-j among them) are not its
    if arguments.first == CompareCommand.configuration.commandName {
      CommandRunner.run(CompareCommand.self, Array(arguments.dropFirst()))
    }
    if arguments.first == HeatmapCommand.configuration.commandName {
      CommandRunner.run(HeatmapCommand.self, Array(arguments.dropFirst()))
    }
    if arguments.first == ReportCommand.configuration.commandName {
      CommandRunner.run(ReportCommand.self, Array(arguments.dropFirst()))
    }
    CommandRunner.run(Self.self, arguments)
  }

  /// Replaces this process with `name`, found beside this binary; returns only on failure.
  static func exec(_ name: String, _ arguments: [String]) -> Failure {
    var own = "/proc/self/exe"
    if let resolved = realpath(own, nil) {
      own = String(cString: resolved)
      free(resolved)
    }
    let path = String(own[...(own.lastIndex(of: "/") ?? own.startIndex)]) + name
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    execv(path, argv)
    return .runtime("cannot run \(path) (\(String(cString: strerror(errno)))): it is installed beside bpfsyscalldist")
  }
}

extension String {
  func padding(to width: Int) -> String {
    count >= width ? self : self + String(repeating: " ", count: width - count)
  }
}

/// One of the tool's BPF programs, as the kernel's run-time statistics counted it.
public struct ProgramCost: Equatable, Sendable {
  public var name: String
  public var runs: UInt64
  public var nanoseconds: UInt64

  public init(name: String, runs: UInt64, nanoseconds: UInt64) {
    self.name = name
    self.runs = runs
    self.nanoseconds = nanoseconds
  }

  public var nanosecondsPerRun: Double? { runs == 0 ? nil : Double(nanoseconds) / Double(runs) }
}

/// What the tool's programs cost the traced system (`--cost`): the kernel's own count of their
/// runs and time, from when the statistics were turned on. Tail-called bucket steps run inside
/// their caller and are counted there.
public struct ToolCost: Equatable, Sendable {
  public var programs: [ProgramCost]
  /// Since the statistics were turned on.
  public var elapsedNanoseconds: UInt64
  /// Calls counted in the histograms meanwhile.
  public var countedCalls: UInt64

  public init(programs: [ProgramCost], elapsedNanoseconds: UInt64, countedCalls: UInt64) {
    self.programs = programs
    self.elapsedNanoseconds = elapsedNanoseconds
    self.countedCalls = countedCalls
  }

  public var nanoseconds: UInt64 { programs.reduce(0) { $0 &+ $1.nanoseconds } }
  /// All of the programs' time over the calls counted: what each counted call cost, the runs
  /// on other threads' calls the filters turned away included.
  public var nanosecondsPerCountedCall: Double? {
    countedCalls == 0 ? nil : Double(nanoseconds) / Double(countedCalls)
  }
  /// The programs' time as a share of one CPU over the elapsed time.
  public var shareOfOneCPU: Double? {
    elapsedNanoseconds == 0 ? nil : Double(nanoseconds) / Double(elapsedNanoseconds)
  }
}

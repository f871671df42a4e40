import CSyscallDist

/// Where the calls of a series spent their time, summed over them (`--off-cpu`): asleep
/// (blocked: a lock, I/O, a sleep) and waiting for a CPU (runnable: preempted, or woken and not
/// yet running), from the scheduler's hooks; the rest of the latency sum was on CPU.
public struct TimeSplit: Equatable, Sendable {
  public var blockedNanoseconds: UInt128
  public var runnableNanoseconds: UInt128

  /// The words each series keeps for it in the kernel (`SD_SPLIT_WORDS`), after the others.
  public static let kernelWords = Int(SD_SPLIT_WORDS.rawValue)

  public init(blockedNanoseconds: UInt128 = 0, runnableNanoseconds: UInt128 = 0) {
    self.blockedNanoseconds = blockedNanoseconds
    self.runnableNanoseconds = runnableNanoseconds
  }

  /// On CPU: the calls' latency sum less the time off CPU (never negative: the kernel keeps each
  /// call's parts within its latency).
  public func onCPUNanoseconds(ofSum sum: UInt128) -> UInt128 {
    let off = blockedNanoseconds &+ runnableNanoseconds
    return sum > off ? sum - off : 0
  }

  public func adding(_ other: TimeSplit) -> TimeSplit {
    TimeSplit(
      blockedNanoseconds: blockedNanoseconds &+ other.blockedNanoseconds,
      runnableNanoseconds: runnableNanoseconds &+ other.runnableNanoseconds)
  }
}

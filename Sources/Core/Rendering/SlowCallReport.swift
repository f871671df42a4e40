import Histograms
import Snapshots
import Symbols

@preconcurrency import Glibc

/// A stack of a slow call, as far as it could be named.
public enum StackReport: Equatable, Sendable {
  /// Not asked for, or (the kernel stack) the call never left the CPU.
  case notTaken
  /// Why the kernel could not keep it.
  case lost(String)
  /// Innermost first; `note` says what could not be named (the process had exited).
  case frames([Frame], note: String?)
}

/// One slow call, ready to print: keys decoded, stacks named.
public struct SlowCallReport: Equatable, Sendable {
  /// When it ended, in seconds since the epoch.
  public var wallClock: Double
  public var comm: String
  public var pid: UInt32
  public var tid: UInt32
  public var latencyNanoseconds: UInt64
  public var offCPUNanoseconds: UInt64
  public var longestOffCPUNanoseconds: UInt64
  /// With --off-cpu: of the time off CPU, waiting for a CPU and blocked.
  public var runnableNanoseconds: UInt64?
  public var blockedNanoseconds: UInt64?
  /// The decoded key, and its number where it has one.
  public var key: String
  public var rawKey: KeyNumber?
  /// `ok`, or the errno name it failed with.
  public var outcome: String
  public var userStack: StackReport
  public var kernelStack: StackReport

  public init(
    wallClock: Double, comm: String, pid: UInt32, tid: UInt32, latencyNanoseconds: UInt64, offCPUNanoseconds: UInt64,
    longestOffCPUNanoseconds: UInt64, key: String, rawKey: KeyNumber?, outcome: String,
    userStack: StackReport = .notTaken, kernelStack: StackReport = .notTaken
  ) {
    self.wallClock = wallClock
    self.comm = comm
    self.pid = pid
    self.tid = tid
    self.latencyNanoseconds = latencyNanoseconds
    self.offCPUNanoseconds = offCPUNanoseconds
    self.longestOffCPUNanoseconds = longestOffCPUNanoseconds
    self.key = key
    self.rawKey = rawKey
    self.outcome = outcome
    self.userStack = userStack
    self.kernelStack = kernelStack
  }

  /// The share of the latency spent off CPU, 0...1.
  public var offCPUShare: Double { share(offCPUNanoseconds) }

  /// The share of the latency `part` is, 0...1.
  func share(_ part: UInt64) -> Double {
    latencyNanoseconds == 0 ? 0 : min(1, Double(part) / Double(latencyNanoseconds))
  }
}

import CLibbpf

@preconcurrency import Glibc

/// BPF run-time statistics (each program's runs and time in them), on while this lives: a
/// `BPF_ENABLE_STATS` file descriptor, which the kernel counts as one holder of the same switch
/// the `kernel.bpf_stats_enabled` sysctl turns. So the statistics end with the process, even
/// killed, and the sysctl is never touched. While on, every BPF program on the host pays two
/// clock reads a run.
public final class RunTimeStatistics {
  private let descriptor: Int32
  /// CLOCK_MONOTONIC (ns) when they were turned on: programs' time is counted from then.
  public let since: UInt64

  public init() throws(BPFError) {
    descriptor = try check(.enableRunTimeStatistics, bpf_enable_stats(BPF_STATS_RUN_TIME))
    since = Self.monotonicNanoseconds()
  }

  deinit { close(descriptor) }

  /// CLOCK_MONOTONIC now, in ns: the clock `since` is on.
  public static func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
  }
}

@preconcurrency import Glibc

/// The two clocks the commands read: one for intervals, one for time stamps.
public enum Clock {
  /// Seconds on CLOCK_MONOTONIC: intervals and deadlines, unmoved by changes to the date.
  public static func monotonic() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
  }

  /// Seconds since the epoch (CLOCK_REALTIME): time stamps users read.
  public static func wall() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_REALTIME, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
  }
}

@preconcurrency import Glibc

/// SIGINT and SIGTERM end a run: blocked at start, then taken with sigtimedwait, so a signal
/// is never lost between prints and the program always prints what it gathered.
public enum Signals {
  /// Blocks SIGINT and SIGTERM (and, for `serve`, SIGHUP: reload) in this thread and every thread
  /// it starts after, so that only the waits below take them.
  public static func block(hangup: Bool = false) {
    var set = stopSet
    if hangup { sigaddset(&set, SIGHUP) }
    pthread_sigmask(SIG_BLOCK, &set, nil)
  }

  /// Waits up to `seconds` for SIGINT, SIGTERM or SIGHUP; returns the one that came, nil for none.
  public static func waitForSignal(seconds: Double) -> Int32? {
    var set = stopSet
    sigaddset(&set, SIGHUP)
    var timeout = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9))
    let signal = sigtimedwait(&set, nil, &timeout)
    return signal > 0 ? signal : nil  // EAGAIN: the time ran out; EINTR: another signal, wait again
  }

  /// Waits up to `seconds` (forever when nil); true when a stop signal came.
  public static func waitForStop(seconds: Double?) -> Bool {
    var set = stopSet
    guard let seconds else {
      var signal: Int32 = 0
      while sigwait(&set, &signal) != 0 {}
      return true
    }
    var timeout = timespec(
      tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9))
    while true {
      let result = sigtimedwait(&set, nil, &timeout)
      if result > 0 { return true }
      if errno == EAGAIN { return false }
      // EINTR: another signal (e.g. SIGWINCH) interrupted the wait; the remainder is lost, so
      // wait a short while more rather than the whole interval again
      timeout = timespec(tv_sec: 0, tv_nsec: 10_000_000)
    }
  }

  /// As `waitForStop(seconds:)`, calling `whenReadable` each time `descriptor` is readable. The
  /// wait is cut in slices of 100 ms, between which a stop signal is looked for.
  public static func waitForStop(seconds: Double?, watching descriptor: Int32, whenReadable: () throws -> Void) throws -> Bool {
    let deadline = seconds.map { Clock.monotonic() + $0 }
    while true {
      if waitForStop(seconds: 0) { return true }
      let remaining = deadline.map { max(0, $0 - Clock.monotonic()) }
      if remaining == 0 { return false }
      var watched = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
      if poll(&watched, 1, Int32((min(remaining ?? 0.1, 0.1) * 1000).rounded(.up))) > 0 { try whenReadable() }
    }
  }

  private static var stopSet: sigset_t {
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    sigaddset(&set, SIGTERM)
    return set
  }
}

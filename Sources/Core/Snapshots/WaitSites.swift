import CSyscallDist

/// Where calls blocked (--off-cpu): the kernel's sums of blocked time by the call's key as known
/// at entry and the kernel stack its thread left the CPU with.
public struct WaitSiteKey: Hashable, Sendable {
  /// The call's key at entry (an argument, the syscall; 0 when the key is found at exit).
  public var key: UInt64
  /// The `stacks` id; below 0: the stack was not taken or was lost.
  public var stack: Int64

  public init(key: UInt64, stack: Int64) {
    self.key = key
    self.stack = stack
  }
}

extension WaitSiteKey {
  /// For the time calls waited for locks of one kind (lock:contention_*, Linux 5.19 on: the
  /// kernel keeps it under SD_LOCK_SITE less the kind's LCB_F_* flags), those flags; nil for a
  /// stack.
  public var lockFlags: UInt64? {
    let base = Int64(SD_LOCK_SITE.rawValue)
    guard stack <= base, stack > base - 64 else { return nil }
    return UInt64(base - stack)
  }
}

/// A lock's kind from the flags lock:contention_begin gives (include/trace/events/lock.h), named
/// as `perf lock contention` names them.
public enum LockKind {
  static let spin: UInt64 = 1, read: UInt64 = 2, write: UInt64 = 4, rt: UInt64 = 8, percpu: UInt64 = 16, mutex: UInt64 = 32

  public static func name(flags: UInt64) -> String {
    let access = flags & read != 0 ? ":R" : flags & write != 0 ? ":W" : ""
    if flags & mutex != 0 { return "mutex" }  // spinning first (LCB_F_SPIN) or sleeping
    if flags & rt != 0 { return access.isEmpty ? "rt-mutex" : "rwlock-rt" + access }
    if flags & percpu != 0 { return "pcpu-sem" + access }
    if flags & spin != 0 { return access.isEmpty ? "spinlock" : "rwlock" + access }
    return access.isEmpty ? "semaphore" : "rwsem" + access
  }
}

/// Blocked time at one site, and how many stretches of it.
public struct WaitTotals: Equatable, Sendable {
  public var nanoseconds: UInt64
  public var count: UInt64

  public init(nanoseconds: UInt64, count: UInt64) {
    self.nanoseconds = nanoseconds
    self.count = count
  }

  public func adding(_ other: WaitTotals) -> WaitTotals {
    WaitTotals(nanoseconds: nanoseconds &+ other.nanoseconds, count: count &+ other.count)
  }

  public mutating func add(_ other: WaitTotals) { self = adding(other) }

  public static let zero = WaitTotals(nanoseconds: 0, count: 0)
}

/// A wait site as users read it: its frames named, its blocked time.
public struct NamedWaitSite: Equatable, Sendable {
  /// `__mutex_lock <- bpf_fd_array_map_update_elem <- map_update_elem`.
  public var site: String
  public var totals: WaitTotals

  public init(site: String, totals: WaitTotals) {
    self.site = site
    self.totals = totals
  }

  /// Sites summed by name (several stacks can end in the same frames), longest first.
  public static func named(_ sites: [(stack: Int64, totals: WaitTotals)], _ name: (Int64) -> String) -> [NamedWaitSite] {
    var byName: [String: WaitTotals] = [:]
    for (stack, totals) in sites {
      let site = name(stack)
      byName[site] = byName[site].map { $0.adding(totals) } ?? totals
    }
    return byName.map { NamedWaitSite(site: $0.key, totals: $0.value) }
      .sorted { $0.totals.nanoseconds == $1.totals.nanoseconds ? $0.site < $1.site : $0.totals.nanoseconds > $1.totals.nanoseconds }
  }

  /// Lock waits by kind, from their totals by the kinds' LCB_F_* flags (several name one kind).
  public static func lockKinds(_ byFlags: [UInt64: WaitTotals]) -> [NamedWaitSite] {
    named(byFlags.map { (Int64($0.key), $0.value) }) { LockKind.name(flags: UInt64($0)) }
  }
}

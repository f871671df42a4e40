/// Syscall and errno names of the architecture this binary runs on, from the tables vendored from
/// the newest kernel headers (`scripts/gen-tables.sh`), not the build host's.
public enum UAPINames {
  #if arch(arm64)
    public static let syscalls = UAPITables.arm64Syscalls
  #else
    public static let syscalls = UAPITables.x86_64Syscalls
  #endif
  public static let syscallNumbers: [String: Int] = Dictionary(
    syscalls.map { ($1, $0) }, uniquingKeysWith: min)
  public static let errnos = UAPITables.errnoNames

  /// Syscall keys are the numbers 0..<syscallKeyRange (`SD_SYSCALL_KEYS` on the BPF side);
  /// every other number, which no kernel has, counts under one more key, "invalid". 512 leaves
  /// room for the syscalls of years to come (x86_64 and arm64 end at 471 today).
  public static let syscallKeyRange = 512
  /// The dense key range of syscall keys: the numbers and the invalid key.
  public static let syscallKeyCount = syscallKeyRange + 1
  /// How the key of the syscall numbers no kernel has is shown.
  public static let invalidSyscallName = "invalid"

  /// 32-bit callers of this architecture whose numbers have a table here: ia32 on x86_64. Their
  /// calls of number n are keyed `keyBase + n` (`compat_key_base` on the BPF side) and shown as
  /// `ia32:NAME`. arm64 has none (no AArch32 table is vendored): its 32-bit calls are counted
  /// apart.
  public struct CompatABI: Sendable {
    public var name: String
    public var syscalls: [Int: String]
    /// The first key of its numbers: right after the native numbers and the invalid key.
    public var keyBase: Int { UAPINames.syscallKeyCount }
  }

  #if arch(x86_64)
    public static let compatABI: CompatABI? = CompatABI(name: "ia32", syscalls: UAPITables.ia32Syscalls)
  #else
    public static let compatABI: CompatABI? = nil
  #endif

  /// The dense key range when every syscall is keyed by number: the native numbers, the invalid
  /// key, and the 32-bit callers' numbers where they have a table.
  public static let allSyscallKeyCount = syscallKeyCount + (compatABI == nil ? 0 : syscallKeyRange)

  /// A syscall key's name: the native syscall, `invalid`, or `ia32:NAME` (`ia32:N` for a number
  /// the table does not have); nil for a native number no syscall has.
  public static func syscallName(forKey key: UInt64) -> String? {
    guard key < UInt64(allSyscallKeyCount) else { return nil }
    let key = Int(key)
    if key < syscallKeyRange { return syscalls[key] }
    if key == syscallKeyRange { return invalidSyscallName }
    guard let compat = compatABI else { return nil }
    let number = key - compat.keyBase
    return "\(compat.name):" + (compat.syscalls[number] ?? String(number))
  }

  /// The number the caller passed for a syscall key: a 32-bit caller's own number.
  public static func syscallNumber(forKey key: UInt64) -> UInt64 {
    guard let compat = compatABI, key >= UInt64(compat.keyBase), key < UInt64(allSyscallKeyCount) else { return key }
    return key - UInt64(compat.keyBase)
  }
  /// Errno keys stay below this: user-visible errnos end near 134, and the kernel-internal ones
  /// a syscall-exit hook can still see (ERESTARTSYS…) end at 531.
  public static let errnoKeyCount = 1024

  /// Kernel-internal errnos (include/linux/errno.h, not in the uapi headers). A syscall-exit hook
  /// sees them before signal handling turns them into a restart or EINTR.
  public static let kernelInternalErrnos: [Int: String] = [
    512: "ERESTARTSYS", 513: "ERESTARTNOINTR", 514: "ERESTARTNOHAND", 515: "ENOIOCTLCMD",
    516: "ERESTART_RESTARTBLOCK", 517: "EPROBE_DEFER", 518: "EOPENSTALE", 519: "ENOPARAM",
    521: "EBADHANDLE", 522: "ENOTSYNC", 523: "EBADCOOKIE", 524: "ENOTSUPP", 525: "ETOOSMALL",
    526: "ESERVERFAULT", 527: "EBADTYPE", 528: "EJUKEBOX", 529: "EIOCBQUEUED",
    530: "ERECALLCONFLICT", 531: "ENOGRACE",
  ]

  /// An errno's name, user-visible or kernel-internal, else "errno N".
  public static func errnoName(_ errno: UInt32) -> String {
    errnos[Int(errno)] ?? kernelInternalErrnos[Int(errno)] ?? "errno \(errno)"
  }

  /// How a call ended, as outcome labels, errno keys and slow-call lines say it: "ok" for 0,
  /// else the errno's name.
  public static func outcomeName(_ errno: UInt32) -> String {
    errno == 0 ? "ok" : errnoName(errno)
  }

  /// The vendored tables, for tests that compare them with other sources.
  public static var generatedTables: (
    x86_64: [Int: String], arm64: [Int: String], ia32: [Int: String], errno: [Int: String]
  ) {
    (UAPITables.x86_64Syscalls, UAPITables.arm64Syscalls, UAPITables.ia32Syscalls, UAPITables.errnoNames)
  }

  /// The closest known syscall name, for "did you mean".
  public static func suggestion(forSyscall name: String) -> String? {
    let limit = max(2, name.count / 3)
    var best: (name: String, distance: Int)?
    for candidate in syscallNumbers.keys.sorted() {
      let distance = editDistance(candidate, name)
      if distance <= limit && distance < (best?.distance ?? Int.max) {
        best = (candidate, distance)
      }
    }
    return best?.name
  }

  static func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.utf8), b = Array(b.utf8)
    var previous = Array(0...b.count)
    for i in 1...max(1, a.count) where !a.isEmpty {
      var current = [i] + Array(repeating: 0, count: b.count)
      for j in 1...max(1, b.count) where !b.isEmpty {
        current[j] = min(
          previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
      }
      previous = current
    }
    return a.isEmpty ? b.count : previous[b.count]
  }
}

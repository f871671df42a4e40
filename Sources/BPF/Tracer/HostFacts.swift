import BPFKit
import CLinuxShims
import Symbols
import SystemPackage

@preconcurrency import Glibc

/// What the running kernel and this process offer, read from /proc and /sys.
enum HostFacts {
  /// The capabilities tracing needs that this process lacks (empty: all there).
  static func missingCapabilities() -> [String] {
    guard let status = read("/proc/self/status"),
      let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }),
      let effective = UInt64(line.dropFirst(7).trimmingCharacters(in: " \t"), radix: 16)
    else { return [] }
    let sysAdmin: UInt64 = 1 << 21, perfmon: UInt64 = 1 << 38, bpf: UInt64 = 1 << 39
    if effective & sysAdmin != 0 { return [] }
    var missing: [String] = []
    if effective & bpf == 0 { missing.append("CAP_BPF") }
    if effective & perfmon == 0 { missing.append("CAP_PERFMON") }
    return missing
  }

  /// What refuses bpf() itself although the capabilities are there, or nil: a seccomp filter
  /// (a container runtime's default profile allows bpf() only with CAP_SYS_ADMIN), an LSM, or
  /// the kernel, for capabilities held in a user namespace, answers before the map's own checks,
  /// which would refuse the invalid map with EINVAL.
  static func bpfRefusal() -> (errno: Errno, by: TracerError.BPFRefuser)? {
    let refusal = Errno(rawValue: CLinuxShims_bpf_refusal())
    guard refusal.rawValue != 0 else { return nil }
    if refusal == .noFunction { return (refusal, .kernel) }
    // capabilities held in a user namespace (a rootless container) do not reach bpf()
    let identity = read("/proc/self/uid_map").map { $0.split(whereSeparator: \.isWhitespace) == ["0", "0", "4294967295"] } ?? true
    if !identity { return (refusal, .userNamespace) }
    // "Seccomp:\t2": a filter is in force
    let seccomp = read("/proc/self/status")?.split(separator: "\n").first { $0.hasPrefix("Seccomp:") }
    return (refusal, seccomp?.hasSuffix("2") ?? false ? .seccomp : .securityModule)
  }


  /// Where the program finds a task's ids, name and 32-bit status: offsets in the running
  /// kernel's `struct task_struct`, from its BTF (no CO-RE, so libbpf need not parse all of it).
  struct TaskLayout: Equatable {
    var pid, tgid, comm: Int
    /// The word that tells a 32-bit caller, and the bit that does.
    var compatOffset: Int
    var compatMask: UInt32
    /// `se.sum_exec_runtime`, the ns the task ran: what bounds a stretch off CPU whose end the
    /// sched_switch hook missed; 0: unknown.
    var runtime = 0
    /// The scheduler state (`__state`, `state` before 5.14): whether a task leaving a CPU blocks.
    var state = 0
  }

  /// `withRuntime`: look up `runtime` too (slow calls only: another pass over the BTF).
  static func taskLayout(_ btf: VmlinuxBTF, withRuntime: Bool) -> TaskLayout? {
    guard let task = btf.memberOffsets(of: "task_struct", ["pid", "tgid", "comm", "thread_info", "se", "__state", "state"]),
      let pid = task["pid"], let tgid = task["tgid"], let comm = task["comm"]
    else { return nil }
    let state = task["__state"] ?? task["state"] ?? 0
    let runtime = task["se"].flatMap { se in
      guard withRuntime else { return nil }
      return btf.memberOffsets(of: "sched_entity", ["sum_exec_runtime"])?["sum_exec_runtime"].map { se + $0 }
    } ?? 0
    #if arch(x86_64)
      // TS_COMPAT in thread_info.status: an ia32 syscall is running (int $0x80 sets it too)
      guard let threadInfo = task["thread_info"], let status = btf.memberOffsets(of: "thread_info", ["status"])?["status"]
      else { return nil }
      return TaskLayout(
        pid: pid, tgid: tgid, comm: comm, compatOffset: threadInfo + status, compatMask: 0x2, runtime: runtime, state: state)
    #else
      // arm64 tells AArch32 callers by their saved PSTATE (bpf/sd_task.bpf.h)
      return TaskLayout(pid: pid, tgid: tgid, comm: comm, compatOffset: 0, compatMask: 0, runtime: runtime, state: state)
    #endif
  }

  /// The pid namespace this process runs in, as nsfs names it, unless it is the initial one
  /// (whose ids the kernel's own are).
  static var pidNamespace: (device: UInt64, inode: UInt64)? {
    var info = stat()
    let initialInode: UInt64 = 0xEFFF_FFFC  // PROC_PID_INIT_INO
    guard stat("/proc/self/ns/pid", &info) == 0, UInt64(info.st_ino) != initialInode else { return nil }
    return (UInt64(info.st_dev), UInt64(info.st_ino))
  }

  static func processExists(_ pid: Int32) -> Bool {
    access("/proc/\(pid)", F_OK) == 0
  }

  static func threadExists(_ tid: Int32) -> Bool {
    access("/proc/\(tid)/task/\(tid)", F_OK) == 0  // /proc/TID resolves for any thread
  }

  /// The running kernel's release, as `uname -r` says it.
  static var release: String {
    var names = utsname()
    uname(&names)
    return withUnsafeBytes(of: names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
  }

  /// Whether `/proc/kallsyms` has the function `name`, and up to three symbols whose names hold
  /// it (what the kernel calls it instead: `__do_sys_bpf` for `__sys_bpf` on Linux 5.10). Its
  /// 100,000-odd lines are scanned as bytes: as Substrings they took seconds.
  static func kernelSymbols(like name: String) -> (exists: Bool, similar: [String]) {
    guard let table = ProcFile.read("/proc/kallsyms") else { return (true, []) }  // unreadable: let the attach say
    let wanted = Array(name.utf8)
    let stem = Array(name.drop { $0 == "_" }.utf8)
    var similar: Set<String> = []
    return table.withUnsafeBufferPointer { bytes -> (Bool, [String]) in
      var line = 0
      while line < bytes.count {
        var end = line
        while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
        // "ffffffff81000000 T name\t[module]": a type letter after the address, then the name
        var type = line
        while type < end && bytes[type] != UInt8(ascii: " ") { type += 1 }
        let start = type + 3
        if start < end, [UInt8(ascii: "t"), UInt8(ascii: "T"), UInt8(ascii: "w"), UInt8(ascii: "W")].contains(bytes[type + 1]) {
          var stop = start
          while stop < end && bytes[stop] != UInt8(ascii: " ") && bytes[stop] != UInt8(ascii: "\t") { stop += 1 }
          let symbol = UnsafeBufferPointer(rebasing: bytes[start..<stop])
          if symbol.elementsEqual(wanted) { return (true, []) }
          if similar.count < 3, !stem.isEmpty, symbol.contains(stem) {
            similar.insert(String(decoding: symbol, as: UTF8.self))
          }
        }
        line = end + 1
      }
      return (false, similar.sorted())
    }
  }

  /// The kernel has kprobes (a kprobe PMU).
  static var hasKprobes: Bool {
    access("/sys/bus/event_source/devices/kprobe/type", F_OK) == 0
  }

  /// Opens a cgroup v2 directory, for the program's cgroup filter; the caller closes it.
  static func openCgroup(_ path: String) throws(TracerError) -> FileDescriptor {
    let directory: FileDescriptor
    do {
      directory = try FileDescriptor.open(path, .readOnly, options: [.directory, .closeOnExec])
    } catch {
      throw .cgroupUnreadable(path: path, error as? Errno ?? .ioError)
    }
    guard CLinuxShims_is_cgroup2(path) == 1 else {
      try? directory.close()
      throw .notCgroup2(path: path)
    }
    return directory
  }

  /// A whole file (/proc and /sys files report no size), as text.
  static func read(_ path: String) -> String? {
    ProcFile.read(path).map { String(decoding: $0, as: UTF8.self) }
  }
}

extension Substring {
  fileprivate func trimmingCharacters(in set: String) -> Substring {
    var result = self
    while let first = result.first, set.contains(first) { result = result.dropFirst() }
    while let last = result.last, set.contains(last) { result = result.dropLast() }
    return result
  }
}

extension String {
  fileprivate func trimmingCharacters(in set: String) -> Substring {
    self[...].trimmingCharacters(in: set)
  }
}

extension UnsafeBufferPointer<UInt8> {
  /// Whether `needle` appears in these bytes.
  fileprivate func contains(_ needle: [UInt8]) -> Bool {
    guard needle.count <= count else { return false }
    for start in 0...(count - needle.count) where self[start] == needle[0] {
      if self[start..<start + needle.count].elementsEqual(needle) { return true }
    }
    return false
  }
}

import BPFKit
import CLinuxShims
@preconcurrency import Glibc

/// What the running kernel and this process offer, read from /proc and /sys.
enum KernelFacts {
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

  /// Thread ids go up to this; the per-thread start array has one slot each.
  static var pidMax: Int {
    read("/proc/sys/kernel/pid_max").flatMap { Int($0.trimmingCharacters(in: " \n")) } ?? 4_194_304
  }

  static func processExists(_ pid: Int32) -> Bool {
    access("/proc/\(pid)", F_OK) == 0
  }

  static func threadExists(_ tid: Int32) -> Bool {
    access("/proc/\(tid)/task/\(tid)", F_OK) == 0  // /proc/TID resolves for any thread
  }

  /// Why kprobes cannot work here, or nil if the kernel has them.
  static var kprobesMissingReason: String? {
    access("/sys/bus/event_source/devices/kprobe/type", F_OK) == 0
      ? nil : "the kernel has no kprobe PMU (CONFIG_KPROBES is off)"
  }

  /// The cgroup v2 id of a cgroup directory: its inode number.
  static func cgroupID(_ path: String) throws(TracerError) -> UInt64 {
    var info = stat()
    guard stat(path, &info) == 0 else {
      throw .cgroupUnreadable(path: path, reason: Errno.current.description)
    }
    guard CLinuxShims_is_cgroup2(path) == 1 else {
      throw .cgroupUnreadable(path: path, reason: "not on a cgroup v2 file system")
    }
    return UInt64(info.st_ino)
  }

  static func read(_ path: String) -> String? {
    guard let file = fopen(path, "r") else { return nil }
    defer { fclose(file) }
    var text = ""
    var buffer = [CChar](repeating: 0, count: 4096)
    while fgets(&buffer, Int32(buffer.count), file) != nil {
      text += String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    return text
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

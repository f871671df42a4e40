import CSyscallDist
import Profiles

/// What a key part's fd named when the call began, as the kernel described it (`SD_FD_WORDS`
/// words: kind, type and id; then the object's name), and whether the fd still named it at the
/// call's end.
public struct FDObject: Hashable, Sendable {
  public var kind: UInt8
  /// A BPF map's or program's type, a socket's address family.
  public var type: UInt16
  /// A BPF map's or program's id; for an fd not open, the fd.
  public var id: UInt32
  public var name: String
  public var closedInCall: Bool
  public var reusedInCall: Bool

  public init(words: [UInt64]) {
    let first = words.first ?? 0
    kind = UInt8(first >> 56)
    type = UInt16(truncatingIfNeeded: first >> 32)
    id = UInt32(truncatingIfNeeded: first)
    closedInCall = first & SD_FD_CLOSED_IN_CALL != 0
    reusedInCall = first & SD_FD_REUSED_IN_CALL != 0
    let nameWords = Array(words.dropFirst().prefix(2))
    name = nameWords.withUnsafeBytes { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
  }

  /// The names of BPF map and program types (the kernel's `bpf_map_type`, `bpf_prog_type`).
  public struct TypeNames: Sendable {
    public var maps: [UInt64: String]
    public var programs: [UInt64: String]

    public init(maps: [UInt64: String] = [:], programs: [UInt64: String] = [:]) {
      self.maps = maps
      self.programs = programs
    }
  }

  /// As users read it: `prog_array xdp_progs (id 42)`, `prog xdp dispatcher (id 7)`, `socket
  /// inet6`, `pipe`, `fd 9 not open`; `, closed during the call` or `, reused during the call`
  /// when the fd no longer named it at the end.
  public func description(_ names: TypeNames) -> String {
    var text: String
    switch sd_fd_kind(rawValue: UInt32(kind)) {
    case .SD_FD_NOT_READ: return KeyPart.notRead
    case .SD_FD_UNREADABLE: return "unreadable"
    case .SD_FD_NOT_OPEN: return "fd \(Int32(bitPattern: id)) not open"
    case .SD_FD_BPF_MAP:
      text = (Self.shortName(names.maps[UInt64(type)], prefix: "BPF_MAP_TYPE_") ?? "map type \(type)") + objectName
    case .SD_FD_BPF_PROG:
      text = "prog " + (Self.shortName(names.programs[UInt64(type)], prefix: "BPF_PROG_TYPE_") ?? "type \(type)") + objectName
    case .SD_FD_SOCKET:
      text = "socket " + (Self.families[type] ?? "family \(type)")
    case let other?:
      text = Self.kinds[other] ?? "kind \(kind)"
    case nil:
      text = "kind \(kind)"
    }
    if closedInCall { text += ", closed during the call" }
    if reusedInCall { text += ", reused during the call" }
    return text
  }

  private var objectName: String { (name.isEmpty ? "" : " \(name)") + " (id \(id))" }

  /// `BPF_MAP_TYPE_PROG_ARRAY` as `prog_array`.
  private static func shortName(_ name: String?, prefix: String) -> String? {
    guard let name else { return nil }
    return (name.hasPrefix(prefix) ? String(name.dropFirst(prefix.count)) : name).lowercased()
  }

  static let kinds: [sd_fd_kind: String] = [
    .SD_FD_BPF_LINK: "bpf link", .SD_FD_EVENTFD: "eventfd", .SD_FD_EPOLL: "epoll", .SD_FD_TIMERFD: "timerfd",
    .SD_FD_SIGNALFD: "signalfd", .SD_FD_PIDFD: "pidfd", .SD_FD_PERF_EVENT: "perf event", .SD_FD_IO_URING: "io_uring",
    .SD_FD_INOTIFY: "inotify", .SD_FD_USERFAULTFD: "userfaultfd", .SD_FD_REGULAR: "regular file",
    .SD_FD_DIRECTORY: "directory", .SD_FD_PIPE: "pipe", .SD_FD_CHAR_DEVICE: "char device",
    .SD_FD_BLOCK_DEVICE: "block device", .SD_FD_SYMLINK: "symlink", .SD_FD_OTHER: "anonymous inode",
  ]

  /// linux/socket.h's AF_* numbers, the families a host has sockets of.
  static let families: [UInt16: String] = [
    1: "unix", 2: "inet", 10: "inet6", 16: "netlink", 17: "packet", 38: "alg", 40: "vsock", 44: "xdp",
  ]
}

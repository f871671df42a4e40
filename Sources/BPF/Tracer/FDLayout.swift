import BPFKit
import CSyscallDist

/// What the program reads to tell what an fd names (`bpf/sd_key.bpf.h`): the fd table's fields
/// and those of the objects it describes, at offsets from the running kernel's BTF, and the names
/// the kernel gives the anonymous inode's files of each kind.
enum FDLayout {
  /// Each kind whose files are the anonymous inode's, by the name the kernel gives them (what
  /// `/proc/PID/fd` shows after `anon_inode:`). Before Linux 6.9 pidfds were too.
  static let anonymousNames: [(sd_fd_kind, String)] = [
    (.SD_FD_BPF_MAP, "bpf-map"), (.SD_FD_BPF_PROG, "bpf-prog"), (.SD_FD_BPF_LINK, "bpf_link"),
    (.SD_FD_EVENTFD, "[eventfd]"), (.SD_FD_EPOLL, "[eventpoll]"), (.SD_FD_TIMERFD, "[timerfd]"),
    (.SD_FD_SIGNALFD, "[signalfd]"), (.SD_FD_PIDFD, "[pidfd]"), (.SD_FD_PERF_EVENT, "[perf_event]"),
    (.SD_FD_IO_URING, "[io_uring]"), (.SD_FD_INOTIFY, "inotify"), (.SD_FD_USERFAULTFD, "[userfaultfd]"),
  ]

  /// The layout, or what the kernel's BTF lacks for it.
  static func read(_ btf: VmlinuxBTF) -> Result<sd_fd_layout, Unavailable> {
    var layout = sd_fd_layout()
    // (struct, field path, where): a path's fields are in the structs that follow each other
    let wanted: [(type: String, fields: [(String, String)], into: WritableKeyPath<sd_fd_layout, UInt32>)] = [
      ("task_struct", [("task_struct", "files")], \.task_files), ("files_struct", [("files_struct", "fdt")], \.files_fdt),
      ("fdtable", [("fdtable", "max_fds")], \.fdt_max_fds), ("fdtable", [("fdtable", "fd")], \.fdt_fd),
      ("file", [("file", "f_path"), ("path", "dentry")], \.file_dentry),
      ("file", [("file", "private_data")], \.file_private_data), ("file", [("file", "f_inode")], \.file_f_inode),
      ("inode", [("inode", "i_mode")], \.inode_i_mode), ("inode", [("inode", "i_sb")], \.inode_i_sb),
      ("super_block", [("super_block", "s_magic")], \.sb_magic),
      ("dentry", [("dentry", "d_name"), ("qstr", "name")], \.dentry_name),
      ("bpf_map", [("bpf_map", "map_type")], \.map_type), ("bpf_map", [("bpf_map", "id")], \.map_id),
      ("bpf_map", [("bpf_map", "name")], \.map_name), ("bpf_prog", [("bpf_prog", "type")], \.prog_type),
      ("bpf_prog", [("bpf_prog", "aux")], \.prog_aux), ("bpf_prog_aux", [("bpf_prog_aux", "id")], \.prog_aux_id),
      ("bpf_prog_aux", [("bpf_prog_aux", "name")], \.prog_aux_name), ("socket", [("socket", "sk")], \.socket_sk),
      ("sock_common", [("sock_common", "skc_family")], \.sk_family),
    ]
    var layouts: [String: VmlinuxBTF.Layout] = [:]
    for (_, path, into) in wanted {
      var offset = 0
      for (type, field) in path {
        if layouts[type] == nil { layouts[type] = btf.layout(of: type) }
        guard let place = layouts[type]?.fields[field] else {
          return .failure(Unavailable(reason: "the kernel's BTF has no struct \(type) with a field \(field)"))
        }
        offset += place.offset
      }
      layout[keyPath: into] = UInt32(offset)
    }
    // struct sock begins with its sock_common; say so rather than assume it
    guard btf.layout(of: "sock")?.fields["__sk_common"]?.offset == 0 else {
      return .failure(Unavailable(reason: "the kernel's struct sock does not begin with its sock_common"))
    }
    withUnsafeMutableBytes(of: &layout.anon_names) { raw in
      for (kind, name) in anonymousNames {
        for (index, byte) in name.utf8.prefix(15).enumerated() { raw[Int(kind.rawValue) * 16 + index] = byte }
      }
    }
    return .success(layout)
  }

  struct Unavailable: Error {
    var reason: String
  }
}

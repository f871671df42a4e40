import CLibbpf
@preconcurrency import Glibc

/// A loaded program; holds its object so the fd stays valid.
public struct Program {
  public let name: String
  let pointer: OpaquePointer
  let owner: LoadedObject

  init(name: String, pointer: OpaquePointer, owner: LoadedObject) {
    self.name = name
    self.pointer = pointer
    self.owner = owner
  }

  public var fd: Int32 { bpf_program__fd(pointer) }

  /// Runs the kernel skipped this program because another BPF program was running on the CPU
  /// (recursion protection): events it never saw.
  public func recursionMisses() throws(BPFError) -> UInt64 {
    try info().recursion_misses
  }

  /// The runs and the time in them (ns) the kernel kept while run-time statistics were on
  /// (`RunTimeStatistics`). A program reached by a tail call is never counted: its runs and time
  /// are its caller's.
  public func runTime() throws(BPFError) -> (runs: UInt64, nanoseconds: UInt64) {
    let info = try info()
    return (info.run_cnt, info.run_time_ns)
  }

  private func info() throws(BPFError) -> bpf_prog_info {
    var info = bpf_prog_info()
    var length = UInt32(MemoryLayout<bpf_prog_info>.size)
    try check(.readProgramInfo(name), bpf_obj_get_info_by_fd(fd, &info, &length))
    return info
  }

  /// Runs the program once on `context` with BPF_PROG_TEST_RUN (raw_tp programs: the
  /// tracepoint's arguments), on CPU `cpu`; returns its return value.
  public func testRun(context: [UInt64], cpu: UInt32) throws(BPFError) -> UInt32 {
    var options = bpf_test_run_opts()
    options.sz = MemoryLayout<bpf_test_run_opts>.size
    options.flags = UInt32(BPF_F_TEST_RUN_ON_CPU)
    options.cpu = cpu
    var arguments = context
    let result = arguments.withUnsafeMutableBytes { bytes -> Int32 in
      options.ctx_in = UnsafeRawPointer(bytes.baseAddress)
      options.ctx_size_in = UInt32(bytes.count)
      return bpf_prog_test_run_opts(fd, &options)
    }
    try check(.testRun(name), result)
    return options.retval
  }

  /// `tracepoint(category/name)`: needs tracefs to find the event id.
  public func attachTracepoint(category: String, name event: String) throws(BPFError) -> Link {
    let attachment = Attachment.tracepoint(category: category, name: event)
    return Link(try check(.attach(attachment), bpf_program__attach_tracepoint(pointer, category, event)), attachment)
  }

  /// `raw_tp(name)`: no tracefs needed.
  public func attachRawTracepoint(_ event: String) throws(BPFError) -> Link {
    let attachment = Attachment.rawTracepoint(event)
    return Link(try check(.attach(attachment), bpf_program__attach_raw_tracepoint(pointer, event)), attachment)
  }

  /// tp_btf, fentry and fexit: the target was fixed at load; `attachment` says which it is.
  public func attachTrace(as attachment: Attachment) throws(BPFError) -> Link {
    Link(try check(.attach(attachment), bpf_program__attach_trace(pointer)), attachment)
  }

  /// `kprobe(function)`; returns are attached through `KretprobeEvents`, which sets how many
  /// calls in flight the kernel tracks.
  public func attachKprobe(function: String) throws(BPFError) -> Link {
    let attachment = Attachment.kprobe(function)
    return Link(try check(.attach(attachment), bpf_program__attach_kprobe(pointer, false, function)), attachment)
  }
}

/// An attachment; destroyed (detached) when the last reference goes.
public final class Link {
  private let pointer: OpaquePointer
  /// What was attached, as the "Attached ..." line says it: `tracepoint(syscalls/sys_enter_bpf)`.
  public let attachment: Attachment

  /// Runs after the link is destroyed: removes what the attach made beside it (a kprobe event).
  private let cleanup: (() -> Void)?

  init(_ pointer: OpaquePointer, _ attachment: Attachment, cleanup: (() -> Void)? = nil) {
    self.pointer = pointer
    self.attachment = attachment
    self.cleanup = cleanup
  }

  deinit {
    bpf_link__destroy(pointer)
    cleanup?()
  }
}

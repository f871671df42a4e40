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

  /// `tracepoint(category/name)`: needs tracefs to find the event id.
  public func attachTracepoint(category: String, name event: String) throws(BPFError) -> Link {
    let description = "tracepoint(\(category)/\(event))"
    let link = try check("attach \(description)", bpf_program__attach_tracepoint(pointer, category, event))
    return Link(link, description: description)
  }

  /// `raw_tp(name)`: no tracefs needed.
  public func attachRawTracepoint(_ event: String) throws(BPFError) -> Link {
    let description = "raw_tp(\(event))"
    let link = try check("attach \(description)", bpf_program__attach_raw_tracepoint(pointer, event))
    return Link(link, description: description)
  }

  /// tp_btf, fentry and fexit: the target was fixed at load.
  public func attachTrace(description: String) throws(BPFError) -> Link {
    let link = try check("attach \(description)", bpf_program__attach_trace(pointer))
    return Link(link, description: description)
  }

  public func attachKprobe(function: String, returning: Bool) throws(BPFError) -> Link {
    let description = returning ? "kretprobe(\(function))" : "kprobe(\(function))"
    let link = try check("attach \(description)", bpf_program__attach_kprobe(pointer, returning, function))
    return Link(link, description: description)
  }
}

/// An attachment; destroyed (detached) when the last reference goes.
public final class Link {
  private let pointer: OpaquePointer
  /// What was attached, as the "Attached ..." line says it: `tracepoint(syscalls/sys_enter_bpf)`.
  public let description: String

  init(_ pointer: OpaquePointer, description: String) {
    self.pointer = pointer
    self.description = description
  }

  deinit {
    bpf_link__destroy(pointer)
  }
}

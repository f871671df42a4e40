/// How the program hooks the kernel. A profile says what to probe; this says how.
public enum ProbeMethod: String, CaseIterable, Sendable {
  /// `syscalls:sys_{enter,exit}_NAME` or `raw_syscalls:*`; needs tracefs to find the event.
  case tracepoint
  /// `raw_tp/sys_{enter,exit}`: every syscall runs it, filtered in the kernel; no tracefs.
  case rawTracepoint = "raw_tp"
  /// `tp_btf/sys_{enter,exit}`: like raw_tp, reads arguments without probe_read; needs BTF.
  case btfTracepoint = "tp_btf"
  /// fentry/fexit on a kernel function; needs BTF and ftrace sites.
  case fentry
  /// kprobe/kretprobe on a kernel function; needs CONFIG_KPROBES.
  case kprobe
}

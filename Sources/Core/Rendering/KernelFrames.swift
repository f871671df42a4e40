import Symbols

/// Kernel stacks taken at sched_switch, as people read them.
public enum KernelFrames {
  /// Such a stack starts in the tool's own program and the tracepoint's call of it: those frames
  /// say nothing of the call, and go.
  public static func withoutTracer(_ frames: [Frame]) -> [Frame] {
    let prefixes = ["bpf_trace_run", "__bpf_trace_", "__traceiter_", "bpf_prog_"]
    let tracer = frames.prefix { frame in
      frame.module == "bpf" || prefixes.contains { frame.function?.hasPrefix($0) ?? false }
    }
    return Array(frames.dropFirst(tracer.count))
  }

  /// A wait site: the first three frames past the tool's and the scheduler's own (`schedule`,
  /// `schedule_timeout`, `io_schedule`, ...), innermost first:
  /// `__mutex_lock <- bpf_fd_array_map_update_elem <- map_update_elem`.
  public static func waitSite(_ frames: [Frame]) -> String {
    let scheduler = ["__schedule", "schedule", "preempt_schedule", "io_schedule", "__cond_resched", "_cond_resched"]
    let own = withoutTracer(frames)
    let past = own.drop { frame in scheduler.contains { frame.function?.hasPrefix($0) ?? false } }
    let names = past.prefix(3).map { $0.function ?? "0x" + String($0.address, radix: 16) }
    return names.isEmpty ? "(the scheduler alone)" : names.joined(separator: " <- ")
  }
}

import CLibbpf
import SystemPackage

/// Waits until every BPF program running on the system has returned. After a map-in-map is
/// updated from user space, the kernel waits for an RCU grace period before the update returns
/// (`maybe_wait_bpf_programs`), so that the caller knows no program still uses the old value:
/// every non-sleepable program runs inside an RCU read-side section, so none that was running
/// then still is. That holds on any number of CPUs, with nohz_full or a preemptible kernel, which
/// membarrier(2) does not promise. The barrier owns two one-entry maps of its own.
public final class ProgramBarrier {
  private let inner: FileDescriptor
  private let outer: FileDescriptor

  public init() throws(BPFError) {
    inner = FileDescriptor(
      rawValue: try check(.createBarrier, bpf_map_create(BPF_MAP_TYPE_ARRAY, "sd_barrier_in", 4, 4, 1, nil)))
    var options = bpf_map_create_opts()
    options.sz = MemoryLayout<bpf_map_create_opts>.size
    options.inner_map_fd = UInt32(inner.rawValue)
    do {
      outer = FileDescriptor(
        rawValue: try check(.createBarrier, bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "sd_barrier", 4, 4, 1, &options)))
    } catch {
      try? inner.close()
      throw error
    }
  }

  deinit {
    try? outer.close()
    try? inner.close()
  }

  /// Returns once every BPF program that was running when it was called has returned.
  public func wait() throws(BPFError) {
    var key: UInt32 = 0
    var value = UInt32(inner.rawValue)
    try check(.waitForPrograms, bpf_map_update_elem(outer.rawValue, &key, &value, UInt64(BPF_ANY)))
  }
}

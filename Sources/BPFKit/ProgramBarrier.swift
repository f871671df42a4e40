import CLibbpf
@preconcurrency import Glibc

/// Waits until every BPF program running on the system has returned. After a map-in-map is
/// updated from user space, the kernel waits for an RCU grace period before the update returns
/// (`maybe_wait_bpf_programs`), so that the caller knows no program still uses the old value:
/// every non-sleepable program runs inside an RCU read-side section, so none that was running
/// then still is. That holds on any number of CPUs, with nohz_full or a preemptible kernel, which
/// membarrier(2) does not promise. The barrier owns two one-entry maps of its own.
public final class ProgramBarrier {
  private let inner: Int32
  private let outer: Int32

  public init() throws(BPFError) {
    inner = try check(
      "create the barrier's inner map", bpf_map_create(BPF_MAP_TYPE_ARRAY, "sd_barrier_in", 4, 4, 1, nil))
    var options = bpf_map_create_opts()
    options.sz = MemoryLayout<bpf_map_create_opts>.size
    options.inner_map_fd = UInt32(inner)
    do {
      outer = try check(
        "create the barrier map", bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "sd_barrier", 4, 4, 1, &options))
    } catch {
      close(inner)
      throw error
    }
  }

  deinit {
    close(outer)
    close(inner)
  }

  /// Returns once every BPF program that was running when it was called has returned.
  public func wait() throws(BPFError) {
    var key: UInt32 = 0
    var value = UInt32(inner)
    try check("wait for running BPF programs", bpf_map_update_elem(outer, &key, &value, UInt64(BPF_ANY)))
  }
}

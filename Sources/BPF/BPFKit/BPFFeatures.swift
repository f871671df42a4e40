import CLibbpf

@preconcurrency import Glibc

/// What the running kernel's BPF offers, probed as libbpf does: by loading a tiny program that
/// uses it (never by version number, which distributions' backports make meaningless).
public enum BPFFeatures {
  /// Task-local storage and the task's BTF pointer in tracing programs (Linux 5.13), which the
  /// main object needs; and on arm64 the task's user registers (5.15). And the kernel's BTF, where
  /// it reads the task's fields: a kernel built without it runs the compat object, as 5.10 does.
  public static var runsMainObject: Bool {
    guard hasKernelBTF else { return false }
    var helpers = [BPF_FUNC_task_storage_get, BPF_FUNC_get_current_task_btf]
    #if arch(arm64)
      helpers.append(BPF_FUNC_task_pt_regs)
    #endif
    return helpers.allSatisfy { libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, $0, nil) == 1 }
  }

  /// The kernel describes its own types (CONFIG_DEBUG_INFO_BTF).
  public static var hasKernelBTF: Bool { access(VmlinuxBTF.vmlinuxPath, R_OK) == 0 }

  /// BPF trampolines: fentry and fexit programs.
  public static var hasTrampolines: Bool {
    libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_TRACING, nil) == 1
  }

  /// The kernel skips a tracing program that would re-enter itself on its CPU (Linux 5.12's
  /// per-program `active` counter in `struct bpf_prog`). Before it, fentry on a function the
  /// program itself calls (htab_map_update_elem, a spin lock) recurses until the kernel crashes.
  public static var tracingProgramsStopRecursion: Bool {
    guard let btf = try? VmlinuxBTF() else { return false }
    return btf.memberOffsets(of: "bpf_prog", ["active"])?["active"] != nil
  }
}

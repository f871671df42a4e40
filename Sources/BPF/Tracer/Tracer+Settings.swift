import BPFKit
import CSyscallDist
import Histograms
import Profiles

@preconcurrency import Glibc

extension Tracer {
  static func keySource(_ source: Profile.KeySource) -> sd_key_source {
    switch source {
    case .argument(let index): return [.SD_KEY_ARG0, .SD_KEY_ARG1, .SD_KEY_ARG2, .SD_KEY_ARG3, .SD_KEY_ARG4, .SD_KEY_ARG5][index]
    case .syscall: return .SD_KEY_SYSCALL
    case .retval: return .SD_KEY_RETVAL
    case .errno: return .SD_KEY_ERRNO
    case .pid: return .SD_KEY_PID
    case .tid: return .SD_KEY_TID
    case .comm: return .SD_KEY_COMM
    case .cgroup, .container, .pod, .namespace, .podName, .containerName:
      return .SD_KEY_CGROUP  // named in user space, from the cgroup
    case .none: return .SD_KEY_NONE
    }
  }

  /// The profile, filters and what the running kernel is like (its task layout, the traced
  /// function's prototype) as the program's read-only settings.
  static func settings(
    for request: TraceRequest, kernel: LoadPlan, pidNamespace: (device: UInt64, inode: UInt64)?
  ) -> sd_settings {
    var settings = sd_settings()
    let profile = request.profile
    switch profile.target {
    case .syscall(_, let number):
      settings.target = sd_target.SD_TARGET_SYSCALL.rawValue
      settings.syscall_nr = UInt32(number)
    case .allSyscalls:
      settings.target = sd_target.SD_TARGET_ALL_SYSCALLS.rawValue
    case .kernelFunction:
      settings.target = sd_target.SD_TARGET_KERNEL_FUNCTION.rawValue
    }
    settings.key_source = keySource(profile.keySource).rawValue
    let storage = request.storage
    switch storage.keySpace {
    case .dense(let keyCount):
      settings.storage = sd_storage.SD_STORAGE_DENSE.rawValue
      settings.key_count = UInt32(keyCount)
    case .sparse:
      settings.storage = sd_storage.SD_STORAGE_SPARSE.rawValue
    }
    settings.shared_series = storage.shared ? 1 : 0
    let layout = profile.layout
    settings.bucket_slots = UInt32(layout.slotCount)
    settings.bucket_kind = SyscallDistObject.tailCallIndex(layout.kind).rawValue
    if case .linear(let min, _, let step) = layout {
      settings.linear_min = min
      settings.linear_step = step
    }
    if case .log2Linear(let bits) = layout { settings.sub_bucket_bits = bits }
    if let scale = layout.exponentialScale {
      withUnsafeMutableBytes(of: &settings.exp_octave_slot) { raw in
        for (octave, slot) in scale.octaveSlots.enumerated() { raw.storeBytes(of: slot, toByteOffset: octave * 4, as: UInt32.self) }
      }
    }
    settings.unit_ns = layout.bucketsNanoseconds ? 1 : profile.unit.nanoseconds
    settings.split_outcome = request.splitOutcome ? 1 : 0
    settings.track_concurrency = request.trackConcurrency ? 1 : 0
    settings.concurrency_per_key = request.trackConcurrency && request.concurrencyPerKey ? 1 : 0
    let filters = request.filters
    settings.filter_tgid = UInt32(bitPattern: filters.pid ?? 0)
    settings.filter_tid = UInt32(bitPattern: filters.tid ?? 0)
    // system-wide, the tool's own bpf() calls (reading the maps) must not count
    settings.self_tgid = filters.pid == nil ? UInt32(getpid()) : 0
    settings.filter_cgroup = filters.byCgroup ? 1 : 0
    if let comm = filters.comm {
      var words: (UInt64, UInt64) = (0, 0)
      withUnsafeMutableBytes(of: &words) { bytes in
        for (index, byte) in comm.utf8.prefix(15).enumerated() { bytes[index] = byte }
      }
      settings.filter_comm = words
      settings.filter_comm_set = 1
    }
    let task = kernel.task
    settings.task_pid_offset = UInt32(task.pid)
    settings.task_tgid_offset = UInt32(task.tgid)
    settings.task_comm_offset = UInt32(task.comm)
    settings.compat_offset = UInt32(task.compatOffset)
    settings.compat_mask = task.compatMask
    if let compat = UAPINames.compatABI, profile.keysCompatCallsApart, task.compatMask != 0 {
      settings.compat_key_base = UInt32(compat.keyBase)
    }
    settings.task_runtime_offset = UInt32(task.runtime)
    if case .argument(let index) = profile.keySource {
      // where the argument is, from the function's prototype where the kernel has its BTF
      let slots = kernel.function?.argumentSlots ?? []
      settings.func_key_slot = UInt32(slots.indices.contains(index) ? slots[index] : index)
      let sizes = kernel.function?.argumentSizes ?? []
      settings.func_key_bytes = UInt32(sizes.indices.contains(index) ? sizes[index] : 8)
    }
    settings.func_return_slot = SD_NO_RETURN_SLOT.rawValue
    if let function = kernel.function {
      settings.func_return_slot = function.returnsValue ? UInt32(function.returnSlot) : SD_NO_RETURN_SLOT.rawValue
      settings.func_returns_int32 = function.returnsInt32 ? 1 : 0
    }
    if let slow = request.slowCalls {
      settings.report_slow = 1
      settings.slower_than_ns = slow.thresholdNanoseconds
      settings.slow_stacks = slow.stacks ? 1 : 0
    }
    settings.track_switches = request.slowCalls != nil || request.splitTime ? 1 : 0
    if request.splitTime {
      settings.split_time = 1
      settings.wait_sites = 1
      settings.task_state_offset = UInt32(task.state)
    }
    if let pidNamespace {
      settings.pidns_dev = pidNamespace.device
      settings.pidns_ino = pidNamespace.inode
    }
    if profile.hasKeyParts { setParts(of: profile, kernel: kernel, in: &settings) }
    return settings
  }

  /// A key of parts: each part's source and words, where fentry and kprobes find its argument,
  /// what it reads and whether it names an fd; the key source proper is none.
  private static func setParts(of profile: Profile, kernel: LoadPlan, in settings: inout sd_settings) {
    settings.key_source = sd_key_source.SD_KEY_NONE.rawValue
    settings.key_parts = UInt32(profile.countedKeyParts.count)
    settings.key_words = UInt32(profile.keyWords)
    let slots = kernel.function?.argumentSlots ?? []
    let sizes = kernel.function?.argumentSizes ?? []
    var word = 0
    var fdSlot: UInt32 = 0
    let parts: [sd_key_part] = profile.countedKeyParts.map { part in
      var setting = sd_key_part()
      setting.source = keySource(part.source).rawValue
      setting.word = UInt32(word)
      word += part.words
      if case .argument(let index) = part.source {
        setting.func_slot = UInt32(slots.indices.contains(index) ? slots[index] : index)
        setting.func_bytes = UInt32(sizes.indices.contains(index) ? sizes[index] : 8)
      }
      if let read = part.read {
        setting.read_offset = UInt32(read.offset)
        setting.read_size = UInt32(read.size)
      }
      if part.fd {
        setting.fd = 1
        setting.fd_slot = fdSlot
        fdSlot += 1
      }
      if let condition = part.condition {
        setting.when_part = UInt32(condition.part + 1)
        setting.when_values = condition.values.reduce(0) { $0 | 1 << $1 }
      }
      return setting
    }
    withUnsafeMutableBytes(of: &settings.part) { raw in
      for (index, part) in parts.enumerated() {
        raw.storeBytes(of: part, toByteOffset: index * MemoryLayout<sd_key_part>.stride, as: sd_key_part.self)
      }
    }
    if let layout = kernel.fdLayout { settings.fd_layout = layout }
  }
}

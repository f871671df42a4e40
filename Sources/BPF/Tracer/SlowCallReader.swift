import BPFKit
import CSyscallDist
import Profiles
import Snapshots
import SystemPackage

@preconcurrency import Glibc

/// A stack of a slow call as the kernel kept it.
public enum StackAddresses: Equatable, Sendable {
  /// Not asked for (no --stacks), or, for the kernel stack, the call never left the CPU.
  case notTaken
  /// The kernel could not keep it: `EEXIST`, its slot in the stack map holds another stack;
  /// `EFAULT`, the user stack could not be read (no frame pointers, a page not present).
  case lost(Errno)
  /// Return addresses, innermost first.
  case addresses([UInt64])
}

/// One call at or above the slow-call threshold, as it ended.
public struct SlowCall: Sendable {
  /// CLOCK_MONOTONIC, in nanoseconds.
  public var endNanoseconds: UInt64
  public var latencyNanoseconds: UInt64
  /// Time its thread spent off CPU inside the call: blocked, or runnable and waiting.
  public var offCPUNanoseconds: UInt64
  public var longestOffCPUNanoseconds: UInt64
  /// With --off-cpu: of the time off CPU (cut to the latency), waiting for a CPU and blocked.
  public var split: (runnable: UInt64, blocked: UInt64)?
  public var key: Key
  /// 0: it succeeded; else the errno it failed with.
  public var errno: UInt32
  /// In the tool's pid namespace.
  public var pid: UInt32
  public var tid: UInt32
  public var comm: String
  public var userStack: StackAddresses
  /// Where it was when it went off CPU for its longest stretch.
  public var kernelStack: StackAddresses
}

/// Reads `slow_calls` (a ring buffer) and resolves the stack ids its records carry.
final class SlowCallReader {
  private let stacks: Map
  private let request: TraceRequest
  private var ring: RingBufferReader?
  private var taken: [SlowCall] = []

  init(object: LoadedObject, request: TraceRequest) throws(BPFError) {
    stacks = try object.map(.stacks)
    self.request = request
    ring = try RingBufferReader(map: try object.map(.slowCalls)) { [unowned self] bytes in
      guard bytes.count >= MemoryLayout<sd_slow_call>.size else { return }
      self.taken.append(self.decoded(bytes.loadUnaligned(as: sd_slow_call.self)))
    }
  }

  var fileDescriptor: Int32 { ring?.fileDescriptor ?? -1 }

  /// Every record waiting now, in the order the calls ended on each CPU.
  func take() throws(BPFError) -> [SlowCall] {
    try ring?.consume()
    defer { taken.removeAll(keepingCapacity: true) }
    return taken
  }

  private func decoded(_ record: sd_slow_call) -> SlowCall {
    SlowCall(
      endNanoseconds: record.end_ns, latencyNanoseconds: record.latency_ns, offCPUNanoseconds: record.off_cpu_ns,
      longestOffCPUNanoseconds: record.longest_off_ns,
      split: request.splitTime ? (record.runnable_ns, record.blocked_ns) : nil,
      key: request.key(withUnsafeBytes(of: record.key) { Array($0.bindMemory(to: UInt64.self)) }), errno: UInt32(truncatingIfNeeded: record.err),
      pid: record.pid, tid: record.tid,
      comm: withUnsafeBytes(of: record.comm) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) },
      userStack: stacks.stack(record.user_stack), kernelStack: stacks.stack(record.kernel_stack))
  }
}

extension Map {
  /// The stack `id` of a stack-trace map names, as a record carries it: an id, SD_STACK_NOT_TAKEN,
  /// or -errno.
  func stack(_ id: Int64) -> StackAddresses {
    if id == Int64(SD_STACK_NOT_TAKEN.rawValue) { return .notTaken }
    guard id >= 0 else { return .lost(Errno(rawValue: Int32(clamping: -id))) }
    do {
      guard let words = try words(at: UInt32(id)) else { return .lost(.noSuchFileOrDirectory) }
      return .addresses(Array(words.prefix { $0 != 0 }))
    } catch {
      return .lost(error.errno)
    }
  }
}

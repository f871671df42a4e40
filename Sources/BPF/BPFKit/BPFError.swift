import SystemPackage

@preconcurrency import Glibc

/// A failed kernel or libbpf operation: what was tried and the errno it ended with. Callers
/// switch on the operation's case (cilium/ebpf's sentinel errors, swift-format's error enum).
public struct BPFError: Error, Equatable, Sendable, CustomStringConvertible {
  public var operation: Operation
  public var errno: Errno

  public init(_ operation: Operation, _ errno: Errno) {
    self.operation = operation
    self.errno = errno
  }

  public var description: String { "\(operation): \(errno)" }

  /// What was tried.
  public enum Operation: Equatable, Sendable, CustomStringConvertible {
    case openObject(String)
    case findMap(String)
    case findProgram(String)
    case setMaxEntries(map: String, Int)
    case setValueSize(map: String, Int)
    case setKeySize(map: String, Int)
    case setType(map: String, UInt32)
    /// `.rodata` is not the size of the settings: the object and the header disagree.
    case setReadOnlyData(expected: Int, actual: Int)
    case setInitialValue(map: String)
    case setAttachTarget(program: String, function: String)
    case load
    case attach(Attachment)
    /// Defining the kretprobe event, reading its id, opening its perf event.
    case defineKretprobe(function: String)
    case removeKretprobe(String)
    case updateMap(String, index: UInt32)
    case lookUp(map: String, key: UInt32)
    case readMap(String)
    case drainMap(String)
    case readProgramInfo(String)
    case testRun(String)
    case createBarrier
    case waitForPrograms
    case openRingBuffer(String)
    case readRingBuffer(String)
    case readBTF(path: String)
    case enableRunTimeStatistics

    public var description: String {
      switch self {
      case .openObject(let name): return "open BPF object '\(name)' from memory"
      case .findMap(let name): return "find map '\(name)'"
      case .findProgram(let name): return "find program '\(name)'"
      case .setMaxEntries(let map, let count): return "set max_entries of map '\(map)' to \(count)"
      case .setValueSize(let map, let size): return "set value_size of map '\(map)' to \(size)"
      case .setKeySize(let map, let size): return "set key_size of map '\(map)' to \(size)"
      case .setType(let map, let type): return "set the type of map '\(map)' to \(type)"
      case .setReadOnlyData(let expected, let actual):
        return ".rodata is \(actual) bytes but the settings are \(expected): the object and the header disagree"
      case .setInitialValue(let map): return "set the initial value of map '\(map)'"
      case .setAttachTarget(let program, let function): return "set attach target of '\(program)' to \(function)"
      case .load: return "load BPF object"
      case .attach(let attachment): return "attach \(attachment)"
      case .defineKretprobe(let function): return "define kretprobe(\(function)) in kprobe_events"
      case .removeKretprobe(let name): return "remove \(name)"
      case .updateMap(let map, let index): return "write '\(map)'[\(index)]"
      case .lookUp(let map, let key): return "look up '\(map)'[\(key)]"
      case .readMap(let map): return "read map '\(map)'"
      case .drainMap(let map): return "read and delete the entries of map '\(map)'"
      case .readProgramInfo(let program): return "read the info of program '\(program)'"
      case .testRun(let program): return "test-run program '\(program)'"
      case .createBarrier: return "create the barrier's maps"
      case .waitForPrograms: return "wait for running BPF programs"
      case .openRingBuffer(let map): return "open ring buffer '\(map)'"
      case .readRingBuffer(let map): return "read ring buffer '\(map)'"
      case .readBTF(let path): return "read the kernel's BTF (\(path))"
      case .enableRunTimeStatistics: return "enable BPF run-time statistics (BPF_ENABLE_STATS)"
      }
    }
  }
}

/// Where a program is attached, as the "Attached ..." lines name it: `tracepoint(syscalls/sys_enter_bpf)`.
public enum Attachment: Equatable, Sendable, CustomStringConvertible {
  case tracepoint(category: String, name: String)
  case rawTracepoint(String)
  /// tp_btf: the hook was fixed when the program was loaded.
  case btfTracepoint(String)
  case fentry(String)
  case fexit(String)
  case kprobe(String)
  case kretprobe(String)

  public var description: String {
    switch self {
    case .tracepoint(let category, let name): return "tracepoint(\(category)/\(name))"
    case .rawTracepoint(let name): return "raw_tp(\(name))"
    case .btfTracepoint(let name): return "tp_btf(\(name))"
    case .fentry(let function): return "fentry(\(function))"
    case .fexit(let function): return "fexit(\(function))"
    case .kprobe(let function): return "kprobe(\(function))"
    case .kretprobe(let function): return "kretprobe(\(function))"
    }
  }
}

/// Runs a libbpf call that returns a negative errno (or -1 with errno set) on failure.
@discardableResult
func check(_ operation: @autoclosure () -> BPFError.Operation, _ result: Int32) throws(BPFError) -> Int32 {
  guard result < 0 else { return result }
  throw BPFError(operation(), Errno(rawValue: result == -1 && Glibc.errno != 0 ? Glibc.errno : -result))
}

/// Runs a libbpf call that returns NULL and sets errno on failure (libbpf 1.x).
func check<T>(_ operation: @autoclosure () -> BPFError.Operation, _ pointer: T?) throws(BPFError) -> T {
  guard let pointer else { throw BPFError(operation(), .current) }
  return pointer
}

extension Errno {
  /// errno right now: read it at once after the failing call.
  static var current: Errno { Errno(rawValue: Glibc.errno) }
}

/// One slow call as `--slower-than` wrote it in JSON (`"type":"slow_call"`): who made it, how long
/// it took and how, and its stacks' frames where they were taken.
public struct RecordedSlowCall: Decodable, Equatable, Sendable {
  /// When it ended, in seconds since the epoch.
  public var time: Double
  public var comm: String
  public var pid: UInt32
  public var tid: UInt32
  public var key: String
  public var outcome: String
  public var latencyNanoseconds: UInt64
  public var offCPUNanoseconds: UInt64
  /// With --off-cpu: of the time off CPU, waiting for a CPU and blocked.
  public var runnableNanoseconds: UInt64?
  public var blockedNanoseconds: UInt64?
  /// Innermost first; nil when not taken or lost.
  public var userStack: [Frame]?
  public var kernelStack: [Frame]?

  public struct Frame: Decodable, Equatable, Sendable {
    public var address: String
    public var function: String?

    /// The function, or `[unknown]` as flame graphs name a frame without one.
    public var name: String { function ?? "[unknown]" }
  }

  struct Stack: Decodable {
    var frames: [Frame]?
  }

  enum CodingKeys: String, CodingKey {
    case time, comm, pid, tid, key, outcome
    case latencyNanoseconds = "latency_ns", offCPUNanoseconds = "off_cpu_ns"
    case runnableNanoseconds = "runnable_ns", blockedNanoseconds = "blocked_ns"
    case userStack = "user_stack", kernelStack = "kernel_stack"
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    time = try container.decode(Double.self, forKey: .time)
    comm = try container.decode(String.self, forKey: .comm)
    pid = try container.decode(UInt32.self, forKey: .pid)
    tid = try container.decode(UInt32.self, forKey: .tid)
    key = try container.decode(String.self, forKey: .key)
    outcome = try container.decode(String.self, forKey: .outcome)
    latencyNanoseconds = try container.decode(UInt64.self, forKey: .latencyNanoseconds)
    offCPUNanoseconds = try container.decode(UInt64.self, forKey: .offCPUNanoseconds)
    runnableNanoseconds = try container.decodeIfPresent(UInt64.self, forKey: .runnableNanoseconds)
    blockedNanoseconds = try container.decodeIfPresent(UInt64.self, forKey: .blockedNanoseconds)
    userStack = try container.decodeIfPresent(Stack.self, forKey: .userStack)?.frames
    kernelStack = try container.decodeIfPresent(Stack.self, forKey: .kernelStack)?.frames
  }

  /// Its frames for a flame graph, outermost first: the comm, the user stack, then the kernel's
  /// (suffixed `_[k]`, as Brendan Gregg's folded stacks mark them), like `--stacks=folded`.
  public var flameFrames: [String] {
    [comm] + (userStack ?? []).reversed().map(\.name) + (kernelStack ?? []).reversed().map { $0.name + "_[k]" }
  }
}

import Histograms
import Snapshots
import Symbols

@preconcurrency import Glibc

/// Slow calls as text: a header, then a line per call as it ends (funcslower's columns, the
/// profile's key label as the key's header) and, with --stacks, its stacks below it.
public struct SlowCallTextRenderer: Sendable {
  public let keyLabel: String
  /// Latencies in ms for thresholds of 1 ms and more, else in µs.
  public let unit: TimeUnit

  /// With --off-cpu: the time split (ON-CPU, WAIT, BLOCKED) instead of the OFF-CPU column.
  public let timeSplit: Bool

  public init(keyLabel: String, thresholdNanoseconds: UInt64, timeSplit: Bool = false) {
    self.keyLabel = keyLabel
    self.timeSplit = timeSplit
    unit = thresholdNanoseconds >= 1_000_000 ? .ms : .us
  }

  public var header: String {
    "TIME".padded(14) + "COMM".padded(16) + "PID".padded(8) + "TID".padded(8) + "LAT(\(unit.rawValue))".padded(9)
      + keyLabel.padded(22) + "RESULT".padded(8) + (timeSplit ? "ON-CPU".padded(8) + "WAIT".padded(8) + "BLOCKED" : "OFF-CPU")
  }

  public func render(_ call: SlowCallReport) -> String {
    let latency = Double(call.latencyNanoseconds) / Double(unit.nanoseconds)
    func percent(_ share: Double) -> String { Self.decimal(share * 100, 1) + "%" }
    var text = Self.clock(call.wallClock).padded(14) + call.comm.padded(16) + String(call.pid).padded(8)
      + String(call.tid).padded(8) + Self.decimal(latency, 3).padded(9) + call.key.padded(22) + call.outcome.padded(8)
    if timeSplit, let runnable = call.runnableNanoseconds, let blocked = call.blockedNanoseconds {
      let onCPU = call.latencyNanoseconds - min(call.latencyNanoseconds, runnable + blocked)
      text += percent(call.share(onCPU)).padded(8) + percent(call.share(runnable)).padded(8) + percent(call.share(blocked)) + "\n"
    } else {
      text += percent(call.offCPUShare) + "\n"
    }
    let longest = Self.decimal(Double(call.longestOffCPUNanoseconds) / Double(unit.nanoseconds), 3)
    text += stack(call.kernelStack, title: "blocked longest (\(longest) \(unit.rawValue)) in:", kernel: true)
    text += stack(call.userStack, title: "called from:", kernel: false)
    return text
  }

  private func stack(_ report: StackReport, title: String, kernel: Bool) -> String {
    switch report {
    case .notTaken: return ""
    case .lost(let why): return "    \(kernel ? "kernel" : "user") stack lost: \(why)\n"
    case .frames(let frames, let note):
      var text = "    \(title)\n"
      for frame in frames {
        text += "        " + frame.name + (frame.module.map { kernel ? " [\($0)]" : " (\($0))" } ?? "") + "\n"
      }
      if let note { text += "        (\(note))\n" }
      return text
    }
  }

  /// `%.Nf` of a value from 0 to 2^63 / 10^N, without Foundation.
  static func decimal(_ value: Double, _ digits: Int) -> String {
    let scale = (0..<digits).reduce(Int64(1)) { product, _ in product * 10 }
    let scaled = Int64((value * Double(scale)).rounded())
    let fraction = String(scaled % scale)
    return digits == 0 ? String(scaled) : "\(scaled / scale)." + String(repeating: "0", count: digits - fraction.count) + fraction
  }

  /// `HH:MM:SS.mmm` in local time.
  static func clock(_ wallClock: Double) -> String {
    var seconds = time_t(wallClock.rounded(.down))
    var parts = tm()
    localtime_r(&seconds, &parts)
    let milliseconds = Int((wallClock - wallClock.rounded(.down)) * 1000)
    func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
    let millis = String(milliseconds)
    return "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))."
      + String(repeating: "0", count: 3 - millis.count) + millis
  }
}

extension JSONRenderer {
  /// One slow call as one JSON object: `{"type":"slow_call","time":…,"comm":…,"pid":…,"tid":…,
  /// "latency_ns":…,"off_cpu_ns":…,"longest_off_cpu_ns":…,"runnable_ns":…,"blocked_ns":…,
  /// "key":…,"raw":…,"outcome":…,
  /// "user_stack":…,"kernel_stack":…}`; a stack is null (not taken), `{"lost":"why"}` or
  /// `{"frames":[{"address":"0x…","function":…,"offset":…,"module":…}],"note":…}`.
  public func render(_ call: SlowCallReport) -> String {
    object([
      ("type", string("slow_call")),
      ("time", number(call.wallClock)),
      ("comm", string(call.comm)),
      ("pid", String(call.pid)),
      ("tid", String(call.tid)),
      ("latency_ns", String(call.latencyNanoseconds)),
      ("off_cpu_ns", String(call.offCPUNanoseconds)),
      ("longest_off_cpu_ns", String(call.longestOffCPUNanoseconds)),
      ("runnable_ns", call.runnableNanoseconds.map(String.init) ?? "null"),
      ("blocked_ns", call.blockedNanoseconds.map(String.init) ?? "null"),
      ("key", string(call.key)),
      ("raw", call.rawKey.map { $0.description } ?? "null"),
      ("outcome", string(call.outcome)),
      ("user_stack", stack(call.userStack)),
      ("kernel_stack", stack(call.kernelStack)),
    ])
  }

  /// `{"type":"folded_stacks","weight":"calls"|"blocked_us"|"off_cpu_us","lines":[…]}`:
  /// --stacks=folded's (or folded-blocked's) last object.
  public func render(_ folded: FoldedStacks) -> String {
    object([
      ("type", string("folded_stacks")), ("weight", string(folded.measure)),
      ("lines", "[" + folded.lines.map(string).joined(separator: ",") + "]"),
    ])
  }

  private func stack(_ report: StackReport) -> String {
    switch report {
    case .notTaken: return "null"
    case .lost(let why): return object([("lost", string(why))])
    case .frames(let frames, let note):
      let listed = frames.map { frame in
        object([
          ("address", string("0x" + String(frame.address, radix: 16))),
          ("function", frame.function.map(string) ?? "null"),
          ("offset", String(frame.offset)),
          ("module", frame.module.map(string) ?? "null"),
        ])
      }
      return object([("frames", "[" + listed.joined(separator: ",") + "]"), ("note", note.map(string) ?? "null")])
    }
  }
}

/// Folded stacks for flame graphs (Brendan Gregg's format): `comm;user frames;kernel frames
/// count`, outermost first, one line per distinct stack, counting slow calls, or weighing each
/// by the microseconds it was blocked (off-CPU flame graphs: where the time went, not how many
/// calls).
public struct FoldedStacks: Sendable {
  public enum Weight: Sendable {
    case calls
    /// Each call's blocked time (with --off-cpu; else its time off CPU), under its kernel stack
    /// where it blocked longest; summed in ns, shown in whole us.
    case blockedMicroseconds
  }

  /// Calls, or ns, per stack.
  private var amounts: [String: UInt64] = [:]
  public let weight: Weight
  /// Whether the calls carried the time split: then the weight is time blocked, else off CPU.
  private var split = false

  public init(weight: Weight = .calls) {
    self.weight = weight
  }

  public mutating func add(_ call: SlowCallReport) {
    var frames = [call.comm.replacingSeparators]
    if case .frames(let user, _) = call.userStack { frames += user.reversed().map { $0.function ?? "[unknown]" } }
    if case .frames(let kernel, _) = call.kernelStack {
      frames += kernel.reversed().map { ($0.function ?? "[unknown]") + "_[k]" }
    }
    split = split || call.blockedNanoseconds != nil
    let amount = weight == .calls ? 1 : call.blockedNanoseconds ?? call.offCPUNanoseconds
    amounts[frames.map(\.replacingSeparators).joined(separator: ";"), default: 0] &+= amount
  }

  /// What a line's count is: `calls`, `blocked_us`, or `off_cpu_us` (without the time split).
  public var measure: String { weight == .calls ? "calls" : split ? "blocked_us" : "off_cpu_us" }

  /// The lines, the largest count first; a stack of less than a microsecond in all has none (a
  /// line of 0 would be no frame in a flame graph).
  public var lines: [String] {
    let divisor: UInt64 = weight == .calls ? 1 : 1000
    let shown: [(stack: String, count: UInt64)] = amounts.map { ($0.key, $0.value / divisor) }.filter { $0.count > 0 }
    return shown.sorted { $0.count == $1.count ? $0.stack < $1.stack : $0.count > $1.count }.map { "\($0.stack) \($0.count)" }
  }
}

extension String {
  fileprivate func padded(_ width: Int) -> String {
    count >= width - 1 ? self + " " : self + String(repeating: " ", count: width - count)
  }

  /// Frame names with ';' or spaces would break a folded line.
  fileprivate var replacingSeparators: String {
    String(map { $0 == ";" || $0 == " " ? "_" : $0 })
  }
}

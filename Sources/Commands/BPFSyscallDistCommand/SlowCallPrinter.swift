import CommandCore
import Histograms
import Snapshots
import Profiles
import Rendering
import Symbols
import Tracer

@preconcurrency import Glibc

/// Prints slow calls as the tracer hands them over: keys decoded, stacks named while their
/// processes still exist, one write per batch; with --stacks=folded, folds their stacks for the
/// end instead.
final class SlowCallPrinter {
  let format: OutputFormat
  let stacks: SlowCallFlags.StackFormat?
  let decoder: KeyDecoder
  let text: SlowCallTextRenderer
  /// Seconds to add to CLOCK_MONOTONIC for the wall clock.
  private let wallClockOffset: Double
  /// Read before the run when stacks are asked for: reading /proc/kallsyms takes long enough
  /// (0.4 s in a debug build) to hold up the first `-i` prints if it waited for the first stack.
  private let kernelSymbols: Kallsyms?
  private let userSymbols = UserSymbols()
  /// With --stacks=folded or folded-blocked.
  private var folded: FoldedStacks?
  /// With --record or --report: each call as its JSON line.
  private let recorder: RunRecorder?

  init(
    format: OutputFormat, stacks: SlowCallFlags.StackFormat?, decoder: KeyDecoder, keyLabel: String, threshold: UInt64,
    timeSplit: Bool, recorder: RunRecorder?
  ) {
    self.recorder = recorder
    kernelSymbols = stacks == nil ? nil : Kallsyms()
    folded = stacks?.foldedWeight.map { FoldedStacks(weight: $0) }
    self.format = format
    self.stacks = stacks
    self.decoder = decoder
    text = SlowCallTextRenderer(keyLabel: keyLabel, thresholdNanoseconds: threshold, timeSplit: timeSplit)
    wallClockOffset = Clock.wall() - Clock.monotonic()
  }

  /// The column header (text only).
  func start() throws {
    if format == .text { try Output.print(text.header) }
  }

  func print(_ calls: [SlowCall]) throws {
    guard !calls.isEmpty else { return }
    var batch = ""
    for call in calls {
      let report = self.report(call)
      folded?.add(report)
      try recorder?.append(JSONRenderer().render(report))
      switch format {
      case .json: batch += JSONRenderer().render(report) + "\n"
      default:
        var shown = report
        if folded != nil { (shown.userStack, shown.kernelStack) = (.notTaken, .notTaken) }
        batch += text.render(shown)
      }
    }
    try Output.write(batch)
  }

  /// The folded stacks, after everything else: text lines after a `#` comment (flame graph
  /// scripts skip it), or one JSON object.
  func finish() throws {
    guard let folded else { return }
    switch format {
    case .json:
      try Output.print(JSONRenderer().render(folded))
    default:
      try Output.write(
        "# folded stacks of the slow calls (comm;user frames;kernel frames \(folded.weight == .calls ? "count" : folded.measure)), for flamegraph.pl:\n"
          + folded.lines.map { $0 + "\n" }.joined())
    }
  }

  private func report(_ call: SlowCall) -> SlowCallReport {
    let decoded = decoder.decode(call.key)
    let (raw, name) = (decoded.raw, decoded.name)
    var report = SlowCallReport(
      wallClock: wallClockOffset + Double(call.endNanoseconds) / 1e9, comm: call.comm, pid: call.pid, tid: call.tid,
      latencyNanoseconds: call.latencyNanoseconds, offCPUNanoseconds: call.offCPUNanoseconds,
      longestOffCPUNanoseconds: call.longestOffCPUNanoseconds, key: name, rawKey: raw,
      outcome: UAPINames.outcomeName(call.errno),
      userStack: stack(call.userStack, user: call.pid), kernelStack: stack(call.kernelStack, user: nil))
    report.runnableNanoseconds = call.split?.runnable
    report.blockedNanoseconds = call.split?.blocked
    return report
  }

  private func stack(_ stack: StackAddresses, user pid: UInt32?) -> StackReport {
    switch stack {
    case .notTaken: return .notTaken
    case .lost(let errno) where errno.rawValue == EEXIST:
      return .lost("its slot in the stack map holds another stack (the map keeps \(SlowCallOptions.stackSlots) for the run)")
    case .lost(let errno) where errno.rawValue == EFAULT:
      return .lost("the kernel could not walk it (frames without frame pointers, or not in memory)")
    case .lost(let errno): return .lost(errno.description)
    case .addresses(let addresses):
      guard let pid else {
        guard let symbols = kernelSymbols else {
          return .frames(addresses.map { Frame(address: $0, function: nil) }, note: "/proc/kallsyms is not readable")
        }
        return .frames(KernelFrames.withoutTracer(symbols.frames(addresses)), note: nil)
      }
      let (frames, exited) = userSymbols.frames(addresses, pid: pid)
      return .frames(frames, note: exited ? "the process had exited: its frames could not be named" : nil)
    }
  }
}

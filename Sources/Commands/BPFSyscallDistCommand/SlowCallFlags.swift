import CommandCore
import ArgumentParser
import Histograms
import Rendering
import Tracer

/// Calls reported one by one as they end, beside the histograms.
struct SlowCallFlags: ParsableArguments {
  @Option(
    name: .long,
    help: ArgumentHelp(
      "Also print each call that takes at least this long, as it ends (with its unit: 10ms, 500us, 1s; 0ns: every call), with the time it spent off CPU.",
      valueName: "duration"))
  var slowerThan: String?

  @Option(
    name: .long, defaultAsFlag: StackFormat.inline, parsing: .next,
    help: ArgumentHelp(
      "With each slow call, its user stack where it ended and the kernel stack where it blocked longest; --stacks=folded: folded stacks (comm;user...;kernel... count) at the end, for flame graphs; --stacks=folded-blocked: weighted by the calls' blocked microseconds.",
      valueName: "inline|folded|folded-blocked"))
  var stacks: StackFormat?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "The slow-call ring buffer's size in bytes (K and M suffixes), a power of two of at least 4K: when full, slow calls are counted, not shown.",
      valueName: "size"))
  var ringBufferSize: String = "1M"

  enum StackFormat: String, ExpressibleByArgument, CaseIterable {
    case inline, folded
    case foldedBlocked = "folded-blocked"

    /// How folded stacks weigh a call, nil when they are not folded.
    var foldedWeight: FoldedStacks.Weight? {
      switch self {
      case .inline: return nil
      case .folded: return .calls
      case .foldedBlocked: return .blockedMicroseconds
      }
    }
  }

  func validate() throws {
    if let slowerThan, TimeUnit.nanoseconds(parsing: slowerThan) == nil {
      throw ValidationError("--slower-than takes a duration with its unit: ns, us, ms or s (e.g. 10ms)")
    }
    guard let bytes = Self.bytes(ringBufferSize), bytes >= 4096, bytes & (bytes - 1) == 0, bytes <= 1 << 30 else {
      throw ValidationError("--ring-buffer-size must be a power of two from 4K to 1024M (e.g. 4M)")
    }
  }

  /// Slow-call reports as asked: by the flag, else by the profile's `slower_than`; nil for none.
  func options(profileDefault: UInt64?) throws -> SlowCallOptions? {
    let threshold = slowerThan.flatMap(TimeUnit.nanoseconds(parsing:)) ?? profileDefault
    guard let threshold else {
      if stacks != nil { throw Failure.usage("--stacks needs --slower-than (or a profile with slower_than)") }
      return nil
    }
    return SlowCallOptions(
      thresholdNanoseconds: threshold, stacks: stacks != nil, ringBufferBytes: Self.bytes(ringBufferSize) ?? SlowCallOptions.defaultRingBufferBytes)
  }

  /// A threshold as the status line says it: in the largest unit that holds it whole ("10 ms").
  static func spoken(_ nanoseconds: UInt64) -> String {
    let unit = [TimeUnit.s, .ms, .us].first { nanoseconds % $0.nanoseconds == 0 && nanoseconds > 0 } ?? .ns
    return "\(nanoseconds / unit.nanoseconds) \(unit.rawValue)"
  }

  private static func bytes(_ text: String) -> Int? {
    let multiplier = text.hasSuffix("K") ? 1 << 10 : text.hasSuffix("M") ? 1 << 20 : 1
    let digits = multiplier == 1 ? Substring(text) : text.dropLast()
    guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let value = Int(digits), value <= Int.max / multiplier else {
      return nil
    }
    return value * multiplier
  }
}

/// The unit latencies are bucketed in; the kernel divides nanoseconds by `nanoseconds`.
public enum TimeUnit: String, CaseIterable, Sendable {
  case ns, us, ms, s

  public var nanoseconds: UInt64 {
    switch self {
    case .ns: return 1
    case .us: return 1_000
    case .ms: return 1_000_000
    case .s: return 1_000_000_000
    }
  }

  /// The column header bcc prints ("usecs").
  public var columnTitle: String {
    switch self {
    case .ns: return "nsecs"
    case .us: return "usecs"
    case .ms: return "msecs"
    case .s: return "secs"
    }
  }
}

extension TimeUnit {
  /// Nanoseconds in a duration written with its unit, as `--slower-than` and a profile's
  /// `slower_than` take it: `10ms`, `250us`, `1.5s`, `0ns`. Exact (integer arithmetic; digits
  /// finer than a nanosecond are cut). nil for anything else: no unit, a sign, an exponent, more
  /// than 2^64 - 1 ns.
  public static func nanoseconds(parsing text: String) -> UInt64? {
    guard let unit = allCases.sorted(by: { $0.rawValue.count > $1.rawValue.count }).first(where: { text.hasSuffix($0.rawValue) })
    else { return nil }
    let parts = text.dropLast(unit.rawValue.count).split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count <= 2, !parts[0].isEmpty, parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
      parts.count == 1 || !parts[1].isEmpty, let whole = UInt64(parts[0])
    else { return nil }
    let (scaled, overflow) = whole.multipliedReportingOverflow(by: unit.nanoseconds)
    guard !overflow else { return nil }
    var fraction: UInt64 = 0
    var place = unit.nanoseconds
    for digit in parts.count == 2 ? parts[1] : "" {
      place /= 10
      fraction += UInt64(digit.wholeNumberValue!) * place
    }
    let (total, carry) = scaled.addingReportingOverflow(fraction)
    return carry ? nil : total
  }
}

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

@preconcurrency import Glibc

/// A C errno value, as swift-system models it.
public struct Errno: RawRepresentable, Error, Equatable, Sendable, CustomStringConvertible {
  public var rawValue: Int32
  public init(rawValue: Int32) { self.rawValue = rawValue }

  /// errno right now: read it at once after the failing call.
  public static var current: Errno { Errno(rawValue: errno) }

  public static let permissionDenied = Errno(rawValue: EPERM)
  public static let accessDenied = Errno(rawValue: EACCES)
  public static let invalid = Errno(rawValue: EINVAL)

  public var description: String { String(cString: strerror(rawValue)) }
}

/// A failed kernel or libbpf operation: what was tried and the errno it ended with.
public struct BPFError: Error, Equatable, Sendable, CustomStringConvertible {
  public var operation: String
  public var errno: Errno

  public init(_ operation: String, _ errno: Errno) {
    self.operation = operation
    self.errno = errno
  }

  public var description: String { "\(operation): \(errno)" }
}

/// Runs a libbpf call that returns a negative errno (or -1 with errno set) on failure.
@discardableResult
func check(_ operation: @autoclosure () -> String, _ result: Int32) throws(BPFError) -> Int32 {
  guard result < 0 else { return result }
  throw BPFError(operation(), Errno(rawValue: result == -1 && errno != 0 ? errno : -result))
}

/// Runs a libbpf call that returns NULL and sets errno on failure (libbpf 1.x).
func check<T>(_ operation: @autoclosure () -> String, _ pointer: T?) throws(BPFError) -> T {
  guard let pointer else { throw BPFError(operation(), .current) }
  return pointer
}

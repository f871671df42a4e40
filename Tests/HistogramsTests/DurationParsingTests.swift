import Histograms
import XCTest

/// Durations as --slower-than and `slower_than` take them: a number and its unit, nothing else.
final class DurationParsingTests: XCTestCase {
  func testDurationsWithTheirUnitsAreNanoseconds() {
    let cases: [(String, UInt64?)] = [
      ("10ms", 10_000_000), ("250us", 250_000), ("1.5s", 1_500_000_000), ("0ns", 0), ("7ns", 7),
      ("0.5ms", 500_000), ("18446744074s", nil), ("18446744073s", 18_446_744_073_000_000_000), ("10", nil), ("ms", nil), ("-1ms", nil), ("1e3us", nil),
      ("1.2.3ms", nil), (" 1ms", nil), ("1 ms", nil), ("10MS", nil), ("", nil),
    ]
    for (text, expected) in cases {
      XCTAssertEqual(TimeUnit.nanoseconds(parsing: text), expected, text)
    }
  }
}

import Foundation
import Histograms
import XCTest

/// Exponential buckets against what is not ours: the OpenTelemetry Python SDK's mapping (PyPI,
/// installed by `make setup`), 40-digit arithmetic, and bounds worked out by hand.
final class ExponentialScaleTests: XCTestCase {
  /// The slots from 1 ns to 2^64 - 1 ns, with the zero bucket: ceil(log2(t) * 2^schema) of both
  /// ends, worked out with Python's decimal module.
  func testTheSlotsRunFromOneNanosecondToTheLargestLatency() {
    for (schema, first, slots) in [(-4, -1, 6), (0, -29, 66), (3, -239, 514), (5, -956, 2050), (8, -7653, 16386)] {
      let scale = ExponentialScale.of(schema: schema)
      XCTAssertEqual(scale.firstIndex, first, "schema \(schema)")
      XCTAssertEqual(scale.slotCount, slots, "schema \(schema)")
      XCTAssertEqual(scale.slot(for: 1), 1)
      XCTAssertEqual(scale.slot(for: .max), slots - 1)
      XCTAssertEqual(scale.uppers.last, .max)
    }
  }

  /// Bounds are upper-inclusive: a second is the last value of bucket 0, at every schema; 0 ns
  /// is the zero bucket's.
  func testBoundsIncludeTheirUpperEnd() {
    for schema in ExponentialScale.schemas {
      let scale = ExponentialScale.of(schema: schema)
      XCTAssertEqual(scale.index(ofSlot: scale.slot(for: 1_000_000_000)), 0, "schema \(schema)")
      XCTAssertEqual(scale.index(ofSlot: scale.slot(for: 1_000_000_001)), 1, "schema \(schema)")
      XCTAssertEqual(scale.slot(for: 0), 0)
      XCTAssertEqual(BucketLayout.exponential(schema: schema).bounds(ofSlot: 0).high, 0)
    }
    // schema 3, 30 ms: bucket -40, (1e9 * 2^(-41/8), 1e9 * 2^(-40/8)] ns = (28656376.35, 31250000]
    let layout = BucketLayout.exponential(schema: 3)
    let slot = layout.slot(for: 30_000_000)
    XCTAssertEqual(layout.exponentialScale?.index(ofSlot: slot), -40)
    XCTAssertEqual(layout.bounds(ofSlot: slot).low, 28_656_377)
    XCTAssertEqual(layout.bounds(ofSlot: slot).high, 31_250_000)
  }

  /// The kernel's table: each slot's entry is the largest ns the rule puts there (the ns after
  /// it is in a later slot), and a slot no whole ns falls in repeats the one before's.
  func testEachTableEntryIsTheLargestNanosecondOfItsSlot() {
    for schema in ExponentialScale.schemas {
      let scale = ExponentialScale.of(schema: schema)
      XCTAssertEqual(scale.uppers.first, 0)
      for (slot, upper) in scale.uppers.enumerated().dropFirst() where upper < .max {
        if upper == scale.uppers[slot - 1] { continue }  // no whole ns: narrower than a nanosecond
        XCTAssertEqual(scale.slot(for: upper), slot, "schema \(schema) slot \(slot)")
        XCTAssertGreaterThan(scale.slot(for: upper + 1), slot, "schema \(schema) slot \(slot)")
      }
    }
  }

  /// For every schema, at each bucket's last ns and the ns after it from 1 ns to an hour, and on
  /// 5,000 random durations up to an hour: our bucket is the SDK's (OpenTelemetry's index is
  /// Prometheus' key less one), and at the boundaries the one 40-digit arithmetic gives. Where
  /// the SDK's floating-point logarithm misplaces a value lying within 1e-15 of a bound, the
  /// exact arithmetic must side with us, and there may be no more than a few such values.
  func testEveryBucketIsTheOneOpenTelemetryAndExactArithmeticGive() throws {
    let hour: UInt64 = 3_600_000_000_000
    var input = ""
    var random = SystemRandomNumberGenerator()
    for schema in ExponentialScale.schemas {
      let scale = ExponentialScale.of(schema: schema)
      func line(_ ns: UInt64, exact: Bool) {
        input += "\(schema) \(ns) \(scale.index(ofSlot: scale.slot(for: ns))) \(exact ? 1 : 0)\n"
      }
      for upper in Set(scale.uppers.dropFirst()) where upper <= hour {
        line(upper, exact: true)
        line(upper + 1, exact: true)
      }
      for _ in 0..<5_000 { line(UInt64.random(in: 1...hour, using: &random), exact: false) }
    }
    let result = try Self.python(Self.fixture("exponential_reference.py"), input: input)
    let checked = try XCTUnwrap(result["checked"] as? Int)
    XCTAssertEqual(checked, input.split(separator: "\n").count)
    XCTAssertGreaterThan(try XCTUnwrap(result["exact_checked"] as? Int), 36_000)
    XCTAssertEqual((result["exact"] as? [Any])?.count, 0, "exact arithmetic disagrees: \(result["exact"] ?? "")")
    let otel = try XCTUnwrap(result["otel"] as? [[Int]])
    for schema in ExponentialScale.schemas {
      XCTAssertLessThanOrEqual(otel.filter { $0[0] == schema }.count, 3, "schema \(schema): \(otel)")
    }
  }

  static func fixture(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)").path
  }

  /// The test venv `make setup` makes (scripts/setup.sh), with the OpenTelemetry SDK.
  static let venvPython = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../.build-tests/venv/bin/python3").standardized.path

  static func python(_ script: String, input: String) throws -> [String: Any] {
    guard FileManager.default.isExecutableFile(atPath: venvPython) else {
      XCTFail("no \(venvPython): make setup makes it")
      throw CocoaError(.fileNoSuchFile)
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: venvPython)
    process.arguments = [script]
    let (stdin, stdout) = (Pipe(), Pipe())
    process.standardInput = stdin
    process.standardOutput = stdout
    try process.run()
    let writer = Thread { stdin.fileHandleForWriting.write(Data(input.utf8)); try? stdin.fileHandleForWriting.close() }
    writer.start()
    let output = stdout.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    XCTAssertEqual(process.terminationStatus, 0)
    return try XCTUnwrap(try JSONSerialization.jsonObject(with: output) as? [String: Any])
  }
}

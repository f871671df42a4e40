import BPFKit
import Foundation
import Histograms
import Profiles
import Tracer
import XCTest

/// The kernel's own bucket arithmetic (the BPF bucket steps, run with BPF_PROG_TEST_RUN on
/// chosen latencies) against the Swift mirror that turns slots back into bounds: they must place
/// every value alike, at every edge, up to 2^64 - 1.
final class BucketStepKernelTests: XCTestCase {
  /// Values at and around every power of two, and the extremes.
  static let values: [UInt64] = {
    var values: [UInt64] = [0, 1, 2, 3, 5, 7, 9, 10, 11, 49, 50, 51, 74, 75, 249, 250, 999, 1000, 1001, .max]
    for shift in 2..<64 {
      let power = UInt64(1) << UInt64(shift)
      values += [power - 1, power, power + 1, power + power / 3]
    }
    return values
  }()

  func tracer(_ histogram: String, splitTime: Bool = false) throws -> (Tracer, Profile) {
    let text = "version: 1\nname: steps\nprobe: {syscalls: all}\nhistogram: \(histogram)\n"
    let profile = try ProfileLoader(enumSource: nil).load(text: text, file: "steps.yaml")
    // attached for real, but to a task name nothing has: only the staged calls count
    let tracer = try Tracer(
      TraceRequest(
        profile: profile, filters: Filters(comm: "no-such-task"), forcedMethod: .rawTracepoint, splitTime: splitTime))
    return (tracer, profile)
  }

  /// The --off-cpu steps place values as the others do, and sum each call's time blocked and
  /// waiting for a CPU into the series' two more words.
  func testTheSplitStepsPlaceEveryValueAndSumTheParts() throws {
    guard BPFFeatures.runsMainObject else { return XCTAssertThrowsError(try tracer("{buckets: log2, unit: ns}", splitTime: true)) }
    for layout in ["{buckets: log2, unit: ns}", "{buckets: log2-linear, log2-linear: {sub_buckets: 4}, unit: ns}",
                   "{buckets: linear, linear: {min: 50, max: 250, step: 25}, unit: ns}", "{buckets: exponential, unit: ns}"] {
      let (tracer, profile) = try tracer(layout, splitTime: true)
      var mirror = Histogram(layout: profile.layout)
      var (blocked, runnable): (UInt128, UInt128) = (0, 0)
      for value in Self.values {
        try tracer.runBucketStep(latency: value, key: 0, cpu: 0, blocked: value / 2, runnable: value / 4)
        mirror.record(value)
        blocked += UInt128(value / 2)
        runnable += UInt128(value / 4)
      }
      tracer.detach()
      let kernel = try XCTUnwrap(try tracer.collect().histograms.values.first, layout)
      XCTAssertEqual(kernel.buckets, mirror.counts, layout)
      XCTAssertEqual(kernel.timeSplit, TimeSplit(blockedNanoseconds: blocked % (1 << 64), runnableNanoseconds: runnable % (1 << 64)), layout)
    }
  }

  func testTheKernelPlacesEveryValueAsTheMirrorDoes() throws {
    let layouts = [
      "{buckets: log2, unit: ns}", "{buckets: log2-linear, log2-linear: {sub_buckets: 4}, unit: ns}",
      "{buckets: log2-linear, log2-linear: {sub_buckets: 16}, unit: ns}",
      "{buckets: linear, linear: {min: 50, max: 250, step: 25}, unit: ns}",
      "{buckets: linear, linear: {min: 0, max: 1000, step: 1}, unit: ns}",
    ]
    for layout in layouts {
      let (tracer, profile) = try tracer(layout)
      var mirror = Histogram(layout: profile.layout)
      for value in Self.values {
        try tracer.runBucketStep(latency: value, key: 0, cpu: 0)
        mirror.record(value)
      }
      tracer.detach()
      let kernel = try XCTUnwrap(try tracer.collect().histograms.values.first, layout)
      XCTAssertEqual(kernel.buckets, mirror.counts, layout)
      XCTAssertEqual(kernel.buckets.reduce(0, +), UInt64(Self.values.count), layout)
    }
  }

  /// Exponential buckets: the kernel's halving search against the rule, at every bucket's last ns
  /// and the ns after it (of every second bucket at schema 3, every 47th at 8), at powers of two
  /// and the extremes.
  func testTheKernelPlacesEveryValueInItsExponentialBucket() throws {
    for (schema, every) in [(-4, 1), (-1, 1), (0, 1), (3, 2), (8, 47)] {
      let layout = "{buckets: exponential, schema: \(schema), unit: ms}"
      let (tracer, profile) = try tracer(layout)
      let uppers = try XCTUnwrap(profile.layout.exponentialScale).uppers
      var values = Self.values
      for slot in stride(from: 1, to: uppers.count - 1, by: every) { values += [uppers[slot], uppers[slot] + 1] }
      var mirror = Histogram(layout: profile.layout)
      for value in values {
        try tracer.runBucketStep(latency: value, key: 0, cpu: 0)
        mirror.record(value)
      }
      tracer.detach()
      let kernel = try XCTUnwrap(try tracer.collect().histograms.values.first, layout)
      XCTAssertEqual(kernel.buckets.count, uppers.count, layout)
      let differences = kernel.buckets.indices.filter { kernel.buckets[$0] != mirror.counts[$0] }
      XCTAssertEqual(differences, [], "\(layout): slots where the kernel and the rule disagree")
      XCTAssertEqual(kernel.buckets.reduce(0, +), UInt64(values.count), layout)
      XCTAssertEqual(kernel.sumNanoseconds, values.reduce(UInt128(0)) { $0 + UInt128($1) } % (1 << 64), "counted in ns, not ms")
    }
  }

  /// A call of 2^32 - 1 ns with one bucket per ns: slot 2^32 is far past the last, so it is the
  /// overflow bucket's, not (cut to 32 bits) bucket 0's.
  func testLinearSlotsPastFourBillionLandInTheOverflowBucket() throws {
    let (tracer, profile) = try tracer("{buckets: linear, linear: {min: 0, max: 1000, step: 1}, unit: ns}")
    for latency in [UInt64(UInt32.max), UInt64(UInt32.max) + 1, 4_290_000_000] {
      try tracer.runBucketStep(latency: latency, key: 0, cpu: 0)
    }
    tracer.detach()
    let kernel = try XCTUnwrap(try tracer.collect().histograms.values.first)
    XCTAssertEqual(kernel.buckets.last, 3)
    XCTAssertEqual(kernel.buckets.count, 1002, "0 to 1000 ns by 1, one below and one past: \(profile.layout)")
    XCTAssertEqual(kernel.buckets.reduce(0, +), 3)
  }
}

import Profiles
import Tracer
import XCTest

/// The method decision for every target and every combination of what a kernel offers: the
/// paths this kernel cannot run (fentry, kprobe) are decided here without it.
final class ProbePlanTests: XCTestCase {
  let targets: [Profile.Target] = [.syscall(name: "bpf", number: 321), .allSyscalls, .kernelFunction("vfs_read")]

  /// Every subset of the five methods.
  /// The tracer's loop on a kernel that offers `available`: what it picks.
  func choose(_ target: Profile.Target, forced: ProbeMethod?, available: Set<ProbeMethod>) throws -> ProbeMethod? {
    let outcome = try ProbePlan.firstWorking(for: target, forced: forced) { method -> Result<Void, MethodFailure> in
      available.contains(method) ? .success(()) : .failure(MethodFailure("missing"))
    }
    XCTAssertEqual(outcome.failures.count, try ProbePlan.methods(for: target, forced: forced).prefix { !available.contains($0) }.count)
    return outcome.chosen?.method
  }

  var everyKernel: [Set<ProbeMethod>] {
    let all = ProbeMethod.allCases
    return (0..<(1 << all.count)).map { mask in
      Set(all.enumerated().filter { mask & (1 << $0.offset) != 0 }.map(\.element))
    }
  }

  func testAutoPicksTheFirstAvailableCandidateInOrder() throws {
    for target in targets {
      let order = ProbePlan.candidates(for: target)
      for available in everyKernel {
        let chosen = try choose(target, forced: nil, available: available)
        XCTAssertEqual(chosen, order.first { available.contains($0) }, "\(target) with \(available)")
      }
    }
  }

  func testPreferenceOrderPerTarget() {
    XCTAssertEqual(ProbePlan.candidates(for: targets[0]), [.tracepoint, .btfTracepoint, .rawTracepoint, .fentry])
    XCTAssertEqual(ProbePlan.candidates(for: targets[1]), [.rawTracepoint, .btfTracepoint, .tracepoint])
    XCTAssertEqual(ProbePlan.candidates(for: targets[2]), [.fentry, .kprobe])
  }

  func testAKernelFunctionOnAKernelWithoutFentryAndKprobesHasNoMethod() throws {
    for available in everyKernel where !available.contains(.fentry) && !available.contains(.kprobe) {
      XCTAssertNil(try choose(targets[2], forced: nil, available: available))
    }
    XCTAssertEqual(try choose(targets[2], forced: nil, available: [.kprobe]), .kprobe)
    XCTAssertEqual(try choose(targets[2], forced: nil, available: [.kprobe, .fentry]), .fentry)
  }

  func testAForcedMethodIsTheOnlyOneTried() throws {
    for target in targets {
      for method in ProbePlan.candidates(for: target) {
        XCTAssertEqual(try ProbePlan.methods(for: target, forced: method), [method])
        for available in everyKernel {
          XCTAssertEqual(
            try choose(target, forced: method, available: available),
            available.contains(method) ? method : nil)
        }
      }
    }
  }

  func testFentryAttachesToTheSyscallsWrapperOrTheFunction() {
    #if arch(arm64)
      XCTAssertEqual(targets[0].kernelFunctionName, "__arm64_sys_bpf")
    #else
      XCTAssertEqual(targets[0].kernelFunctionName, "__x64_sys_bpf")
    #endif
    XCTAssertEqual(targets[2].kernelFunctionName, "vfs_read")
  }

  func testAForcedMethodThatCannotTraceTheTargetIsRefused() {
    XCTAssertThrowsError(try ProbePlan.methods(for: targets[2], forced: .tracepoint)) { error in
      XCTAssertEqual(
        (error as? ProbePlan.PlanError)?.description,
        "--probe-method tracepoint cannot trace kernel function vfs_read; use one of: fentry, kprobe")
    }
    XCTAssertThrowsError(try ProbePlan.methods(for: targets[0], forced: .kprobe))
  }
}

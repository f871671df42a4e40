import Profiles
import Tracer
import XCTest

/// The method decision for every target and every combination of what a kernel offers: the
/// paths this kernel cannot run (fentry, kprobe) are decided here without it.
final class ProbePlanTests: XCTestCase {
  let targets: [Profile.Target] = [.syscall(name: "bpf", number: 321), .allSyscalls, .kernelFunction("vfs_read")]

  /// The tracer's loop on a kernel that offers `available`: what it picks, and how many it tried
  /// that failed first.
  func choose(_ target: Profile.Target, forced: ProbeMethod?, available: Set<ProbeMethod>) throws -> (ProbeMethod?, Int) {
    let outcome = try ProbePlan.firstWorking(for: target, forced: forced) { method -> Result<Void, TracerError> in
      available.contains(method) ? .success(()) : .failure(.methodUnavailable(.noKprobes))
    }
    return (outcome.chosen?.method, outcome.failures.count)
  }

  var everyKernel: [Set<ProbeMethod>] {
    let all = ProbeMethod.allCases
    return (0..<(1 << all.count)).map { mask in
      Set(all.enumerated().filter { mask & (1 << $0.offset) != 0 }.map(\.element))
    }
  }

  /// Kernels users run, what each offers, and what the tool must pick for one syscall, all
  /// syscalls and a kernel function (with the number of methods tried first), written out.
  func testAutoPicksWhatEachKnownKernelShouldUse() throws {
    typealias Expected = (ProbeMethod?, Int)
    let kernels: [(String, Set<ProbeMethod>, [Expected])] = [
      ("this VM: no kprobes, no trampolines", [.tracepoint, .rawTracepoint, .btfTracepoint],
       [(.tracepoint, 0), (.rawTracepoint, 0), (nil, 2)]),
      ("Debian 12, everything", Set(ProbeMethod.allCases), [(.tracepoint, 0), (.rawTracepoint, 0), (.fentry, 0)]),
      ("no tracefs and no way to mount it", [.rawTracepoint, .btfTracepoint, .fentry, .kprobe],
       [(.btfTracepoint, 1), (.rawTracepoint, 0), (.fentry, 0)]),
      ("no BTF", [.tracepoint, .rawTracepoint, .kprobe], [(.tracepoint, 0), (.rawTracepoint, 0), (.kprobe, 1)]),
      ("BTF and trampolines only", [.btfTracepoint, .fentry], [(.btfTracepoint, 1), (.btfTracepoint, 1), (.fentry, 0)]),
      ("trampolines only", [.fentry], [(.fentry, 3), (nil, 3), (.fentry, 0)]),
      ("nothing", [], [(nil, 4), (nil, 3), (nil, 2)]),
    ]
    for (kernel, available, expected) in kernels {
      for (target, want) in zip(targets, expected) {
        let got = try choose(target, forced: nil, available: available)
        XCTAssertTrue(got.0 == want.0 && got.1 == want.1, "\(kernel), \(target): \(got) instead of \(want)")
      }
    }
  }

  /// rt_sigreturn's exit never fires syscalls:sys_exit_rt_sigreturn (the kernel forgets the
  /// number on the way out): the per-syscall tracepoint would count none.
  func testASyscallWhoseExitTheTracepointMissesSkipsTheTracepoint() {
    XCTAssertEqual(ProbePlan.candidates(for: .syscall(name: "rt_sigreturn", number: 15)), [.btfTracepoint, .rawTracepoint, .fentry])
  }

  func testPreferenceOrderPerTarget() {
    XCTAssertEqual(ProbePlan.candidates(for: targets[0]), [.tracepoint, .btfTracepoint, .rawTracepoint, .fentry])
    XCTAssertEqual(ProbePlan.candidates(for: targets[1]), [.rawTracepoint, .btfTracepoint, .tracepoint])
    XCTAssertEqual(ProbePlan.candidates(for: targets[2]), [.fentry, .kprobe])
  }

  func testAKernelFunctionOnAKernelWithoutFentryAndKprobesHasNoMethod() throws {
    for available in everyKernel where !available.contains(.fentry) && !available.contains(.kprobe) {
      XCTAssertNil(try choose(targets[2], forced: nil, available: available).0)
    }
    XCTAssertEqual(try choose(targets[2], forced: nil, available: [.kprobe]).0, .kprobe)
    XCTAssertEqual(try choose(targets[2], forced: nil, available: [.kprobe, .fentry]).0, .fentry)
  }

  func testAForcedMethodIsTheOnlyOneTried() throws {
    for target in targets {
      for method in ProbePlan.candidates(for: target) {
        XCTAssertEqual(try ProbePlan.methods(for: target, forced: method), [method])
        for available in everyKernel {
          let (chosen, failures) = try choose(target, forced: method, available: available)
          XCTAssertEqual(chosen, available.contains(method) ? method : nil)
          XCTAssertEqual(failures, available.contains(method) ? 0 : 1)
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

import BPFKit
import BPFProgram
import CSyscallDist
import Histograms
import XCTest

@testable import Tracer

/// The names Swift uses for the BPF object's maps and programs are the ones the C gives them,
/// in both builds: a rename on one side fails here, not in a user's run.
final class SyscallDistObjectTests: XCTestCase {
  func testEveryNameIsTheObjectsAndEveryProgramIsNamed() throws {
    for (build, bytes) in [("main", BPFProgram.object), ("compat", BPFProgram.compatObject)] {
      let object = try OpenObject(bytes: bytes, name: "syscalldist")
      for map in SyscallDistObject.MapName.allCases {
        XCTAssertTrue(object.hasMap(map.rawValue), "\(build): no map '\(map.rawValue)'")
      }
      let named = Set(SyscallDistObject.MapName.allCases.map(\.rawValue))
      for map in object.mapNames where !map.contains(".") {
        XCTAssertTrue(named.contains(map), "\(build): map '\(map)' has no name in SyscallDistObject")
      }
      XCTAssertEqual(Set(object.programNames), Set(SyscallDistObject.ProgramName.allCases.map(\.rawValue)), build)
    }
  }

  /// Each bucket kind's step is the one its tail-call index names (`SD_BUCKET_STEPS` in the C:
  /// `_log2`, `_linear`, `_log2lin`, `_exp` at 0, 1, 2, 3; the same with `_split` for --off-cpu).
  func testEachMethodsStepsMatchTheirTailCallIndex() {
    let suffixes: [sd_bucket_kind: String] = [.SD_BUCKET_LOG2: "_log2", .SD_BUCKET_LINEAR: "_linear", .SD_BUCKET_LOG2_LINEAR: "_log2lin", .SD_BUCKET_EXPONENTIAL: "_exp",
    ]
    for method in ProbeMethod.allCases {
      for kind in BucketLayout.Kind.allCases {
        let suffix = suffixes[SyscallDistObject.tailCallIndex(kind)]!
        let step = SyscallDistObject.ProgramName(method, .step(kind, split: false)).rawValue
        XCTAssertTrue(step.hasSuffix(suffix), "\(method) \(kind): \(step)")
        let split = SyscallDistObject.ProgramName(method, .step(kind, split: true)).rawValue
        XCTAssertTrue(split.hasSuffix(suffix + "_split"), "\(method) \(kind): \(split)")
      }
    }
  }

  /// Linux 5.10's verifier refuses the whole object if any program holds an instruction it does
  /// not know, pruned or not: atomics other than the plain add (BPF_XADD, immediate 0), such as
  /// the fetch-add clang makes of __sync_fetch_and_add under -mcpu=v3.
  func testTheCompatObjectHoldsOnlyAtomicsLinux510Knows() throws {
    let object = try OpenObject(bytes: BPFProgram.compatObject, name: "syscalldist")
    let atomic: Set<UInt8> = [0xdb, 0xc3]  // BPF_STX | BPF_ATOMIC | BPF_DW or BPF_W
    for (program, instructions) in object.instructions {
      let refused = instructions.filter { atomic.contains($0.code) && $0.imm != 0 }
      XCTAssertEqual(refused.count, 0, "\(program): \(refused.count) atomics 5.10 refuses")
    }
  }
}

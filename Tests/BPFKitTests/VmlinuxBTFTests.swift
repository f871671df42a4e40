@testable import BPFKit
import XCTest

/// The BTF reader on a file of its format written here, where every answer is known: an enum and
/// a struct whose names sit at the string section's 64 KiB chunk edges (the reader searches a
/// chunk at a time), behind decoy types whose names only contain theirs (their name offsets point
/// at the decoys' first bytes). Mapped, as Linux 6.16
/// and later let /sys/kernel/btf/vmlinux be, and read through the window, as older ones need.
final class VmlinuxBTFTests: XCTestCase {
  func testNamesAtEveryChunkEdgeAreFoundAndDecoysAreNot() throws {
    // 56 is right after the other strings; 65,528 starts the second chunk for an 8-byte needle ("bpf_cmd" and its NUL); 65,533
    // crosses the first chunk's end; 131,060 the second's
    for position in [56, 57, 100, 65_527, 65_528, 65_529, 65_533, 65_535, 65_536, 131_060] {
      let path = try writeBTF(enumNameAt: position)
      defer { unlink(path) }
      for maps in [true, false] {
        let btf = try VmlinuxBTF(path: path, maps: maps)
        let context = "bpf_cmd at \(position), \(maps ? "mapped" : "read")"
        XCTAssertEqual(btf.enumerators(of: "bpf_cmd"), [0: "A_ZERO", 1: "A_ONE"], context)
        XCTAssertEqual(btf.memberOffsets(of: "task_struct", ["pid", "tgid", "none"]), ["pid": 8, "tgid": 12], context)
        XCTAssertNil(btf.enumerators(of: "bpf_cm"), context)
        XCTAssertNil(btf.memberOffsets(of: "sched_entity", ["x"]), context)
      }
    }
  }

  /// A BTF file: decoy enums named "xbpf_cmd" and "bpf_cmd_x" first, then enum bpf_cmd
  /// { A_ZERO, A_ONE } with its name at string offset `position`, then struct task_struct
  /// { pid at byte 8, tgid at 12 }, its name after the enum's.
  private func writeBTF(enumNameAt position: Int) throws -> String {
    var strings: [UInt8] = [0]
    func add(_ text: String) -> UInt32 {
      defer { strings += Array(text.utf8) + [0] }
      return UInt32(strings.count)
    }
    let (suffixDecoy, prefixDecoy, zero, one, seven) = (add("xbpf_cmd"), add("bpf_cmd_x"), add("A_ZERO"), add("A_ONE"), add("X"))
    let (task, pid, tgid) = (add("task_struct"), add("pid"), add("tgid"))
    if position > strings.count {  // a padding string, its NUL right before the name
      strings += [UInt8](repeating: UInt8(ascii: "q"), count: position - strings.count - 1) + [0]
    }
    let name = add("bpf_cmd")
    XCTAssertEqual(Int(name), position)
    var types: [UInt32] = []
    func enumeration(_ nameOffset: UInt32, _ members: [(UInt32, UInt32)]) {
      types += [nameOffset, 6 << 24 | UInt32(members.count), 4] + members.flatMap { [$0.0, $0.1] }
    }
    enumeration(suffixDecoy, [(seven, 7)])
    enumeration(prefixDecoy, [(seven, 7)])
    enumeration(name, [(zero, 0), (one, 1)])
    types += [task, 4 << 24 | 2, 16, pid, 0, 64, tgid, 0, 96]  // members' offsets in bits
    let typeBytes = types.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) }
    var file: [UInt8] = [0x9F, 0xEB, 1, 0]
    for word in [24, 0, typeBytes.count, typeBytes.count, strings.count] {
      file += withUnsafeBytes(of: UInt32(word).littleEndian, Array.init)
    }
    file += typeBytes + strings
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("btf-\(position)-\(getpid())").path
    XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(file)))
    return path
  }
}

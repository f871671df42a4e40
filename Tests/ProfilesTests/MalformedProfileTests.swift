import Foundation
import Profiles
import XCTest
import YAMLReading

/// BTF enums for tests: the kernel's `bpf_cmd` is not needed to check a profile's shape.
struct FakeEnums: EnumSource {
  func enumerators(of name: String) -> [UInt64: String]? {
    name == "bpf_cmd" ? [0: "BPF_MAP_CREATE", 1: "BPF_MAP_LOOKUP_ELEM", 36: "BPF_TOKEN_CREATE"] : nil
  }

  /// A union of 16 bytes: an fd at 0, a pointer at 8.
  func typeLayout(of name: String) -> TypeLayout? {
    name == "bpf_attr" ? TypeLayout(size: 16, fields: ["map_fd": (0, 4), "key": (8, 8), "flags16": (4, 2)]) : nil
  }
}

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "Fixtures")

/// Every file in Fixtures/malformed ends with `# expect: LINE:COL: message` lines: all of the
/// errors the loader must report for it, in order.
final class MalformedProfileTests: XCTestCase {
  func testEveryMalformedProfileReportsEachErrorWithItsLineAndColumn() throws {
    let directory = fixtures.appending(path: "malformed")
    let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".yaml") }.sorted()
    XCTAssertGreaterThanOrEqual(files.count, 40)
    for file in files {
      let text = try String(contentsOf: directory.appending(path: file), encoding: .utf8)
      let expected = text.split(separator: "\n").filter { $0.hasPrefix("# expect: ") }.map { String($0.dropFirst(10)) }
      XCTAssertFalse(expected.isEmpty, "\(file) states no expectation")
      do {
        _ = try ProfileLoader(enumSource: FakeEnums()).load(text: text, file: file)
        XCTFail("\(file) loaded")
      } catch {
        let got = error.diagnostics.map { "\($0.location.line):\($0.location.column): \($0.message)" }
        XCTAssertEqual(got, expected, file)
        for diagnostic in error.diagnostics {
          XCTAssertTrue(diagnostic.headline.hasPrefix("\(file):"), diagnostic.headline)
        }
      }
    }
  }

  func testDiagnosticShowsTheLineAndACaretUnderTheColumn() {
    let text = "version: 1\nname: t\nprobe:\n  syscall: opnat\n"
    XCTAssertThrowsError(try ProfileLoader(enumSource: nil).load(text: text, file: "p.yaml")) { error in
      XCTAssertEqual(
        (error as? ProfileError)?.description,
        """
        p.yaml:4:12: error: unknown syscall 'opnat' (did you mean 'openat'?)
          syscall: opnat
                   ^
        """)
    }
  }
}

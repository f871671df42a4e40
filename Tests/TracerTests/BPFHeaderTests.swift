import XCTest

/// Each header of the BPF program compiles alone, in both builds, with the flags the build uses:
/// none works only because another was included before it.
final class BPFHeaderTests: XCTestCase {
  func testEveryBPFHeaderCompilesAlone() throws {
    let bpf = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("bpf").path
    let headers = try FileManager.default.contentsOfDirectory(atPath: bpf).filter { $0.hasSuffix(".h") }.sorted()
    XCTAssertTrue(headers.contains("sd_track.bpf.h"), "\(bpf): \(headers)")
    #if arch(arm64)
      let (arch, multiarch) = ("arm64", "aarch64-linux-gnu")
    #else
      let (arch, multiarch) = ("x86", "x86_64-linux-gnu")
    #endif
    for header in headers {
      for build in [[], ["-DSD_COMPAT"]] {
        let clang = Process()
        let errors = Pipe()
        clang.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        clang.arguments = ["clang", "-target", "bpf", "-mcpu=v3", "-Wall", "-Werror", "-D__TARGET_ARCH_\(arch)",
          "-I/usr/include/\(multiarch)", "-I", bpf, "-fsyntax-only", "-x", "c", "-include", header, "/dev/null"] + build
        clang.standardError = errors
        try clang.run()
        let said = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        clang.waitUntilExit()
        XCTAssertEqual(clang.terminationStatus, 0, "\(header) \(build.joined()): \(said)")
      }
    }
  }
}

import Profiles
import Snapshots
import XCTest

/// Raw keys as users read them: names from the kernel's BTF, the profile's map, the syscall and
/// errno tables, else the number, signed for return values.
final class KeyDecoderTests: XCTestCase {
  func profile(_ key: String) throws -> Profile {
    try ProfileLoader(enumSource: nil).load(text: "version: 1\nname: x\nprobe: {syscall: bpf}\nkey: \(key)\n", file: "x")
  }

  func testBTFNamesWinThenTheMapThenTheNumber() throws {
    let decoder = KeyDecoder(
      for: try profile("{source: arg0, decode: {btf_enum: bpf_cmd, map: {1: FROM_MAP, 2: ONLY_MAP}}}"),
      enumerators: [0: "BPF_MAP_CREATE", 1: "BPF_MAP_LOOKUP_ELEM", 36: "BPF_TOKEN_CREATE"])
    XCTAssertEqual(decoder.name(for: 1), "BPF_MAP_LOOKUP_ELEM")
    XCTAssertEqual(decoder.name(for: 2), "ONLY_MAP")
    XCTAssertEqual(decoder.name(for: 36), "BPF_TOKEN_CREATE")
    XCTAssertEqual(decoder.name(for: 99), "99")
  }

  func testSyscallErrnoAndReturnValueNames() throws {
    let syscalls = KeyDecoder(for: try profile("{source: syscall, decode: {syscall_name: true}}"), enumerators: [:])
    XCTAssertEqual(syscalls.name(for: 0), "read")
    XCTAssertEqual(syscalls.name(for: 451), "cachestat")
    XCTAssertEqual(syscalls.name(for: 500), "500")
    let errnos = KeyDecoder(for: try profile("{source: retval, decode: {errno: true}}"), enumerators: [:])
    XCTAssertEqual(errnos.name(for: 0), "ok")
    XCTAssertEqual(errnos.name(for: 2), "ENOENT")
    XCTAssertEqual(errnos.name(for: 512), "ERESTARTSYS")
    XCTAssertEqual(errnos.name(for: 530), "ERECALLCONFLICT")
    XCTAssertEqual(errnos.name(for: 531), "ENOGRACE")
    XCTAssertEqual(errnos.name(for: 600), "errno 600")
    let values = KeyDecoder(for: try profile("{source: retval}"), enumerators: [:])
    XCTAssertEqual(values.name(for: UInt64(bitPattern: -2)), "-2")
    XCTAssertEqual(values.number(UInt64(bitPattern: -2)), .signed(-2))
    let arguments = KeyDecoder(for: try profile("{source: arg0}"), enumerators: [:])
    XCTAssertEqual(arguments.name(for: UInt64(bitPattern: -2)), "18446744073709551614")
  }

  /// Every syscall keyed by number: an ia32 call of number n is the key 513 + n, named from the
  /// i386 table with its own number, never as the x86_64 syscall n.
  func testIA32KeysAreNamedFromTheirOwnTable() throws {
    #if arch(x86_64)
      let all = try ProfileLoader(enumSource: nil).load(
        text: "version: 1\nname: all\nprobe: {syscalls: all}\nkey: {source: syscall, decode: {syscall_name: true}}\n", file: "a")
      XCTAssertTrue(all.keysCompatCallsApart)
      let decoder = KeyDecoder(for: all, enumerators: [:])
      XCTAssertEqual(decoder.name(for: 64), "semget")
      XCTAssertEqual(decoder.name(for: 513 + 64), "ia32:getppid")
      XCTAssertEqual(decoder.number(513 + 64), .unsigned(64))
      XCTAssertEqual(decoder.name(for: 513 + 11), "ia32:execve")  // x86_64's 11 is munmap
      XCTAssertEqual(decoder.name(for: 513 + 500), "ia32:500")
      let unnamed = try ProfileLoader(enumSource: nil).load(
        text: "version: 1\nname: n\nprobe: {syscalls: all}\nkey: {source: syscall}\n", file: "n")
      XCTAssertEqual(KeyDecoder(for: unnamed, enumerators: [:]).name(for: 513 + 64), "ia32:64")
      // keyed by anything else, or tracing one syscall, they are not keyed apart
      XCTAssertFalse(try profile("{source: syscall}").keysCompatCallsApart)
      let byPid = try ProfileLoader(enumSource: nil).load(
        text: "version: 1\nname: p\nprobe: {syscalls: all}\nkey: {source: pid}\n", file: "p")
      XCTAssertFalse(byPid.keysCompatCallsApart)
    #endif
  }
}

import Foundation
import Histograms
import Profiles
import XCTest

final class ShippedProfileTests: XCTestCase {
  func testEveryShippedProfileLoadsAndMatchesItsFileName() throws {
    XCTAssertGreaterThanOrEqual(ProfileCatalog.builtIn.count, 6)
    for (name, text) in ProfileCatalog.builtIn {
      let profile = try ProfileLoader(enumSource: FakeEnums()).load(text: text, file: name)
      XCTAssertEqual(profile.name, name)
      XCTAssertFalse(profile.description.isEmpty, name)
      XCTAssertTrue(text.hasPrefix("# Answers:"), "\(name) should say what it answers")
    }
  }

  func testBuiltInCopiesAreTheFilesInProfilesDirectory() throws {
    let directory = fixtures.appending(path: "../../../profiles").standardized
    let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".yaml") }
    XCTAssertEqual(Set(files.map { String($0.dropLast(5)) }), Set(ProfileCatalog.builtIn.keys))
    for file in files {
      let text = try String(contentsOf: directory.appending(path: file), encoding: .utf8)
      XCTAssertEqual(ProfileCatalog.builtIn[String(file.dropLast(5))], text, file)
    }
  }

  func testDefaultProfileIsTheOriginTool() throws {
    let profile = try ProfileLoader(enumSource: FakeEnums()).load(
      text: ProfileCatalog.builtIn["bpfsyscalldist"]!, file: "bpfsyscalldist")
    XCTAssertEqual(profile.target, .syscall(name: "bpf", number: KernelNames.syscallNumbers["bpf"]!))
    XCTAssertEqual(profile.keySource, .argument(0))
    XCTAssertEqual(profile.decoding.btfEnum, "bpf_cmd")
    XCTAssertEqual(profile.layout, .log2)
    XCTAssertEqual(profile.unit, .us)
    XCTAssertEqual(profile.title(forKey: "BPF_PROG_LOAD", raw: "5"), "syscall(BPF) cmd(BPF_PROG_LOAD)")
  }

  func testSyscalldistTitleFollowsTheOriginTool() throws {
    let profile = try ProfileLoader(enumSource: nil).load(text: ProfileCatalog.builtIn["syscalldist"]!, file: "s")
    XCTAssertEqual(profile.title(forKey: "read", raw: "0"), "syscall(0/read)")
    XCTAssertEqual(KeySpace(for: profile, enumerators: [:]), .dense(keyCount: KernelNames.syscallKeyCount))
  }

  func testAFullProfileMapsEveryField() throws {
    let text = """
      version: 1
      name: custom
      description: d
      probe: {syscall: clock_nanosleep}
      key:
        source: retval
        label: outcome
        decode: {errno: true}
      histogram:
        buckets: linear
        linear: {min: 10, max: 110, step: 20}
        unit: ms
      title: "sleep {label}={key} ({raw})"
      """
    let profile = try ProfileLoader(enumSource: nil).load(text: text, file: "c.yaml")
    XCTAssertEqual(profile.keySource, .retval)
    XCTAssertTrue(profile.decoding.errnoNames)
    XCTAssertEqual(profile.layout, .linear(min: 10, max: 110, step: 20))
    XCTAssertEqual(profile.unit, .ms)
    XCTAssertEqual(profile.title(forKey: "EINTR", raw: "4"), "sleep outcome=EINTR (4)")
    XCTAssertEqual(KeySpace(for: profile, enumerators: [:]), .dense(keyCount: KernelNames.errnoKeyCount))
  }

  func testDefaultsAreLog2MicrosecondsAndNoKey() throws {
    let profile = try ProfileLoader(enumSource: nil).load(text: "version: 1\nname: x\nprobe: {syscalls: all}\n", file: "x")
    XCTAssertEqual(profile.target, .allSyscalls)
    XCTAssertEqual(profile.keySource, .none)
    XCTAssertEqual(profile.layout, .log2)
    XCTAssertEqual(profile.unit, .us)
    XCTAssertEqual(KeySpace(for: profile, enumerators: [:]), .dense(keyCount: 1))
  }
}

final class KeyDecodingTests: XCTestCase {
  func testBTFNamesWinThenTheMapThenTheNumber() {
    let decoder = KeyDecoder(
      decoding: .init(btfEnum: "bpf_cmd", names: [1: "FROM_MAP", 2: "ONLY_MAP"]),
      enumerators: [0: "BPF_MAP_CREATE", 1: "BPF_MAP_LOOKUP_ELEM", 36: "BPF_TOKEN_CREATE"])
    XCTAssertEqual(decoder.name(for: 1), "BPF_MAP_LOOKUP_ELEM")
    XCTAssertEqual(decoder.name(for: 2), "ONLY_MAP")
    XCTAssertEqual(decoder.name(for: 36), "BPF_TOKEN_CREATE")
    XCTAssertEqual(decoder.name(for: 99), "99")
  }

  func testSyscallAndErrnoNames() {
    let syscalls = KeyDecoder(decoding: .init(syscallNames: true), enumerators: [:])
    XCTAssertEqual(syscalls.name(for: UInt64(KernelNames.syscallNumbers["read"]!)), "read")
    XCTAssertEqual(syscalls.name(for: 100_000), "100000")
    let errnos = KeyDecoder(decoding: .init(errnoNames: true), enumerators: [:])
    XCTAssertEqual(errnos.name(for: 0), "ok")
    XCTAssertEqual(errnos.name(for: 2), "ENOENT")
    XCTAssertEqual(errnos.name(for: 512), "ERESTARTSYS")
  }

  func testArgumentKeysWithNamesAreDenseWithRoomForNewerValues() {
    var profile = try! ProfileLoader(enumSource: nil).load(
      text: "version: 1\nname: x\nprobe: {syscall: bpf}\nkey: {source: arg0}\n", file: "x")
    XCTAssertEqual(KeySpace(for: profile, enumerators: [:]), .sparse)
    XCTAssertEqual(KeySpace(for: profile, enumerators: [0: "A", 39: "B"]), .dense(keyCount: 64))
    XCTAssertEqual(KeySpace(for: profile, enumerators: [0: "A", 64: "B"]), .dense(keyCount: 128))
    profile.decoding.names = [5000: "BIG"]
    XCTAssertEqual(KeySpace(for: profile, enumerators: [:]), .sparse)
  }

  func testSyscallNameSuggestions() {
    XCTAssertEqual(KernelNames.suggestion(forSyscall: "opnat"), "openat")
    XCTAssertEqual(KernelNames.suggestion(forSyscall: "clock_nanoslep"), "clock_nanosleep")
    XCTAssertNil(KernelNames.suggestion(forSyscall: "frobnicate"))
  }
}

final class GeneratedTableTests: XCTestCase {
  /// The committed tables are what scripts/gen-tables.sh makes from this machine's headers.
  func testGeneratedTablesMatchSystemHeaders() throws {
    let root = fixtures.appending(path: "../../..").standardized
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = [root.appending(path: "scripts/gen-tables.sh").path]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let generated = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    XCTAssertEqual(process.terminationStatus, 0)
    let committed = try String(
      contentsOf: root.appending(path: "Sources/Profiles/Generated/KernelTables.swift"), encoding: .utf8)
    XCTAssertEqual(generated, committed, "run scripts/gen-tables.sh > Sources/Profiles/Generated/KernelTables.swift")
  }

  func testTablesHoldWellKnownNumbers() {
    let tables = KernelNames.generatedTables
    XCTAssertEqual(tables.x86_64[0], "read")
    XCTAssertEqual(tables.x86_64[321], "bpf")
    XCTAssertEqual(tables.arm64[63], "read")
    XCTAssertEqual(tables.arm64[280], "bpf")
    XCTAssertEqual(tables.errno[2], "ENOENT")
    XCTAssertEqual(tables.errno[11], "EAGAIN")
  }
}

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
    XCTAssertEqual(profile.target, .syscall(name: "bpf", number: UAPINames.syscallNumbers["bpf"]!))
    XCTAssertEqual(profile.keySource, .argument(0))
    XCTAssertEqual(profile.decoding.btfEnum, "bpf_cmd")
    XCTAssertEqual(profile.layout, .log2)
    XCTAssertEqual(profile.unit, .us)
    XCTAssertEqual(profile.title(forKey: "BPF_PROG_LOAD", raw: "5"), "syscall(BPF) cmd(BPF_PROG_LOAD)")
  }

  func testSyscalldistTitleFollowsTheOriginTool() throws {
    let profile = try ProfileLoader(enumSource: nil).load(text: ProfileCatalog.builtIn["syscalldist"]!, file: "s")
    XCTAssertEqual(profile.title(forKey: "read", raw: "0"), "syscall(0/read)")
    #if arch(x86_64)
      // 512 x86_64 numbers, the invalid key, 512 ia32 numbers
      let (keys, perCPUUpTo) = (1025, 15)
    #else
      let (keys, perCPUUpTo) = (513, 30)
    #endif
    XCTAssertEqual(CountStorage(for: profile, enumerators: [:], cpus: 2).keySpace, .dense(keyCount: keys))
    // 2 generations x 1025 keys x (64 slots + 3 words) x 8 bytes = 1.05 MiB a CPU (513: 537 KiB):
    // past the 16 MiB budget from 16 CPUs on (31), every CPU shares one copy (atomics), still dense
    let narrow = CountStorage(for: profile, enumerators: [:], cpus: perCPUUpTo)
    XCTAssertEqual(narrow.keySpace, .dense(keyCount: keys))
    XCTAssertFalse(narrow.shared)
    let wide = CountStorage(for: profile, enumerators: [:], cpus: perCPUUpTo + 1)
    XCTAssertEqual(wide.keySpace, .dense(keyCount: keys))
    XCTAssertTrue(wide.shared)
    // Linux 5.10 to 5.12 have no compare-and-swap: there the hash by key and CPU takes over
    let compat = CountStorage(for: profile, enumerators: [:], cpus: perCPUUpTo + 1, atomics: false)
    XCTAssertEqual(compat.keySpace, .sparse)
    XCTAssertFalse(compat.shared)
  }

  /// A per-CPU map's value holds at most 32 KiB (the kernel's PCPU_MIN_UNIT_SIZE): an exponential
  /// series of schema 6 and up (4,098 slots and more) is larger, so it is shared even on 2 CPUs,
  /// or kept in the hash where there are no atomics. Schema 5 (2,050 slots) stays per CPU.
  func testSeriesTooLargeForAPerCPUValueAreShared() throws {
    var profile = try ProfileLoader(enumSource: nil).load(text: ProfileCatalog.builtIn["bpfsyscalldist"]!, file: "b")
    profile.layout = .exponential(schema: 5)
    XCTAssertFalse(CountStorage(for: profile, enumerators: [:], cpus: 2).shared)
    for schema in 6...8 {
      profile.layout = .exponential(schema: schema)
      let storage = CountStorage(for: profile, enumerators: [:], cpus: 2)
      XCTAssertGreaterThan(storage.wordsPerSeries * 8, 32 << 10)
      XCTAssertTrue(storage.shared, "schema \(schema)")
      XCTAssertEqual(CountStorage(for: profile, enumerators: [:], cpus: 2, atomics: false).keySpace, .sparse)
    }
    // the default profile at the default schema on 128 CPUs: still within its 16 MiB goal
    profile.layout = .exponential(schema: ExponentialScale.defaultSchema)
    let large = CountStorage(for: profile, enumerators: [:], cpus: 128)
    XCTAssertLessThanOrEqual(large.histogramBytes + large.errorBytes, 16 << 20)
  }

  /// The goals at 128 possible CPUs: the default profile's histograms and errors within 16 MiB,
  /// syscalldist's within 32 MiB; and neither grows past its 16 MiB budget at 256 (shared then).
  func testKernelMemoryStaysWithinItsGoalsOnLargeHosts() throws {
    for (name, goal) in [("bpfsyscalldist", 16 << 20), ("syscalldist", 32 << 20)] {
      let profile = try ProfileLoader(enumSource: nil).load(text: ProfileCatalog.builtIn[name]!, file: name)
      for cpus in [2, 32, 128, 256] {
        let storage = CountStorage(for: profile, enumerators: [:], cpus: cpus)
        XCTAssertLessThanOrEqual(storage.histogramBytes + storage.errorBytes, goal, "\(name) on \(cpus) CPUs")
        XCTAssertLessThanOrEqual(storage.histogramBytes, KeySpace.denseBudget, "\(name) on \(cpus) CPUs")
      }
    }
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
      off_cpu: true
      """
    let profile = try ProfileLoader(enumSource: nil).load(text: text, file: "c.yaml")
    XCTAssertTrue(profile.offCPU)
    XCTAssertThrowsError(
      try ProfileLoader(enumSource: nil).load(text: "version: 1\nname: x\nprobe: {syscalls: all}\noff_cpu: maybe\n", file: "o.yaml")
    ) { error in
      XCTAssertTrue("\(error)".contains("o.yaml:4:10"), "\(error)")
    }
    XCTAssertEqual(profile.keySource, .errno, "retval decoded as errno is the errno source")
    XCTAssertEqual(profile.layout, .linear(min: 10, max: 110, step: 20))
    XCTAssertEqual(profile.unit, .ms)
    XCTAssertEqual(profile.title(forKey: "EINTR", raw: "4"), "sleep outcome=EINTR (4)")
    XCTAssertEqual(CountStorage(for: profile, enumerators: [:], cpus: 2).keySpace, .dense(keyCount: 1024))
  }

  func testDefaultsAreLog2MicrosecondsAndNoKey() throws {
    let profile = try ProfileLoader(enumSource: nil).load(text: "version: 1\nname: x\nprobe: {syscalls: all}\n", file: "x")
    XCTAssertFalse(profile.offCPU)
    XCTAssertEqual(profile.target, .allSyscalls)
    XCTAssertEqual(profile.keySource, .none)
    XCTAssertEqual(profile.layout, .log2)
    XCTAssertEqual(profile.unit, .us)
    XCTAssertEqual(CountStorage(for: profile, enumerators: [:], cpus: 2).keySpace, .dense(keyCount: 1))
  }
}

/// Where keys are kept, and what a misspelt syscall name was meant to be.
final class KeySpaceTests: XCTestCase {
  func profile(_ key: String) throws -> Profile {
    try ProfileLoader(enumSource: nil).load(text: "version: 1\nname: x\nprobe: {syscall: bpf}\nkey: \(key)\n", file: "x")
  }

  func testArgumentKeysWithNamesAreDenseWithRoomForNewerValues() throws {
    var profile = try profile("{source: arg0}")
    XCTAssertEqual(CountStorage(for: profile, enumerators: [:], cpus: 2).keySpace, .sparse)
    XCTAssertEqual(CountStorage(for: profile, enumerators: [0: "A", 39: "B"], cpus: 2).keySpace, .dense(keyCount: 64))
    XCTAssertEqual(CountStorage(for: profile, enumerators: [0: "A", 64: "B"], cpus: 2).keySpace, .dense(keyCount: 128))
    profile.decoding.names = [5000: "BIG"]
    XCTAssertEqual(CountStorage(for: profile, enumerators: [:], cpus: 2).keySpace, .sparse)
  }

  func testSyscallNameSuggestions() {
    XCTAssertEqual(UAPINames.suggestion(forSyscall: "opnat"), "openat")
    XCTAssertEqual(UAPINames.suggestion(forSyscall: "clock_nanoslep"), "clock_nanosleep")
    XCTAssertNil(UAPINames.suggestion(forSyscall: "frobnicate"))
  }
}

/// The vendored syscall tables (Debian sid's headers, scripts/gen-tables.sh) against sources
/// that are not the tables: this machine's own headers, which are older, so every entry they have
/// must be in the table, unchanged; and numbers known from the kernel's history.
final class VendoredTableTests: XCTestCase {
  /// `name number` pairs of the `#define __NR_name number` lines of a header.
  func numbered(_ path: String) throws -> [Int: String] {
    var table: [Int: String] = [:]
    for line in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n") {
      let words = line.split(separator: " ")
      guard words.count == 3, words[0] == "#define", words[1].hasPrefix("__NR_"), let number = Int(words[2]) else { continue }
      table[number] = String(words[1].dropFirst(5))
    }
    return table
  }

  func assertContains(_ table: [Int: String], _ source: [Int: String], _ name: String) {
    XCTAssertGreaterThan(source.count, 300, "\(name) looks empty")
    for (number, syscall) in source {
      XCTAssertEqual(table[number], syscall, "\(name): \(number)")
    }
  }

  func testX86_64TableHoldsThisMachinesHeaders() throws {
    assertContains(UAPINames.generatedTables.x86_64, try numbered("/usr/include/x86_64-linux-gnu/asm/unistd_64.h"), "x86_64")
  }

  func testIA32TableHoldsThisMachinesHeaders() throws {
    assertContains(UAPINames.generatedTables.ia32, try numbered("/usr/include/x86_64-linux-gnu/asm/unistd_32.h"), "ia32")
    XCTAssertEqual(UAPINames.generatedTables.ia32[64], "getppid")
    XCTAssertLessThan(UAPINames.generatedTables.ia32.keys.max() ?? .max, UAPINames.syscallKeyRange)
  }

  /// Debian's linux-libc-dev-arm64-cross (6.1 on Debian 12): arm64's asm/unistd.h includes the
  /// generic table with its own __ARCH_WANT_* choices; the preprocessor resolves it.
  func testArm64TableHoldsTheCrossHeaders() throws {
    let header = "/usr/aarch64-linux-gnu/include/asm/unistd.h"
    let gcc = Process()
    gcc.executableURL = URL(fileURLWithPath: "/usr/bin/gcc")
    gcc.arguments = ["-E", "-dM", "-nostdinc", "-I", "/usr/aarch64-linux-gnu/include", header]
    let output = Pipe()
    gcc.standardOutput = output
    try gcc.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    gcc.waitUntilExit()
    XCTAssertEqual(gcc.terminationStatus, 0, "is linux-libc-dev-arm64-cross installed? (scripts/setup.sh)")
    var defines: [String: String] = [:]
    for line in text.split(separator: "\n") {
      let words = line.split(separator: " ")
      if words.count == 3, words[0] == "#define", words[1].hasPrefix("__NR") { defines[String(words[1])] = String(words[2]) }
    }
    var source: [Int: String] = [:]
    for (name, value) in defines where name.hasPrefix("__NR_") && name != "__NR_syscalls" && name != "__NR_arch_specific_syscall" {
      if let number = Int(defines[value] ?? value) { source[number] = String(name.dropFirst(5)) }
    }
    assertContains(UAPINames.generatedTables.arm64, source, "arm64")
  }

  func testErrnoTableHoldsThisMachinesHeaders() throws {
    var source: [Int: String] = [:]
    for file in ["/usr/include/asm-generic/errno-base.h", "/usr/include/asm-generic/errno.h"] {
      for line in try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n") {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        if words.count >= 3, words[0] == "#define", words[1].hasPrefix("E"), let number = Int(words[2]), source[number] == nil {
          source[number] = String(words[1])
        }
      }
    }
    XCTAssertGreaterThan(source.count, 100)
    for (number, name) in source { XCTAssertEqual(UAPINames.generatedTables.errno[number], name, "errno \(number)") }
  }

  /// Since Linux 5.1 every architecture numbers new syscalls alike (from 424 on), so the two
  /// tables, made from two architectures' headers, vouch for each other there.
  func testArchitecturesAgreeOnTheSyscallsEveryArchitectureShares() {
    let (x86, arm64) = (UAPINames.generatedTables.x86_64, UAPINames.generatedTables.arm64)
    let shared = Set(x86.keys.filter { $0 >= 424 }).union(arm64.keys.filter { $0 >= 424 })
    XCTAssertGreaterThan(shared.count, 40)
    for number in shared { XCTAssertEqual(x86[number], arm64[number], "syscall \(number)") }
  }

  /// Syscalls since Linux 6.5, newer than Debian 12's headers; since 4.19 every architecture
  /// numbers new syscalls alike.
  func testTablesNameSyscallsNewerThanTheBuildHeaders() {
    let newer = [451: "cachestat", 452: "fchmodat2", 454: "futex_wake", 457: "statmount", 462: "mseal", 468: "file_getattr"]
    for (number, name) in newer {
      XCTAssertEqual(UAPINames.generatedTables.x86_64[number], name)
      XCTAssertEqual(UAPINames.generatedTables.arm64[number], name)
    }
    XCTAssertEqual(UAPINames.generatedTables.x86_64[321], "bpf")
    XCTAssertEqual(UAPINames.generatedTables.arm64[280], "bpf")
    XCTAssertLessThan(UAPINames.generatedTables.x86_64.keys.max() ?? .max, UAPINames.syscallKeyRange)
    XCTAssertLessThan(UAPINames.generatedTables.arm64.keys.max() ?? .max, UAPINames.syscallKeyRange)
  }
}

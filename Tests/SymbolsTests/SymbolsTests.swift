import Foundation
import Symbols
import XCTest

final class KallsymsTests: XCTestCase {
  let kallsyms = Array(
    """
    ffffffff81000000 T _stext
    ffffffff81000100 t do_nanosleep
    ffffffff81000200 D some_data
    ffffffff81000300 T hrtimer_nanosleep
    ffffffffc0001000 t nft_do_chain\t[nf_tables]

    """.utf8)

  func testAddressesNameTheCodeSymbolAtOrBeforeThem() {
    let symbols = Kallsyms(kallsyms: kallsyms)
    XCTAssertEqual(symbols.frame(at: 0xffff_ffff_8100_0100).name, "do_nanosleep")
    XCTAssertEqual(symbols.frame(at: 0xffff_ffff_8100_0123).name, "do_nanosleep+0x23")
    // data symbols are not code: the address still belongs to do_nanosleep's range
    XCTAssertEqual(symbols.frame(at: 0xffff_ffff_8100_0250).name, "do_nanosleep+0x150")
    let module = symbols.frame(at: 0xffff_ffff_c000_1010)
    XCTAssertEqual(module.name, "nft_do_chain+0x10")
    XCTAssertEqual(module.module, "nf_tables")
    XCTAssertEqual(symbols.frame(at: 0x1000).name, "[unknown]")
  }

  /// Frames after the first are return addresses: a call that is a function's last instruction
  /// returns to the next function, so they are named by the byte before.
  func testReturnAddressesAreNamedByTheCallBeforeThem() {
    let frames = Kallsyms(kallsyms: kallsyms).frames([0xffff_ffff_8100_0300, 0xffff_ffff_8100_0300])
    XCTAssertEqual(frames.map(\.name), ["hrtimer_nanosleep", "do_nanosleep+0x200"])
  }

  func testHiddenAddressesNameNothing() {
    let hidden = Kallsyms(kallsyms: Array("0000000000000000 T _stext\n0000000000000000 T do_nanosleep\n".utf8))
    XCTAssertNil(hidden.frame(at: 0xffff_ffff_8100_0100).function)
  }
}

final class UserSymbolsTests: XCTestCase {
  /// libc's own functions, found by the dynamic linker (the truth), named from the ELF file.
  func testAFunctionOfThisProcessIsNamedByItsELFSymbols() throws {
    let handle = dlopen(nil, RTLD_NOW)
    let address = UInt64(UInt(bitPattern: try XCTUnwrap(dlsym(handle, "clock_nanosleep"))))
    let (frames, exited) = UserSymbols().frames([address + 5, address + 1], pid: UInt32(getpid()))
    XCTAssertFalse(exited)
    XCTAssertTrue(frames[0].function?.contains("clock_nanosleep") ?? false, "\(frames[0])")
    XCTAssertEqual(frames[0].offset, 5)
    XCTAssertEqual(frames[1].offset, 1)
    XCTAssertTrue(frames[0].module?.contains("libc.so") ?? false, "\(frames[0])")
  }

  func testAnAddressNothingMapsIsUnknown() {
    let (frames, exited) = UserSymbols().frames([0x10], pid: UInt32(getpid()))
    XCTAssertFalse(exited)
    XCTAssertEqual(frames.map(\.name), ["[unknown]"])
  }

  func testAProcessThatExitedIsSaidToHave() throws {
    let process = try Process.run(URL(fileURLWithPath: "/bin/true"), arguments: [])
    process.waitUntilExit()
    let (frames, exited) = UserSymbols().frames([0x401000], pid: UInt32(process.processIdentifier))
    XCTAssertTrue(exited)
    XCTAssertEqual(frames.map(\.name), ["[unknown]"])
  }
}

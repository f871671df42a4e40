import CSyscallDist
import Histograms
import Profiles
import Snapshots
import XCTest

/// Keys of several parts as users read them: each part by its own decoders, an fd part by what
/// the kernel said it named, the series' labels and titles, and serve's overflow series.
final class KeyPartsDecodingTests: XCTestCase {
  let profileText = """
    version: 1
    name: parts
    probe: {syscall: bpf}
    key:
      - {source: arg0, label: cmd, decode: {map: {2: BPF_MAP_UPDATE_ELEM}}}
      - {source: arg1, label: map, read: {offset: 0, size: 4}, decode: {fd: true}}
      - {source: comm}
      - {source: retval, label: result, decode: {errno: true}}
    """

  /// An fd part's words as the kernel writes them: kind << 56 | flags | type << 32 | id, a name.
  func fdWords(kind: sd_fd_kind, type: UInt64 = 0, id: UInt32 = 0, name: String = "", flags: UInt64 = 0) -> [UInt64] {
    var nameWords: [UInt64] = [0, 0]
    nameWords.withUnsafeMutableBytes { raw in for (i, byte) in name.utf8.prefix(15).enumerated() { raw[i] = byte } }
    return [UInt64(kind.rawValue) << 56 | flags | type << 32 | UInt64(id)] + nameWords
  }

  func testAKeyOfPartsDecodesEachPartAndLabelsIt() throws {
    let profile = try ProfileLoader(enumSource: nil).load(text: profileText, file: "parts.yaml")
    XCTAssertEqual(profile.keyParts.map(\.label), ["cmd", "map", "comm", "result"])
    XCTAssertEqual(profile.keyParts.map(\.words), [1, 3, 2, 1])
    XCTAssertEqual(profile.keyWords, 7)
    XCTAssertEqual(profile.title, "cmd({cmd}) map({map}) comm({comm}) result({result})")
    let decoder = KeyDecoder(
      for: profile, enumerators: [:], fdTypes: FDObject.TypeNames(maps: [13: "BPF_MAP_TYPE_PROG_ARRAY"]))
    let key = Key.parts([
      .number(2), .fd(FDObject(words: fdWords(kind: .SD_FD_BPF_MAP, type: 13, id: 42, name: "xdp_progs"))),
      .name("xdp-acl"), .number(16),
    ])
    let decoded = decoder.decode(key)
    XCTAssertEqual(decoded.parts.map(\.name), ["BPF_MAP_UPDATE_ELEM", "prog_array xdp_progs (id 42)", "xdp-acl", "EBUSY"])
    XCTAssertEqual(decoded.name, "cmd(BPF_MAP_UPDATE_ELEM) map(prog_array xdp_progs (id 42)) comm(xdp-acl) result(EBUSY)")

    var counts = Counts()
    counts.histograms[CountKey(key)] = SeriesCounts(buckets: [0, 3] + Array(repeating: 0, count: 62), sumNanoseconds: 9)
    let snapshot = counts.snapshot(profile: profile, decoder: decoder, timestamp: 0)
    XCTAssertEqual(snapshot.series.first?.title, "cmd(BPF_MAP_UPDATE_ELEM) map(prog_array xdp_progs (id 42)) comm(xdp-acl) result(EBUSY)")
    XCTAssertEqual(
      snapshot.series.first?.keyLabels(snapshot.keyLabel).map { "\($0.name)=\($0.value)" },
      ["cmd=BPF_MAP_UPDATE_ELEM", "map=prog_array xdp_progs (id 42)", "comm=xdp-acl", "result=EBUSY"])
  }

  func testAnFDPartSaysWhatItNamedAndWhetherItStillDid() {
    let names = FDObject.TypeNames(programs: [6: "BPF_PROG_TYPE_XDP"])
    XCTAssertEqual(FDObject(words: fdWords(kind: .SD_FD_NOT_OPEN, id: 9)).description(names), "fd 9 not open")
    XCTAssertEqual(FDObject(words: fdWords(kind: .SD_FD_NOT_OPEN, id: UInt32(bitPattern: -1))).description(names), "fd -1 not open")
    XCTAssertEqual(FDObject(words: fdWords(kind: .SD_FD_NOT_READ)).description(names), "-")
    XCTAssertEqual(
      FDObject(words: fdWords(kind: .SD_FD_BPF_PROG, type: 6, id: 7, name: "dispatcher")).description(names),
      "prog xdp dispatcher (id 7)")
    XCTAssertEqual(FDObject(words: fdWords(kind: .SD_FD_BPF_MAP, type: 99, id: 3)).description(names), "map type 99 (id 3)")
    XCTAssertEqual(FDObject(words: fdWords(kind: .SD_FD_SOCKET, type: 10)).description(names), "socket inet6")
    XCTAssertEqual(
      FDObject(words: fdWords(kind: .SD_FD_PIPE, flags: SD_FD_CLOSED_IN_CALL)).description(names), "pipe, closed during the call")
    XCTAssertEqual(
      FDObject(words: fdWords(kind: .SD_FD_REGULAR, flags: SD_FD_REUSED_IN_CALL)).description(names),
      "regular file, reused during the call")
  }

  /// Past the series limit every part reads as the overflow name, which no part's value can be.
  func testServesOverflowSeriesLabelsEveryPart() throws {
    let profile = try ProfileLoader(enumSource: nil).load(text: profileText, file: "parts.yaml")
    var cumulative = CumulativeCounts(profile: profile, decoder: KeyDecoder(for: profile, enumerators: [:]), seriesLimit: 2, idleSeconds: 600, since: 0)
    var counts = Counts()
    for cmd in 1...3 as ClosedRange<UInt64> {
      let key = Key.parts([.number(cmd), .fd(FDObject(words: fdWords(kind: .SD_FD_PIPE))), .name("w"), .number(0)])
      counts.histograms[CountKey(key)] = SeriesCounts(buckets: [0, 1] + Array(repeating: 0, count: 62), sumNanoseconds: 1)
    }
    cumulative.add(counts, at: 1)
    let snapshot = cumulative.snapshot(at: 1).snapshot
    let overflow = snapshot.series.first { $0.keyName == Profile.overflowKeyName }
    XCTAssertEqual(overflow?.keyLabels(snapshot.keyLabel).map(\.value), Array(repeating: Profile.overflowKeyName, count: 4))
    XCTAssertEqual(overflow?.histogram.total, 2)
  }
}

/// The generic BPF program every profile runs (`bpf/syscalldist.bpf.c`), as built by `swift build`.
public enum BPFProgram {
  /// The object file's bytes, decoded once from the embedded base64 text.
  public static let object: [UInt8] = decodeBase64(embeddedObjectBase64)
  /// The same program built for Linux 5.10 to 5.12 (`-DSD_COMPAT`): helpers instead of the
  /// task's BTF pointer, starts in a hash by thread id, no atomics (no --concurrency).
  public static let compatObject: [UInt8] = decodeBase64(embeddedCompatObjectBase64)

  /// A base64 decoder for the embedded text, so this target needs no Foundation.
  static func decodeBase64(_ text: String) -> [UInt8] {
    var table = [UInt8](repeating: 0xFF, count: 256)
    for (index, char) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8
      .enumerated()
    {
      table[Int(char)] = UInt8(index)
    }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(text.utf8.count / 4 * 3)
    var accumulator: UInt32 = 0
    var bits = 0
    for char in text.utf8 {
      let value = table[Int(char)]
      if value == 0xFF { continue }  // '=' padding
      accumulator = accumulator << 6 | UInt32(value)
      bits += 6
      if bits >= 8 {
        bits -= 8
        bytes.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
      }
    }
    return bytes
  }
}

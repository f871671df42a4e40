import FoundationEssentials

/// The generic BPF program every profile runs (`bpf/syscalldist.bpf.c`), as built by `swift build`.
public enum BPFProgram {
  /// The object file's bytes, decoded once from the embedded base64 text.
  public static let object: [UInt8] = decode(embeddedObjectBase64)
  /// The same program built for Linux 5.10 to 5.12 (`-DSD_COMPAT`): helpers instead of the
  /// task's BTF pointer, starts in a hash by thread id, no atomics (no --concurrency).
  public static let compatObject: [UInt8] = decode(embeddedCompatObjectBase64)

  /// The plugin writes `base64 -w0` of a file it just built: only a broken build can fail this.
  private static func decode(_ text: String) -> [UInt8] {
    guard let data = Data(base64Encoded: text) else { fatalError("the embedded BPF object is not base64") }
    return Array(data)
  }
}

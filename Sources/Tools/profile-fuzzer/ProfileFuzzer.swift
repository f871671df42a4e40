// The profile loader under libFuzzer: every input is a profile's text; loading must return a
// Profile or diagnostics, never crash. scripts/fuzz.sh builds it with -sanitize=fuzzer,address
// and -DFUZZING; built normally it replays the files named on the command line (the corpus, or
// a crash libFuzzer found) through the same entry point.
import Profiles

@preconcurrency import Glibc

/// One input: a profile's text.
func loadProfile(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
  do {
    let profile = try ProfileLoader(enumSource: nil).load(text: text, file: "fuzz.yaml")
    _ = CountStorage(for: profile, enumerators: [:], cpus: 128).histogramBytes
    _ = profile.layout.slotCount
    // serve's labels on any profile: a profile or a problem, never a crash
    let (labelled, _) = profile.labelled(by: ContainerLabel.allCases)
    _ = CountStorage(for: labelled, enumerators: [:], cpus: 128).histogramBytes
  } catch {
    for diagnostic in error.diagnostics { _ = diagnostic.description }
  }
  return 0
}

#if FUZZING
  /// libFuzzer's driver, for programs whose main is their own (SwiftPM renames main).
  @_silgen_name("LLVMFuzzerRunDriver")
  func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
  ) -> CInt
#endif

@main
struct ProfileFuzzer {
  static func main() {
    #if FUZZING
      var argc = CommandLine.argc
      var argv = CommandLine.unsafeArgv
      exit(LLVMFuzzerRunDriver(&argc, &argv, loadProfile))
    #else
      for path in CommandLine.arguments.dropFirst() {
        guard let file = fopen(path, "rb") else {
          fputs("profile-fuzzer: cannot open \(path)\n", stderr)
          exit(1)
        }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
          let read = fread(&buffer, 1, buffer.count, file)
          if read <= 0 { break }
          bytes += buffer[0..<read]
        }
        fclose(file)
        bytes.append(0)  // a valid pointer even for an empty file; the count excludes it
        _ = bytes.withUnsafeBufferPointer { loadProfile($0.baseAddress!, $0.count - 1) }
      }
    #endif
  }
}

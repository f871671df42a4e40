import ArgumentParser
import Profiles

/// How many keys the kernel's hashes hold; --check and -v say what that costs.
public struct StorageOptions: ParsableArguments {
  @Option(
    name: .long,
    help: ArgumentHelp(
      "Keys the kernel's histogram hash holds per interval, for keys with no small bound (pid, comm, ...); past it, calls are dropped as map_full.",
      valueName: "n"))
  var maxKeys: Int?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "(key, errno) pairs the kernel itemizes per interval; past it, failed calls are counted without their errno.",
      valueName: "n"))
  var maxErrors: Int = StorageLimits.defaultMaxErrors

  public init() {}

  public func validate() throws {
    for (flag, value) in [("--max-keys", maxKeys), ("--max-errors", maxErrors)] {
      if let value, !(1...StorageLimits.ceiling).contains(value) {
        throw ValidationError("\(flag) must be 1 to \(StorageLimits.ceiling)")
      }
    }
  }

  public var limits: StorageLimits { StorageLimits(maxKeys: maxKeys, maxErrors: maxErrors) }
}

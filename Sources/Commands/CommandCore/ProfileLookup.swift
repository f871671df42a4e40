import BPFKit
import Profiles
import Tracer  // VmlinuxBTF as the loader's enum source

/// Profiles by the name or path a user gives, as both commands find them.
public enum ProfileLookup {
  /// The profile a `--profile` argument names, found in the catalog and loaded.
  public static func profile(_ argument: String, _ catalog: ProfileCatalog, _ btf: VmlinuxBTF?) throws(Failure) -> Profile {
    let entry: ProfileCatalog.Entry
    do {
      entry = try catalog.entry(for: argument)
    } catch {
      throw .usage(error.description)
    }
    do {
      return try ProfileLoader(enumSource: btf).load(text: entry.text, file: entry.fileName)
    } catch {
      throw .profile(error)
    }
  }
}

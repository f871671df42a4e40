import BPFKit
import Profiles
import Snapshots
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

  /// How a profile's keys read, from the running kernel's BTF where it has one: the profile's
  /// `btf_enum` (`enumerators`), each key part's, and the types of the BPF maps and programs an
  /// fd names.
  public static func decoder(
    for profile: Profile, enumerators: [UInt64: String], btf: VmlinuxBTF?, cgroups: CgroupPaths
  ) -> KeyDecoder {
    let parts = profile.keyParts.map { part in part.decoding.btfEnum.flatMap { btf?.enumerators(of: $0) } ?? [:] }
    var fdTypes = FDObject.TypeNames()
    if profile.keyParts.contains(where: \.fd), let btf {
      fdTypes = FDObject.TypeNames(
        maps: btf.enumerators(of: "bpf_map_type") ?? [:], programs: btf.enumerators(of: "bpf_prog_type") ?? [:])
    }
    return KeyDecoder(for: profile, enumerators: enumerators, partEnumerators: parts, fdTypes: fdTypes) { cgroups.path(of: $0) }
  }
}

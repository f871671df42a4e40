import FoundationEssentials

/// Where `--profile NAME` looks, in order: the user's config, the installed share directory,
/// then the copies built into the binary.
public struct ProfileCatalog: Sendable {
  /// Where a profile's text came from.
  public enum Origin: Sendable, Equatable, CustomStringConvertible {
    case file(String)
    /// Built into the binary from `profiles/`.
    case builtIn

    public var description: String {
      switch self {
      case .file(let path): return path
      case .builtIn: return "built-in"
      }
    }
  }

  /// A profile's text and where it came from.
  public struct Entry: Sendable {
    public var name: String
    public var origin: Origin
    public var text: String

    /// The name diagnostics give the text: its path, or `<built-in NAME>`.
    public var fileName: String {
      switch origin {
      case .file(let path): return path
      case .builtIn: return "<built-in \(name)>"
      }
    }
  }
  public var searchDirectories: [String]

  public init(searchDirectories: [String]) {
    self.searchDirectories = searchDirectories
  }

  /// `$XDG_CONFIG_HOME/bpfsyscalldist/profiles` (or `~/.config/...`), then
  /// `PREFIX/share/bpfsyscalldist/profiles` next to the running binary's `PREFIX/bin` (found
  /// through /proc/self/exe: argv[0] is a bare name when the tool runs from PATH).
  public static func standard(
    environment: [String: String] = ProcessInfo.processInfo.environment,
    executablePath: String = "/proc/self/exe"
  ) -> ProfileCatalog {
    var directories: [String] = []
    if let config = environment["XDG_CONFIG_HOME"], !config.isEmpty {
      directories.append(config + "/bpfsyscalldist/profiles")
    } else if let home = environment["HOME"], !home.isEmpty {
      directories.append(home + "/.config/bpfsyscalldist/profiles")
    }
    let binary = URL(fileURLWithPath: executablePath).resolvingSymlinksInPath()
    let prefix = binary.deletingLastPathComponent().deletingLastPathComponent()
    directories.append(prefix.appending(path: "share/bpfsyscalldist/profiles").path)
    return ProfileCatalog(searchDirectories: directories)
  }

  /// The profiles shipped in `profiles/`, as built into this binary.
  public static let builtIn: [String: String] = embeddedProfileTexts

  /// True when `--profile` names a file rather than a profile.
  public static func isPath(_ argument: String) -> Bool {
    argument.contains("/") || argument.hasSuffix(".yaml")
  }

  public enum LookupError: Error, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case unknown(name: String, searched: [String])

    public var description: String {
      switch self {
      case .unreadable(let path, let reason):
        return "cannot read profile '\(path)': \(reason)"
      case .unknown(let name, let searched):
        return "no profile named '\(name)' (searched \(searched.joined(separator: ", ")) and the built-in ones; --list-profiles shows them)"
      }
    }
  }

  /// The profile a `--profile` argument means.
  public func entry(for argument: String) throws(LookupError) -> Entry {
    if Self.isPath(argument) {
      return Entry(name: argument, origin: .file(argument), text: try Self.read(argument))
    }
    for directory in searchDirectories {
      let path = directory + "/" + argument + ".yaml"
      if FileManager.default.fileExists(atPath: path) {
        return Entry(name: argument, origin: .file(path), text: try Self.read(path))
      }
    }
    if let text = Self.builtIn[argument] {
      return Entry(name: argument, origin: .builtIn, text: text)
    }
    throw .unknown(name: argument, searched: searchDirectories)
  }

  /// Every profile that `--profile NAME` can find, the first of each name winning.
  public func all() -> [Entry] {
    var seen: Set<String> = []
    var entries: [Entry] = []
    for directory in searchDirectories {
      let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
      for file in files.sorted() where file.hasSuffix(".yaml") {
        let name = String(file.dropLast(5))
        let path = directory + "/" + file
        guard !seen.contains(name), let text = try? Self.read(path) else { continue }
        seen.insert(name)
        entries.append(Entry(name: name, origin: .file(path), text: text))
      }
    }
    for (name, text) in Self.builtIn.sorted(by: { $0.key < $1.key }) where !seen.contains(name) {
      entries.append(Entry(name: name, origin: .builtIn, text: text))
    }
    return entries
  }

  /// A file's text, or why it cannot be read.
  public static func read(_ path: String) throws(LookupError) -> String {
    do {
      let data = try Data(contentsOf: URL(fileURLWithPath: path))
      return String(decoding: data, as: UTF8.self)
    } catch let error as CocoaError where error.code == .fileReadNoSuchFile {
      throw .unreadable(path: path, reason: "no such file")
    } catch let error as CocoaError where error.code == .fileReadNoPermission {
      throw .unreadable(path: path, reason: "permission denied")
    } catch {
      throw .unreadable(path: path, reason: "\(error)")
    }
  }
}

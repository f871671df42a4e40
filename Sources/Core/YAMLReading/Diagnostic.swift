/// A place in a profile file, 1-based like compilers print it.
public struct SourceLocation: Equatable, Sendable {
  public var line: Int
  public var column: Int

  public init(line: Int, column: Int) {
    self.line = line
    self.column = column
  }
}

/// One problem in a profile: `FILE:LINE:COL: error: message`, the line, a caret under the column.
public struct Diagnostic: Equatable, Sendable, CustomStringConvertible {
  public var file: String
  public var location: SourceLocation
  public var message: String
  /// The text of the offending line, when the file has one there.
  public var sourceLine: String?

  public init(file: String, location: SourceLocation, message: String, sourceLine: String?) {
    self.file = file
    self.location = location
    self.message = message
    self.sourceLine = sourceLine
  }

  /// The first line alone, for tests and one-line summaries.
  public var headline: String {
    "\(file):\(location.line):\(location.column): error: \(message)"
  }

  public var description: String {
    guard let sourceLine else { return headline }
    let caret = String(repeating: " ", count: max(0, location.column - 1)) + "^"
    return "\(headline)\n\(sourceLine)\n\(caret)"
  }
}

/// Every problem found in one profile file.
public struct ProfileError: Error, Equatable, CustomStringConvertible {
  public var diagnostics: [Diagnostic]

  public init(_ diagnostics: [Diagnostic]) {
    self.diagnostics = diagnostics
  }

  public var description: String {
    diagnostics.map(\.description).joined(separator: "\n")
  }
}

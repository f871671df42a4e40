import CommandCore
import Comparison

@preconcurrency import Glibc

/// `-i N --heatmap`: each interval, the heatmap of the run so far (the three series with the
/// most calls over the columns shown) instead of histograms: on a terminal redrawn in place and
/// as many of the latest intervals as fit its width, else appended with the latest 200 (a run of
/// weeks keeps neither memory nor work per interval growing).
final class LiveHeatmap {
  /// Each interval's print as JSON, oldest first: the heatmap's columns.
  private var prints: [String] = []
  private let terminal = isatty(STDOUT_FILENO) == 1
  private let colour: Bool

  init() {
    let noColour = getenv("NO_COLOR").map { $0.pointee != 0 } ?? false
    colour = terminal && !noColour
  }

  /// Adds an interval's print (JSON) and shows the heatmap with it.
  func show(adding print: String) throws {
    prints.append(print)
    let columns = terminal ? Self.columnsThatFit() : Self.columnsKept
    if prints.count > columns { prints.removeFirst(prints.count - columns) }
    let recording: Recording
    do {
      recording = try Recording(text: prints.joined(separator: "\n") + "\n", file: "this run")
    } catch {
      throw Failure.runtime("--heatmap: \(error.problem)")
    }
    let drawing = Heatmap.render(recording, keys: [], top: 3, colour: colour)
    // home and clear, then the drawing: one write, so the screen never shows half of it
    try Output.write((terminal ? "\u{1B}[H\u{1B}[2J" : "") + (drawing.isEmpty ? "no calls yet\n" : drawing))
  }

  /// The intervals shown when the output is not a terminal.
  static let columnsKept = 200

  /// The terminal's width less the rows' labels (about 28 characters), 8 at least; 50 where the
  /// terminal does not say.
  static func columnsThatFit() -> Int {
    var size = winsize()
    guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 50 }
    return max(8, Int(size.ws_col) - 28)
  }
}

import Comparison
import FoundationEssentials

/// `--report` and `bpfsyscalldist report`: one self-contained HTML file, its data embedded as
/// JSON and drawn by its own script. Nothing in it can fetch: the policy allows no source at all
/// but its own inline script and style (by a nonce, fresh per page, which text from the
/// recordings can never carry), and the script puts every recorded string into the page as text.
public enum ReportPage {
  /// The page of one run, or of two compared (before, after).
  public static func render(_ runs: [Recording], comparison: Comparison?, generator: String) throws(ReportError) -> String {
    let data = ReportData(generator: generator, runs: runs.map(ReportData.Run.init))
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let encoded: Data
    do {
      encoded = try encoder.encode(data)
    } catch {
      throw ReportError(problem: "its data could not be encoded (\(error))")
    }
    var json = String(decoding: encoded, as: UTF8.self)
    if let comparison {
      json = String(json.dropLast()) + ",\"comparison\":" + ComparisonJSON.render(comparison, breaches: []) + "}"
    }
    let nonce = Self.nonce()
    let title = "bpfsyscalldist report: " + runs.map(\.profile).joined(separator: " vs ")
    return """
      <!DOCTYPE html>
      <html lang="en">
      <head>
      <meta charset="utf-8">
      <meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'nonce-\(nonce)'; style-src 'nonce-\(nonce)'; base-uri 'none'; form-action 'none'">
      <meta name="viewport" content="width=device-width, initial-scale=1">
      <title>\(html(title))</title>
      <style nonce="\(nonce)">\(ReportAssets.style)</style>
      </head>
      <body>
      <noscript>This report draws itself with JavaScript, which is off: its data is the JSON in the element report-data.</noscript>
      <main id="report"></main>
      <script type="application/json" id="report-data">\(scriptSafe(json))</script>
      <script nonce="\(nonce)">\(ReportAssets.script)</script>
      </body>
      </html>

      """
  }

  /// JSON that no text can end the script element it sits in: `<`, `>` and `&` only occur in
  /// its strings, where `\u003c` means the same.
  static func scriptSafe(_ json: String) -> String {
    json.replacingOccurrences(of: "<", with: "\\u003c").replacingOccurrences(of: ">", with: "\\u003e")
      .replacingOccurrences(of: "&", with: "\\u0026")
  }

  static func html(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
      .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
  }

  /// 128 random bits, hex.
  static func nonce() -> String {
    var generator = SystemRandomNumberGenerator()
    return (0..<2).map { _ in
      let hex = String(generator.next() as UInt64, radix: 16)
      return String(repeating: "0", count: 16 - hex.count) + hex
    }.joined()
  }
}

/// Why no page was made, in one line.
public struct ReportError: Error, CustomStringConvertible {
  public var problem: String
  public var description: String { problem }
}

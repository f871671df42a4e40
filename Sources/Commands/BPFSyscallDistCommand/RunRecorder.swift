import CommandCore
import Comparison
import Report

/// What a run records as JSON lines, prints and slow calls alike: to `--record`'s file as they
/// come, and for `--report` kept until the end, when they become the page (so that the page
/// shows exactly what a recording of the run holds).
final class RunRecorder {
  private let file: RecordFile?
  private let report: ReportFile?
  private var lines: [String] = []

  init?(file: RecordFile?, report: ReportFile?) {
    guard file != nil || report != nil else { return nil }
    self.file = file
    self.report = report
  }

  func append(_ line: String) throws {
    try file?.append(line)
    if report != nil { lines.append(line) }
  }

  /// Writes the report, if one was asked for.
  func finish() throws {
    guard let report else { return }
    let recording: Recording
    do {
      recording = try Recording(text: lines.map { $0 + "\n" }.joined(), file: file?.path ?? "this run")
    } catch {
      throw Failure.runtime("--report \(report.path): the run recorded nothing to show (\(error.problem))")
    }
    do {
      try report.write(try ReportPage.render([recording], comparison: nil, generator: "bpfsyscalldist \(Release.version)"))
    } catch let error as ReportError {
      throw Failure.runtime("--report \(report.path): \(error.problem)")
    }
    Output.status("Wrote the report to \(report.path)")
  }
}

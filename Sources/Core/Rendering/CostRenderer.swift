import Snapshots

/// `--cost` as each format says it: what the tool's BPF programs cost, by the kernel's own
/// run-time statistics.
public enum CostRenderer {
  /// The end-of-run lines (stderr, after the accounting line): the total, then each program.
  public static func text(_ cost: ToolCost) -> String {
    var line = "Cost, by the kernel's BPF run-time statistics over "
      + DurationText.format(nanoseconds: Double(cost.elapsedNanoseconds)) + ": "
      + DurationText.format(nanoseconds: Double(cost.nanoseconds)) + " in the tool's programs"
    if let share = cost.shareOfOneCPU { line += ", " + DurationText.fixed(share * 100, digits: 2) + "% of one CPU" }
    if let perCall = cost.nanosecondsPerCountedCall {
      line += ", " + DurationText.format(nanoseconds: perCall) + " per counted call (\(cost.countedCalls) calls)"
    }
    var lines = [line + "; a bucket step runs inside its exit program (tail call) and is counted there."]
    let width = cost.programs.map(\.name.count).max() ?? 0
    for program in cost.programs {
      let perRun = program.nanosecondsPerRun.map { ", " + DurationText.format(nanoseconds: $0) + " a run" } ?? ""
      lines.append("  " + program.name + String(repeating: " ", count: width - program.name.count) + "  \(program.runs) runs" + perRun)
    }
    return lines.joined(separator: "\n")
  }

  /// `"cost"` in the JSON of the last print.
  static func json(_ cost: ToolCost, _ renderer: JSONRenderer) -> String {
    let programs = cost.programs.map { program in
      renderer.object([
        ("program", renderer.string(program.name)), ("runs", String(program.runs)),
        ("run_time_ns", String(program.nanoseconds)),
      ])
    }
    return renderer.object([
      ("elapsed_ns", String(cost.elapsedNanoseconds)),
      ("run_time_ns", String(cost.nanoseconds)),
      ("counted_calls", String(cost.countedCalls)),
      ("ns_per_counted_call", cost.nanosecondsPerCountedCall.map(renderer.number) ?? "null"),
      ("share_of_one_cpu", cost.shareOfOneCPU.map(renderer.number) ?? "null"),
      ("programs", "[" + programs.joined(separator: ",") + "]"),
    ])
  }

  /// Two counters per program, for OpenMetrics and serve.
  public static func families(_ cost: ToolCost, profileName: String, since: Double) -> [MetricFamily] {
    let prefix = Labels.metricName(profileName)
    var runs = MetricFamily(
      name: prefix + "_program_runs", kind: .counter,
      help: "Runs of profile \(profileName)'s BPF programs (--cost; bucket steps run inside their exit program).")
    var seconds = MetricFamily(
      name: prefix + "_program_run_seconds", kind: .counter,
      help: "Time in profile \(profileName)'s BPF programs, by the kernel's run-time statistics (--cost).")
    for program in cost.programs {
      let labels = Labels.render([("program", program.name)])
      runs.add("_total", labels, .count(program.runs))
      runs.add("_created", labels, .number(since))
      seconds.add("_total", labels, .number(Double(program.nanoseconds) / 1e9))
      seconds.add("_created", labels, .number(since))
    }
    return [runs, seconds]
  }
}

import Comparison
import FoundationEssentials

/// What a report page shows, as the one JSON object it embeds: every number in the page is
/// drawn from it, and it is drawn from the recordings alone. Times are whole ns (a browser reads
/// them exactly up to 2^53 ns, 104 days).
struct ReportData: Encodable {
  var generator: String
  var runs: [Run]

  struct Run: Encodable {
    var file: String
    var profile: String
    var unit: String
    var unit_ns: UInt64
    var buckets: String
    var key_label: String
    /// When each print was made (seconds since the epoch): the heatmap's columns.
    var timestamps: [Double]
    /// Most calls first.
    var series: [Series]
    /// In the order they ended.
    var slow_calls: [SlowCall]
  }

  struct Series: Encodable {
    var key: String
    var outcome: String?
    var title: String
    var count: UInt64
    var errors: UInt64
    var sum_ns: UInt64?
    var min_ns: UInt64?
    var max_ns: UInt64?
    var percentiles: [Percentile]
    var time_split: TimeSplit?
    /// Most blocked time first.
    var wait_sites: [WaitSite]
    /// The time waited for locks by kind (`site` is the kind), longest first.
    var lock_waits: [WaitSite]
    /// Shortest first; `high_ns` is the last ns a bucket holds, nil when it is open.
    var buckets: [Bucket]
    /// `[interval, bucket, count]` for each cell that held a call: `bucket` indexes `buckets`.
    var heat: [[UInt64]]
  }

  struct Percentile: Encodable {
    var name: String
    var low_ns: UInt64
    var high_ns: UInt64
  }

  struct TimeSplit: Encodable {
    var on_cpu_ns: UInt64
    var runnable_ns: UInt64
    var blocked_ns: UInt64
  }

  struct WaitSite: Encodable {
    var site: String
    var blocked_ns: UInt64
    var count: UInt64
  }

  struct Bucket: Encodable {
    var low_ns: UInt64
    var high_ns: UInt64?
    var count: UInt64
  }

  struct SlowCall: Encodable {
    var time: Double
    var comm: String
    var pid: UInt32
    var tid: UInt32
    var key: String
    var outcome: String
    var latency_ns: UInt64
    var off_cpu_ns: UInt64
    var runnable_ns: UInt64?
    var blocked_ns: UInt64?
    /// Outermost first, as a flame graph stacks them.
    var frames: [String]
  }
}

extension ReportData.Run {
  init(_ recording: Recording) {
    let named = recording.series.sorted { ($1.value.count, $0.key) < ($0.value.count, $1.key) }
    self.init(
      file: recording.file, profile: recording.profile, unit: recording.unit.rawValue, unit_ns: recording.unit.nanoseconds,
      buckets: recording.bucketKind, key_label: recording.keyLabel, timestamps: recording.columns.map(\.timestamp),
      series: named.map { name, series in ReportData.Series(name, series, columns: recording.columns) },
      slow_calls: recording.slowCalls.map(ReportData.SlowCall.init))
  }
}

extension ReportData.Series {
  init(_ name: SeriesName, _ series: RecordedSeries, columns: [Recording.Column]) {
    let bounds = series.buckets.keys.sorted()
    let row = Dictionary(uniqueKeysWithValues: bounds.enumerated().map { ($1, UInt64($0)) })
    var heat: [[UInt64]] = []
    for (interval, column) in columns.enumerated() {
      for (bucket, count) in (column.buckets[name] ?? [:]).sorted(by: { $0.key < $1.key }) where count > 0 {
        heat.append([UInt64(interval), row[bucket]!, count])
      }
    }
    self.init(
      key: name.key, outcome: name.outcome, title: series.title, count: series.count, errors: series.errors,
      sum_ns: series.sumNanoseconds, min_ns: series.minNanoseconds, max_ns: series.maxNanoseconds,
      percentiles: Comparison.percentiles.compactMap { p in
        series.percentile(p.fraction).map { ReportData.Percentile(name: p.name, low_ns: $0.lowerBound, high_ns: $0.upperBound) }
      },
      time_split: series.timeSplit.map {
        ReportData.TimeSplit(on_cpu_ns: $0.onCPUNanoseconds, runnable_ns: $0.runnableNanoseconds, blocked_ns: $0.blockedNanoseconds)
      },
      wait_sites: Self.longestFirst(series.waitSites), lock_waits: Self.longestFirst(series.lockWaits),
      buckets: bounds.map { ReportData.Bucket(low_ns: $0.low, high_ns: $0.high.map { $0 - 1 }, count: series.buckets[$0]!) },
      heat: heat)
  }
}

extension ReportData.Series {
  static func longestFirst(_ sites: [String: RecordedSeries.WaitSiteTotals]) -> [ReportData.WaitSite] {
    sites.sorted { ($1.value.blockedNanoseconds, $0.key) < ($0.value.blockedNanoseconds, $1.key) }.map {
      ReportData.WaitSite(site: $0.key, blocked_ns: $0.value.blockedNanoseconds, count: $0.value.count)
    }
  }
}

extension ReportData.SlowCall {
  init(_ call: RecordedSlowCall) {
    self.init(
      time: call.time, comm: call.comm, pid: call.pid, tid: call.tid, key: call.key, outcome: call.outcome,
      latency_ns: call.latencyNanoseconds, off_cpu_ns: call.offCPUNanoseconds, runnable_ns: call.runnableNanoseconds,
      blocked_ns: call.blockedNanoseconds, frames: call.flameFrames)
  }
}

import FoundationEssentials
import Histograms

/// A run as `-j` or `--record` wrote it: one JSON object (schema 2) per print, each with what was
/// counted since the previous one, merged here per series over the whole run; and the slow calls
/// between them (`"type":"slow_call"` lines), in the order they ended.
public struct Recording: Sendable {
  public var file: String
  public var profile: String
  public var unit: TimeUnit
  /// The bucket kind (`log2`, `linear`, `log2-linear`).
  public var bucketKind: String
  public var keyLabel: String
  public var prints: Int
  public var series: [SeriesName: RecordedSeries]
  /// Each print as it was (an `-i` run's intervals, in order): the heatmap's columns.
  public var columns: [Column] = []
  public var slowCalls: [RecordedSlowCall] = []

  /// One print: when it was made, and each series' bucket counts of its interval.
  public struct Column: Sendable {
    public var timestamp: Double
    public var buckets: [SeriesName: [RecordedSeries.Bucket: UInt64]]
  }

  /// The newest JSON schema this reads.
  public static let schema = 4

  public static func load(_ file: String) throws(RecordingError) -> Recording {
    let data: Data
    do {
      data = try Data(contentsOf: URL(fileURLWithPath: file))
    } catch let error as CocoaError where error.code == .fileReadNoSuchFile {
      throw RecordingError(file: file, problem: "cannot be read: no such file")
    } catch let error as CocoaError where error.code == .fileReadNoPermission {
      throw RecordingError(file: file, problem: "cannot be read: permission denied")
    } catch {
      throw RecordingError(file: file, problem: "cannot be read (\(error))")
    }
    return try Recording(text: String(decoding: data, as: UTF8.self), file: file)
  }

  public init(text: String, file: String) throws(RecordingError) {
    func fail(_ problem: String) -> RecordingError { RecordingError(file: file, problem: problem) }
    self.file = file
    let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
    guard !lines.isEmpty else { throw fail("is empty: no print was recorded") }
    var first: Print?
    var merged: [SeriesName: RecordedSeries] = [:]
    var columns: [Column] = []
    for (index, line) in lines.enumerated() {
      let print: Print
      do {
        switch try JSONDecoder().decode(LineType.self, from: Data(line.utf8)).type {
        case "slow_call":
          slowCalls.append(try JSONDecoder().decode(RecordedSlowCall.self, from: Data(line.utf8)))
          continue
        case "folded_stacks": continue  // the slow calls' stacks, folded: each call is there already
        default: print = try JSONDecoder().decode(Print.self, from: Data(line.utf8))
        }
      } catch {
        let truncated = index == lines.count - 1 && !text.hasSuffix("\n")
        throw fail(truncated ? "is truncated: its last line is not a whole JSON object" : "line \(index + 1) is not a recorded print of bpfsyscalldist -j")
      }
      guard print.schema <= Self.schema else {
        throw fail("line \(index + 1) is of JSON schema \(print.schema), newer than this tool reads (\(Self.schema)): compare with a newer bpfsyscalldist")
      }
      if let first, first.profile != print.profile || first.unit != print.unit || first.layout != print.layout {
        throw fail("line \(index + 1) is another profile's or layout's (\(print.profile), \(print.layout) in \(print.unit)) than line 1's")
      }
      guard let unit = TimeUnit(rawValue: print.unit) else { throw fail("line \(index + 1) has an unknown unit '\(print.unit)'") }
      first = first ?? print
      var column = Column(timestamp: print.timestamp ?? 0, buckets: [:])
      for histogram in print.histograms {
        let name = SeriesName(key: histogram.key, outcome: histogram.outcome)
        let buckets = try histogram.buckets.map { printed throws(RecordingError) in
          guard let bucket = RecordedSeries.Bucket(printed, scale: unit.nanoseconds) else {
            throw fail("line \(index + 1) has a bucket that ends before it starts, or starts past 2^64 - 1 ns")
          }
          return (bucket, printed.count)
        }
        merged[name, default: RecordedSeries()].add(histogram, buckets: buckets)
        for (bucket, count) in buckets {
          column.buckets[name, default: [:]][bucket, default: 0] &+= count
        }
      }
      columns.append(column)
    }
    guard let head = first else { throw fail("holds no print, only slow calls") }
    profile = head.profile
    unit = TimeUnit(rawValue: head.unit)!
    bucketKind = head.layout
    keyLabel = head.key_label
    prints = columns.count
    series = merged
    self.columns = columns
  }

  /// What a line is: a print has no `type`.
  struct LineType: Decodable {
    var type: String?
  }

  /// The part of a print this reads.
  struct Print: Decodable {
    var schema: Int
    var profile: String
    var timestamp: Double?
    var unit: String
    var buckets: String
    var bucket_schema: Int?
    var key_label: String
    var histograms: [PrintedHistogram]

    /// The kind, and an exponential layout's schema (`exponential:3`).
    var layout: String { bucket_schema.map { "\(buckets):\($0)" } ?? buckets }
  }

  struct PrintedHistogram: Decodable {
    var key: String
    var outcome: String?
    var title: String
    var count: UInt64
    var sum_ns: UInt64?
    var min_ns: UInt64?
    var max_ns: UInt64?
    var errors: [String: UInt64]
    var buckets: [PrintedBucket]
    var on_cpu_ns: UInt64?
    var runnable_ns: UInt64?
    var blocked_ns: UInt64?
    var wait_sites: [PrintedWaitSite]?
    var lock_waits: [PrintedLockWait]?
  }

  struct PrintedLockWait: Decodable {
    var kind: String
    var ns: UInt64
    var count: UInt64
  }

  struct PrintedWaitSite: Decodable {
    var site: String
    var blocked_ns: UInt64
    var count: UInt64
  }

  /// In the unit (`low`, `high`), or for exponential buckets in whole ns (`low_ns`, `high_ns`).
  struct PrintedBucket: Decodable {
    var low: UInt64?
    var high: UInt64?
    var low_ns: UInt64?
    var high_ns: UInt64?
    var count: UInt64
  }
}

/// Why a file is no recording, said in one line with the file's name.
public struct RecordingError: Error, Equatable, CustomStringConvertible {
  public var file: String
  public var problem: String

  public var description: String { "\(file) \(problem)" }
}

/// A series' name across runs: its key as printed, and its outcome when outcomes were split.
public struct SeriesName: Hashable, Comparable, Sendable, CustomStringConvertible {
  public var key: String
  public var outcome: String?

  public init(key: String, outcome: String? = nil) {
    self.key = key
    self.outcome = outcome
  }

  public static func < (a: SeriesName, b: SeriesName) -> Bool {
    (a.key, a.outcome ?? "") < (b.key, b.outcome ?? "")
  }

  public var description: String { outcome.map { "\(key) outcome(\($0))" } ?? key }
}

import CLibbpf
import CLinuxShims
import SystemPackage

@preconcurrency import Glibc

/// A kretprobe defined through tracefs' `kprobe_events` (`r<N>:...`): the one interface that sets
/// how many calls in flight it tracks. The default, max(10, 2 × CPUs), loses returns once more
/// threads block inside the function (hundreds of threads on one mutex); the kernel counts what
/// it lost, in `kprobe_profile`. The event is named after this process and removed with the link;
/// events of processes that are gone (killed before they could remove theirs) are removed first.
public struct KretprobeEvents {
  /// Where tracefs is mounted (for this thread).
  public let tracefs: String
  static let group = "bpfsyscalldist"

  public init(tracefs: String) {
    self.tracefs = tracefs
  }

  /// Attaches `program` to the return of `function`, tracking up to `maxActive` calls at once
  /// (the kernel allows 4096); `missed` reads how many returns it lost so far.
  public func attach(
    _ program: Program, function: String, maxActive: Int
  ) throws(BPFError) -> (link: Link, missed: () -> UInt64?) {
    removeStaleEvents()
    let event = "sd_\(getpid())_" + String(function.map { $0.isLetter || $0.isNumber ? $0 : "_" })
    let name = "\(Self.group)/\(event)"
    let define = BPFError.Operation.defineKretprobe(function: function)
    try write("r\(maxActive):\(name) \(function)", operation: define)
    let removeEvent = { [self] in _ = try? self.write("-:\(name)", operation: .removeKretprobe(name)) }
    guard let text = read("events/\(name)/id"), let id = UInt64(text.filter(\.isNumber)) else {
      let failure = Errno.current
      removeEvent()
      throw BPFError(define, failure)
    }
    let fd = CLinuxShims_perf_event_open_tracepoint(id)
    guard fd >= 0 else {
      let failure = Errno.current
      removeEvent()
      throw BPFError(define, failure)
    }
    let attachment = Attachment.kretprobe(function)
    guard let link = bpf_program__attach_perf_event(program.pointer, fd) else {
      let failure = Errno.current
      close(fd)
      removeEvent()
      throw BPFError(.attach(attachment), failure)
    }
    let missed = { [self] () -> UInt64? in self.missedReturns(of: event) }
    return (Link(link, attachment, cleanup: removeEvent), missed)
  }

  /// `kprobe_profile`: "EVENT HITS MISSES" per line.
  private func missedReturns(of event: String) -> UInt64? {
    guard let profile = read("kprobe_profile") else { return nil }
    for line in profile.split(separator: "\n") {
      let fields = line.split(separator: " ")
      if fields.count >= 3, fields[0] == event { return UInt64(fields[2]) }
    }
    return nil
  }

  /// Events of this group whose process is gone.
  private func removeStaleEvents() {
    guard let events = read("kprobe_events") else { return }
    for line in events.split(separator: "\n") {
      // "r4096:bpfsyscalldist/sd_PID_function function"
      guard let definition = line.split(separator: " ").first, let colon = definition.firstIndex(of: ":") else { continue }
      let name = definition[definition.index(after: colon)...]
      let parts = name.split(separator: "_")
      guard name.hasPrefix("\(Self.group)/sd_"), parts.count > 2, let pid = Int32(parts[1]), kill(pid, 0) != 0, errno == ESRCH
      else { continue }
      _ = try? write("-:\(name)", operation: .removeKretprobe(String(name)))
    }
  }

  /// One line to `kprobe_events`, in one write (the kernel parses each write as a command).
  private func write(_ line: String, operation: BPFError.Operation) throws(BPFError) {
    do {
      let file = try FileDescriptor.open(tracefs + "/kprobe_events", .writeOnly, options: [.append, .closeOnExec])
      try file.closeAfter { _ = try file.writeAll((line + "\n").utf8) }
    } catch {
      throw BPFError(operation, error as? Errno ?? .ioError)
    }
  }

  private func read(_ file: String) -> String? {
    guard let handle = fopen(tracefs + "/" + file, "r") else { return nil }
    defer { fclose(handle) }
    var text = ""
    var buffer = [CChar](repeating: 0, count: 4096)
    while fgets(&buffer, Int32(buffer.count), handle) != nil {
      text += String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    return text
  }
}

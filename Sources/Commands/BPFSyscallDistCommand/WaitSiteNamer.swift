import Rendering
import Symbols
import Tracer

/// Names the wait sites of --off-cpu from the stack map and /proc/kallsyms, once per stack: a
/// stack id names the same stack for the whole run.
final class WaitSiteNamer {
  private let tracer: Tracer
  private lazy var kallsyms = Kallsyms()
  private var names: [Int64: String] = [:]

  init(tracer: Tracer) {
    self.tracer = tracer
  }

  func name(_ stack: Int64) -> String {
    if let known = names[stack] { return known }
    let name: String
    switch tracer.kernelStack(stack) {
    case .notTaken: name = "(unknown: its switch off the CPU was not seen)"
    case .lost(let errno): name = "(stack lost: \(errno))"
    case .addresses(let addresses):
      name = kallsyms.map { KernelFrames.waitSite($0.frames(addresses)) } ?? "(unnamed: /proc/kallsyms is not readable)"
    }
    names[stack] = name
    return name
  }
}

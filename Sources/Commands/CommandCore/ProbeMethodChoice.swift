import ArgumentParser
import Tracer

/// --probe-method: a method, or auto (the best the kernel offers).
public enum ProbeMethodChoice: String, ExpressibleByArgument, CaseIterable, Sendable {
  case auto, tracepoint
  case rawTracepoint = "raw_tp"
  case btfTracepoint = "tp_btf"
  case fentry, kprobe

  public var method: ProbeMethod? { ProbeMethod(rawValue: rawValue) }
}

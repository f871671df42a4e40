import CLibbpf
@preconcurrency import Glibc

/// The consumer side of a BPF ring buffer (libbpf's `ring_buffer`): records come in the order
/// they were submitted, each handed to `handler` as bytes valid only during the call. Freed in
/// deinit; keeps its map's object alive.
public final class RingBufferReader {
  private var pointer: OpaquePointer?
  private let handler: Handler
  private let map: Map

  /// Holds the closure libbpf's C callback calls back into, through its context pointer.
  private final class Handler {
    let body: (UnsafeRawBufferPointer) -> Void
    init(_ body: @escaping (UnsafeRawBufferPointer) -> Void) { self.body = body }
  }

  public init(map: Map, handler body: @escaping (UnsafeRawBufferPointer) -> Void) throws(BPFError) {
    self.map = map
    handler = Handler(body)
    let context = Unmanaged.passUnretained(handler).toOpaque()
    pointer = try check(
      .openRingBuffer(map.name),
      ring_buffer__new(
        map.fd,
        { context, data, size in
          guard let context, let data else { return 0 }
          Unmanaged<Handler>.fromOpaque(context).takeUnretainedValue().body(UnsafeRawBufferPointer(start: data, count: size))
          return 0
        }, context, nil))
  }

  deinit {
    ring_buffer__free(pointer)
  }

  /// Readable (poll(2)'s POLLIN) when records are waiting.
  public var fileDescriptor: Int32 { ring_buffer__epoll_fd(pointer) }

  /// Hands every record waiting now to the handler; returns how many there were.
  @discardableResult
  public func consume() throws(BPFError) -> Int {
    Int(try check(.readRingBuffer(map.name), ring_buffer__consume(pointer)))
  }
}

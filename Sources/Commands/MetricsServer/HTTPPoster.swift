import NIOCore
import NIOHTTP1
import NIOPosix

/// POSTs a body over HTTP/1.1 (SwiftNIO's client pipeline), one connection per request, and
/// says the answer's status: what serve's OTLP push needs, on a thread of the caller's that may
/// wait. Every request ends within `timeout`, answered or not: a receiver that is down, slow or
/// silent costs that thread at most that long, never the collecting one.
public final class HTTPPoster {
  public enum PostError: Error, CustomStringConvertible {
    case timedOut, closedEarly

    public var description: String {
      switch self {
      case .timedOut: return "no answer in time"
      case .closedEarly: return "the connection closed before an answer"
      }
    }
  }

  private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
  private let host: String
  private let port: Int
  private let timeout: TimeAmount

  public init(host: String, port: Int, timeoutMilliseconds: Int) {
    (self.host, self.port, self.timeout) = (host, port, .milliseconds(Int64(timeoutMilliseconds)))
  }

  deinit { try? group.syncShutdownGracefully() }

  /// The answer's status code, within `timeoutMilliseconds` (else the poster's timeout).
  public func post(path: String, headers: [(String, String)], body: [UInt8], timeoutMilliseconds: Int? = nil) throws -> Int {
    let timeout = timeoutMilliseconds.map { TimeAmount.milliseconds(Int64($0)) } ?? self.timeout
    let loop = group.next()
    let answer = loop.makePromise(of: Int.self)
    let deadline = loop.scheduleTask(in: timeout) { answer.fail(PostError.timedOut) }
    defer { deadline.cancel() }
    let channel: Channel
    do {
      channel = try ClientBootstrap(group: loop)
        .connectTimeout(timeout)
        .channelInitializer { channel in
          channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHTTPClientHandlers()
            try channel.pipeline.syncOperations.addHandler(StatusHandler(answer: answer))
          }
        }
        .connect(host: host, port: port).wait()
    } catch {
      answer.fail(error)
      throw error
    }
    defer { channel.close(promise: nil) }
    var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path)
    head.headers.add(name: "Host", value: host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")
    head.headers.add(name: "Content-Length", value: String(body.count))
    head.headers.add(name: "Connection", value: "close")
    for (name, value) in headers { head.headers.add(name: name, value: value) }
    channel.write(HTTPClientRequestPart.head(head), promise: nil)
    channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil)
    channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
    return try answer.futureResult.wait()
  }
}

/// Completes `answer` with the response's status once it has all come, or fails it when the
/// connection breaks first; a promise completed twice keeps the first.
private final class StatusHandler: ChannelInboundHandler {
  typealias InboundIn = HTTPClientResponsePart

  private let answer: EventLoopPromise<Int>
  private var status: Int?

  init(answer: EventLoopPromise<Int>) { self.answer = answer }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch unwrapInboundIn(data) {
    case .head(let head): status = Int(head.status.code)
    case .body: break
    case .end:
      if let status { answer.completeWith(.success(status)) }
      context.close(promise: nil)
    }
  }

  func channelInactive(context: ChannelHandlerContext) {
    answer.fail(HTTPPoster.PostError.closedEarly)
  }

  func errorCaught(context: ChannelHandlerContext, error: Error) {
    answer.fail(error)
    context.close(promise: nil)
  }
}

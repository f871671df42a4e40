import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import Rendering

/// What the server answers: the body of `/metrics` in a format, the index page. Called on the
/// server's thread for each request; the pages are the caller's to cache.
public protocol MetricsPages: Sendable {
  func metrics(_ format: ExpositionFormat) -> Page
  func index() -> Page
}

/// A response body, made once and sent as it is to every client that asks for it: a cached page
/// of a megabyte is shared by its responses, never copied for each.
public struct Page: Sendable {
  let buffer: ByteBuffer

  public init(_ bytes: [UInt8]) { buffer = ByteBuffer(bytes: bytes) }
  public init(_ text: String) { buffer = ByteBuffer(string: text) }
}

/// An HTTP/1.1 server for `/metrics`, `/` and `/healthz` (SwiftNIO's HTTP/1 pipeline), hardened
/// for a port anyone may reach: GET and HEAD only (405 for anything else), the query string never
/// read, headers of at most 8 KiB in 64 fields, bodies never buffered, and a connection that has
/// not completed a request within `requestTimeout` of opening (or of its last answer) is closed:
/// a slow or silent client cannot hold a connection. At most `maxConnections` are open at once:
/// past that a new one is closed as it is accepted, so that clients cannot use up the process's
/// file descriptors (the maps and programs need theirs).
public final class MetricsServer {
  /// Scrapers are a few; each held connection is a descriptor.
  public static let defaultMaxConnections = 256

  private let group: MultiThreadedEventLoopGroup
  private let channel: Channel

  /// The address it listens on, as bound (a port of 0 is chosen by the kernel).
  public let address: String
  public var port: Int { channel.localAddress?.port ?? 0 }

  /// Binds `host:port` and serves `pages` until `close()`.
  public init(
    host: String, port: Int, pages: any MetricsPages, requestTimeout: TimeAmount = .seconds(10),
    maxConnections: Int = defaultMaxConnections
  ) throws {
    group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let open = NIOLockedValueBox(0)  // connections open now
    let limits = {
      var limits = NIOHTTPDecoderLimitConfiguration()
      limits.maxHeaderFieldSize = 8 << 10
      limits.maxHeaderListSize = 8 << 10
      limits.maxHeaderFieldCount = 64
      return limits
    }()
    let bootstrap = ServerBootstrap(group: group)
      .serverChannelOption(.backlog, value: 256)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .childChannelOption(.maxMessagesPerRead, value: 1)
      .childChannelInitializer { channel in
        let admitted = open.withLockedValue { count in
          guard count < maxConnections else { return false }
          count += 1
          return true
        }
        guard admitted else { return channel.close() }
        channel.closeFuture.whenComplete { _ in open.withLockedValue { $0 -= 1 } }
        return channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.configureHTTPServerPipeline(
            withErrorHandling: true, withOutboundHeaderValidation: true, withEncoderConfiguration: .init(),
            withDecoderLimitConfiguration: limits)
          try channel.pipeline.syncOperations.addHandler(RequestHandler(pages: pages, timeout: requestTimeout))
        }
      }
    do {
      channel = try bootstrap.bind(host: host, port: port).wait()
    } catch {
      try? group.syncShutdownGracefully()
      throw error
    }
    address = "\(host):\(channel.localAddress?.port ?? port)"
  }

  /// Stops accepting, closes every connection and the server's thread.
  public func close() {
    try? channel.close().wait()
    try? group.syncShutdownGracefully()
  }
}

/// One connection's requests, answered in order.
final class RequestHandler: ChannelInboundHandler, RemovableChannelHandler {
  typealias InboundIn = HTTPServerRequestPart
  typealias OutboundOut = HTTPServerResponsePart

  private let pages: any MetricsPages
  private let timeout: TimeAmount
  private var request: HTTPRequestHead?
  private var deadline: Scheduled<Void>?

  init(pages: any MetricsPages, timeout: TimeAmount) {
    self.pages = pages
    self.timeout = timeout
  }

  func handlerAdded(context: ChannelHandlerContext) {
    startDeadline(context)
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    deadline?.cancel()
  }

  /// Closes the connection unless a request is complete by then.
  private func startDeadline(_ context: ChannelHandlerContext) {
    deadline?.cancel()
    let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
    deadline = context.eventLoop.scheduleTask(in: timeout) { loopBound.value.close(promise: nil) }
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch unwrapInboundIn(data) {
    case .head(let head):
      request = head
    case .body:
      break  // no endpoint takes a body: dropped as it comes, never buffered
    case .end:
      guard let head = request else { return }
      request = nil
      deadline?.cancel()
      respond(to: head, context: context)
    }
  }

  private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
    let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
    var status = HTTPResponseStatus.ok
    var contentType = "text/plain; charset=utf-8"
    var body: Page
    var extraHeaders: [(String, String)] = []
    if head.method != .GET && head.method != .HEAD {
      status = .methodNotAllowed
      body = Page("only GET and HEAD\n")
      extraHeaders.append(("Allow", "GET, HEAD"))
    } else {
      switch path {
      case "/metrics":
        let format = ExpositionFormat(accept: head.headers.first(name: "accept"))
        contentType = format.contentType
        body = pages.metrics(format)
      case "/":
        contentType = "text/html; charset=utf-8"
        body = pages.index()
      case "/healthz":
        body = Page("ok\n")
      default:
        status = .notFound
        body = Page("not found: try /metrics\n")
      }
    }
    let buffer = body.buffer
    var headers = HTTPHeaders([("Content-Type", contentType), ("Content-Length", String(buffer.readableBytes))])
    headers.add(contentsOf: extraHeaders)
    let keepAlive = head.isKeepAlive && status != .methodNotAllowed
    headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
    context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
    if head.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil) }
    let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
    if keepAlive {
      startDeadline(context)
    } else {
      let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
      done.whenComplete { _ in loopBound.value.close(promise: nil) }
    }
  }
}

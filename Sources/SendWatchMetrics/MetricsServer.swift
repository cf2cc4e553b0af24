import NIOCore
import NIOHTTP1
import NIOPosix
public import SendWatchPipeline

/// The Prometheus endpoint of `sendwatch tail`: an HTTP/1.1 server on SwiftNIO that answers `GET` (and `HEAD`)
/// on any path with ``MetricsExposition`` of the run's latest snapshot, then closes the connection.
///
/// Connections are served concurrently on one event-loop thread of its own, so neither an idle nor a slow client
/// delays a scrape, and the detection loop never waits for the server (it only replaces the snapshot under a
/// lock). Every connection is bounded (``Limits``): it is closed at its deadline whatever it did meanwhile (a
/// client trickling bytes cannot hold it), a request larger than the byte bound is answered
/// `431 Request Header Fields Too Large` and closed, and connections beyond the count bound are closed as soon
/// as they are accepted. Left out on purpose: TLS and authentication (bind to loopback, the default, or put a
/// proxy in front), keep-alive (a scrape is one request every few seconds), and request bodies (ignored, but
/// counted in the byte bound).
///
/// Usage:
/// ```swift
/// let server = try MetricsServer(address: ListenAddress(parsing: "9108"), metrics: run.metrics)
/// defer { server.shutdown() }
/// ```
public final class MetricsServer: Sendable {
    /// The bounds every connection is held to.
    public struct Limits: Sendable {
        /// Connections open at once; more are closed as soon as they are accepted. Default 64.
        public var maxConnections: Int
        /// Time from accepting a connection to closing it, whatever it did meanwhile. Default 5 s.
        public var connectionTimeout: Duration
        /// Bytes a client may send on one connection (request line, headers, any body). Default 8 KiB.
        public var maxRequestBytes: Int

        /// The defaults: 64 connections, 5 s each, 8 KiB of request.
        public init(maxConnections: Int = 64, connectionTimeout: Duration = .seconds(5), maxRequestBytes: Int = 8192) {
            self.maxConnections = maxConnections
            self.connectionTimeout = connectionTimeout
            self.maxRequestBytes = maxRequestBytes
        }
    }

    /// The address bound (with the port the system chose when asked for port 0).
    public let boundAddress: ListenAddress
    /// The port bound.
    public var port: Int { boundAddress.port }

    private let listener: ConnectionListener

    /// Binds `address` and starts serving a `tail`, `ship`, `detect`, `forward` or `sink` run's `metrics` (their
    /// `--metrics`).
    ///
    /// - Parameters:
    ///   - address: Where to listen (``ListenAddress/init(parsing:)`` checks the flag's text).
    ///   - limits: The per-connection bounds.
    ///   - metrics: The run's figures, read once per scrape.
    /// - Throws: `TailError` with code `metricsUnavailable` when the address cannot be bound (in use, not an
    ///   address of this host, no permission).
    public convenience init<Snapshot: PrometheusExposable>(
        address: ListenAddress, limits: Limits = Limits(), metrics: RunMetrics<Snapshot>
    ) throws(TailError) {
        try self.init(address: address, limits: limits) { metrics.snapshot.exposition() }
    }

    /// Binds `address` and answers each scrape with what `render` returns (Prometheus text).
    private init(
        address: ListenAddress, limits: Limits, render: @escaping @Sendable () -> [UInt8]
    ) throws(TailError) {
        do {
            listener = try ConnectionListener(
                backlog: 64, maxConnections: limits.maxConnections,
                // A client that half-closes after its request still gets the answer.
                childOptions: { $0.childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true) },
                handlers: { pipeline in
                    try pipeline.addHandler(ConnectionGuard(limits: limits))
                    try pipeline.configureHTTPServerPipeline(withErrorHandling: true)
                    try pipeline.addHandler(MetricsResponder(render: render))
                },
                bind: { try $0.bind(to: SocketAddress(ipAddress: address.host, port: address.port)) })
        } catch {
            throw TailError(
                code: .metricsUnavailable, message: "metrics: cannot listen on \(address): \(error)",
                path: "\(address)", underlyingErrno: (error as? IOError)?.errnoCode)
        }
        self.boundAddress = listener.boundAddress(requested: address)
    }

    /// Stops listening, closes open connections and ends the server's thread. Call it off the server's thread.
    public func shutdown() {
        listener.shutdown()
    }
}

/// First in each connection's pipeline: closes the connection at its deadline, and answers 431 and closes once
/// the client has sent more than the byte bound.
private final class ConnectionGuard: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let limits: MetricsServer.Limits
    private var received = 0
    private var rejected = false
    private var deadline: Scheduled<Void>?

    init(limits: MetricsServer.Limits) { self.limits = limits }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { armDeadline(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        armDeadline(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !rejected else { return }
        received += unwrapInboundIn(data).readableBytes
        guard received > limits.maxRequestBytes else {
            context.fireChannelRead(data)
            return
        }
        rejected = true
        let answer = context.channel.allocator.buffer(
            string: "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(answer)).whenComplete { _ in channel.close(promise: nil) }
    }

    private func armDeadline(context: ChannelHandlerContext) {
        guard deadline == nil else { return }
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: TimeAmount(limits.connectionTimeout)) {
            channel.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension ConnectionGuard: Sendable {}

/// Answers a complete request with the metrics (GET, HEAD) or 405, then closes the connection.
private final class MetricsResponder: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// The exposition of the run's figures now.
    private let render: @Sendable () -> [UInt8]
    private var request: HTTPRequestHead?

    init(render: @escaping @Sendable () -> [UInt8]) { self.render = render }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = head
        case .body:
            break
        case .end:
            guard let head = request else { return }
            request = nil
            respond(to: head, context: context)
        }
    }

    private func respond(to request: HTTPRequestHead, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        let status: HTTPResponseStatus
        var body = context.channel.allocator.buffer(capacity: 0)
        switch request.method {
        case .GET, .HEAD:
            status = .ok
            body.writeBytes(render())
            headers.add(name: "Content-Type", value: MetricsExposition.contentType)
        default:
            status = .methodNotAllowed
            headers.add(name: "Allow", value: "GET, HEAD")
        }
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        headers.add(name: "Connection", value: "close")
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))),
            promise: nil)
        if request.method != .HEAD && body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}

@available(*, unavailable)
extension MetricsResponder: Sendable {}

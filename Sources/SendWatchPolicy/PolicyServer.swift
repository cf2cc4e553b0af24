import NIOCore
import NIOPosix
import SendWatchMetrics
public import SendWatchPipeline

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The Postfix policy delegation service of `sendwatch tail --policy`: answers each request of Postfix's
/// `check_policy_service` with a ``PolicyDecision`` against the run's ``OpenAlertBoard``.
///
/// Connections are persistent, as smtpd keeps them: any number of requests, each answered as soon as its empty
/// line arrives, in order. Served on one event-loop thread of its own; the detection loop never waits for it
/// (it swaps the board's value under a lock held for a reference copy), and it never waits for the loop.
///
/// Fail open: every request that can be delimited is answered, `DUNNO` unless a flagged login asks; a malformed
/// request is answered `DUNNO`; an oversize one `DUNNO`, then the connection is closed; a connection over the
/// count bound, or any error on a connection, closes it (smtpd then uses
/// `smtpd_policy_service_default_action`, which the documented `main.cf` sets to `DUNNO`).
///
/// Bounds (``Limits``): open connections, bytes per request, and idle time per connection.
///
/// Usage:
/// ```swift
/// let server = try PolicyServer(
///     address: PolicyAddress(parsing: "127.0.0.1:10040"), configuration: configuration.policy,
///     board: run.openAlerts)
/// defer { server.shutdown() }
/// ```
public final class PolicyServer: Sendable {
    /// The bounds every connection is held to.
    public struct Limits: Sendable {
        /// Connections open at once; more are closed as soon as they are accepted. Default 512 (smtpd's
        /// `default_process_limit` is 100, each smtpd keeps one connection).
        public var maxConnections: Int
        /// Bytes of one request with its empty line; a longer one is answered `DUNNO` and the connection closed.
        /// Default 16 KiB (a request is a few hundred bytes; client certificates' names make the longest).
        public var maxRequestBytes: Int
        /// Time without a byte after which a connection is closed. Default 20 min (smtpd closes its own after
        /// `smtpd_policy_service_max_idle`, 300 s, and reconnects when needed).
        public var idleTimeout: Duration

        /// The defaults: 512 connections, 16 KiB per request, 20 minutes idle.
        public init(maxConnections: Int = 512, maxRequestBytes: Int = 16_384, idleTimeout: Duration = .seconds(1200)) {
            self.maxConnections = maxConnections
            self.maxRequestBytes = maxRequestBytes
            self.idleTimeout = idleTimeout
        }
    }

    /// The address bound (with the port the system chose when asked for port 0).
    public let boundAddress: PolicyAddress

    private let listener: ConnectionListener

    /// Binds `address` and starts answering.
    ///
    /// A unix socket replaces a file left at its path by an earlier run, and is removed by ``shutdown()``.
    ///
    /// - Parameters:
    ///   - address: Where to listen (``PolicyAddress/init(parsing:)`` checks the flag's text).
    ///   - limits: The per-connection bounds.
    ///   - configuration: The action, text, allow-list and expiry.
    ///   - board: The open alerts' accounts, read once per request.
    ///   - clock: Wall-clock seconds since the epoch, for the expiry (tests pass their own).
    /// - Throws: `TailError` with code `policyUnavailable` when the address cannot be bound.
    public init(
        address: PolicyAddress, limits: Limits = Limits(), configuration: PolicyConfiguration, board: OpenAlertBoard,
        clock: @escaping @Sendable () -> Double = { TailRun.wallSeconds() }
    ) throws(TailError) {
        do {
            listener = try ConnectionListener(
                backlog: 256, maxConnections: limits.maxConnections,
                childOptions: { $0.childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1) },
                handlers: { pipeline in
                    try pipeline.addHandler(IdleStateHandler(readTimeout: TimeAmount(limits.idleTimeout)))
                    try pipeline.addHandler(
                        ByteToMessageHandler(PolicyRequestDecoder(maxRequestBytes: limits.maxRequestBytes)))
                    try pipeline.addHandler(
                        PolicyResponder(configuration: configuration, board: board, clock: clock))
                },
                bind: { bootstrap in
                    switch address {
                    case .tcp(let tcp):
                        try bootstrap.bind(to: SocketAddress(ipAddress: tcp.host, port: tcp.port))
                    case .unix(let path):
                        bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true)
                    }
                })
        } catch {
            throw TailError(
                code: .policyUnavailable, message: "policy: cannot listen on \(address): \(error)",
                path: "\(address)", underlyingErrno: (error as? IOError)?.errnoCode)
        }
        switch address {
        case .tcp(let tcp):
            self.boundAddress = .tcp(listener.boundAddress(requested: tcp))
        case .unix:
            self.boundAddress = address
        }
    }

    /// Stops listening, closes open connections, removes a unix socket and ends the server's thread. Call it off
    /// the server's thread.
    public func shutdown() {
        listener.shutdown()
        if case .unix(let path) = boundAddress { unlink(path) }
    }
}

/// Answers each decoded request in order; closes the connection after an oversize request, when idle for the
/// bound, and on any error.
private final class PolicyResponder: ChannelInboundHandler {
    typealias InboundIn = PolicyRequest
    typealias OutboundOut = ByteBuffer

    private let configuration: PolicyConfiguration
    private let board: OpenAlertBoard
    private let clock: @Sendable () -> Double

    init(configuration: PolicyConfiguration, board: OpenAlertBoard, clock: @escaping @Sendable () -> Double) {
        self.configuration = configuration
        self.board = board
        self.clock = clock
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let request = unwrapInboundIn(data)
        let decision = PolicyDecision(
            request: request, accounts: board.snapshot, configuration: configuration, now: clock())
        let answer = context.channel.allocator.buffer(string: decision.answer)
        if request == .oversize {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(answer)).whenComplete { _ in channel.close(promise: nil) }
        } else {
            context.write(wrapOutboundOut(answer), promise: nil)
        }
    }

    /// One flush per read burst: smtpd waits for each answer, so this is one per request in practice.
    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension PolicyResponder: Sendable {}

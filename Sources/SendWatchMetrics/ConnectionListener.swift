package import NIOCore
package import NIOPosix

/// A listening socket of `sendwatch tail` on an event-loop thread of its own, with a bound on the connections open
/// at once: the skeleton the metrics endpoint (``MetricsServer``) and the policy service share.
///
/// A connection accepted while ``ConnectionSlots`` has none free is closed at once, before any handler sees it; the
/// others get the handlers the server adds, and give their slot back when they close. What a connection may do
/// meanwhile (its deadline or idle time, its byte bound, its protocol) is the server's: the two servers bound time
/// differently (the metrics endpoint closes at a fixed deadline, the policy service after idle time), so that is
/// left out here.
///
/// Usage:
/// ```swift
/// let listener = try ConnectionListener(backlog: 64, maxConnections: 64) { pipeline in
///     try pipeline.addHandler(MyHandler())
/// } bind: { bootstrap in
///     try bootstrap.bind(to: SocketAddress(ipAddress: "127.0.0.1", port: 0))
/// }
/// defer { listener.shutdown() }
/// ```
package final class ConnectionListener: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel

    /// Starts a thread, binds and starts accepting.
    ///
    /// - Parameters:
    ///   - backlog: The listen queue's length (connections the kernel accepts before the server does).
    ///   - maxConnections: Connections open at once; more are closed as soon as they are accepted.
    ///   - childOptions: Options of the server's own for each accepted connection (none by default).
    ///   - handlers: Adds the server's handlers to a connection's pipeline, on its event loop.
    ///   - bind: Binds the bootstrap where the server listens (a TCP address or a unix socket).
    /// - Throws: The error of `bind` (address in use, no permission, not an address of this host); the thread is
    ///   ended first.
    package init(
        backlog: Int32, maxConnections: Int,
        childOptions: (ServerBootstrap) -> ServerBootstrap = { $0 },
        handlers: @escaping @Sendable (ChannelPipeline.SynchronousOperations) throws -> Void,
        bind: (ServerBootstrap) throws -> EventLoopFuture<any Channel>
    ) throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let slots = ConnectionSlots(max: maxConnections)
        let bootstrap = childOptions(
            ServerBootstrap(group: group)
                .serverChannelOption(ChannelOptions.backlog, value: backlog)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
        )
        .childChannelInitializer { channel in
            guard slots.acquire() else {
                return channel.eventLoop.makeFailedFuture(ConnectionLimitReached())
            }
            channel.closeFuture.whenComplete { _ in slots.release() }
            return channel.eventLoop.makeCompletedFuture { try handlers(channel.pipeline.syncOperations) }
        }
        do {
            self.channel = try bind(bootstrap).wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
        self.group = group
    }

    /// The TCP address bound: `requested`, with the port the system chose when asked for port 0.
    package func boundAddress(requested: ListenAddress) -> ListenAddress {
        ListenAddress(
            host: channel.localAddress?.ipAddress ?? requested.host,
            port: channel.localAddress?.port ?? requested.port)
    }

    /// Stops listening, closes open connections and ends the thread. Call it off the listener's thread.
    package func shutdown() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }
}

/// Why an accepted connection was closed at once: the listener's `maxConnections` were open.
private struct ConnectionLimitReached: Error {}

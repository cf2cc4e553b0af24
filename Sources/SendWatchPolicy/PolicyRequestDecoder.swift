import NIOCore

/// Splits a connection's bytes into ``PolicyRequest``s: each ends at the first empty line (`\n\n`); a request
/// longer than the byte bound becomes ``PolicyRequest/oversize`` and everything after it is discarded (the
/// responder closes the connection).
///
/// Bytes already searched are not searched again when more arrive (``scanned``), so a request trickled in
/// small pieces costs O(its length) in all.
struct PolicyRequestDecoder: ByteToMessageDecoder {
    typealias InboundOut = PolicyRequest

    /// The longest request, in bytes, with its terminating empty line.
    let maxRequestBytes: Int
    /// Bytes from the reader index searched without finding the end of a request.
    private var scanned = 0
    /// Set after an oversize request: the rest of the connection is discarded.
    private var discarding = false

    init(maxRequestBytes: Int) { self.maxRequestBytes = maxRequestBytes }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if discarding {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return .needMoreData
        }
        let from = scanned
        let end: Int? = buffer.withUnsafeReadableBytes { bytes in
            if bytes.first == 0x0A { return 0 }  // an empty line first: an empty request
            var at = from
            while let newline = firstIndex(of: 0x0A, in: bytes, from: at) {
                if newline + 1 < bytes.count {
                    if bytes[newline + 1] == 0x0A { return newline + 1 }
                    at = newline + 1
                } else {
                    return nil
                }
            }
            return nil
        }
        guard let end, end < maxRequestBytes else {
            if end != nil || buffer.readableBytes > maxRequestBytes {
                discarding = true
                buffer.moveReaderIndex(to: buffer.writerIndex)
                context.fireChannelRead(wrapInboundOut(.oversize))
                return .needMoreData
            }
            // The last byte may be the first newline of the end: search it again with the next bytes.
            scanned = max(0, buffer.readableBytes - 1)
            return .needMoreData
        }
        let request = buffer.withUnsafeReadableBytes { bytes in
            PolicyRequest(parsing: UnsafeRawBufferPointer(rebasing: bytes[0...end]))
        }
        buffer.moveReaderIndex(forwardBy: end + 1)
        scanned = 0
        context.fireChannelRead(wrapInboundOut(request))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        // A request cut off by the end of the connection is not answered: nobody can read the answer.
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

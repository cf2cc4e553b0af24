/// Receives the lines a ``LineFramer`` cuts out of a byte stream.
///
/// A parser stage adopts this to see each line once, without copying: `line` points into the framer's
/// current chunk or its carry buffer and is valid only during the call.
public protocol LineConsumer {
    /// Handles one line, without its `\n` or `\r\n` terminator. May be empty.
    ///
    /// - Parameter line: the line's bytes; valid only until this call returns, so copy what must outlive it.
    mutating func consume(line: UnsafeRawBufferPointer)
}

/// Where encoded alert records go: standard output, a file, and later a message bus or a policy service.
///
/// The seam behind ``AlertWriter``: `replay` and `tail` write through it and never know which sink they have.
/// A sink takes batches of whole records (each one line ending with a newline, as an ``AlertEncoder`` makes
/// them) and may buffer them until ``flush()``.
///
/// Failures: a sink that cannot deliver throws ``OutputError`` and keeps the records it has not delivered, so
/// that the next ``flush()`` retries them in order (`tail` retries; `replay` stops writing and exits 2).
///
/// Exactly once: wrap any sink in ``ExactlyOnceSink``. It journals what was delivered, so that after a crash
/// the records delivered since the last checkpoint are recognised and not sent again. A sink whose output can
/// be read back (a regular file) also implements ``position`` and ``recordsWritten(after:)``, which lets the
/// wrapper check the output itself.
///
/// A class protocol: a sink is one output, shared by whoever writes to it, and it is used on one thread at a
/// time (the writing stage's).
public protocol AlertSink: AnyObject {
    /// The output's name, for messages and the checkpoint header: a path, `<stdout>`, a topic.
    var name: String { get }

    /// Takes `records` (one or more whole lines). The sink may deliver them at once or buffer them.
    ///
    /// - Throws: ``OutputError`` when a delivery it attempted failed; the records are kept and ``flush()``
    ///   retries them.
    func write(_ records: UnsafeRawBufferPointer) throws(OutputError)

    /// Delivers every record taken so far.
    ///
    /// - Throws: ``OutputError``; what was not delivered is kept for the next call.
    func flush() throws(OutputError)

    /// Makes what was delivered durable (a file: `fsync`). Sinks without such a notion do nothing.
    func sync() throws(OutputError)

    /// Bytes in the output so far, when the output can be read back (a regular file); nil otherwise.
    var position: Int64? { get }

    /// The whole records in the output after byte `position` (an earlier ``position``), cutting off a partial
    /// record a crash left at the end; nil when the output cannot be read back or no longer reaches `position`
    /// (rotated or truncated by someone else).
    func recordsWritten(after position: Int64) throws(OutputError) -> [UInt8]?

    /// Closes the output and opens it again by name, after everything taken was delivered: a file renamed by
    /// logrotate is let go and a new file at the path is appended to (`tail` does this on SIGHUP). Sinks
    /// without a name to reopen do nothing.
    ///
    /// - Throws: ``OutputError`` (`open_failed`) when the name cannot be opened; the sink then keeps its old
    ///   output.
    func reopen() throws(OutputError)
}

extension AlertSink {
    /// Does nothing: the sink has no durability step.
    public func sync() throws(OutputError) {}

    /// Nil: the output cannot be read back.
    public var position: Int64? { nil }

    /// Nil: the output cannot be read back.
    public func recordsWritten(after position: Int64) throws(OutputError) -> [UInt8]? { nil }

    /// Does nothing: the output has no name to reopen.
    public func reopen() throws(OutputError) {}
}

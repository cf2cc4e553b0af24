public import SendWatchAlerts

extension OutputWriter {
    /// The alert output `sendwatch tail` hands its ``TailRun``: `path` appended to (created with mode 0644 if
    /// missing; a restart goes on after what is there), or standard output without one.
    ///
    /// The run takes any ``AlertSink`` and never opens one itself; this is the opening `tail --output` does.
    ///
    /// - Throws: ``TailError`` `output_unusable`, with the ``OutputError`` as ``TailError/output``, when the path
    ///   cannot be opened.
    public static func tailOutput(path: String?) throws(TailError) -> OutputWriter {
        guard let path else { return OutputWriter.standardOutput() }
        switch OutputWriter.appending(path: path) {
        case .success(let writer): return writer
        case .failure(let error): throw TailError(output: error, code: .outputUnusable)
        }
    }
}

extension String {
    /// Calls `body` with the string's UTF-8 bytes, without copying a native string and without a retain.
    ///
    /// `var copy = s; copy.withUTF8 { … }` retains the string for the copy and releases it afterwards. When the
    /// string is shared with another thread (an event's fields are shared with the parser's open messages), each
    /// of those reference-count changes moves the string's header between the cores. Native strings are read
    /// in place; bridged or lazily-stored ones fall back to a contiguous copy.
    @inlinable
    package func withUTF8Bytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        if let r = try utf8.withContiguousStorageIfAvailable(body) { return r }
        var copy = self
        return try copy.withUTF8(body)
    }
}

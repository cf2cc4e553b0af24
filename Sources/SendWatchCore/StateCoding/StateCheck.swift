/// The checks that checkpoint decoders (`init(from:)` of the windows, the detection state, the template miner
/// and the parsers) run on saved data, and the error they throw.
///
/// A checkpoint is input: a damaged or hostile one must throw while decoding, never trap later. The checks are
/// structural and cheap (lengths that must agree, indices and links in range, sizes the code assumes), one pass
/// over the decoded arrays at most; they do not re-prove every statistical invariant.
package enum StateCheck {
    /// The largest event-time magnitude in decoded state, in microseconds (``EventTime/maxDecodedMagnitude``,
    /// what `EventTime`'s decoding allows): the difference of two such times always fits in an `Int64`.
    package static let maxTime: Int64 = EventTime.maxDecodedMagnitude

    /// The largest ring position (bucket or interval number) in decoded state: positions come from times
    /// clamped to ±2^60 µs, divided by a width of at least 1 µs.
    package static let maxPosition: Int64 = 1 << 60

    /// The largest value accepted for a count that code later increments with trapping arithmetic, or sums
    /// (2^56: far beyond any real count, and small enough that adding up every counter of many parsers or
    /// windows cannot overflow an `Int64`).
    package static let maxCount: Int64 = 1 << 56

    /// Throws `DecodingError.dataCorrupted` with `message` (prefixed with the decoder's coding path) unless
    /// `condition` holds.
    @inline(__always)
    package static func require(
        _ condition: Bool, _ message: @autoclosure () -> String, _ decoder: any Decoder
    ) throws {
        if !condition { throw corrupt(message(), decoder) }
    }

    /// A `DecodingError.dataCorrupted` at the decoder's coding path.
    package static func corrupt(_ message: String, _ decoder: any Decoder) -> DecodingError {
        corrupt(message, decoder.codingPath)
    }

    /// A `DecodingError.dataCorrupted` with `message` at `codingPath` (none by default: a check of the whole
    /// restored value, after decoding).
    package static func corrupt(_ message: String, _ codingPath: [any CodingKey] = []) -> DecodingError {
        .dataCorrupted(.init(codingPath: codingPath, debugDescription: message))
    }

    /// Whether `value` is a non-negative count within ``maxCount``.
    @inline(__always)
    package static func isCount<T: BinaryInteger>(_ value: T) -> Bool { value >= 0 && value <= maxCount }

    /// Whether `value` is a time within ``maxTime``.
    @inline(__always)
    package static func isTime(_ value: Int64) -> Bool { value >= -maxTime && value <= maxTime }

    /// Whether `value` is a ring position within ``maxPosition``.
    @inline(__always)
    package static func isPosition(_ value: Int64) -> Bool { value >= -maxPosition && value <= maxPosition }
}

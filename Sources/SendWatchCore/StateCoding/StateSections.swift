/// The large arrays of an encoded state, kept apart from its body: each array of fixed-width values of at least
/// ``minimumBytes`` bytes (and a whole number of 4-byte words) is written as a reference into ``parts`` instead
/// of inline, so that a checkpoint can store them in files of their own and rewrite only the words that changed
/// (the recipient filters and the sketch of established domains are most of a detection state's bytes, and
/// change a few words per event).
///
/// In the body, such an array is its element count and then its part's index (8 bytes each) instead of its
/// elements; parts are numbered in the order the encoding meets the arrays, and decoding must take each part once,
/// in that order. Which arrays are out of line follows from the element count and width alone, so the decoder
/// needs no marker.
///
/// Usage:
/// ```swift
/// var sections = StateSections()
/// try StateCoding.encode(state, into: &body, sections: &sections)   // body: small; sections.parts: the arrays
/// let same = try StateCoding.decode(State.self, from: body, sections: sections)
/// ```
public struct StateSections: Sendable, Equatable {
    /// Arrays of this many bytes or more go out of line (64 KiB): below it, a part would cost more in
    /// bookkeeping than it saves.
    public static let minimumBytes = 1 << 16

    /// The arrays' bytes (little-endian elements), in encoding order.
    public var parts: [[UInt8]]

    /// No parts.
    public init(parts: [[UInt8]] = []) { self.parts = parts }

    /// Whether an array of `count` elements of `width` bytes goes out of line.
    static func isOutOfLine(count: UInt64, width: Int) -> Bool {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: UInt64(width))
        return !overflow && bytes >= UInt64(minimumBytes) && bytes % 4 == 0
    }
}

extension StateCoding {
    /// Encodes `value` into `buffer` (replacing its contents, keeping its capacity) with its large arrays in
    /// `sections` (replaced) instead of inline.
    ///
    /// - Parameter userInfo: as ``encode(_:userInfo:)``.
    /// - Complexity: O(size of the encoding and the parts).
    public static func encode<T: Encodable>(
        _ value: T, into buffer: inout [UInt8], sections: inout StateSections,
        userInfo: [CodingUserInfoKey: any Sendable] = [:]
    ) throws {
        let storage = StateEncoderStorage()
        storage.userInfo = userInfo
        storage.sections = StateSections()
        buffer.removeAll(keepingCapacity: true)
        swap(&storage.bytes, &buffer)
        defer { swap(&storage.bytes, &buffer) }
        try storage.encodeValue(value, codingPath: [])
        // Safe to force unwrap: set above and never cleared.
        sections = storage.sections!
    }

    /// Decodes a `T` that must take exactly all of `bytes` and every part of `sections`.
    ///
    /// - Parameter userInfo: as ``decode(_:from:userInfo:)``.
    /// - Throws: `DecodingError.dataCorrupted` as ``decode(_:from:userInfo:)`` does, and when a part is referenced
    ///   out of order, has another size than its array's count gives, or is left over.
    public static func decode<T: Decodable>(
        _ type: T.Type, from bytes: [UInt8], sections: StateSections, userInfo: [CodingUserInfoKey: any Sendable] = [:]
    ) throws -> T {
        let storage = StateDecoderStorage(bytes: bytes)
        storage.sections = sections
        storage.userInfo = userInfo
        let value = try storage.decodeValue(type, codingPath: [])
        guard storage.offset == bytes.count else {
            throw storage.corrupted("\(bytes.count - storage.offset) bytes left over after the value", [])
        }
        guard storage.nextSection == sections.parts.count else {
            throw storage.corrupted("\(sections.parts.count - storage.nextSection) sections left over", [])
        }
        return value
    }
}

extension StateEncoderStorage {
    /// Writes a bulk array out of line when ``sections`` is on and the array is large; false when it is not
    /// (the caller then writes it inline).
    func writeSection(_ raw: UnsafeRawBufferPointer, count: Int, width: Int) -> Bool {
        guard sections != nil, StateSections.isOutOfLine(count: UInt64(count), width: width) else { return false }
        writeCount(count)
        // Safe to force unwrap: checked above.
        writeCount(sections!.parts.count)
        #if _endian(big)
        var part: [UInt8] = []
        part.reserveCapacity(raw.count)
        var i = 0
        while i < raw.count {
            part.append(contentsOf: raw[i..<i + width].reversed())
            i += width
        }
        sections!.parts.append(part)
        #else
        sections!.parts.append(Array(raw))
        #endif
        return true
    }
}

extension StateDecoderStorage {
    /// The part of an out-of-line array of `count` elements of `width` bytes whose index follows in the body; nil
    /// when the array is inline (``sections`` off, or too small).
    func readSection(count: UInt64, width: Int, _ codingPath: [any CodingKey]) throws -> [UInt8]? {
        guard let sections, StateSections.isOutOfLine(count: count, width: width) else { return nil }
        let index = try read(UInt64.self, codingPath)
        guard index == UInt64(nextSection), nextSection < sections.parts.count else {
            throw corrupted(
                "section \(index) where section \(nextSection) of \(sections.parts.count) comes next", codingPath)
        }
        let part = sections.parts[nextSection]
        guard UInt64(part.count) == count * UInt64(width) else {
            throw corrupted("section \(index) has \(part.count) bytes for \(count) × \(width)", codingPath)
        }
        nextSection += 1
        return part
    }
}

/// A compact binary encoding for `Codable` state: what `sendwatch tail` saves in its checkpoint.
///
/// Why not JSON (house style, section 7): the detection state can hold hundreds of MiB of counters, bucket arrays
/// and sketch registers; JSON would multiply its size and take minutes to write. The checkpoint file still starts
/// with a human-readable JSON header (version, positions); only the state body uses this encoding.
///
/// The encoding is positional: a struct's fields are written in the order its `encode(to:)` writes them, without
/// keys, so encoder and decoder must be the same code (the checkpoint's format version guards that).
/// - Fixed-width integers, `Double`, `Float` and `Bool`: little-endian, their natural width (`Int` and `UInt` as 8
///   bytes).
/// - `String`: a length, then its UTF-8 bytes (decoding rejects invalid UTF-8).
/// - `Optional`: one presence byte (0 or 1), then the value.
/// - Arrays, sets and other unkeyed sequences: an 8-byte element count, then the elements. Arrays of fixed-width
///   integers, `Double`, `Float` and `Bool` are copied in bulk.
/// - `Dictionary`: a count, then key and value pairs (in the dictionary's iteration order; decoding rebuilds an
///   equal dictionary).
/// - A nested keyed container (how synthesized `Codable` writes an enum case with or without associated
///   values) is preceded by its key's name, so that `allKeys` can tell the case. Struct fields carry no key.
/// - `encodeNil` writes a 0 byte; custom `encode(to:)` code should use `Optional` rather than mixing `encodeNil`
///   with values in one position.
///
/// Decoding never traps on bad bytes: every read is bounds-checked, every count is checked against the bytes
/// left, and a failure throws `DecodingError.dataCorrupted` with the byte offset. Whether the decoded values fit
/// together is for each type's `init(from:)` to check.
///
/// Usage:
/// ```swift
/// let bytes = try StateCoding.encode(engine.checkpoint())
/// let saved = try StateCoding.decode(DetectionEngine.Checkpoint.self, from: bytes)
/// ```
public enum StateCoding {
    /// Encodes `value`.
    ///
    /// - Parameter userInfo: what the encoded types read as their encoder's `userInfo` (for instance to write an
    ///   older format's layout, for a test of its migration).
    /// - Complexity: O(size of the encoding).
    public static func encode<T: Encodable>(_ value: T, userInfo: [CodingUserInfoKey: any Sendable] = [:]) throws
        -> [UInt8]
    {
        let storage = StateEncoderStorage()
        storage.userInfo = userInfo
        try storage.encodeValue(value, codingPath: [])
        return storage.bytes
    }

    /// Encodes `value` into `buffer`, replacing its contents but keeping its capacity: a caller that encodes
    /// a large state repeatedly (a checkpoint every few seconds) avoids growing and zeroing a new buffer each time.
    public static func encode<T: Encodable>(_ value: T, into buffer: inout [UInt8]) throws {
        let storage = StateEncoderStorage()
        buffer.removeAll(keepingCapacity: true)
        swap(&storage.bytes, &buffer)
        defer { swap(&storage.bytes, &buffer) }
        try storage.encodeValue(value, codingPath: [])
    }

    /// Decodes a `T` that must take exactly all of `bytes`.
    ///
    /// - Parameter userInfo: what the decoded types read as their decoder's `userInfo` (for instance how an older
    ///   format laid a part out, so that its reader can migrate it).
    /// - Throws: `DecodingError.dataCorrupted` when the bytes end early, hold an invalid value, or have bytes left
    ///   over; or whatever `T`'s `init(from:)` throws.
    public static func decode<T: Decodable>(
        _ type: T.Type, from bytes: [UInt8], userInfo: [CodingUserInfoKey: any Sendable] = [:]
    ) throws -> T {
        let storage = StateDecoderStorage(bytes: bytes)
        storage.userInfo = userInfo
        let value = try storage.decodeValue(type, codingPath: [])
        guard storage.offset == bytes.count else {
            throw storage.corrupted("\(bytes.count - storage.offset) bytes left over after the value", [])
        }
        return value
    }
}

// MARK: - Fast paths

/// Arrays of fixed-width values, copied in bulk.
protocol StateBulkArray {
    func writeBulk(to storage: StateEncoderStorage)
    static func readBulk(from storage: StateDecoderStorage, codingPath: [any CodingKey]) throws -> Self
}

/// Fixed-width element types whose every bit pattern is a valid value, copied byte for byte (`Bool` is not one:
/// only 0 and 1 are valid, so `[Bool]` goes element by element).
protocol StateBulkElement: BitwiseCopyable {}

extension UInt8: StateBulkElement {}
extension UInt16: StateBulkElement {}
extension UInt32: StateBulkElement {}
extension UInt64: StateBulkElement {}
extension UInt: StateBulkElement {}
extension Int8: StateBulkElement {}
extension Int16: StateBulkElement {}
extension Int32: StateBulkElement {}
extension Int64: StateBulkElement {}
extension Int: StateBulkElement {}
extension Double: StateBulkElement {}
extension Float: StateBulkElement {}

extension Array: StateBulkArray where Element: StateBulkElement {
    func writeBulk(to storage: StateEncoderStorage) {
        let width = MemoryLayout<Element>.size
        withUnsafeBytes { raw in
            guard !storage.writeSection(raw, count: count, width: width) else { return }
            storage.writeCount(count)
            storage.appendLittleEndianElements(raw, width: width)
        }
    }

    static func readBulk(from storage: StateDecoderStorage, codingPath: [any CodingKey]) throws -> [Element] {
        let width = MemoryLayout<Element>.size
        if storage.sections != nil {
            let at = storage.offset
            let raw = try storage.read(UInt64.self, codingPath)
            if let part = try storage.readSection(count: raw, width: width, codingPath) {
                return [Element](unsafeUninitializedCapacity: Int(raw)) { buffer, initialized in
                    // Safe: the part holds exactly raw * width bytes (checked by readSection).
                    part.withUnsafeBytes { source in
                        storage.copyLittleEndianElements(
                            from: source, into: UnsafeMutableRawBufferPointer(buffer), width: width)
                    }
                    initialized = Int(raw)
                }
            }
            storage.offset = at
        }
        let count = try storage.readCount(minimumBytesPerElement: width, codingPath)
        let start = try storage.skip(count * width, codingPath)
        return [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
            // Safe: `buffer` has room for `count` elements and the storage holds count * width bytes at `start`.
            storage.copyLittleEndianElements(from: start, into: UnsafeMutableRawBufferPointer(buffer), width: width)
            initialized = count
        }
    }
}

/// `Optional`, written with a presence byte.
protocol StateOptional {
    var wrappedEncodable: (any Encodable)? { get }
    static func decodeWrapped(from storage: StateDecoderStorage, codingPath: [any CodingKey]) throws -> Self
}

extension Optional: StateOptional where Wrapped: Codable {
    var wrappedEncodable: (any Encodable)? { self.map { $0 as any Encodable } }
    static func decodeWrapped(from storage: StateDecoderStorage, codingPath: [any CodingKey]) throws -> Wrapped? {
        switch try storage.readByte(codingPath) {
        case 0: return nil
        case 1: return try storage.decodeValue(Wrapped.self, codingPath: codingPath)
        case let b: throw storage.corrupted("presence byte \(b) is neither 0 nor 1", codingPath)
        }
    }
}

/// `Dictionary`, written as a count and key/value pairs whatever the key type.
protocol StateDictionary {
    func writePairs(to storage: StateEncoderStorage, codingPath: [any CodingKey]) throws
    static func readPairs(from storage: StateDecoderStorage, codingPath: [any CodingKey]) throws -> Self
}

extension Dictionary: StateDictionary where Key: Codable, Value: Codable {
    func writePairs(to storage: StateEncoderStorage, codingPath: [any CodingKey]) throws {
        storage.writeCount(count)
        for (k, v) in self {
            try storage.encodeValue(k, codingPath: codingPath)
            try storage.encodeValue(v, codingPath: codingPath)
        }
    }

    static func readPairs(from storage: StateDecoderStorage, codingPath: [any CodingKey]) throws -> [Key: Value] {
        let count = try storage.readCount(minimumBytesPerElement: 1, codingPath)
        var out: [Key: Value] = [:]
        out.reserveCapacity(count)
        for _ in 0..<count {
            let k = try storage.decodeValue(Key.self, codingPath: codingPath)
            let v = try storage.decodeValue(Value.self, codingPath: codingPath)
            guard out.updateValue(v, forKey: k) == nil else {
                throw storage.corrupted("a dictionary key appears twice", codingPath)
            }
        }
        return out
    }
}

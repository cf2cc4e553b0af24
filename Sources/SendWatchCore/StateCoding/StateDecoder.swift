/// The input and read position shared by a decoding's containers. Every read is bounds-checked.
final class StateDecoderStorage {
    let bytes: [UInt8]
    var offset = 0
    /// The parts of out-of-line bulk arrays; nil when everything is inline (``StateSections``).
    var sections: StateSections?
    /// The index of the next part to take from ``sections``.
    var nextSection = 0
    /// What the caller tells the types being decoded (``Decoder/userInfo``), e.g. the layout of an older format.
    var userInfo: [CodingUserInfoKey: Any] = [:]

    init(bytes: [UInt8]) { self.bytes = bytes }

    func corrupted(_ message: String, _ codingPath: [any CodingKey]) -> DecodingError {
        .dataCorrupted(.init(codingPath: codingPath, debugDescription: "state damaged at byte \(offset): \(message)"))
    }

    /// Moves past `count` bytes and returns where they start.
    func skip(_ count: Int, _ codingPath: [any CodingKey]) throws -> Int {
        guard count >= 0, count <= bytes.count - offset else {
            throw corrupted("needs \(count) bytes, \(bytes.count - offset) left", codingPath)
        }
        let start = offset
        offset += count
        return start
    }

    func readByte(_ codingPath: [any CodingKey]) throws -> UInt8 {
        guard offset < bytes.count else { throw corrupted("unexpected end", codingPath) }
        offset += 1
        return bytes[offset - 1]
    }

    func read<T: FixedWidthInteger>(_ type: T.Type, _ codingPath: [any CodingKey]) throws -> T {
        let start = try skip(MemoryLayout<T>.size, codingPath)
        var value = T.zero
        withUnsafeMutableBytes(of: &value) { target in
            bytes.withUnsafeBytes { source in
                target.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[start..<start + target.count]))
            }
        }
        return T(littleEndian: value)
    }

    /// Reads an element count and checks that the elements can fit in the bytes left, so that a damaged count
    /// cannot make the decoder reserve memory the input does not back.
    func readCount(minimumBytesPerElement: Int, _ codingPath: [any CodingKey]) throws -> Int {
        let raw = try read(UInt64.self, codingPath)
        let left = UInt64(bytes.count - offset)
        guard raw <= left / UInt64(max(1, minimumBytesPerElement)) else {
            throw corrupted("count \(raw) exceeds the \(left) bytes left", codingPath)
        }
        return Int(raw)
    }

    func copyLittleEndianElements(from start: Int, into target: UnsafeMutableRawBufferPointer, width: Int) {
        bytes.withUnsafeBytes { source in
            copyLittleEndianElements(
                from: UnsafeRawBufferPointer(rebasing: source[start..<start + target.count]), into: target,
                width: width)
        }
    }

    /// Copies `source` (little-endian elements of `width` bytes, as many bytes as `target` has) into `target`.
    func copyLittleEndianElements(
        from source: UnsafeRawBufferPointer, into target: UnsafeMutableRawBufferPointer, width: Int
    ) {
        #if _endian(big)
        var i = 0
        while i < target.count {
            for j in 0..<width { target[i + j] = source[i + width - 1 - j] }
            i += width
        }
        #else
        target.copyMemory(from: source)
        #endif
    }

    func readString(_ codingPath: [any CodingKey]) throws -> String {
        let count = try readCount(minimumBytesPerElement: 1, codingPath)
        let start = try skip(count, codingPath)
        guard let s = String(validating: bytes[start..<start + count], as: UTF8.self) else {
            throw corrupted("string is not valid UTF-8", codingPath)
        }
        return s
    }

    /// Reads a presence byte: true for a value that is absent (0), false for one that follows (1).
    func readAbsent(_ codingPath: [any CodingKey]) throws -> Bool {
        switch try readByte(codingPath) {
        case 0: return true
        case 1: return false
        case let b:
            offset -= 1
            throw corrupted("presence byte \(b) is neither 0 nor 1", codingPath)
        }
    }

    /// How each type is read, decided once per type.
    private var kinds = StateValueKind.Cache()

    /// Decodes any value, taking the fast and special paths first.
    func decodeValue<T: Decodable>(_ type: T.Type, codingPath: [any CodingKey]) throws -> T {
        // The casts cannot fail: the kind was decided from T itself.
        switch kinds.kind(of: T.self) {
        case .optional:
            return try (T.self as! any StateOptional.Type).decodeWrapped(from: self, codingPath: codingPath) as! T
        case .bulk: return try (T.self as! any StateBulkArray.Type).readBulk(from: self, codingPath: codingPath) as! T
        case .dictionary:
            return try (T.self as! any StateDictionary.Type).readPairs(from: self, codingPath: codingPath) as! T
        case .string: return unsafeBitCast(try readString(codingPath), to: T.self)
        case .int:
            let v = try read(Int64.self, codingPath)
            guard let n = Int(exactly: v) else { throw corrupted("\(v) does not fit Int", codingPath) }
            return unsafeBitCast(n, to: T.self)
        case .uint:
            let v = try read(UInt64.self, codingPath)
            guard let n = UInt(exactly: v) else { throw corrupted("\(v) does not fit UInt", codingPath) }
            return unsafeBitCast(n, to: T.self)
        case .int64: return unsafeBitCast(try read(Int64.self, codingPath), to: T.self)
        case .uint64: return unsafeBitCast(try read(UInt64.self, codingPath), to: T.self)
        case .int32: return unsafeBitCast(try read(Int32.self, codingPath), to: T.self)
        case .uint32: return unsafeBitCast(try read(UInt32.self, codingPath), to: T.self)
        case .int16: return unsafeBitCast(try read(Int16.self, codingPath), to: T.self)
        case .uint16: return unsafeBitCast(try read(UInt16.self, codingPath), to: T.self)
        case .int8: return unsafeBitCast(try read(Int8.self, codingPath), to: T.self)
        case .uint8: return unsafeBitCast(try readByte(codingPath), to: T.self)
        case .bool:
            switch try readByte(codingPath) {
            case 0: return unsafeBitCast(false, to: T.self)
            case 1: return unsafeBitCast(true, to: T.self)
            case let b: throw corrupted("Bool byte \(b)", codingPath)
            }
        case .double: return unsafeBitCast(Double(bitPattern: try read(UInt64.self, codingPath)), to: T.self)
        case .float: return unsafeBitCast(Float(bitPattern: try read(UInt32.self, codingPath)), to: T.self)
        case .other: return try T(from: StateDecoder(storage: self, codingPath: codingPath))
        }
    }
}

/// The `Decoder` handed to `init(from:)`; all its containers read from one ``StateDecoderStorage`` in order.
struct StateDecoder: Decoder {
    let storage: StateDecoderStorage
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { storage.userInfo }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(StateKeyedDecodingContainer<Key>(storage: storage, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try StateUnkeyedDecodingContainer(storage: storage, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        StateSingleValueDecodingContainer(storage: storage, codingPath: codingPath)
    }
}

/// Reads a keyed container's values in call order. `contains` is always true: the encoding has no keys, and
/// optional values carry a presence byte that `decodeNil(forKey:)` reads.
struct StateKeyedDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let storage: StateDecoderStorage
    let codingPath: [any CodingKey]
    /// The name written before a nested keyed container (an enum's case), read without moving on.
    var allKeys: [Key] {
        let saved = storage.offset
        defer { storage.offset = saved }
        guard let name = try? storage.readString(codingPath), let key = Key(stringValue: name) else { return [] }
        return [key]
    }

    func contains(_ key: Key) -> Bool { true }

    func decodeNil(forKey key: Key) throws -> Bool { try storage.readAbsent(codingPath) }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try storage.decodeValue(type, codingPath: codingPath)
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
        try storage.decodeValue(type, codingPath: codingPath)
    }
    func decode(_ type: String.Type, forKey key: Key) throws -> String {
        try storage.decodeValue(type, codingPath: codingPath)
    }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
        try storage.decodeValue(type, codingPath: codingPath)
    }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float {
        try storage.decodeValue(type, codingPath: codingPath)
    }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int {
        try storage.decodeValue(type, codingPath: codingPath)
    }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 {
        try storage.decodeValue(type, codingPath: codingPath)
    }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 {
        try storage.decodeValue(type, codingPath: codingPath)
    }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 {
        try storage.decodeValue(type, codingPath: codingPath)
    }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 {
        try storage.decodeValue(type, codingPath: codingPath)
    }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt {
        try storage.decodeValue(type, codingPath: codingPath)
    }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 {
        try storage.decodeValue(type, codingPath: codingPath)
    }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 {
        try storage.decodeValue(type, codingPath: codingPath)
    }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 {
        try storage.decodeValue(type, codingPath: codingPath)
    }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 {
        try storage.decodeValue(type, codingPath: codingPath)
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type, forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        let name = try storage.readString(codingPath)
        guard name == key.stringValue else {
            throw storage.corrupted("expected '\(key.stringValue)', found '\(name)'", codingPath)
        }
        return KeyedDecodingContainer(
            StateKeyedDecodingContainer<NestedKey>(storage: storage, codingPath: codingPath))
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try StateUnkeyedDecodingContainer(storage: storage, codingPath: codingPath)
    }

    func superDecoder() throws -> any Decoder { StateDecoder(storage: storage, codingPath: codingPath) }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        StateDecoder(storage: storage, codingPath: codingPath)
    }
}

/// Reads an element count, then that many elements.
struct StateUnkeyedDecodingContainer: UnkeyedDecodingContainer {
    let storage: StateDecoderStorage
    let codingPath: [any CodingKey]
    let count: Int?
    private(set) var currentIndex = 0
    var isAtEnd: Bool { currentIndex >= (count ?? 0) }

    init(storage: StateDecoderStorage, codingPath: [any CodingKey]) throws {
        self.storage = storage
        self.codingPath = codingPath
        count = try storage.readCount(minimumBytesPerElement: 1, codingPath)
    }

    private mutating func next() throws {
        guard !isAtEnd else { throw storage.corrupted("read past the end of a sequence", codingPath) }
        currentIndex += 1
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { throw storage.corrupted("read past the end of a sequence", codingPath) }
        let absent = try storage.readAbsent(codingPath)
        // A present value is still to be read by the next `decode` call.
        if absent { currentIndex += 1 } else { storage.offset -= 1 }
        return absent
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try next()
        return try storage.decodeValue(type, codingPath: codingPath)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try next()
        return KeyedDecodingContainer(StateKeyedDecodingContainer<NestedKey>(storage: storage, codingPath: codingPath))
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try next()
        return try StateUnkeyedDecodingContainer(storage: storage, codingPath: codingPath)
    }

    mutating func superDecoder() throws -> any Decoder {
        try next()
        return StateDecoder(storage: storage, codingPath: codingPath)
    }
}

/// Reads one value.
struct StateSingleValueDecodingContainer: SingleValueDecodingContainer {
    let storage: StateDecoderStorage
    let codingPath: [any CodingKey]

    func decodeNil() -> Bool {
        // Only a type's own `encode(to:)` writes a bare nil here (Optional itself is handled with a presence byte).
        if storage.offset < storage.bytes.count, storage.bytes[storage.offset] == 0 {
            storage.offset += 1
            return true
        }
        return false
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try storage.decodeValue(type, codingPath: codingPath)
    }
}

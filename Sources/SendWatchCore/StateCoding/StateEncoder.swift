/// The output buffer shared by an encoding's containers.
final class StateEncoderStorage {
    var bytes: [UInt8] = []
    /// Where large bulk arrays go instead of ``bytes``; nil writes everything inline (``StateSections``).
    var sections: StateSections?
    /// What the encoded types read as their encoder's `userInfo` (``Encoder/userInfo``'s type, so that reading it,
    /// as a type may for every value it encodes, converts nothing).
    var userInfo: [CodingUserInfoKey: Any] = [:]

    init() { bytes.reserveCapacity(4096) }

    @inline(__always)
    func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    func writeCount(_ count: Int) { append(UInt64(count)) }

    /// Appends elements of `width` bytes, swapping to little-endian on a big-endian machine.
    func appendLittleEndianElements(_ raw: UnsafeRawBufferPointer, width: Int) {
        #if _endian(big)
        var i = 0
        while i < raw.count {
            bytes.append(contentsOf: raw[i..<i + width].reversed())
            i += width
        }
        #else
        bytes.append(contentsOf: raw)
        #endif
    }

    func appendString(_ value: String) {
        value.withUTF8Bytes { utf8 in
            writeCount(utf8.count)
            bytes.append(contentsOf: utf8)
        }
    }

    /// How each type is written, decided once per type.
    private var kinds = StateValueKind.Cache()

    /// Encodes any value, taking the fast and special paths first.
    func encodeValue<T: Encodable>(_ value: T, codingPath: [any CodingKey]) throws {
        switch kinds.kind(of: T.self) {
        case .optional:
            // Safe: the kind says T conforms.
            let optional = value as! any StateOptional
            if let wrapped = optional.wrappedEncodable {
                bytes.append(1)
                try encodeValue(wrapped, codingPath: codingPath)
            } else {
                bytes.append(0)
            }
        case .bulk: (value as! any StateBulkArray).writeBulk(to: self)
        case .dictionary: try (value as! any StateDictionary).writePairs(to: self, codingPath: codingPath)
        case .string: appendString(unsafeBitCast(value, to: String.self))
        case .int: append(Int64(unsafeBitCast(value, to: Int.self)))
        case .uint: append(UInt64(unsafeBitCast(value, to: UInt.self)))
        case .int64: append(unsafeBitCast(value, to: Int64.self))
        case .uint64: append(unsafeBitCast(value, to: UInt64.self))
        case .int32: append(unsafeBitCast(value, to: Int32.self))
        case .uint32: append(unsafeBitCast(value, to: UInt32.self))
        case .int16: append(unsafeBitCast(value, to: Int16.self))
        case .uint16: append(unsafeBitCast(value, to: UInt16.self))
        case .int8: append(unsafeBitCast(value, to: Int8.self))
        case .uint8: append(unsafeBitCast(value, to: UInt8.self))
        case .bool: bytes.append(unsafeBitCast(value, to: Bool.self) ? 1 : 0)
        case .double: append(unsafeBitCast(value, to: Double.self).bitPattern)
        case .float: append(unsafeBitCast(value, to: Float.self).bitPattern)
        case .other: try value.encode(to: StateEncoder(storage: self, codingPath: codingPath))
        }
    }
}

/// How a type is written; see ``StateEncoderStorage/encodeValue(_:codingPath:)``.
enum StateValueKind {
    case optional, bulk, dictionary, string, int, uint, int64, uint64, int32, uint32, int16, uint16, int8, uint8
    case bool, double, float, other

    /// The kind of each type met so far: the dynamic casts that decide it are far slower than a dictionary
    /// lookup, and a checkpoint encodes or decodes millions of values of a handful of types.
    struct Cache {
        private var kinds: [ObjectIdentifier: StateValueKind] = [:]

        mutating func kind<T>(of type: T.Type) -> StateValueKind {
            let id = ObjectIdentifier(type)
            if let k = kinds[id] { return k }
            let k = StateValueKind.of(type)
            kinds[id] = k
            return k
        }
    }

    static func of<T>(_ type: T.Type) -> StateValueKind {
        if type is any StateOptional.Type { return .optional }
        if type is any StateBulkArray.Type { return .bulk }
        if type is any StateDictionary.Type { return .dictionary }
        switch type {
        case is String.Type: return .string
        case is Int.Type: return .int
        case is UInt.Type: return .uint
        case is Int64.Type: return .int64
        case is UInt64.Type: return .uint64
        case is Int32.Type: return .int32
        case is UInt32.Type: return .uint32
        case is Int16.Type: return .int16
        case is UInt16.Type: return .uint16
        case is Int8.Type: return .int8
        case is UInt8.Type: return .uint8
        case is Bool.Type: return .bool
        case is Double.Type: return .double
        case is Float.Type: return .float
        default: return .other
        }
    }
}

/// The `Encoder` handed to `encode(to:)`; all its containers write to one ``StateEncoderStorage``.
struct StateEncoder: Encoder {
    let storage: StateEncoderStorage
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { storage.userInfo }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(StateKeyedEncodingContainer<Key>(storage: storage, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        StateUnkeyedEncodingContainer(storage: storage, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        StateSingleValueEncodingContainer(storage: storage, codingPath: codingPath)
    }
}

/// Writes a keyed container's values in call order, without the keys.
struct StateKeyedEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let storage: StateEncoderStorage
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws { storage.bytes.append(0) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try storage.encodeValue(value, codingPath: codingPath)
    }

    // The concrete overloads synthesized code calls for primitive fields (the defaults would go through the
    // generic path).
    mutating func encode(_ value: Bool, forKey key: Key) throws {
        try storage.encodeValue(value, codingPath: codingPath)
    }
    mutating func encode(_ value: String, forKey key: Key) throws {
        try storage.encodeValue(value, codingPath: codingPath)
    }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        try storage.encodeValue(value, codingPath: codingPath)
    }
    mutating func encode(_ value: Float, forKey key: Key) throws {
        try storage.encodeValue(value, codingPath: codingPath)
    }
    mutating func encode(_ value: Int, forKey key: Key) throws {
        try storage.encodeValue(value, codingPath: codingPath)
    }
    mutating func encode(_ value: Int8, forKey key: Key) throws {
        try storage.encodeValue(value, codingPath: codingPath)
    }
    mutating func encode(_ value: Int16, forKey key: Key) throws {
        try storage.encodeValue(value, codingPath: codingPath)
    }
    mutating func encode(_ value: Int32, forKey key: Key) throws {
        try storage.encodeValue(value, codingPath: codingPath)
    }
    mutating func encode(_ value: Int64, forKey key: Key) throws {
        try storage.encodeValue(value, codingPath: codingPath)
    }
    mutating func encode(_ value: UInt, forKey key: Key) throws {
        try storage.encodeValue(value, codingPath: codingPath)
    }
    mutating func encode(_ value: UInt8, forKey key: Key) throws {
        try storage.encodeValue(value, codingPath: codingPath)
    }
    mutating func encode(_ value: UInt16, forKey key: Key) throws {
        try storage.encodeValue(value, codingPath: codingPath)
    }
    mutating func encode(_ value: UInt32, forKey key: Key) throws {
        try storage.encodeValue(value, codingPath: codingPath)
    }
    mutating func encode(_ value: UInt64, forKey key: Key) throws {
        try storage.encodeValue(value, codingPath: codingPath)
    }

    // Optionals get a presence byte whether present or not, so that decoding stays positional. The standard
    // library's default `encodeIfPresent` overloads skip nil values, so every overload is implemented here.
    mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: Float?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: Int8?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: Int16?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: Int32?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: UInt?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: UInt8?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: UInt16?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: UInt32?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: UInt64?, forKey key: Key) throws { try present(value, key) }

    private mutating func present<T: Encodable>(_ value: T?, _ key: Key) throws {
        if let value {
            storage.bytes.append(1)
            try storage.encodeValue(value, codingPath: codingPath)
        } else {
            storage.bytes.append(0)
        }
    }

    // A nested keyed container is preceded by its key's name: that is how synthesized `Codable` for enums tells
    // the case (the decoder's `allKeys` reads it). Plain struct fields carry no key.
    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        storage.appendString(key.stringValue)
        return KeyedEncodingContainer(StateKeyedEncodingContainer<NestedKey>(storage: storage, codingPath: codingPath))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        StateUnkeyedEncodingContainer(storage: storage, codingPath: codingPath)
    }

    mutating func superEncoder() -> any Encoder { StateEncoder(storage: storage, codingPath: codingPath) }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        StateEncoder(storage: storage, codingPath: codingPath)
    }
}

/// Writes an element count (patched in place as elements arrive), then the elements.
struct StateUnkeyedEncodingContainer: UnkeyedEncodingContainer {
    let storage: StateEncoderStorage
    let codingPath: [any CodingKey]
    private(set) var count = 0
    private let countOffset: Int

    init(storage: StateEncoderStorage, codingPath: [any CodingKey]) {
        self.storage = storage
        self.codingPath = codingPath
        countOffset = storage.bytes.count
        storage.writeCount(0)
    }

    private mutating func bump() {
        count += 1
        withUnsafeBytes(of: UInt64(count).littleEndian) { raw in
            for i in 0..<8 { storage.bytes[countOffset + i] = raw[i] }
        }
    }

    mutating func encodeNil() throws {
        storage.bytes.append(0)
        bump()
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try storage.encodeValue(value, codingPath: codingPath)
        bump()
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<
        NestedKey
    > {
        bump()
        return KeyedEncodingContainer(StateKeyedEncodingContainer<NestedKey>(storage: storage, codingPath: codingPath))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        bump()
        return StateUnkeyedEncodingContainer(storage: storage, codingPath: codingPath)
    }

    mutating func superEncoder() -> any Encoder {
        bump()
        return StateEncoder(storage: storage, codingPath: codingPath)
    }
}

/// Writes one value.
struct StateSingleValueEncodingContainer: SingleValueEncodingContainer {
    let storage: StateEncoderStorage
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { storage.bytes.append(0) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try storage.encodeValue(value, codingPath: codingPath)
    }
}

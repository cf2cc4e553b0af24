// Codable conformances for the values that detection state keeps (open alerts in live-mode checkpoints).
// Decoding treats the data as untrusted input: damaged values throw `DecodingError.dataCorrupted`.

/// Encoded as its raw value (`"create"`, `"update"`, `"close"`); an unknown value throws.
extension AlertAction: Codable {}

/// Encoded as its raw value (`"low"` ... `"critical"`); an unknown value throws.
extension Severity: Codable {}

extension EventTime: Codable {
    /// The largest magnitude accepted when decoding: 2^62 µs (about 146 000 years either side of 1970), so that
    /// the difference of any two decoded times fits in an `Int64`.
    public static let maxDecodedMagnitude: Int64 = 1 << 62

    /// Decodes microseconds since the Unix epoch.
    ///
    /// - Throws: `DecodingError.dataCorrupted` when the value lies beyond ``maxDecodedMagnitude``.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let v = try c.decode(Int64.self)
        guard v >= -Self.maxDecodedMagnitude && v <= Self.maxDecodedMagnitude else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "event time \(v) µs is out of range")
        }
        self.init(microseconds: v)
    }

    /// Encodes microseconds since the Unix epoch as one `Int64`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(microseconds)
    }
}

extension JSONValue: Codable {
    /// The deepest nesting of arrays and objects accepted when decoding (the detectors build at most 3).
    public static let maxDecodedDepth = 32

    private enum CodingKeys: String, CodingKey {
        case tags, numbers, doubles, strings
    }

    private enum Tag: UInt8 {
        case int = 0
        case double, string, bool, null, array, object
    }

    /// Encodes the tree flat, in pre-order: one tag per node; integers, booleans and child counts in
    /// `numbers`; doubles in `doubles`; strings and object keys (each key just before its value's nodes) in
    /// `strings`. Flat arrays keep decoding iterative, so a deeply nested damaged value cannot exhaust the stack.
    public func encode(to encoder: any Encoder) throws {
        var tags: [UInt8] = []
        var numbers: [Int64] = []
        var doubles: [Double] = []
        var strings: [String] = []
        func walk(_ v: JSONValue) {
            switch v {
            case .int(let i):
                tags.append(Tag.int.rawValue)
                numbers.append(Int64(i))
            case .double(let d):
                tags.append(Tag.double.rawValue)
                doubles.append(d)
            case .string(let s):
                tags.append(Tag.string.rawValue)
                strings.append(s)
            case .bool(let b):
                tags.append(Tag.bool.rawValue)
                numbers.append(b ? 1 : 0)
            case .null:
                tags.append(Tag.null.rawValue)
            case .array(let items):
                tags.append(Tag.array.rawValue)
                numbers.append(Int64(items.count))
                for item in items { walk(item) }
            case .object(let pairs):
                tags.append(Tag.object.rawValue)
                numbers.append(Int64(pairs.count))
                for (k, item) in pairs {
                    strings.append(k)
                    walk(item)
                }
            }
        }
        walk(self)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(tags, forKey: .tags)
        try c.encode(numbers, forKey: .numbers)
        try c.encode(doubles, forKey: .doubles)
        try c.encode(strings, forKey: .strings)
    }

    /// Decodes the flat form written by ``encode(to:)`` without recursion.
    ///
    /// - Throws: `DecodingError.dataCorrupted` for an unknown tag, a count or index beyond the arrays, nesting
    ///   deeper than ``maxDecodedDepth``, or data left over after the root value.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let tags = try c.decode([UInt8].self, forKey: .tags)
        let numbers = try c.decode([Int64].self, forKey: .numbers)
        let doubles = try c.decode([Double].self, forKey: .doubles)
        let strings = try c.decode([String].self, forKey: .strings)
        func corrupt(_ message: String) -> DecodingError {
            DecodingError.dataCorruptedError(forKey: .tags, in: c, debugDescription: "JSON value: " + message)
        }
        struct Frame {
            var isObject: Bool
            var remaining: Int
            var keys: [String] = []
            var items: [JSONValue] = []
        }
        var ti = 0
        var ni = 0
        var di = 0
        var si = 0
        var stack: [Frame] = []
        var root: JSONValue?
        while root == nil {
            if let top = stack.last, top.isObject {
                guard si < strings.count else { throw corrupt("missing object key") }
                stack[stack.count - 1].keys.append(strings[si])
                si += 1
            }
            guard ti < tags.count, let tag = Tag(rawValue: tags[ti]) else { throw corrupt("missing or unknown tag") }
            ti += 1
            var value: JSONValue
            switch tag {
            case .int, .bool, .array, .object:
                guard ni < numbers.count else { throw corrupt("missing number") }
                let n = numbers[ni]
                ni += 1
                switch tag {
                case .int:
                    value = .int(Int(truncatingIfNeeded: n))
                case .bool:
                    value = .bool(n != 0)
                default:
                    // Every child needs at least one tag, which bounds the count by the data itself.
                    guard n >= 0 && n <= Int64(tags.count - ti) else { throw corrupt("bad child count \(n)") }
                    if n > 0 {
                        guard stack.count < Self.maxDecodedDepth else { throw corrupt("nested too deeply") }
                        stack.append(Frame(isObject: tag == .object, remaining: Int(n)))
                        continue
                    }
                    value = tag == .object ? .object([]) : .array([])
                }
            case .double:
                guard di < doubles.count else { throw corrupt("missing double") }
                value = .double(doubles[di])
                di += 1
            case .string:
                guard si < strings.count else { throw corrupt("missing string") }
                value = .string(strings[si])
                si += 1
            case .null:
                value = .null
            }
            // Hand the finished value to its parent, closing every container it completes.
            while true {
                guard !stack.isEmpty else {
                    root = value
                    break
                }
                stack[stack.count - 1].items.append(value)
                stack[stack.count - 1].remaining -= 1
                guard stack[stack.count - 1].remaining == 0 else { break }
                let done = stack.removeLast()
                value = done.isObject ? .object(Array(zip(done.keys, done.items))) : .array(done.items)
            }
        }
        guard ti == tags.count && ni == numbers.count && di == doubles.count && si == strings.count else {
            throw corrupt("data left over after the value")
        }
        // Safe to force unwrap: the loop only ends once `root` is set.
        self = root!
    }
}

extension Alert: Codable {
    private enum CodingKeys: String, CodingKey {
        case id, incident, mergedIncidents, action, kind, severity, score, eventTime, firstEventTime, accounts,
            accountsTotal, template
        case evidence, reasons, addedKeys, addedValues
    }

    /// Decodes an alert record; the evidence must be a JSON object.
    ///
    /// - Throws: `DecodingError` for missing fields, unknown enum values, out-of-range times, or evidence that
    ///   is not an object.
    public init(from decoder: any Decoder) throws {
        // Fields are decoded in the order `encode(to:)` writes them (positional coders rely on it).
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let id = try c.decode(String.self, forKey: .id)
        let incident = try c.decode(String.self, forKey: .incident)
        let merged = try c.decode([String].self, forKey: .mergedIncidents)
        guard merged.count <= Self.maxMergedIncidents else {
            throw DecodingError.dataCorruptedError(
                forKey: .mergedIncidents, in: c,
                debugDescription: "more than \(Self.maxMergedIncidents) merged incidents")
        }
        let action = try c.decode(AlertAction.self, forKey: .action)
        let kind = try c.decode(String.self, forKey: .kind)
        let severity = try c.decode(Severity.self, forKey: .severity)
        let score = try c.decode(Double.self, forKey: .score)
        let eventTime = try c.decode(EventTime.self, forKey: .eventTime)
        let firstEventTime = try c.decode(EventTime.self, forKey: .firstEventTime)
        let accounts = try c.decode([String].self, forKey: .accounts)
        let accountsTotal = try c.decode(Int.self, forKey: .accountsTotal)
        let template = try c.decodeIfPresent(AlertTemplate.self, forKey: .template)
        let evidence = try c.decodeEvidence(forKey: .evidence)
        let reasons = try c.decode([String].self, forKey: .reasons)
        let addedKeys = try c.decodeIfPresent([String].self, forKey: .addedKeys)
        let addedValues = try c.decodeIfPresent([[String]].self, forKey: .addedValues)
        self.init(
            id: id, action: action, kind: kind, severity: severity, score: score, eventTime: eventTime,
            firstEventTime: firstEventTime, accounts: accounts, accountsTotal: accountsTotal, template: template,
            evidence: evidence, reasons: reasons)
        self.incident = incident
        self.mergedIncidents = merged
        switch (addedKeys, addedValues) {
        case (nil, nil): added = nil
        case (let keys?, let values?) where keys.count == values.count:
            added = zip(keys, values).map { (key: $0, values: $1) }
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .addedValues, in: c, debugDescription: "added keys and values do not match")
        }
    }

    /// Encodes every field; the evidence as one ``JSONValue`` object, keeping its key order.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(incident, forKey: .incident)
        try c.encode(mergedIncidents, forKey: .mergedIncidents)
        try c.encode(action, forKey: .action)
        try c.encode(kind, forKey: .kind)
        try c.encode(severity, forKey: .severity)
        try c.encode(score, forKey: .score)
        try c.encode(eventTime, forKey: .eventTime)
        try c.encode(firstEventTime, forKey: .firstEventTime)
        try c.encode(accounts, forKey: .accounts)
        try c.encode(accountsTotal, forKey: .accountsTotal)
        try c.encodeIfPresent(template, forKey: .template)
        try c.encode(JSONValue.object(evidence), forKey: .evidence)
        try c.encode(reasons, forKey: .reasons)
        try c.encodeIfPresent(added?.map(\.key), forKey: .addedKeys)
        try c.encodeIfPresent(added?.map(\.values), forKey: .addedValues)
    }
}

extension KeyedDecodingContainer {
    /// Decodes the evidence of an alert or a finding: a ``JSONValue`` object, its members in the saved order.
    ///
    /// - Throws: `DecodingError.dataCorrupted` when the value is not an object.
    package func decodeEvidence(forKey key: Key) throws -> [(String, JSONValue)] {
        guard case .object(let evidence) = try decode(JSONValue.self, forKey: key) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "evidence is not an object")
        }
        return evidence
    }
}

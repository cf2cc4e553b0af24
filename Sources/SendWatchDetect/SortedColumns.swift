import SendWatchCore
import SendWatchWindows

/// A dictionary as a checkpoint saves it: its keys in increasing order, then its values in the same order, as two
/// arrays, so that the same state always encodes to the same bytes. Used for the account registry
/// (``AccountAges``), the open alerts and incidents (``AlertLifecycle``) and `slot_content`'s indicator counts.
///
/// In the positional checkpoint encoding (`StateCoding`) it writes exactly what the two arrays write as two fields
/// of the enclosing type, so a checkpoint that saved them as such still loads.
///
/// Decoding checks the structure and throws `DecodingError.dataCorrupted` when the arrays differ in length or a
/// key repeats.
struct SortedColumns<Key: Hashable & Comparable & Codable, Value: Codable>: Codable {
    /// The keys, increasing.
    var keys: [Key]
    /// The value of each key, in the order of ``keys``.
    var values: [Value]

    /// The entries of `dictionary`, sorted by key.
    ///
    /// - Complexity: O(n log n).
    init(_ dictionary: some Sequence<(key: Key, value: Value)>) {
        let sorted = dictionary.sorted { $0.key < $1.key }
        keys = sorted.map(\.key)
        values = sorted.map(\.value)
    }

    /// The saved fields, in the order the synthesized `encode(to:)` writes them and `init(from:)` reads them.
    enum CodingKeys: String, CodingKey {
        case keys, values
    }

    /// Decodes and checks the structure.
    ///
    /// - Throws: `DecodingError.dataCorrupted` when the keys and values differ in number or a key repeats.
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        keys = try c.decode([Key].self, forKey: .keys)
        values = try c.decode([Value].self, forKey: .values)
        try StateCheck.require(
            keys.count == values.count && Set(keys).count == keys.count,
            "\(keys.count) keys for \(values.count) values, or a key repeats", decoder)
    }

    /// The entries as a dictionary (the keys are unique: checked when decoded).
    var dictionary: [Key: Value] { Dictionary(uniqueKeysWithValues: zip(keys, values)) }
}

extension SortedColumns: Sendable where Key: Sendable, Value: Sendable {}

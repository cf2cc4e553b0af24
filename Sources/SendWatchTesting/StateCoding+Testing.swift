import Foundation
import SendWatchCore

// Shared by the test targets that save and restore state (windows, templates, detection): the one place they
// pick a coder for saved state. It is the project's binary coder (`StateCoding`), as the checkpoint file uses;
// `decodeDamaged` stays on JSON to edit the structure by key. Used only by tests; not a product.

/// The encoded bytes of `value` (the same state always gives the same bytes).
public func encodedState<T: Encodable>(_ value: T) throws -> [UInt8] {
    try StateCoding.encode(value)
}

/// The value encoded in `bytes`.
public func decodedState<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
    try StateCoding.decode(type, from: bytes)
}

/// `value` encoded and decoded again.
public func roundTrip<T: Codable>(_ value: T) throws -> T {
    try decodedState(T.self, from: encodedState(value))
}

/// Decodes `value` after `edit` damaged its JSON form (a dictionary at the top level): for the tests that hostile
/// or damaged snapshots throw instead of trapping. Independent of the coder chosen above, since it tests the
/// checks in `init(from:)`.
public func decodeDamaged<T: Codable>(_ value: T, _ edit: (inout [String: Any]) -> Void) throws -> T {
    let data = try JSONEncoder().encode(value)
    // Safe to force cast in a test: every state type here encodes as a keyed container.
    var object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
    edit(&object)
    return try JSONDecoder().decode(T.self, from: JSONSerialization.data(withJSONObject: object))
}

import Foundation
import SendWatchCore

// The one place these tests pick a coder for saved state: the project's binary coder (`StateCoding`), as the
// checkpoint file uses. `decodeDamaged` below stays on JSON to edit the structure by key.

/// The encoded bytes of `value` (the same state always gives the same bytes).
func encodedState<T: Encodable>(_ value: T) throws -> [UInt8] {
    try StateCoding.encode(value)
}

/// The value encoded in `bytes`.
func decodedState<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
    try StateCoding.decode(type, from: bytes)
}

/// `value` encoded and decoded again.
func roundTrip<T: Codable>(_ value: T) throws -> T {
    try decodedState(T.self, from: encodedState(value))
}

/// Decodes `value` after `edit` damaged its JSON form (a dictionary at the top level): for the tests that hostile
/// or damaged snapshots throw instead of trapping. Independent of the coder chosen above, since it tests the
/// checks in `init(from:)`.
func decodeDamaged<T: Codable>(_ value: T, _ edit: (inout [String: Any]) -> Void) throws -> T {
    let data = try JSONEncoder().encode(value)
    // Safe to force cast in a test: every state type here encodes as a keyed container.
    var object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
    edit(&object)
    return try JSONDecoder().decode(T.self, from: JSONSerialization.data(withJSONObject: object))
}

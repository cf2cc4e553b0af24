internal import Foundation
internal import SendWatchCore

/// A parsed JSON value, used to read labels and alert records with precise, path-naming errors (here and, through
/// `package` access, in `SendWatchReport`).
///
/// Parsing goes through Foundation's `JSONDecoder` (neither labels nor alert files are a hot path), which
/// refuses invalid JSON, lone surrogates, numbers out of `Double` range and nesting deeper than its limit by
/// throwing; nothing here can trap on hostile input.
package indirect enum JSONNode: Decodable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONNode])
    case object([String: JSONNode])

    package init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        // Strings first: they are most of the values in alert records (account lists), and each failed attempt
        // costs a thrown error. The decoder converts between no two JSON types, so the order of the scalar
        // attempts does not change the result.
        if c.decodeNil() {
            self = .null
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let i = try? c.decode(Int64.self) {
            self = .int(i)
        } else if let d = try? c.decode(Double.self) {
            self = .double(d)
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let a = try? c.decode([JSONNode].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONNode].self))
        }
    }

    /// Parses `bytes` as one JSON value; on failure returns a short reason.
    package static func parse(_ bytes: some Collection<UInt8>) -> Result<JSONNode, JSONSyntaxError> {
        do {
            return .success(try JSONDecoder().decode(JSONNode.self, from: Data(bytes)))
        } catch let DecodingError.dataCorrupted(context) {
            let detail = context.debugDescription
            if detail.isEmpty || detail.contains("not valid JSON") {
                return .failure(JSONSyntaxError(reason: "not valid JSON"))
            }
            return .failure(JSONSyntaxError(reason: "not valid JSON (\(detail.prefix(120)))"))
        } catch let DecodingError.typeMismatch(_, context) {
            // Only reachable for values no JSON type accepts, e.g. a number beyond Double's range.
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return .failure(JSONSyntaxError(reason: "not valid JSON: unreadable value at '\(path)'"))
        } catch {
            return .failure(JSONSyntaxError(reason: "not valid JSON"))
        }
    }

    /// The JSON type's name, for error messages.
    package var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .int, .double: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// A short text form of a scalar for display (`string` unquoted); containers are summarised.
    var displayText: String {
        switch self {
        case .null: "null"
        case .bool(let b): b ? "true" : "false"
        case .int(let i): String(i)
        case .double(let d): String(d)
        case .string(let s): s
        case .array(let a): "[\(a.count) items]"
        case .object(let o): "{\(o.count) keys}"
        }
    }
}

/// Why bytes are not one JSON value.
package struct JSONSyntaxError: Error {
    package var reason: String
}

/// Reads typed fields of a JSON object, naming the full key path in every error.
struct JSONFields {
    let object: [String: JSONNode]
    /// The path of this object, e.g. `incidents[2]`; empty at the top level.
    let path: String
    let makeError: (String) -> EvaluationError

    init(_ node: JSONNode, path: String, makeError: @escaping (String) -> EvaluationError) throws(EvaluationError) {
        self.path = path
        self.makeError = makeError
        guard case .object(let o) = node else {
            throw makeError(
                "\(path.isEmpty ? "the top level" : "'\(path)'") must be a JSON object, not \(node.typeName)")
        }
        object = o
    }

    func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// Throws for a key that is not one of `known` but looks like a misspelling of one (the same letters in
    /// another case, or at most two edits away from a name longer than 5 letters and one from a shorter one:
    /// `frist_send`, `hard_negative`, `Accounts`, `ends`). Other unknown keys
    /// are allowed: labels written by hand may carry notes of their own.
    func rejectMisspellings(of known: [String]) throws(EvaluationError) {
        for key in object.keys.sorted() where !known.contains(key) {
            let close = known.filter { candidate in
                // Short names tolerate one edit: `seed` is two from `end` and is no misspelling of it.
                let limit = candidate.count <= 5 ? 1 : 2
                return candidate.lowercased() == key.lowercased() || editDistance(key, candidate, limit: limit) <= limit
            }
            if let suggestion = close.first {
                throw makeError("'\(keyPath(key))' is not a key of the labels schema; did you mean '\(suggestion)'?")
            }
        }
    }

    func has(_ key: String) -> Bool { object[key] != nil }

    func require(_ key: String) throws(EvaluationError) -> JSONNode {
        guard let v = object[key] else { throw makeError("missing required key '\(keyPath(key))'") }
        return v
    }

    func string(_ key: String) throws(EvaluationError) -> String {
        let v = try require(key)
        guard case .string(let s) = v else { throw makeError("'\(keyPath(key))' must be a string, not \(v.typeName)") }
        return s
    }

    func time(_ key: String) throws(EvaluationError) -> EventTime {
        let s = try string(key)
        guard let t = RFC3339.parse(s) else {
            throw makeError("'\(keyPath(key))' is not an RFC 3339 time like 2026-11-29T07:15:00Z: '\(s.prefix(60))'")
        }
        return t
    }

    func array(_ key: String) throws(EvaluationError) -> [JSONNode] {
        let v = try require(key)
        guard case .array(let a) = v else { throw makeError("'\(keyPath(key))' must be an array, not \(v.typeName)") }
        return a
    }

    func stringArray(_ key: String) throws(EvaluationError) -> [String] {
        var out: [String] = []
        for (i, item) in try array(key).enumerated() {
            guard case .string(let s) = item else {
                throw makeError("'\(keyPath(key))[\(i)]' must be a string, not \(item.typeName)")
            }
            out.append(s)
        }
        return out
    }
}

/// The number of single-character insertions, deletions, substitutions and swaps of neighbours that turn `a`
/// into `b` (optimal string alignment), or `limit + 1` once it is known to exceed `limit`.
///
/// - Complexity: O(|a| × |b|); used on short key names only.
func editDistance(_ a: String, _ b: String, limit: Int) -> Int {
    let x = Array(a.unicodeScalars)
    let y = Array(b.unicodeScalars)
    guard abs(x.count - y.count) <= limit else { return limit + 1 }
    guard !x.isEmpty, !y.isEmpty else { return max(x.count, y.count) }
    var previous2 = [Int](repeating: 0, count: y.count + 1)
    var previous = Array(0...y.count)
    var current = [Int](repeating: 0, count: y.count + 1)
    for i in 1...x.count {
        current[0] = i
        for j in 1...y.count {
            let cost = x[i - 1] == y[j - 1] ? 0 : 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
                current[j] = min(current[j], previous2[j - 2] + 1)
            }
        }
        (previous2, previous, current) = (previous, current, previous2)
    }
    return min(previous[y.count], limit + 1)
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One request of Postfix's policy delegation protocol (SMTPD_POLICY_README), reduced to what the decision
/// reads.
///
/// A request is `name=value` lines ended by an empty line. Only `request` (which must be `smtpd_access_policy`)
/// and `sasl_username` are read; every other attribute (`sender`, `recipient`, `client_address`, ...) is
/// skipped, as the protocol asks of a server that does not know an attribute.
public enum PolicyRequest: Sendable, Equatable {
    /// A well-formed access-policy request; the SASL login when the client authenticated (absent or empty:
    /// not authenticated).
    case access(saslUsername: String?)
    /// A line without `=`, or no `request=smtpd_access_policy`: answered `DUNNO`, the connection kept (the
    /// empty line still delimits requests).
    case malformed
    /// More than the byte bound before the empty line: answered `DUNNO`, then the connection is closed (what
    /// follows cannot be delimited safely).
    case oversize

    /// Parses one request: its lines up to and including the empty line that ends it.
    ///
    /// - Complexity: O(bytes); one `String` (the login) allocated.
    public init(parsing bytes: UnsafeRawBufferPointer) {
        var isAccessRequest = false
        var login: String?
        var lineStart = 0
        var sawLine = false
        while lineStart < bytes.count {
            let lineEnd = firstIndex(of: 0x0A, in: bytes, from: lineStart) ?? bytes.count
            if lineEnd == lineStart { break }  // the empty line: the end
            sawLine = true
            let line = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<lineEnd])
            guard let equals = firstIndex(of: UInt8(ascii: "="), in: line, from: 0) else {
                self = .malformed
                return
            }
            let name = UnsafeRawBufferPointer(rebasing: line[0..<equals])
            let value = UnsafeRawBufferPointer(rebasing: line[(equals + 1)...])
            if name.elementsEqual("request".utf8) {
                isAccessRequest = value.elementsEqual("smtpd_access_policy".utf8)
            } else if name.elementsEqual("sasl_username".utf8) {
                login = value.isEmpty ? nil : String(decoding: value, as: UTF8.self)
            }
            lineStart = lineEnd + 1
        }
        self = sawLine && isAccessRequest ? .access(saslUsername: login) : .malformed
    }
}

/// The index of the first `byte` in `bytes` at or after `start`, found with `memchr`.
func firstIndex(of byte: UInt8, in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
    guard start < bytes.count, let base = bytes.baseAddress else { return nil }
    // Safe: start..<count lies within the buffer, which is valid for the duration of the call.
    guard let hit = memchr(base + start, Int32(byte), bytes.count - start) else { return nil }
    return base.distance(to: UnsafeRawPointer(hit))
}

import NIOCore

/// Where a TCP listener of `sendwatch tail` listens: an IP literal and a port, parsed from `--metrics` (the
/// metrics endpoint) or from the TCP forms of `--policy` (the policy service), so that both flags keep one set of
/// rules.
///
/// Accepted forms, so that a listener is never exposed by accident:
/// - `9108`: a bare port, on the IPv4 loopback (`127.0.0.1:9108`);
/// - `127.0.0.1:9108`, `0.0.0.0:9108`: an IPv4 address and a port;
/// - `[::1]:9108`, `[::]:9108`: an IPv6 address in brackets and a port (`[::]` also takes IPv4 on Linux,
///   unless the system sets `bindv6only`);
/// - `localhost:9108`: the IPv4 loopback (no name lookup).
///
/// Refused, with a message that says what to write instead: `:9108` and `*:9108` (ambiguous: other tools take
/// them for every interface, which is rarely meant for an unauthenticated endpoint; write `0.0.0.0:9108` or
/// `[::]:9108` to mean it), an IPv6 address without brackets, host names (a name can resolve to several or to
/// public addresses), and ports outside 0...65535. Port 0 asks the system for a free port.
///
/// Usage:
/// ```swift
/// let address = try ListenAddress(parsing: "[::1]:9108")
/// print(address)  // [::1]:9108
/// ```
public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    /// The IP address as text, without brackets (`127.0.0.1`, `::1`).
    public var host: String
    /// The TCP port, 0...65535 (0: any free port).
    public var port: Int

    /// An address from an IP literal and a port, unchecked (``init(parsing:)`` checks user input).
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses a listening flag's text: `PORT`, `IPV4:PORT`, `[IPV6]:PORT` or `localhost:PORT`.
    ///
    /// - Parameters:
    ///   - text: The flag's value.
    ///   - flag: The flag named in messages (`--policy` parses its TCP addresses here too).
    ///   - examplePort: The port of the examples in messages.
    /// - Throws: ``ListenAddressError`` with a message that names the accepted forms.
    public init(parsing text: String, flag: String = "--metrics", examplePort: Int = 9108) throws(ListenAddressError) {
        let p = examplePort
        func fail(_ why: String) -> ListenAddressError {
            ListenAddressError(
                message: "\(flag) '\(text)' \(why); write PORT (loopback), IPV4:PORT or [IPV6]:PORT, "
                    + "e.g. \(p), 127.0.0.1:\(p), [::1]:\(p), or 0.0.0.0:\(p) for every interface")
        }
        func parsePort(_ digits: Substring) throws(ListenAddressError) -> Int {
            guard !digits.isEmpty, digits.count <= 5, digits.utf8.allSatisfy({ (48...57).contains($0) }),
                let value = Int(digits), value <= 65_535
            else { throw fail("has no port 0 to 65535") }
            return value
        }
        if text.utf8.allSatisfy({ (48...57).contains($0) }) {
            self.init(host: "127.0.0.1", port: try parsePort(text[...]))
            return
        }
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[close...].hasPrefix("]:") else {
                throw fail("opens '[' but has no ']:PORT'")
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
            guard host.contains(":"), (try? SocketAddress(ipAddress: String(host), port: 0)) != nil else {
                throw fail("has no IPv6 address in brackets")
            }
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw fail("is not a port or HOST:PORT") }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.isEmpty || host == "*" {
                throw ListenAddressError(
                    message: "\(flag) '\(text)' does not say which interface to listen on; write \(portText) "
                        + "or 127.0.0.1:\(portText) for this host only, or 0.0.0.0:\(portText) (or [::]:\(portText)) "
                        + "for every interface")
            }
            if host.contains(":") { throw fail("has an IPv6 address without brackets") }
            if host != "localhost" {
                guard (try? SocketAddress(ipAddress: String(host), port: 0)) != nil else {
                    throw fail("names no IP address ('\(host)': host names are not looked up)")
                }
            }
        }
        self.init(host: host == "localhost" ? "127.0.0.1" : String(host), port: try parsePort(portText))
    }

    /// `HOST:PORT`, with an IPv6 host in brackets.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// A `--metrics` or `--policy` value that is not an address a listener accepts; the message says what to write
/// instead.
public struct ListenAddressError: Error, Sendable, CustomStringConvertible {
    /// What is wrong and which forms are accepted.
    public var message: String

    /// An error with its message (`--policy` reports its unix-socket forms this way too).
    public init(message: String) { self.message = message }

    /// The message.
    public var description: String { message }
}

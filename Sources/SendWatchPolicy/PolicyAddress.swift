public import SendWatchMetrics

/// Where the policy service listens, parsed from `--policy`: a unix socket, or TCP by the rules of
/// ``ListenAddress`` (a bare port is the IPv4 loopback; `[::1]:PORT` for IPv6; `:PORT` and host names refused).
///
/// Usage:
/// ```swift
/// let address = try PolicyAddress(parsing: "unix:/var/spool/postfix/private/sendwatch-policy")
/// ```
public enum PolicyAddress: Sendable, Hashable, CustomStringConvertible {
    /// TCP on an IP address and port.
    case tcp(ListenAddress)
    /// A unix (stream) socket at an absolute path.
    case unix(path: String)

    /// The longest unix socket path, in bytes (`sun_path` on Linux holds 108 with its terminating zero).
    public static let maxUnixPathBytes = 107

    /// Parses `--policy` text: `unix:/ABSOLUTE/PATH`, `PORT`, `IPV4:PORT`, `[IPV6]:PORT` or `localhost:PORT`.
    ///
    /// - Throws: ``ListenAddressError`` with a message that names the accepted forms.
    public init(parsing text: String) throws(ListenAddressError) {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard path.hasPrefix("/"), path.utf8.count <= Self.maxUnixPathBytes, !path.utf8.contains(0) else {
                throw ListenAddressError(
                    message: "--policy '\(text)' needs an absolute socket path of at most \(Self.maxUnixPathBytes) "
                        + "bytes after 'unix:', e.g. unix:/var/spool/postfix/private/sendwatch-policy")
            }
            self = .unix(path: path)
            return
        }
        self = .tcp(try ListenAddress(parsing: text, flag: "--policy", examplePort: 10040))
    }

    /// `unix:PATH`, or `HOST:PORT` with an IPv6 host in brackets.
    public var description: String {
        switch self {
        case .tcp(let address): "\(address)"
        case .unix(let path): "unix:\(path)"
        }
    }
}

import SendWatchCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What makes a followed file the same file across renames, compression and restarts: device + inode + a
/// fingerprint of its first (decompressed) bytes.
///
/// Device and inode alone fail when an inode is reused by a new file after the old one was deleted; a content
/// fingerprint alone fails for files that start with identical lines. Together they recognise:
/// - a renamed file (`mail.log` → `mail.log.1`): same device and inode, same first bytes;
/// - a compressed predecessor (`mail.log.1` → `mail.log.1.gz`): a new inode, but the *decompressed* first bytes
///   match, so a file with ``fingerprintLength`` > 0 is found by content alone;
/// - a `copytruncate` copy: a new inode whose first bytes match the truncated original's old first bytes.
///
/// The fingerprint is FNV-1a (``StableHash``) over the first ``fingerprintLength`` bytes, at most
/// ``maxFingerprintBytes``. A file shorter than that is fingerprinted over what it has (an empty file has
/// length 0 and the empty hash), and the fingerprint grows as the file does. A candidate matches when its first
/// `fingerprintLength` bytes hash to ``fingerprint``.
///
/// Known limits: two *different* files whose first `fingerprintLength` bytes are equal and that also share
/// device and inode (inode reuse by a file starting the same way), or that are compared by content only
/// (compressed or copied predecessors), are taken as the same file; with 4 KiB of timestamped log lines this
/// needs identical first lines *and* identical times. An empty file (length 0) can only be recognised by device
/// and inode, so once compressed it is not found again.
public struct FileIdentity: Codable, Hashable, Sendable, CustomStringConvertible {
    /// The longest prefix fingerprinted: 4 KiB.
    public static let maxFingerprintBytes = 4096

    /// `st_dev` of the file (of the compressed file, for a compressed predecessor).
    public var device: UInt64
    /// `st_ino` of the file.
    public var inode: UInt64
    /// FNV-1a of the first ``fingerprintLength`` decompressed bytes.
    public var fingerprint: UInt64
    /// How many leading bytes ``fingerprint`` covers, 0...``maxFingerprintBytes``.
    public var fingerprintLength: Int

    /// Creates an identity from its parts.
    public init(device: UInt64, inode: UInt64, fingerprint: UInt64, fingerprintLength: Int) {
        self.device = device
        self.inode = inode
        self.fingerprint = fingerprint
        self.fingerprintLength = fingerprintLength
    }

    /// Creates an identity that fingerprints `prefix` (at most ``maxFingerprintBytes`` of it).
    init(device: UInt64, inode: UInt64, prefix: UnsafeRawBufferPointer) {
        let length = min(prefix.count, Self.maxFingerprintBytes)
        self.init(
            device: device, inode: inode, fingerprint: Self.hash(UnsafeRawBufferPointer(rebasing: prefix[0..<length])),
            fingerprintLength: length)
    }

    /// Whether `prefix` (the first bytes of a candidate) starts with the bytes this identity fingerprints.
    ///
    /// - Complexity: O(``fingerprintLength``).
    func matches(prefix: UnsafeRawBufferPointer) -> Bool {
        guard prefix.count >= fingerprintLength else { return false }
        return Self.hash(UnsafeRawBufferPointer(rebasing: prefix[0..<fingerprintLength])) == fingerprint
    }

    /// Whether `other` is the same device and inode.
    func sameInode(_ device: UInt64, _ inode: UInt64) -> Bool { self.device == device && self.inode == inode }

    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash = StableHash()
        hash.combine(bytes: bytes)
        return hash.value
    }

    /// `dev:inode:fingerprint/length`, e.g. `2049:131074:9f86d081884c7d65/4096`.
    public var description: String {
        var hash = StableHash()
        hash.value = fingerprint
        return "\(device):\(inode):\(hash.hex)/\(fingerprintLength)"
    }

    private enum CodingKeys: String, CodingKey {
        case device, inode, fingerprint, fingerprintLength
    }

    /// Decodes the identity; the fingerprint is 16 hex digits (so JSON tools that read numbers as doubles keep
    /// it exact).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        device = try container.decode(UInt64.self, forKey: .device)
        inode = try container.decode(UInt64.self, forKey: .inode)
        let text = try container.decode(String.self, forKey: .fingerprint)
        guard text.utf8.count == 16, let value = UInt64(text, radix: 16) else {
            throw DecodingError.dataCorruptedError(
                forKey: .fingerprint, in: container, debugDescription: "fingerprint must be 16 hex digits")
        }
        fingerprint = value
        let length = try container.decode(Int.self, forKey: .fingerprintLength)
        guard (0...Self.maxFingerprintBytes).contains(length) else {
            throw DecodingError.dataCorruptedError(
                forKey: .fingerprintLength, in: container,
                debugDescription: "fingerprintLength must be 0...\(Self.maxFingerprintBytes)")
        }
        fingerprintLength = length
    }

    /// Encodes the identity (fingerprint as 16 lower-case hex digits).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(device, forKey: .device)
        try container.encode(inode, forKey: .inode)
        var hash = StableHash()
        hash.value = fingerprint
        try container.encode(hash.hex, forKey: .fingerprint)
        try container.encode(fingerprintLength, forKey: .fingerprintLength)
    }
}

import SendWatchCore

/// Which subject a send event goes to: `<prefix>.<partition>`, the partition being a stable hash of the
/// account modulo ``partitions``, so that every event of one account lands in one partition on every agent.
///
/// The hash is ``StableHash`` (FNV-1a of the account's UTF-8 bytes and a separator byte): the same on every
/// machine and release, so changing it would move accounts between partitions (a format change).
public struct EventPartitioning: Sendable, Equatable {
    /// The most partitions (a bound on the subjects and the consumers a fleet has).
    public static let maxPartitions = 1024
    /// The subject prefix (default `sendwatch.events`).
    public let prefix: String
    /// How many partitions (1 to ``maxPartitions``).
    public let partitions: Int

    /// Partitioning into `partitions` subjects under `prefix`.
    ///
    /// - Throws: ``FleetError`` `invalid_argument` for a count out of range or a prefix that is not a plain
    ///   subject (empty, a wildcard, a space).
    public init(partitions: Int, prefix: String = "sendwatch.events") throws(FleetError) {
        guard (1...Self.maxPartitions).contains(partitions) else {
            throw FleetError(
                code: .invalidArgument, message: "partitions must be 1 to \(Self.maxPartitions), not \(partitions)")
        }
        guard !prefix.isEmpty, !prefix.hasPrefix("."), !prefix.hasSuffix("."),
            !prefix.contains(where: { $0 == "*" || $0 == ">" || $0 == " " || $0 == "\t" })
        else {
            throw FleetError(code: .invalidArgument, message: "'\(prefix)' is not a plain NATS subject prefix")
        }
        self.partitions = partitions
        self.prefix = prefix
    }

    /// The partition of `account`: 0 ..< ``partitions``.
    public func partition(ofAccount account: String) -> Int {
        Int(StableHash.of(account) % UInt64(partitions))
    }

    /// The subject of partition `partition`.
    public func subject(ofPartition partition: Int) -> String { "\(prefix).\(partition)" }

    /// The subject `account`'s events go to.
    public func subject(ofAccount account: String) -> String { subject(ofPartition: partition(ofAccount: account)) }

    /// The wildcard a stream takes every partition with.
    public var streamSubject: String { "\(prefix).*" }
}

import SendWatchCore
import SendWatchWindows

extension AlertLifecycle {
    /// Everything but the configuration (`Codable`): every open alert (its last record, the volume it reported,
    /// its last finding time and the finding held for its next record) by its (kind, key) slot, and the count
    /// of alerts closed early.
    ///
    /// Decoding checks the structure and throws `DecodingError.dataCorrupted`;
    /// ``AlertLifecycle/init(configuration:restoring:)`` checks the open-alert bound.
    public struct Checkpoint: Codable, Sendable {
        var slotKeys: [UInt64]
        var alerts: [OpenAlert]
        var closedEarly: Int

        enum CodingKeys: String, CodingKey {
            case slotKeys, alerts, closedEarly
        }

        init(_ l: AlertLifecycle) {
            // Sorted by slot key, so that the same state always encodes to the same bytes.
            let open = l.open.sorted { $0.key < $1.key }
            slotKeys = open.map(\.key)
            alerts = open.map(\.value)
            closedEarly = l.closedEarly
        }

        /// Decodes and checks the structure.
        ///
        /// - Throws: `DecodingError.dataCorrupted` when the slot keys and alerts differ in number, a slot key
        ///   repeats, or the early-close count is out of range; `DecodingError` from the alerts and findings.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            slotKeys = try c.decode([UInt64].self, forKey: .slotKeys)
            alerts = try c.decode([OpenAlert].self, forKey: .alerts)
            closedEarly = try c.decode(Int.self, forKey: .closedEarly)
            try StateCheck.require(
                slotKeys.count == alerts.count && Set(slotKeys).count == slotKeys.count,
                "AlertLifecycle: \(slotKeys.count) slot keys for \(alerts.count) alerts", decoder)
            try StateCheck.require(StateCheck.isCount(closedEarly), "AlertLifecycle: closedEarly out of range", decoder)
        }
    }

    /// The open alerts and counters, for a checkpoint (see ``Checkpoint``).
    ///
    /// - Complexity: O(open alerts × log(open alerts)).
    public func checkpoint() -> Checkpoint { Checkpoint(self) }

    /// Rebuilds the lifecycle with `configuration` and the saved open alerts.
    ///
    /// - Throws: ``DetectionCheckpointError`` when more alerts are open than ``Configuration/maxOpenAlerts``.
    public init(configuration: Configuration, restoring checkpoint: Checkpoint) throws {
        self.init(configuration: configuration)
        guard checkpoint.alerts.count <= configuration.maxOpenAlerts else {
            throw DetectionCheckpointError(
                "alert lifecycle: \(checkpoint.alerts.count) open alerts, maxOpenAlerts is \(configuration.maxOpenAlerts)"
            )
        }
        open = Dictionary(uniqueKeysWithValues: zip(checkpoint.slotKeys, checkpoint.alerts))
        closedEarly = checkpoint.closedEarly
    }
}

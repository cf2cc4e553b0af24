public import SendWatchCore

/// Per host, the greatest event time `sendwatch ship` has published so far: what gives each event its merge key
/// (``EventRecord/hostMaxTime``).
///
/// The host is the event's `host` (a missing one counted as the host ""), the name `sendwatch detect`'s per-host
/// merge groups events by; the time is the event's `time`, exactly as the record carries it. The events are fed
/// in the order the agent publishes them (each followed stream in its log order), so an event's key is the running
/// maximum of its host's sequence as the merge reads it when one followed name holds the host's events (several
/// names holding one host's events interleave by poll: docs/fleet.md, "The merge key: host_max_time").
///
/// Checkpointed with the agent's positions (``ShipRun``): a restart resumes the maxima as they were after the
/// events the checkpoint covers, and parses the same events again in the same order, so each event published again
/// gets the key it had.
///
/// Memory: one entry per host, at most ``maxHosts``; an event of a further host gets no key (counted in
/// ``unkeyedEvents``, and which hosts those are is fixed by the checkpoint, so a restart decides alike).
///
/// Cost: an event of the same host as the event before it (a followed file of one host) compares the host with
/// that one's and the times, without hashing; a change of host looks the new one up in the table. Measured:
/// docs/fleet.md, "The merge key: host_max_time".
public struct HostTimeMaxima: Sendable {
    /// The most hosts given keys: 4,096, the sources `sendwatch detect`'s merge keeps apart
    /// (``EventTimeMerge/maxSources``).
    public static let maxHosts = EventTimeMerge.maxSources
    /// Per host, its greatest event time so far; the entry of ``last``'s host may be older than ``last``'s time.
    private var table: [String: EventTime] = [:]
    /// The host of the last event given a key, with its greatest time (its entry in ``table`` is brought up to date
    /// when another host's event comes).
    private var last: (host: String, time: EventTime)?
    /// Events published without a key because their host was beyond ``maxHosts``.
    public private(set) var unkeyedEvents = 0

    /// No host seen yet.
    public init() {}

    /// Per host, its greatest event time so far.
    public var maxima: [String: EventTime] {
        guard let last else { return table }
        var all = table
        all[last.host] = last.time
        return all
    }

    /// Takes `event` in, after every event taken in before it, and returns its key: the greatest time of it and of
    /// every earlier event of its host; nil for a host beyond ``maxHosts``.
    ///
    /// - Complexity: O(1); a dictionary look-up of the host when it is not the last event's host.
    public mutating func key(for event: SendEvent) -> EventTime? {
        let host = event.host ?? ""
        if let l = last {
            if l.host == host {
                guard event.time > l.time else { return l.time }
                last = (host, event.time)
                return event.time
            }
            table[l.host] = l.time
        }
        if let known = table[host] {
            let key = max(known, event.time)
            last = (host, key)
            return key
        }
        guard table.count < Self.maxHosts else {
            unkeyedEvents += 1
            return nil
        }
        table[host] = event.time
        last = (host, event.time)
        return event.time
    }
}

extension HostTimeMaxima: Equatable {
    /// Equal when they hold the same maxima and counts, whichever host came last.
    public static func == (a: Self, b: Self) -> Bool {
        a.unkeyedEvents == b.unkeyedEvents && a.maxima == b.maxima
    }
}

extension HostTimeMaxima: Codable {
    private enum CodingKeys: String, CodingKey {
        case maxima
        case unkeyedEvents
    }

    /// Decodes saved maxima, checked (``StateCheck``): at most ``maxHosts`` hosts (each time is checked by
    /// `EventTime`'s decoding), the count of unkeyed events a count.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        table = try c.decode([String: EventTime].self, forKey: .maxima)
        unkeyedEvents = try c.decodeCount(forKey: .unkeyedEvents, "ship host maxima: events without a key")
        try StateCheck.require(
            table.count <= Self.maxHosts, "ship host maxima: \(table.count) hosts, at most \(Self.maxHosts)",
            decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(maxima, forKey: .maxima)
        try c.encode(unkeyedEvents, forKey: .unkeyedEvents)
    }
}

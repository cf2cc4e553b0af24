import SendWatchCore

/// Receives the simulator's output, one line at a time.
public protocol SimulationSink {
    /// Takes one line (without its newline); the bytes are valid only during the call.
    mutating func write(line: UnsafeRawBufferPointer)
}

/// What a run produced.
public struct SimulationSummary: Hashable, Sendable {
    /// Messages submitted.
    public var messages = 0
    /// Lines written.
    public var lines = 0
    /// Bytes written, newlines included.
    public var bytes: Int64 = 0
    /// The most lines held at once for messages in flight (the memory high-water mark, in lines).
    public var maxPendingLines = 0
    public init() {}
}

/// Generates a labelled mail log: background traffic, legitimate look-alikes and the scenario's attacks,
/// rendered by a ``LogWriter`` and streamed in time order.
///
/// The simulator is a pull-based generator: ``nextLine()`` returns the next line of the log, producing
/// messages only as far ahead as needed. Memory is O(accounts + lines of messages in flight); it does not
/// grow with the duration or the size of the output. Labels are collected as the lines are produced
/// (O(labelled accounts)) and are complete once the generator is exhausted.
///
/// Usage:
/// ```swift
/// var config = SimulationConfiguration(scenario: Scenario.named("mixed")!, seed: 42)
/// config.format = .exim
/// var simulator = try Simulator(configuration: config)
/// while let line = simulator.nextLine() { output.append(contentsOf: line.bytes); output.append(10) }
/// let labels = simulator.labels()
/// ```
public struct Simulator: Sendable {
    /// The run's configuration.
    public let configuration: SimulationConfiguration
    private var model: TrafficModel
    /// The format's writer; called once per message, so the existential costs nothing that counts.
    private var writer: any SimulatedFormat
    private var lines = LineScheduler()
    /// First and last event per labelled account (indexed like ``TrafficModel/accounts``; only labelled ones
    /// are set).
    private var firstEvent: [Int32: EventTime] = [:]
    private var lastEvent: [Int32: EventTime] = [:]
    /// Counts so far.
    public private(set) var summary = SimulationSummary()

    /// Creates a simulator after validating `configuration`.
    ///
    /// - Throws: ``SimulationError`` when the configuration is invalid.
    public init(configuration: SimulationConfiguration) throws(SimulationError) {
        try configuration.validate()
        self.configuration = configuration
        model = TrafficModel(configuration: configuration)
        writer = configuration.format.makeWriter(configuration)
    }

    /// The number of lines currently held for messages in flight.
    public var pendingLines: Int { lines.count }

    /// The next line of the log, or `nil` at the end.
    ///
    /// - Complexity: amortised O(log pending lines + log accounts) per line.
    public mutating func nextLine() -> SimulatedLine? {
        while true {
            let submission = model.nextSubmission
            if let earliest = lines.earliest, submission == nil || earliest < submission! {
                summary.lines += 1
                let line = lines.next()
                if let line { summary.bytes += Int64(line.bytes.count + 1) }
                return line
            }
            guard submission != nil, let (message, account, group) = model.nextMessage() else { return nil }
            summary.messages += 1
            writer.write(message, to: &lines)
            if group >= 0 { track(writer.eventTimes(of: message), account) }
            if lines.count > summary.maxPendingLines { summary.maxPendingLines = lines.count }
        }
    }

    private mutating func track(_ times: (first: EventTime, last: EventTime), _ index: Int32) {
        if let f = firstEvent[index] {
            if times.first < f { firstEvent[index] = times.first }
        } else {
            firstEvent[index] = times.first
        }
        if let l = lastEvent[index] {
            if times.last > l { lastEvent[index] = times.last }
        } else {
            lastEvent[index] = times.last
        }
    }

    /// Writes every remaining line to `sink` and returns the summary.
    public mutating func run<Sink: SimulationSink>(into sink: inout Sink) -> SimulationSummary {
        while let line = nextLine() {
            line.bytes.withUnsafeBytes { sink.write(line: $0) }
        }
        return summary
    }

    /// The labels of what has been generated so far (complete once ``nextLine()`` has returned `nil`).
    public func labels() -> SimulationLabels {
        var incidents: [SimulationLabels.Group] = []
        var negatives: [SimulationLabels.Group] = []
        var abusive: [String] = []
        for g in model.groups {
            var pairs: [(String, EventTime, EventTime)] = []
            for a in g.accounts {
                guard let f = firstEvent[a], let l = lastEvent[a] else { continue }
                pairs.append((model.accounts[Int(a)].id, f, l))
            }
            pairs.sort { $0.0 < $1.0 }
            // One account can appear twice in a group only if a plan reused it; keep the first.
            var seen = Set<String>()
            pairs = pairs.filter { seen.insert($0.0).inserted }
            guard !pairs.isEmpty else { continue }
            // Safe to force unwrap: `pairs` is not empty.
            let group = SimulationLabels.Group(
                id: g.id, kind: g.kind, accounts: pairs.map(\.0), firstSend: pairs.map(\.1),
                start: pairs.map(\.1).min()!, end: pairs.map(\.2).max()!)
            if g.kind.isAttack {
                incidents.append(group)
                abusive.append(contentsOf: group.accounts)
            } else {
                negatives.append(group)
            }
        }
        return SimulationLabels(
            warmupEnd: configuration.warmupEnd, incidents: incidents, hardNegatives: negatives,
            abusiveAccounts: Array(Set(abusive)).sorted(), scenario: configuration.scenario.name,
            seed: configuration.seed, format: configuration.format, start: configuration.start,
            end: configuration.end)
    }
}

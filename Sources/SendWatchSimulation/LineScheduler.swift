public import SendWatchCore

/// One line of simulated log output and the time it is written at.
public struct SimulatedLine: Sendable, Comparable {
    /// The line's time (the log shows it at the format's precision).
    public var time: EventTime
    /// Order among lines of the same time: the order they were scheduled in.
    var sequence: UInt64
    /// The line's bytes, without the newline.
    public var bytes: [UInt8]

    public static func < (a: SimulatedLine, b: SimulatedLine) -> Bool {
        a.time.microseconds != b.time.microseconds ? a.time < b.time : a.sequence < b.sequence
    }

    public static func == (a: SimulatedLine, b: SimulatedLine) -> Bool {
        a.time == b.time && a.sequence == b.sequence
    }
}

/// Holds the lines a ``LogWriter`` has rendered for messages in flight and hands them out in time order:
/// this is what interleaves the lines of concurrent messages the way a real log does.
///
/// Memory: the lines of messages still in flight, i.e. O(message rate × the longest time between a
/// message's submission and its last line, which is the deferral retry window of up to an hour).
public struct LineScheduler: Sendable {
    private var heap = BinaryHeap<SimulatedLine>()
    private var sequence: UInt64 = 0

    public init() {}

    /// Lines waiting.
    public var count: Int { heap.count }

    /// The time of the earliest waiting line.
    public var earliest: EventTime? { heap.first?.time }

    /// Schedules `bytes` to be written at `time`. Lines with the same time keep the order they were added in.
    ///
    /// - Complexity: O(log n).
    public mutating func add(_ bytes: [UInt8], at time: EventTime) {
        heap.push(SimulatedLine(time: time, sequence: sequence, bytes: bytes))
        sequence &+= 1
    }

    /// Removes and returns the earliest line.
    ///
    /// - Complexity: O(log n).
    public mutating func next() -> SimulatedLine? { heap.pop() }
}

import SendWatchCore

extension EximParser {
    /// Everything an ``EximParser`` carries from one line to the next, so that a parser stopped between two
    /// lines (say, with a message between its `<=` and `Completed` lines) can be rebuilt later and produce
    /// exactly the events and counters it would have produced without stopping.
    ///
    /// Saved:
    /// - every open message (id, last-seen time, phase, account and template headers, the account header's
    ///   trust once decided, authenticated id, local user, sender, subject, Message-ID, client IP, the hashes of
    ///   the recipients already attempted), in least-recently-touched order, so eviction and expiry drop the
    ///   same messages;
    /// - ``ParseCounters``;
    /// - the year state of year-less syslog timestamps (Exim logging to syslog): the input's ``YearHint`` and
    ///   the year and month last resolved;
    /// - the parts of long lines syslog carried in pieces that are not joined yet (absent in checkpoints
    ///   written before they were joined: read as none).
    ///
    /// Not saved, because it only saves work and is rebuilt empty: the subject-decoding scratch buffer, the
    /// last syslog host and timestamp, the zone's offset cache, and the table's hash index and free slots.
    /// The configuration is not saved either: it is given again to ``init(configuration:restoring:)``.
    ///
    /// The value is `Codable` through plain integers, integer arrays and strings. Decoding checks the
    /// structure (array lengths agree, string references, phases and recipient counts in range, message ids
    /// well formed, counters and years plausible) and throws `DecodingError.dataCorrupted` otherwise, so a
    /// damaged checkpoint can never make the parser trap later.
    public struct Checkpoint: Hashable, Sendable, VersionedCheckpoint {
        public typealias Parser = EximParser

        /// The counters, the year state and the open messages (the parts the Postfix checkpoint saves too).
        var joined: JoiningParserState<EximMessageCoding>
        var splitLines: SavedSplitLines?

        /// The number of open messages saved.
        public var openMessages: Int { joined.messages.count }

        /// Writes the layout of checkpoint `layout` (one of ``EximParser/readCheckpointVersions``), fields in the
        /// order ``init(from:layout:)`` reads them.
        public func encode(to encoder: any Encoder, layout: CheckpointVersion) throws {
            var c = encoder.container(keyedBy: JoiningCheckpointKey.self)
            try joined.encode(to: &c, layout: layout)
            try c.encodeIfPresent(splitLines, forKey: .splitLines)
        }
    }

    /// The parser's state between two lines, for ``init(configuration:restoring:)``.
    ///
    /// Usage:
    /// ```swift
    /// let saved = try JSONEncoder().encode(parser.checkpoint())
    /// // ... restart ...
    /// let checkpoint = try JSONDecoder().decode(EximParser.Checkpoint.self, from: saved)
    /// var parser = try EximParser(configuration: configuration, restoring: checkpoint)
    /// ```
    ///
    /// - Complexity: O(open messages + remembered recipients + bytes of their strings); allocates the arrays
    ///   of the checkpoint. Meant for a checkpoint every few seconds, not per line.
    public func checkpoint() -> Checkpoint {
        Checkpoint(
            joined: JoiningParserState(counters, syslog.years.saved, SavedMessageTable(table)),
            splitLines: splitLines.pending.isEmpty ? nil : SavedSplitLines(splitLines))
    }

    /// Rebuilds a parser for `configuration` with the saved state, ready for the line after the one the
    /// checkpoint was taken at; no ``beginInput(yearHint:)`` is needed to continue the same input.
    ///
    /// With the same configuration as the saved parser, the restored one behaves exactly like the saved one
    /// would have. With a smaller ``FormatConfiguration/maxOpenMessages``, the least recently touched messages
    /// beyond the new bound are evicted and counted as the parser itself does when its table is full.
    ///
    /// - Parameters:
    ///   - configuration: the parser settings (not part of the checkpoint).
    ///   - checkpoint: a value from ``checkpoint()``, usually decoded from a checkpoint file.
    /// - Throws: `DecodingError.dataCorrupted` when the state is damaged (a message id saved twice); other
    ///   damage is found when the checkpoint is decoded.
    /// - Complexity: O(open messages + remembered recipients), expected.
    public init(configuration: FormatConfiguration, restoring checkpoint: Checkpoint) throws {
        self.init(configuration: configuration)
        counters = checkpoint.joined.counters.counters
        syslog.years = YearResolver(restoring: checkpoint.joined.years)
        if let saved = checkpoint.splitLines { splitLines = saved.lines }
        try checkpoint.joined.messages.forEachMessage { state in
            guard table.find(state.key, hash: state.hash) == nil else {
                throw StateCheck.corrupt("message id \(state.queueID) is saved twice")
            }
            // Inserting oldest first rebuilds the saved touch order.
            _ = insertEvictingOldest(state)
        }
    }
}

extension EximParser.Checkpoint {
    /// Reads the layout of checkpoint `layout` (one of ``EximParser/readCheckpointVersions``): 1 is 2
    /// without ``ParseCounters/otherMailServerLines`` (read as 0).
    ///
    /// - Throws: `DecodingError.dataCorrupted` when the state does not decode as that layout.
    public init(from decoder: any Decoder, layout: CheckpointVersion) throws {
        let c = try decoder.container(keyedBy: JoiningCheckpointKey.self)
        joined = try JoiningParserState(from: c, layout: layout)
        splitLines = try c.decodeIfPresent(SavedSplitLines.self, forKey: .splitLines)
    }
}

/// The unjoined parts of split Exim lines (``EximSplitLines``) as saved in a checkpoint: per line, in waiting
/// order, its key, three numbers (next part, part count, whether it ends at a newline) and its bytes, all
/// lines' bytes in one array.
struct SavedSplitLines: Codable, Hashable, Sendable {
    var keys: [UInt64]
    var numbers: [Int64]
    var lengths: [Int64]
    var bytes: [UInt8]

    init(_ lines: EximSplitLines) {
        keys = lines.pending.map(\.key)
        numbers = lines.pending.flatMap { [Int64($0.nextPart), Int64($0.total), $0.endsAtNewline ? 1 : 0] }
        lengths = lines.pending.map { Int64($0.line.count) }
        bytes = lines.pending.flatMap(\.line)
    }

    private enum CodingKeys: String, CodingKey { case keys, numbers, lengths, bytes }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        keys = try c.decode([UInt64].self, forKey: .keys)
        numbers = try c.decode([Int64].self, forKey: .numbers)
        lengths = try c.decode([Int64].self, forKey: .lengths)
        bytes = try c.decode([UInt8].self, forKey: .bytes)
        let path = decoder.codingPath
        guard keys.count <= EximSplitLines.maxPending, Set(keys).count == keys.count else {
            throw StateCheck.corrupt("more than \(EximSplitLines.maxPending) split lines, or one saved twice", path)
        }
        try SavedChecks.length(numbers, keys.count * 3, "numbers", path)
        try SavedChecks.length(lengths, keys.count, "lengths", path)
        for k in keys.indices {
            let next = numbers[3 * k]
            let total = numbers[3 * k + 1]
            guard (2...Int64(EximSplitLines.maxParts)).contains(total), (2...total).contains(next),
                (0...1).contains(numbers[3 * k + 2])
            else { throw StateCheck.corrupt("split line part numbers out of range", path) }
            guard (1...Int64(EximSplitLines.maxLineBytes)).contains(lengths[k]) else {
                throw StateCheck.corrupt("split line length \(lengths[k]) out of range", path)
            }
        }
        guard lengths.reduce(0, +) == Int64(bytes.count) else {
            throw StateCheck.corrupt("split line lengths do not add up to the saved bytes", path)
        }
    }

    /// The lines (checked when decoded).
    var lines: EximSplitLines {
        var result = EximSplitLines()
        var offset = 0
        for k in keys.indices {
            let end = offset + Int(lengths[k])
            result.pending.append(
                EximSplitLines.Pending(
                    key: keys[k], line: Array(bytes[offset..<end]), nextPart: Int(numbers[3 * k]),
                    total: Int(numbers[3 * k + 1]), endsAtNewline: numbers[3 * k + 2] == 1))
            offset = end
        }
        return result
    }
}

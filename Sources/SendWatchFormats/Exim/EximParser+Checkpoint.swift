import SendWatchCore

extension EximParser {
    /// Everything an ``EximParser`` carries from one line to the next, so that a parser stopped between two
    /// lines (say, with a message between its `<=` and `Completed` lines) can be rebuilt later and produce
    /// exactly the events and counters it would have produced without stopping.
    ///
    /// Saved:
    /// - every open message (id, last-seen time, phase, account and template headers, authenticated id,
    ///   local user, sender, subject, Message-ID, client IP, the hashes of the recipients already attempted),
    ///   in least-recently-touched order, so eviction and expiry drop the same messages;
    /// - ``ParseCounters``;
    /// - the year state of year-less syslog timestamps (Exim logging to syslog): the input's ``YearHint`` and
    ///   the year and month last resolved.
    ///
    /// Not saved, because it only saves work and is rebuilt empty: the subject-decoding scratch buffer, the
    /// last syslog host and timestamp, the zone's offset cache, and the table's hash index and free slots.
    /// The configuration is not saved either: it is given again to ``init(configuration:restoring:)``.
    ///
    /// The value is `Codable` through plain integers, integer arrays and strings. Decoding checks the
    /// structure (array lengths agree, string references, phases and recipient counts in range, message ids
    /// well formed, counters and years plausible) and throws `DecodingError.dataCorrupted` otherwise, so a
    /// damaged checkpoint can never make the parser trap later.
    public struct Checkpoint: Codable, Hashable, Sendable {
        var counters: SavedCounters
        var years: SavedYears
        var messages: SavedEximMessages

        /// The number of open messages saved.
        public var openMessages: Int { messages.count }
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
            counters: SavedCounters(counters), years: syslog.years.saved, messages: SavedEximMessages(table))
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
        counters = checkpoint.counters.counters
        syslog.years = YearResolver(restoring: checkpoint.years)
        try checkpoint.messages.forEachMessage { state in
            guard table.find(state.key, hash: state.hash) == nil else {
                throw checkpointCorrupted("message id \(state.queueID) is saved twice")
            }
            if table.isFull, let oldest = table.oldestSlot, drop(oldest) {
                counters.incompleteMessages += 1
                counters.evictedMessages += 1
            }
            // Inserting oldest first rebuilds the saved touch order.
            _ = table.insert(state)
        }
    }
}

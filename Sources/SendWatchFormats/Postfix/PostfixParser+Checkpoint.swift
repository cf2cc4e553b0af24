import SendWatchCore

extension PostfixParser {
    /// Everything a ``PostfixParser`` carries from one line to the next, so that a parser stopped between two
    /// lines can be rebuilt later (`sendwatch tail` after a restart) and produce exactly the events and
    /// counters it would have produced without stopping.
    ///
    /// Saved:
    /// - every open message (queue id, last touch, client, SASL user, submitter, sender, Message-ID, subject,
    ///   account and template headers, notice and filter-hop flags, the hashes of the recipients already
    ///   attempted), in least-recently-touched order, so eviction and expiry drop the same messages;
    /// - ``ParseCounters``;
    /// - the year of year-less syslog timestamps: the current input's ``YearHint`` and the year and month the
    ///   last such timestamp resolved to, so a restart between `Dec 31` and `Jan 1` still rolls the year over.
    ///
    /// Not saved, because it only saves work and is rebuilt empty: the ``ByteStringCache`` of repeated values,
    /// the last syslog timestamp and host, the zone's offset cache, the table's hash index and free slots, and
    /// each message's queue-id `String`. The configuration is not saved either: it is given again to
    /// ``init(configuration:restoring:)``.
    ///
    /// The value is `Codable` through plain integers, integer arrays and strings. Decoding checks the
    /// structure (array lengths agree, string references and recipient counts in range, queue ids well formed,
    /// counters and years plausible) and throws `DecodingError.dataCorrupted` otherwise, so a damaged
    /// checkpoint can never make the parser trap later. Memory: about the size of the open messages' strings
    /// (each distinct string once) plus 60 bytes per message and 8 per remembered recipient.
    public struct Checkpoint: Hashable, Sendable, VersionedCheckpoint {
        public typealias Parser = PostfixParser

        /// The counters, the year state and the open messages (the parts the Exim checkpoint saves too).
        var joined: JoiningParserState<PostfixMessageCoding>

        /// The number of open messages saved.
        public var openMessages: Int { joined.messages.count }

        /// Writes the layout of checkpoint `layout` (one of ``PostfixParser/readCheckpointVersions``), fields in the
        /// order ``init(from:layout:)`` reads them.
        public func encode(to encoder: any Encoder, layout: CheckpointVersion) throws {
            var c = encoder.container(keyedBy: JoiningCheckpointKey.self)
            try joined.encode(to: &c, layout: layout)
        }
    }

    /// The parser's state between two lines, for ``init(configuration:restoring:)``.
    ///
    /// Usage:
    /// ```swift
    /// let saved = try JSONEncoder().encode(parser.checkpoint())
    /// // ... restart ...
    /// let checkpoint = try JSONDecoder().decode(PostfixParser.Checkpoint.self, from: saved)
    /// var parser = try PostfixParser(configuration: configuration, restoring: checkpoint)
    /// ```
    ///
    /// - Complexity: O(open messages + remembered recipients + bytes of their strings); allocates the arrays
    ///   of the checkpoint. Meant for a checkpoint every few seconds, not per line.
    public func checkpoint() -> Checkpoint {
        Checkpoint(joined: JoiningParserState(counters, headerReader.years.saved, SavedMessageTable(table)))
    }

    /// Rebuilds a parser for `configuration` with the saved state, ready for the line after the one the
    /// checkpoint was taken at; no ``beginInput(yearHint:)`` is needed to continue the same input.
    ///
    /// With the same configuration as the saved parser, the restored one behaves exactly like the saved one
    /// would have. With a smaller ``FormatConfiguration/maxOpenMessages``, the least recently touched messages
    /// beyond the new bound are evicted (counted in ``ParseCounters/evictedMessages`` and
    /// ``ParseCounters/incompleteMessages``), as the parser itself does when its table is full.
    ///
    /// - Parameters:
    ///   - configuration: the parser settings (not part of the checkpoint).
    ///   - checkpoint: a value from ``checkpoint()``, usually decoded from a checkpoint file.
    /// - Throws: `DecodingError.dataCorrupted` when the state is damaged (a queue id saved twice); other
    ///   damage is found when the checkpoint is decoded.
    /// - Complexity: O(open messages + remembered recipients), expected.
    public init(configuration: FormatConfiguration, restoring checkpoint: Checkpoint) throws {
        self.init(configuration: configuration)
        counters = checkpoint.joined.counters.counters
        headerReader.years = YearResolver(restoring: checkpoint.joined.years)
        try checkpoint.joined.messages.forEachMessage { message in
            guard !table.contains(message.id) else {
                throw StateCheck.corrupt("queue id \(message.id.text) is saved twice")
            }
            // Adding oldest first rebuilds the saved touch order.
            let evicted = table.restore(message)
            if evicted > 0 { countEvicted(evicted) }
        }
    }
}

extension PostfixParser.Checkpoint {
    /// Reads the layout of checkpoint `layout` (one of ``PostfixParser/readCheckpointVersions``): 1 is 2
    /// without ``ParseCounters/otherMailServerLines`` (read as 0).
    ///
    /// - Throws: `DecodingError.dataCorrupted` when the state does not decode as that layout.
    public init(from decoder: any Decoder, layout: CheckpointVersion) throws {
        let c = try decoder.container(keyedBy: JoiningCheckpointKey.self)
        joined = try JoiningParserState(from: c, layout: layout)
    }
}

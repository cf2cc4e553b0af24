import SendWatchCore

extension FormatDetector {
    /// The state of a ``FormatDetector`` that has not decided yet, so that `--format auto` can continue after
    /// a restart with the votes it had: the votes per format and the year state of its syslog reader (which
    /// decides whether a year-less `Feb 29` line can vote). ``decisiveVotes`` is configuration and is given
    /// again to ``init(decisiveVotes:restoring:)``.
    ///
    /// Decoding checks that formats are known and appear once, that the vote and format lists have the same
    /// length and that counts are plausible, and throws `DecodingError.dataCorrupted` otherwise.
    public struct Checkpoint: Codable, Hashable, Sendable {
        var formats: [LogFormat]
        var votes: [Int64]
        var years: SavedYears

        init(formats: [LogFormat], votes: [Int64], years: SavedYears) {
            self.formats = formats
            self.votes = votes
            self.years = years
        }

        private enum CodingKeys: String, CodingKey { case formats, votes, years }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            formats = try c.decode([LogFormat].self, forKey: .formats)
            votes = try c.decode([Int64].self, forKey: .votes)
            years = try c.decode(SavedYears.self, forKey: .years)
            let path = decoder.codingPath
            try SavedChecks.length(votes, formats.count, "votes", path)
            guard Set(formats).count == formats.count else {
                throw StateCheck.corrupt("a format appears twice in the votes", path)
            }
            for v in votes where !StateCheck.isCount(v) {
                throw StateCheck.corrupt("vote count \(v) out of range", path)
            }
        }
    }

    /// The detector's state, for ``init(decisiveVotes:restoring:)``.
    ///
    /// - Complexity: O(registered formats).
    public func checkpoint() -> Checkpoint {
        let sorted = LogFormat.allCases.compactMap { f in votes[f].map { (f, Int64($0)) } }
        return Checkpoint(formats: sorted.map(\.0), votes: sorted.map(\.1), years: header.years.saved)
    }

    /// Rebuilds a detector with the saved votes.
    ///
    /// - Parameters:
    ///   - decisiveVotes: how many agreeing lines settle the question (configuration, not saved).
    ///   - checkpoint: a value from ``checkpoint()``, usually decoded from a checkpoint file.
    /// - Throws: nothing today (every check runs when the checkpoint is decoded); `throws` keeps the restoring
    ///   initialisers of the parsers and the detector alike.
    public init(decisiveVotes: Int = 16, restoring checkpoint: Checkpoint) throws {
        self.init(decisiveVotes: decisiveVotes)
        for (f, v) in zip(checkpoint.formats, checkpoint.votes) { votes[f] = Int(v) }
        header.years = YearResolver(restoring: checkpoint.years)
    }
}

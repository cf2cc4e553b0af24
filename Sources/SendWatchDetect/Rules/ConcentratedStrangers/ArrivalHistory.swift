import SendWatchCore

/// The accounts that joined one group's window in each of its last hours, for the group's base rate: a low
/// quantile of the completed hours' counts, the hours since the stream's start without an arrival counting as
/// zero.
///
/// A quantile rather than a mean: a wave lasting a few hours does not move the low quantile of a longer history,
/// so the rate is learned from every arrival, a wave's too, and the group's own firing does not stop it learning
/// (a steady trickle of new users inviting friends reaches the fixed thresholds by itself, so a base learned only
/// while the group is quiet learns nothing of it).
///
/// Kept in an entry of the rule's group table beside the group (``ConcentratedStrangersRule/baseSalt``): the hour
/// in its `arrivals`, the counts in its `domainCounts` (with as many empty `domains`), so that the rule's
/// checkpoint format is unchanged. Memory: at most ``maxHours`` + 1 counts.
struct ArrivalHistory: Sendable, Equatable {
    /// The hour (since the stream's start) of the last count.
    var hour: Int
    /// The counts of the hours up to ``hour``, oldest first, the current one last.
    var counts: [Int]

    /// Completed hours kept: the group table's domains less the current hour.
    static let maxHours = ConcentratedStrangersRule.maxDomains - 1

    /// An empty history at `hour`, with the hours since the stream's start (at most ``maxHours``) as zeros.
    init(at hour: Int) {
        self.hour = hour
        counts = [Int](repeating: 0, count: min(max(hour, 0), Self.maxHours) + 1)
    }

    /// The history a base entry of the group table holds, nil when it holds none.
    init?(_ entry: ConcentratedStrangersRule.Group) {
        guard !entry.domainCounts.isEmpty, entry.domainCounts.count <= Self.maxHours + 1 else { return nil }
        hour = entry.arrivals
        counts = entry.domainCounts
    }

    /// Writes the history into a base entry of the group table.
    func write(to entry: inout ConcentratedStrangersRule.Group) {
        entry.arrivals = hour
        entry.domainCounts = counts
        if entry.domains.count != counts.count { entry.domains = [String](repeating: "", count: counts.count) }
    }

    /// Whether `hour` lies more than an hour before the history's: the hours are counted from the stream's start,
    /// and a restore that kept this rule's state but started account ages over (``DetectionEngine``'s partial
    /// restore) starts them over too. Such a history is dropped rather than kept frozen until the new count
    /// catches up with the old one (late events lie at most `detect.allowed_lateness` back, within an hour).
    func isStale(at hour: Int) -> Bool { hour < self.hour - 1 }

    /// Counts one arrival at `hour` (an earlier hour counts in the current one; a history from before the
    /// stream's start moved, ``isStale(at:)``, starts over).
    mutating func add(at hour: Int) {
        if isStale(at: hour) { self = ArrivalHistory(at: hour) }
        advance(to: hour)
        // Saturating: a restored (possibly damaged) count must not trap.
        let (sum, overflow) = counts[counts.count - 1].addingReportingOverflow(1)
        counts[counts.count - 1] = overflow ? .max : sum
    }

    private mutating func advance(to hour: Int) {
        guard hour > self.hour else { return }
        let gap = min(hour - self.hour, Self.maxHours + 1)
        counts.append(contentsOf: repeatElement(0, count: gap))
        if counts.count > Self.maxHours + 1 { counts.removeFirst(counts.count - Self.maxHours - 1) }
        self.hour = hour
    }

    /// The `quantile` of the completed hours' counts as of `hour`; nil with fewer than `minHours` of them.
    ///
    /// - Complexity: O(``maxHours`` log ``maxHours``).
    func base(at hour: Int, quantile: Double, minHours: Int) -> Double? {
        guard !isStale(at: hour) else { return nil }
        var copy = self
        copy.advance(to: hour)
        let completed = copy.counts.dropLast().sorted()
        guard completed.count >= max(1, minHours) else { return nil }
        return Double(completed[min(completed.count - 1, Int(quantile * Double(completed.count)))])
    }
}

import SendWatchCore
import SendWatchTemplates
import SendWatchWindows

/// What the engine knows about one event when it hands the event to the rules.
struct EventFacts {
    /// ``StableHash`` of the account, the key of every table keyed by account.
    var accountKey: UInt64
    var age: AccountAge
    /// Hash of the recipient's domain (young events only).
    var domainKey: UInt64 = 0
    /// Hash of the recipient's whole address (``DetectionEngine/addressHash(_:)``; young events only).
    var recipientKey: UInt64 = 0
    /// The young account's slot in ``SharedTables/young`` (young events only).
    var young: BoundedKeyTable<YoungAccountState>.Slot?
    /// The event's template and its features (young events with a template only).
    var template: TemplateUse?
}

/// A young account's event with a template, after the template's features were updated.
struct TemplateUse {
    /// The template's slot in ``SharedTables/templates``.
    var slot: BoundedKeyTable<TemplateState>.Slot
    /// The template's key (its ``TemplateID/rawValue``), the key of a rule's own table of templates.
    var key: UInt64
    var template: AlertTemplate
    /// Whether the account's recipients are spread (several domains, or one that established accounts mail).
    var spread: Bool
    /// Whether one of the event's slot values is suspicious.
    var suspicious: Bool
    /// The indicators of the event's suspicious slot values (empty when none is suspicious).
    var indicators: SlotIndicators
    /// The event's slot values (each at most `templates.max_slot_bytes` long).
    var slots: [String]
    /// The ``LureText`` normalisation of each of ``slots`` (`nil` where normalising changes nothing), made once
    /// for every reader of the values; empty when no value needs it (most events: no allocation).
    var normalizedSlots: [String?] = []

    /// `LureText.normalize(slots[index])?.text`.
    func normalized(_ index: Int) -> String? { index < normalizedSlots.count ? normalizedSlots[index] : nil }

    /// The ``LureText`` normalisation of each of `slots`, as ``normalizedSlots`` keeps it.
    ///
    /// - Complexity: O(bytes of the values); allocates only for a value that normalising changes.
    static func normalize(_ slots: [String]) -> [String?] {
        var normalized: [String?] = []
        for (index, value) in slots.enumerated() {
            guard let n = LureText.normalize(value) else { continue }
            if normalized.isEmpty { normalized = Array(repeating: nil, count: slots.count) }
            normalized[index] = n.text
        }
        return normalized
    }
}

/// The tables of the engine's shared features, each with its share of the memory budget.
struct SharedTables: Codable, Sendable {
    /// Young accounts' recent sending: 30 % of the budget.
    var young: BoundedKeyTable<YoungAccountState>
    /// Per-template features every template rule reads (text, top suspicious slot values, sample message ids):
    /// 10 %.
    var templates: BoundedKeyTable<TemplateState>
    /// Distinct young accounts per (template, slot value): 5 %.
    var slotValues: BoundedKeyTable<YoungSenders>

    static let youngShare = BudgetShare(3, of: 10)
    static let templatesShare = BudgetShare(1, of: 10)
    static let slotValuesShare = BudgetShare(1, of: 20)
    /// Every share, for the engine's sum of the budget shares.
    static let shares = [youngShare, templatesShare, slotValuesShare]

    init(budget: Int) {
        young = BoundedKeyTable(maxEntries: 200_000, maxBytes: Self.youngShare.bytes(of: budget))
        templates = BoundedKeyTable(maxEntries: 50_000, maxBytes: Self.templatesShare.bytes(of: budget))
        slotValues = BoundedKeyTable(maxEntries: 200_000, maxBytes: Self.slotValuesShare.bytes(of: budget))
    }

    /// Calls `visitor` with each table, in declaration order: the one list of the tables besides the stored
    /// properties, used for the bytes, the evictions and the budget.
    mutating func visit(_ visitor: inout some SharedTableVisitor) {
        visitor.visit(&young, "young accounts")
        visitor.visit(&templates, "templates")
        visitor.visit(&slotValues, "slot values")
    }

    var approximateBytes: Int {
        var sum = Sum()
        var copy = self
        copy.visit(&sum)
        return sum.bytes
    }

    var evictions: UInt64 {
        var sum = Sum()
        var copy = self
        copy.visit(&sum)
        return sum.evictions
    }

    mutating func enforceBudget() {
        var enforce = Enforce()
        visit(&enforce)
    }

    private struct Sum: SharedTableVisitor {
        var bytes = 0
        var evictions: UInt64 = 0
        mutating func visit<Value>(_ table: inout BoundedKeyTable<Value>, _ name: String) {
            bytes += table.approximateBytes
            evictions &+= table.evictions
        }
    }

    private struct Enforce: SharedTableVisitor {
        mutating func visit<Value>(_ table: inout BoundedKeyTable<Value>, _ name: String) { table.enforceBudget() }
    }
}

/// Something done to each of the shared tables (see ``SharedTables/visit(_:)``).
protocol SharedTableVisitor {
    mutating func visit<Value>(_ table: inout BoundedKeyTable<Value>, _ name: String)
}

/// The state every rule reads: account ages, the template miner, the shared tables, the sketch of established
/// recipient domains and the alert lifecycle, with the evidence helpers the rules share.
struct DetectionContext: Sendable {
    /// Most accounts listed in one alert, and the exact capacity of the distinct counts.
    let maxAlertAccounts: Int
    let features: FeatureSettings
    var ages: AccountAges
    var miner: TemplateMiner
    var lifecycle: AlertLifecycle
    var tables: SharedTables
    /// Deliveries from established accounts per recipient domain (count-min, two rotating 12 h epochs): a
    /// domain established senders mail often (a webmail provider, a busy company) is public; a new company's
    /// own domain is not.
    var establishedDomains = CountMinSketch(width: 1 << 16, depth: 4, epochMicroseconds: 12 * 3_600_000_000)
    /// The addresses established accounts mailed (``FeatureSettings/remembersEstablishedRecipients``; `nil`
    /// when no enabled rule asks): a recipient established senders write to is a known correspondent of the
    /// platform. A false positive (about 2 %) makes an unknown address look known, which only quiets the rules
    /// that ask.
    var establishedRecipients: SeenFilter?
    var counters = DetectionCounters()
    /// The young accounts whose evidence samples changed, for the account lists rules keep (``ListedAccounts``).
    var touchedYoung = YoungTouchLog()
    /// Evictions from the rules' own tables, kept current by ``RuleTable/report(to:)``.
    var ruleEvictions: UInt64 = 0

    /// Entries evicted from every bounded table so far (the source of ``DetectionCounters/evictions``).
    var evictions: UInt64 { tables.evictions &+ ruleEvictions }

    /// Whether a finding with these figures would make a record (see ``AlertLifecycle/wants``).
    mutating func wants(
        _ kind: RuleName, key: String, severity: Severity, accountsTotal: Int, volume: Int, at now: EventTime,
        refreshVolume: Bool = false
    ) -> Bool {
        lifecycle.wants(
            kind: kind, key: key, severity: severity, accountsTotal: accountsTotal, volume: volume,
            at: now, refreshVolume: refreshVolume)
    }

    /// Hands `finding` to the lifecycle with the evidence samples of its accounts
    /// (``accountSamples(_:accountsTotal:)``), from which the lifecycle builds the `submitters` and `deliveries`
    /// evidence of a record when it writes one (``Finding/recordEvidence``); appends the records it makes to
    /// `alerts`.
    mutating func take(_ finding: Finding, at now: EventTime, into alerts: inout [Alert]) {
        var finding = finding
        finding.accountSamples = accountSamples(finding.accounts, accountsTotal: finding.accountsTotal)
        emit(lifecycle.take(finding, at: now), into: &alerts)
    }

    /// ``take(_:at:into:)`` for a finding that lists one account whose samples the caller has read from its
    /// young-table entry: no lookup by name.
    mutating func take(_ finding: Finding, samples: AccountSample, at now: EventTime, into alerts: inout [Alert]) {
        var finding = finding
        finding.accountSamples = AccountSamples(listed: [samples], listsEveryAccount: finding.accountsTotal <= 1)
        emit(lifecycle.take(finding, at: now), into: &alerts)
    }

    /// ``take(_:at:into:)`` for a finding whose accounts are `listed`'s names, just updated
    /// (``ListedAccounts/update(to:young:ages:touched:)``): takes their samples by their young-table slots
    /// instead of hashing and looking up each name. The finding lists the first `limit` of them.
    mutating func take(
        _ finding: Finding, listing listed: ListedAccounts, limit: Int = .max, at now: EventTime,
        into alerts: inout [Alert]
    ) {
        var finding = finding
        finding.listing = listed.snapshot(accountsTotal: finding.accountsTotal, limit: limit)
        emit(lifecycle.take(finding, at: now), into: &alerts)
    }

    /// The samples of the listed accounts that the young-account table holds, in list order, for
    /// ``accountEvidence(_:)``.
    ///
    /// - Complexity: O(listed accounts): a hash and a lookup each; shares the samples' storage.
    func accountSamples(_ accounts: [String], accountsTotal: Int) -> AccountSamples {
        var samples = AccountSamples(listsEveryAccount: accountsTotal <= accounts.count)
        samples.listed.reserveCapacity(accounts.count)
        for name in accounts {
            guard let slot = tables.young.find(StableHash.of(name)) else { continue }
            samples.listed.append(tables.young[slot].samples)
        }
        return samples
    }

    /// The most values listed per kind in ``accountEvidence(_:)``.
    static let maxListedSubmitters = 10

    /// What the listed young accounts of an alert say about its mail, in two entries, each list in UTF-8 byte
    /// order and at most ``maxListedSubmitters`` long with its `_total` of distinct values (of two spellings
    /// `String` finds equal, the first in the accounts' order), and `exact` false when a figure may be short (an
    /// account kept only the first values of a kind, or the alert lists fewer accounts than it counts):
    ///
    /// - `"submitters"`: who sent it (``AccountSample/addSubmitter(login:clientIP:claimedAccount:)``): `logins` (SASL or local logins), `client_ips`, and
    ///   `claimed_accounts` (account header values that were not believed because the submitter is not trusted
    ///   to name accounts).
    /// - `"deliveries"`: what to search the mail logs for (``AccountSample/addDelivery(recipient:queueID:)``): `recipients`,
    ///   `recipient_domains` and `queue_ids` (Postfix queue ids, Exim message ids).
    ///
    /// Built only for a record the lifecycle writes, from the samples taken with its finding.
    ///
    /// - Complexity: O(listed accounts × 6 × ``AccountSample/cap``), plus choosing the
    ///   listed values.
    static func accountEvidence(_ samples: AccountSamples) -> [(String, JSONValue)] {
        listedGroups.map { ($0.name, listedValues($0.lists, of: samples)) }
    }

    /// One list of ``accountEvidence(_:)``: its key, the key of its total and the values it lists.
    private typealias ListedList = (name: String, total: String, list: AccountSample.List)

    /// The two entries of ``accountEvidence(_:)`` and their lists, in order; every list of an entry shares its
    /// overflow flag (``AccountSample/List/isSubmitter``).
    private static let listedGroups: [(name: String, lists: [ListedList])] = [
        ("submitters", [(.logins, "logins"), (.clientIPs, "client_ips"), (.claimedAccounts, "claimed_accounts")]),
        (
            "deliveries",
            [(.recipients, "recipients"), (.recipientDomains, "recipient_domains"), (.queueIDs, "queue_ids")]
        ),
    ].map { (group: (String, [(AccountSample.List, String)])) in
        (group.0, group.1.map { (name: $0.1, total: $0.1 + "_total", list: $0.0) })
    }

    /// One entry of ``accountEvidence(_:)``: for each list, under its name, the smallest of the listed accounts'
    /// distinct values and under its total's name their number; then `exact`, false when an account kept only the
    /// first values of the entry's lists or the samples do not list every account.
    private static func listedValues(_ lists: [ListedList], of samples: AccountSamples) -> JSONValue {
        var entries: [(String, JSONValue)] = []
        entries.reserveCapacity(2 * lists.count + 1)
        // The lists' distinct values as bytes, in one pass over each sample; a list with a value outside ASCII is
        // collected as `String`s instead (``DistinctASCIIValues``).
        var distinct = lists.map { _ in DistinctASCIIValues() }
        var nonASCII = lists.map { _ in false }
        for sample in samples.listed {
            sample.forEachValue { list, head, tail, isNonASCII in
                guard let k = lists.firstIndex(where: { $0.list == list }), !nonASCII[k] else { return }
                if isNonASCII {
                    nonASCII[k] = true
                } else {
                    distinct[k].insert(head, tail)
                }
            }
        }
        for (k, (name, total, list)) in lists.enumerated() {
            guard nonASCII[k] else {
                entries.append((name, .array(distinct[k].smallest(maxListedSubmitters).map { .string($0) })))
                entries.append((total, .int(distinct[k].count)))
                continue
            }
            // Of two spellings `String` finds equal (a precomposed and a decomposed `é`, the Kelvin sign and `K`),
            // the first in the accounts' order, each account's values in its own order; not whichever a set of
            // strings happens to hold, which depends on the per-process hash seed.
            var seen = Set<String>()
            var kept: [String] = []
            for sample in samples.listed {
                for v in sample.values(list) where seen.insert(v).inserted { kept.append(v) }
            }
            entries.append((name, .array(smallest(maxListedSubmitters, of: kept).map { .string($0) })))
            entries.append((total, .int(kept.count)))
        }
        let submitters = lists.first?.list.isSubmitter ?? false
        let overflowed = samples.listed.contains { submitters ? $0.submittersOverflowed : $0.deliveriesOverflowed }
        entries.append(("exact", .bool(samples.listsEveryAccount && !overflowed)))
        return .object(entries)
    }

    /// The `k` smallest of `values`, in increasing order of their UTF-8 bytes (compared as unsigned, a shorter
    /// value before the longer values it begins), the order ``DistinctASCIIValues/smallest(_:)`` lists in, without
    /// sorting them all (an alert's accounts can hold hundreds of values). Not `String` order: `String` finds the
    /// Kelvin sign equal to `K` yet sorts it after `KK`, so that order would depend on the order `values` come in.
    /// For values no two of which are equal, the result does not depend on their order; for values in ASCII or in
    /// NFC (precomposed), it is `values.sorted().prefix(k)`.
    ///
    /// - Complexity: O(n × k) comparisons at worst, about n when most values are larger than the k-th.
    static func smallest(_ k: Int, of values: [String]) -> [String] {
        DistinctASCIIValues.smallest(k, of: values) { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// Appends `records` and counts them.
    mutating func emit(_ records: [Alert], into alerts: inout [Alert]) {
        for r in records {
            switch r.action {
            case .create: counters.creates += 1
            case .update: counters.updates += 1
            case .close: counters.closes += 1
            }
            alerts.append(r)
        }
        counters.evictions = evictions
    }

    /// Whether a ``LureArtefact`` is too common to link accounts on or to count as a lure: a domain established
    /// accounts mail at least ``DetectionEngine/publicDomainMinEvents`` times in 12–24 h (a webmail provider),
    /// or the sender's own domain or a subdomain of it (the platform's help link in every tenant's mail).
    ///
    /// - Complexity: O(artefact length + sender length); allocates the host of a domain artefact once.
    func isCommonArtefact(_ artefact: String, sender: String, at now: EventTime) -> Bool {
        guard artefact.hasPrefix("domain:") else { return false }
        let host = artefact.utf8.dropFirst(7)
        if establishedDomains.estimate(DetectionEngine.domainHash(String(host) ?? ""), at: now)
            >= DetectionEngine.publicDomainMinEvents
        {
            return true
        }
        guard let at = sender.utf8.lastIndex(of: UInt8(ascii: "@")) else { return false }
        let own = sender.utf8[sender.utf8.index(after: at)...]
        guard !own.isEmpty, host.count >= own.count else { return false }
        let tail = host.suffix(own.count)
        guard zip(tail, own).allSatisfy({ ($0 | 0x20) == ($1 | 0x20) }) else { return false }
        return host.count == own.count || host[host.index(tail.startIndex, offsetBy: -1)] == UInt8(ascii: ".")
    }

    // MARK: - Evidence every rule may add

    /// The last evidence entry of every alert: `"state": {"evicted_keys": N, "approximate": B}`. N is the table
    /// evictions so far, so an analyst sees that tables were under pressure and figures may be undercounts;
    /// `approximate` says whether any figure of the alert is an estimate. Built only with a finding.
    func stateEvidence(approximate: Bool) -> (String, JSONValue) {
        Self.stateEvidence(evictions: evictions, approximate: approximate)
    }

    /// ``stateEvidence(approximate:)`` with the evictions taken earlier, for a finding that renders its evidence
    /// when read (``FindingText``).
    static func stateEvidence(evictions: UInt64, approximate: Bool) -> (String, JSONValue) {
        (
            "state",
            .object([
                ("evicted_keys", .int(Int(clamping: evictions))), ("approximate", .bool(approximate)),
            ])
        )
    }

    /// The figures of a rule's count of distinct young accounts against its threshold, in this order:
    /// `young_accounts`, `exact` (false when the count is an estimate), `window` (the rule's window setting, as
    /// the configuration writes durations) and `threshold`. Built only with a finding.
    static func youngAccountsEvidence(_ distinct: DistinctCount, windowSeconds: Int64, threshold: JSONValue)
        -> [(String, JSONValue)]
    {
        [
            ("young_accounts", .int(Int(distinct.value))), ("exact", .bool(distinct.isExact)),
            ("window", .string(DurationText.format(windowSeconds))), ("threshold", threshold),
        ]
    }

    /// The names of the accounts a distinct counter holds (while exact), sorted.
    func accountNames(_ distinct: SlidingDistinct, at now: EventTime) -> [String] {
        let hashes = distinct.sampleItems(limit: maxAlertAccounts, at: now)
        var names: [String] = []
        names.reserveCapacity(hashes.count)
        for hash in hashes {
            if let s = tables.young.find(hash) { names.append(tables.young.name(s)) }
        }
        names.sort()
        return names
    }

    /// `account_age_seconds`: the least, median and greatest age of `accounts` (`null` when none is known).
    func ageEvidence(_ accounts: [String], at now: EventTime) -> [(String, JSONValue)] {
        Self.ageEvidence(sortedAges: accounts.compactMap { self.ages.peek(account: $0, at: now)?.ageSeconds }.sorted())
    }

    /// `account_age_seconds` of ages sorted ascending.
    static func ageEvidence(sortedAges ages: [Int64]) -> [(String, JSONValue)] {
        guard let first = ages.first, let last = ages.last else {
            return [("account_age_seconds", .null)]
        }
        return ageEvidence(min: first, median: ages[ages.count / 2], max: last)
    }

    /// `account_age_seconds` with these figures.
    static func ageEvidence(min: Int64, median: Int64, max: Int64) -> [(String, JSONValue)] {
        [
            (
                "account_age_seconds",
                .object([("min", .int(Int(min))), ("median", .int(Int(median))), ("max", .int(Int(max)))])
            )
        ]
    }

    /// The most used suspicious slot values of a template, each with its uses and the distinct young accounts
    /// that used it in the slot-content window (`null` when the value's counter was evicted), and for a value
    /// that ``LureText`` rewrites, its `normalized` form; `approximate` is true when one of those distinct
    /// counts is an estimate.
    func slotEvidence(_ state: TemplateState, template: AlertTemplate, at now: EventTime) -> (
        value: JSONValue, approximate: Bool
    ) {
        let top = state.topSlots.sorted { $0.count != $1.count ? $0.count > $1.count : $0.value < $1.value }.prefix(5)
        let templateKey = UInt64(template.id, radix: 16) ?? StableHash.of(template.id)
        var approximate = false
        let values: [JSONValue] = top.map { entry in
            var young = JSONValue.null
            if let s = tables.slotValues.find(DetectionEngine.slotValueKey(template: templateKey, value: entry.value)) {
                let distinct = tables.slotValues[s].young.value(at: now)
                if !distinct.isExact { approximate = true }
                young = .int(Int(distinct.value))
            }
            var fields: [(String, JSONValue)] = [
                ("value", .string(entry.value)), ("count", .int(entry.count)), ("young_accounts", young),
                ("indicators", .array(entry.indicators.names.map { .string($0) })),
            ]
            // A disguised lure (look-alike letters, invisible characters, defanged links) also shows the text
            // the indicators were found in.
            if let normalized = LureText.normalize(entry.value) {
                fields.append(("normalized", .string(normalized.text)))
            }
            return .object(fields)
        }
        return (.array(values), approximate)
    }
}

/// A number for a reason text: one decimal, none when whole.
func reasonNumber(_ d: Double) -> String {
    let r = (d * 10).rounded() / 10
    return r == r.rounded() ? String(Int(r)) : String(r)
}

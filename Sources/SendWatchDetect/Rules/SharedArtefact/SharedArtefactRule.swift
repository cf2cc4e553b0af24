import SendWatchCore
import SendWatchWindows

/// `shared_artefact`: distinct young accounts, across all templates, put the same lure artefact (a phone
/// number, a URL's host, a domain, a wallet, or the lure's wording with its numbers masked) into their slot
/// values within a window.
///
/// It links a campaign that rotates its templates, which `template_swarm` and `slot_content` count one
/// template at a time: the scam's phone number or domain stays the same whichever slot of whichever template
/// carries it; and a campaign that gives every account its own phone number still words its lure the same way,
/// so a value that names an artefact that is not too common also links on its lure text (`LureArtefact`'s
/// `text:` key: the three normalised words before the artefact, at least 12 letters, read with the template's
/// text when the slot holds only the number). Artefacts are read from
/// the event's slot values by `LureArtefact` (bytes, bounded). Evidence
/// lists the artefact, the templates it was seen in (at most eight) and the accounts. On by default.
///
/// Too common to link on: a domain that established accounts mail often (a webmail provider: the same
/// count-min sketch of established recipient domains that decides a young account's spread), and the domain
/// of the event's sender or a subdomain of it (the platform's own help or unsubscribe links, which every
/// tenant's notification may carry). Legitimate young accounts that name such a domain do not link.
///
/// A campaign that runs longer than the window keeps its alert current as `slot_content` does: the finding's
/// volume is the number of young accounts that ever entered the artefact's window, so each new account makes
/// an update (at most every `min_update_interval`) even while the windowed count stays flat.
///
/// Memory: its table of artefacts takes 5 % of the detection memory budget (at most 200,000 entries; with the
/// default rules the shares add up to the whole budget, and turning `account_rate` on too scales every share
/// down so that they still do); at a bound the artefact updated least recently is evicted and starts over.
public struct SharedArtefactRule: ConfiguredRule, Sendable {
    /// The settings of `rules.shared_artefact`.
    public struct Configuration: RuleConfiguration, Equatable {
        public var enabled = true
        /// The window. Default 6 hours.
        public var windowSeconds: Int64 = 6 * 3600
        /// Distinct young accounts with the same artefact in the window that fire. Default 3.
        public var minYoungAccounts = 3
        /// Whether one young account fires when its slot value is a whole lure on its own: an artefact that is
        /// not common together with lure words or a money amount. Default true.
        public var loneLure = true
        /// Whether one young account fires when a slot value is a bare phone number: the number and at most one
        /// word (`+1 (866) 555-0197`, `Tel 1-866-555-0197`). Default true.
        public var barePhone = true
        public init() {}
    }

    /// One artefact's young accounts and templates.
    struct State: ApproximateHeapSize, YoungCountEntry, Sendable, Codable {
        var young: SlidingDistinct
        var first: EventTime
        /// The templates the artefact was seen in, first seen first.
        var templates: [AlertTemplate] = []
        /// Young accounts that entered the window (new to it) so far: grows with each new account of a campaign
        /// even while the windowed count stays flat.
        var arrivals = 0
        /// Whether a lone lure (`Configuration.loneLure`) led with this artefact: then one account fires.
        var lone = false
        /// Whether the value that made the artefact lone was a bare phone number: the reason's wording in every
        /// record of its alert, whatever later values name it.
        var bare = false
        /// The other artefacts named in the same slot values (hashes of their keys, first seen first, at most
        /// `SharedArtefactRule.maxLinked`): the finding's ``Finding/artefacts``, so the alerts of a campaign's
        /// wording and of its phone number share an incident.
        var linked: [UInt64] = []
        var approximateHeapBytes: Int {
            young.approximateHeapBytes + templates.reduce(0) { $0 + 64 + $1.id.utf8.count + $1.text.utf8.count }
                + 8 * linked.count
        }
    }

    /// The rule's name.
    public static let name = RuleName("shared_artefact")
    /// Templates listed per artefact.
    static let maxTemplates = 8
    /// Other artefacts remembered per artefact.
    static let maxLinked = 8
    let configuration: Configuration
    var table: RuleTable<State>
    /// The window and exact capacity of each artefact's distinct count of young accounts.
    let young: SlidingDistinct.Configuration
}

extension SharedArtefactRule: YoungCountTableRule {
    static let summary =
        "young accounts put the same phone number, domain or lure wording into the slots of any template"
    static let keys: [ConfigKey<Configuration>] = [
        .minYoungAccounts(doc: "Distinct young accounts with the same artefact in the window that fire."),
        .bool(
            "lone_lure", \.loneLure,
            doc: "Whether one young account fires when a slot value names an artefact that is not common together "
                + "with lure words or a money amount (the alert is keyed by its wording, else by the artefact)."),
        .bool(
            "bare_phone", \.barePhone,
            doc: "Whether one young account fires when a slot value is a phone number with at most one word "
                + "(`+1 (866) 555-0197`, `Tel 1-866-555-0197`): a name field holding only a number to call."),
    ]
    static var trigger: RuleTrigger { .templateUse }
    static var budgetShare: BudgetShare? { BudgetShare(1, of: 20) }
    static var tableName: String { "artefacts" }
    static var maxEntries: Int { 200_000 }

    func fits(_ entry: State) -> Bool {
        entry.young.configuration == young
            && entry.templates.count <= Self.maxTemplates && entry.linked.count <= Self.maxLinked
    }

    mutating func observe(
        _ event: SendEvent, _ facts: EventFacts, _ context: inout DetectionContext, into alerts: inout [Alert]
    ) {
        guard let use = facts.template else { return }
        var seen: [String] = []
        for (index, value) in use.slots.prefix(4).enumerated() {
            let normalized = use.normalized(index)
            let (artefacts, own) = LureArtefact.extract(from: value, normalized: normalized)
            let uncommon = artefacts.filter { !context.isCommonArtefact($0, sender: event.sender, at: event.time) }
            guard let first = uncommon.first else { continue }
            // The words before an artefact that is not common: a campaign's wording, whatever number it gives.
            // When the slot holds little more than the number, the miner has made the campaign's words part of
            // the template (`Welcome to <*>, Refund pending, call <*> today!`): the words are then the
            // template's text before the slot.
            let text =
                own ?? LureArtefact.extract(from: LureArtefact.around(slot: index, of: use.template.text, value)).text
            // A whole lure in one value leads with its wording (each account may give its own number), else with
            // its first artefact: lure words or money with an artefact, or a bare phone number. Scored only for a
            // value that names an artefact: no cost on ordinary events.
            let lured =
                configuration.loneLure
                && !SlotContent.indicators(of: value, normalized: normalized).isDisjoint(with: [.urgency, .money])
            let bare =
                !lured && configuration.barePhone
                && LureArtefact.isBarePhone(value, normalized: normalized, artefacts: uncommon)
            let lead = lured || bare ? (text ?? first) : nil
            let keys = uncommon + (text.map { [$0] } ?? [])
            let hashes = keys.map(StableHash.of)
            var linked = 0
            for artefact in uncommon where !seen.contains(artefact) {
                seen.append(artefact)
                linked = max(
                    linked,
                    record(
                        artefact, use.template, event, facts, &context, into: &alerts, lone: artefact == lead,
                        bare: bare, with: hashes))
            }
            if let text, !seen.contains(text) {
                seen.append(text)
                record(
                    text, use.template, event, facts, &context, into: &alerts, unless: linked, lone: text == lead,
                    bare: bare, with: hashes)
            }
        }
    }

    /// Counts the event's account for `artefact` and reports a finding when enough young accounts named it,
    /// and more than `covered`: a lure text links no more accounts than the value's own phone number, host or
    /// wallet already does (that artefact's alert lists them), so it reports only the accounts that one does
    /// not link, when each has its own number. `lone`: the value is a whole lure led by this artefact; `bare`:
    /// the value is a bare phone number (when it makes the artefact lone, the alert's reason says so from then
    /// on). Returns the young accounts in the artefact's window.
    @discardableResult
    private mutating func record(
        _ artefact: String, _ template: AlertTemplate, _ event: SendEvent, _ facts: EventFacts,
        _ context: inout DetectionContext, into alerts: inout [Alert], unless covered: Int = 0, lone: Bool,
        bare: Bool,
        with named: [UInt64]
    ) -> Int {
        let rule = configuration
        let now = event.time
        let young = young
        let key = StableHash.of(artefact)
        let slot = table.entries.slot(for: key, at: now, name: artefact) {
            State(young: SlidingDistinct(configuration: young), first: now)
        }
        table.report(to: &context)
        if table.entries[slot].young.insert(facts.accountKey, at: now) { table.entries[slot].arrivals += 1 }
        if lone && !table.entries[slot].lone {
            table.entries[slot].lone = true
            table.entries[slot].bare = bare
        }
        for other in named where other != key && table.entries[slot].linked.count < Self.maxLinked {
            if !table.entries[slot].linked.contains(other) { table.entries[slot].linked.append(other) }
        }
        if table.entries[slot].templates.count < Self.maxTemplates,
            !table.entries[slot].templates.contains(where: { $0.id == template.id })
        {
            table.entries[slot].templates.append(template)
        }
        let state = table.entries[slot]
        let distinct = state.young.value(at: now)
        let count = Int(distinct.value)
        // A lone lure's artefact needs one account; a lure text otherwise links more than its value's artefact.
        guard state.lone ? count >= 1 : count >= rule.minYoungAccounts && count > covered else { return count }
        let severity: Severity =
            count >= 4 * rule.minYoungAccounts ? .critical : state.templates.count >= 2 ? .high : .medium
        guard
            context.wants(
                Self.name, key: artefact, severity: severity, accountsTotal: count, volume: state.arrivals, at: now,
                refreshVolume: true)
        else { return count }
        let accounts = context.accountNames(state.young, at: now)
        let templates = state.templates.sorted { $0.id < $1.id }
        let evidence: [(String, JSONValue)] =
            [("artefact", .string(artefact))]
            + DetectionContext.youngAccountsEvidence(
                distinct, windowSeconds: rule.windowSeconds, threshold: .int(rule.minYoungAccounts))
            + [("templates", .array(templates.map { .object([("id", .string($0.id)), ("text", .string($0.text))]) }))]
            + context.ageEvidence(accounts, at: now) + [context.stateEvidence(approximate: !distinct.isExact)]
        let finding = Finding(
            kind: Self.name, key: artefact, severity: severity, score: Double(count) / Double(rule.minYoungAccounts),
            firstEventTime: state.first, accounts: Array(accounts.prefix(context.maxAlertAccounts)),
            accountsTotal: max(count, accounts.count), volume: state.arrivals, template: nil, evidence: evidence,
            reasons: [
                "\(count) young account\(count == 1 ? "" : "s") put \(artefact) into the slots of \(templates.count) "
                    + "template\(templates.count == 1 ? "" : "s") in \(DurationText.format(rule.windowSeconds)) "
                    + (!state.lone
                        ? "(threshold \(rule.minYoungAccounts))."
                        : state.bare
                            ? "(a whole lure: a bare phone number, one account is enough)."
                            : "(a whole lure: with lure words or a money amount, one account is enough).")
            ])
        var linking = finding
        linking.artefacts = [key] + state.linked
        context.take(linking, at: now, into: &alerts)
        return count
    }
}

extension SharedArtefactRule.Configuration: YoungAccountsThreshold {}

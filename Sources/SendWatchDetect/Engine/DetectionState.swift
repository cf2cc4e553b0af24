import SendWatchCore
import SendWatchWindows

/// The per-key state the detection engine keeps in its bounded tables.

/// Up to four recipient domains with counts, and everything else in one bucket: enough to tell a sender whose
/// recipients share one domain (a company inviting colleagues) from one whose recipients are spread.
struct DomainSpread: Sendable {
    var keys: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    var counts: (UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0)
    var other: UInt32 = 0

    /// Distinct domains seen (at least; more than four are reported as five).
    var distinct: Int {
        var n = 0
        if counts.0 > 0 { n += 1 }
        if counts.1 > 0 { n += 1 }
        if counts.2 > 0 { n += 1 }
        if counts.3 > 0 { n += 1 }
        return n + (other > 0 ? 1 : 0)
    }

    mutating func add(_ domain: UInt64) {
        if keys.0 == domain || counts.0 == 0 { keys.0 = domain; counts.0 &+= 1; return }
        if keys.1 == domain || counts.1 == 0 { keys.1 = domain; counts.1 &+= 1; return }
        if keys.2 == domain || counts.2 == 0 { keys.2 = domain; counts.2 &+= 1; return }
        if keys.3 == domain || counts.3 == 0 { keys.3 = domain; counts.3 &+= 1; return }
        other &+= 1
    }
}

/// A young account's recent sending.
struct YoungAccountState: ApproximateHeapSize, Sendable, Codable {
    /// `young_account_burst`'s per-account state (declared and coded in its folder), kept inline.
    var burst: YoungAccountBurstRule.Windows
    var domains = DomainSpread()
    var recipients: UInt32 = 0
    var firstEvent: EventTime
    var ageSeconds: Int64?
    var ageBasis: AccountAge.Basis
    var sampleMessageIDs: [String] = []
    /// Who submitted the account's messages: its first logins, client addresses and claimed accounts.
    var submitters = SubmitterSample()
    /// What an operator searches the mail logs by: the account's first recipients, their domains and queue ids.
    var deliveries = DeliverySample()

    /// Whether the account's recipients are spread over at least two domains.
    var isSpread: Bool { domains.distinct >= 2 }

    var approximateHeapBytes: Int {
        burst.approximateHeapBytes + sampleMessageIDs.count * 48
            + submitters.approximateHeapBytes + deliveries.approximateHeapBytes
    }

    mutating func record(at now: EventTime, domain: UInt64, messageID: String?, age: AccountAge) {
        burst.record(at: now)
        domains.add(domain)
        recipients &+= 1
        ageSeconds = age.ageSeconds
        if sampleMessageIDs.count < 5, let m = messageID, !sampleMessageIDs.contains(m) { sampleMessageIDs.append(m) }
    }
}

/// The first distinct logins, client addresses and claimed accounts (``SendEvent/login``,
/// ``SendEvent/clientIP``, ``SendEvent/claimedAccount``) of a young account's events, at most ``cap`` of each;
/// a further distinct value only sets ``overflowed``, so an account costs at most 3 × ``cap`` strings.
struct SubmitterSample: Sendable, Codable, Equatable {
    var logins: [String] = []
    var clientIPs: [String] = []
    var claimedAccounts: [String] = []
    /// Whether a distinct value was left out because its list was full.
    var overflowed = false

    /// The most values kept per list.
    static let cap = 4

    var approximateHeapBytes: Int { (logins.count + clientIPs.count + claimedAccounts.count) * 32 }

    /// Adds the event's values.
    ///
    /// - Complexity: O(``cap``) string comparisons per value; allocates only for a new value.
    mutating func add(login: String?, clientIP: String?, claimedAccount: String?) {
        if let login { Self.add(login, to: &logins, overflowed: &overflowed) }
        if let clientIP { Self.add(clientIP, to: &clientIPs, overflowed: &overflowed) }
        if let claimedAccount { Self.add(claimedAccount, to: &claimedAccounts, overflowed: &overflowed) }
    }

    private static func add(_ value: String, to list: inout [String], overflowed: inout Bool) {
        guard !list.contains(value) else { return }
        if list.count < cap {
            list.append(value)
        } else {
            overflowed = true
        }
    }
}

/// The first distinct recipients, recipient domains and queue ids (``SendEvent/recipient``, its domain as logged,
/// ``SendEvent/queueID``: a Postfix queue id or an Exim message id) of a young account's events, at most ``cap`` of
/// each; a further distinct value only sets ``overflowed``, so an account costs at most 3 × ``cap`` strings.
struct DeliverySample: Sendable, Codable, Equatable {
    var recipients: [String] = []
    var recipientDomains: [String] = []
    var queueIDs: [String] = []
    /// Whether a distinct value was left out because its list was full.
    var overflowed = false

    /// The most values kept per list.
    static let cap = 4

    var approximateHeapBytes: Int { (recipients.count + recipientDomains.count + queueIDs.count) * 32 }

    /// Adds the event's recipient, the recipient's domain (after the last `@`; none without one) and queue id.
    ///
    /// - Complexity: O(``cap``) string comparisons per value; allocates only for a new value.
    mutating func add(recipient: String, queueID: String?) {
        if !recipient.isEmpty {
            Self.add(recipient, to: &recipients, overflowed: &overflowed)
            if let at = recipient.utf8.lastIndex(of: UInt8(ascii: "@")) {
                let domain = recipient[recipient.utf8.index(after: at)...]
                if !domain.isEmpty { Self.add(domain, to: &recipientDomains, overflowed: &overflowed) }
            }
        }
        if let queueID, !queueID.isEmpty { Self.add(queueID, to: &queueIDs, overflowed: &overflowed) }
    }

    private static func add(_ value: some StringProtocol, to list: inout [String], overflowed: inout Bool) {
        guard !list.contains(where: { $0 == value }) else { return }
        if list.count < cap {
            list.append(String(value))
        } else {
            overflowed = true
        }
    }
}

/// The samples of a finding's listed young accounts (``DetectionContext/accountSamples(_:accountsTotal:)``),
/// taken when the finding is made; a record of the finding gets its `submitters` and `deliveries` evidence
/// from them (``DetectionContext/accountEvidence(_:)``) when the lifecycle writes it.
///
/// Why not the evidence itself: most findings of a growing alert are held and replaced by the next one before
/// any record is written (records come at most once per ``AlertLifecycle/Configuration/minUpdateIntervalSeconds``
/// unless the alert doubles or its severity rises), and merging every listed account's values into sets for each
/// of them cost more than the rest of detection on a log where young accounts send (docs/performance.md). Because
/// the samples are values, a record written later lists what the accounts had sent at its finding, even if they
/// sent more, or left the young-account table, in between: the records are the ones evidence built at each
/// finding gives.
///
/// Memory: one pair of samples (64 bytes) per listed account, at most
/// ``DetectionConfiguration/maxAlertAccounts``; their lists are shared with the young-account table (a list that
/// gains a value while a held finding shares it is copied then: at most ``SubmitterSample/cap`` strings, and at
/// most once per value it gains). The lifecycle holds at most one finding per open alert.
struct AccountSamples: Sendable {
    /// The listed accounts' samples, in the finding's order; accounts the table no longer holds are left out.
    var listed: [(submitters: SubmitterSample, deliveries: DeliverySample)] = []
    /// Whether the finding lists every account it counts (when not, the evidence's totals may be short).
    var listsEveryAccount: Bool
}

/// The shared per-template features: what the engine tracks per template for every rule about templates. Both
/// `template_swarm` and `slot_content` read the top suspicious slot values and the sample message ids; what only
/// one rule reads (the swarm's young accounts and baseline, the slot rule's young accounts and indicator counts)
/// is that rule's own table, keyed by the same template.
struct TemplateState: ApproximateHeapSize, Sendable {
    var text: String
    /// The most frequent suspicious slot values (bounded list, least count replaced).
    var topSlots: [(value: String, count: Int, indicators: SlotIndicators)] = []
    var sampleMessageIDs: [String] = []

    var approximateHeapBytes: Int { text.utf8.count + topSlotBytes + sampleMessageIDs.count * 48 }

    /// Kept up to date by ``recordYoung``, because the table asks for the size on every update.
    var topSlotBytes = 0

    /// Records one event of a young account.
    mutating func recordYoung(
        text newText: String, messageID: String?, suspiciousValue: String?, indicators: SlotIndicators
    ) {
        if text != newText { text = newText }
        if sampleMessageIDs.count < 5, let m = messageID, !sampleMessageIDs.contains(m) { sampleMessageIDs.append(m) }
        if let value = suspiciousValue {
            if let i = topSlots.firstIndex(where: { $0.value == value }) {
                topSlots[i].count += 1
            } else if topSlots.count < 8 {
                topSlots.append((value, 1, indicators))
                topSlotBytes += value.utf8.count + 32
            } else if let minIndex = topSlots.indices.min(by: { topSlots[$0].count < topSlots[$1].count }) {
                // Space-saving replacement: the new value inherits the smallest count.
                topSlotBytes += value.utf8.count - topSlots[minIndex].value.utf8.count
                topSlots[minIndex] = (value, topSlots[minIndex].count + 1, indicators)
            }
        }
    }
}

/// Distinct young senders of one key (a recipient, a recipient domain, a slot value of a template).
struct YoungSenders: ApproximateHeapSize, Sendable, Codable {
    var young: SlidingDistinct
    var first: EventTime
    var approximateHeapBytes: Int { young.approximateHeapBytes }
}

extension String {
    /// The domain part of an address (after the last `@`), lower-cased; the whole string when there is none.
    var addressDomain: Substring {
        if let at = lastIndex(of: "@") { return self[index(after: at)...] }
        return self[...]
    }
}

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
    /// The account's first message ids, submitters (logins, client addresses, claimed accounts) and deliveries
    /// (recipients, their domains, queue ids): what its alerts' evidence lists.
    var samples = AccountSample()

    /// Whether the account's recipients are spread over at least two domains.
    var isSpread: Bool { domains.distinct >= 2 }

    /// The account's first message ids (at most five), in the order they came.
    var sampleMessageIDs: [String] { samples.values(.messageIDs) }

    var approximateHeapBytes: Int {
        burst.approximateHeapBytes + samples.approximateHeapBytes
    }

    mutating func record(at now: EventTime, domain: UInt64, messageID: String?, age: AccountAge) {
        burst.record(at: now)
        domains.add(domain)
        recipients &+= 1
        ageSeconds = age.ageSeconds
        samples.addMessageID(messageID)
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
/// Memory: one sample (16 bytes) per listed account, at most ``DetectionConfiguration/maxAlertAccounts``; their
/// buffers are shared with the young-account table (a buffer that gains a value while a held finding shares it
/// is copied then: at most 29 values, and at most once per value it gains). The lifecycle holds at most one
/// finding per open alert.
struct AccountSamples: Sendable {
    /// The listed accounts' samples, in the finding's order; accounts the table no longer holds are left out.
    var listed: [AccountSample] = []
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
struct YoungSenders: ApproximateHeapSize, YoungCountEntry, Sendable, Codable {
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

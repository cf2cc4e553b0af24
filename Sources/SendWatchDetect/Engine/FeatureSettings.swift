/// The settings of the features the engine computes once per event for every rule: the young account's recent
/// sending, and each template's suspicious slot values and young accounts per slot value.
///
/// The values belong to rule settings (`rules.young_account_burst.window` is the recent-sending window): each
/// registered rule copies what it owns in ``DetectionRule/contribute(_:to:)``, so every key stays declared
/// once, in its rule's folder. The zero values below are placeholders that every registry fills.
struct FeatureSettings: Sendable {
    /// The short and the long window of a young account's recipient counts, in seconds.
    var recentWindowSeconds: Int64 = 0
    var longRecentWindowSeconds: Int64 = 0
    /// The window of the young accounts per (template, slot value), in seconds.
    var suspiciousWindowSeconds: Int64 = 0
    /// The least ``SlotContent/score(_:)`` of a suspicious slot value.
    var minSlotScore = 0.0
    /// Whether established accounts' events teach the template miner (some enabled rule reads templates).
    var learnsTemplates = false
    /// Whether the engine remembers the recipients established accounts mail (some enabled rule asks whether
    /// established senders wrote to an address), in a filter of ``rememberedRecipients`` items a generation.
    var remembersEstablishedRecipients = false
    var rememberedRecipients = 0
}

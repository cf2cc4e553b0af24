extension Alert {
    /// Whether an alert is an *aggregate* alert: it names no template, carries no lure artefact
    /// (`evidence.artefact`), and is about more than one account.
    ///
    /// Such an alert (e.g. `concentrated_strangers` over all templates, `recipient_fanin`) counts accounts that
    /// have in common only what its rule counted, possibly several attackers' and a legitimate one. Incident
    /// linking therefore never merges incidents through its accounts, and `sendwatch eval` counts its incident
    /// for a labelled campaign only when no other alert names that campaign. Both use this one definition.
    ///
    /// - Parameters:
    ///   - hasTemplate: whether the alert names a template (`template` is not null).
    ///   - hasArtefact: whether the alert carries a lure artefact.
    ///   - accounts: the number of accounts it is about (`accounts_total`, or the listed accounts when larger).
    public static func isAggregate(hasTemplate: Bool, hasArtefact: Bool, accounts: Int) -> Bool {
        !hasTemplate && !hasArtefact && accounts > 1
    }
}

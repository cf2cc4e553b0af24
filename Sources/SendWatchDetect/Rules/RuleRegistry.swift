/// Every detection rule, in the order the engine runs rules of the same trigger and the configuration
/// documents them. Adding a rule is its folder under `Rules/` plus one line here.
enum RuleRegistry {
    static let rules: [any DetectionRule.Type] = [
        YoungAccountBurstRule.self,
        TemplateSwarmRule.self,
        SlotContentRule.self,
        RecipientFanInRule.self,
        AccountRateRule.self,
        SharedArtefactRule.self,
        ConcentratedStrangersRule.self,
    ]
}

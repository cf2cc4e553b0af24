import SendWatchCore
import SendWatchTemplates
import SendWatchWindows

extension DetectionEngine {
    /// Rebuilds the engine with `configuration`, keeping every part of the saved state that still fits it and
    /// starting only the others empty: what a restart does after the configuration changed (a window, a table
    /// bound, a rule's setting), instead of refusing the whole checkpoint.
    ///
    /// The parts, each kept or reset on its own:
    /// - `account_ages`: the first-seen table and the registry (depends on `detect.max_tracked_accounts` only,
    ///   so a changed window or threshold keeps every account's age: an account seen before is not young again);
    /// - `templates`: the template miner (`templates.*`);
    /// - `open_alerts`: the alert lifecycle (`alerts.max_open`);
    /// - `shared_tables`: young accounts, templates and slot values (their windows and bounds: rule windows,
    ///   `detect.memory_budget_mb`);
    /// - `established_domains`: the sketch of established recipient domains;
    /// - `rules.<name>`: each enabled rule's own state.
    /// The counters, the watermark and the time-jump state are always kept. What is reset refills from the
    /// events that follow, as after a first start; its windows are empty until then.
    ///
    /// - Parameters:
    ///   - configuration: the configuration now.
    ///   - checkpoint: the saved state (decoded; its shape may differ from what `configuration` makes).
    ///   - reset: receives the names of the parts started empty (none when everything fits, the result then
    ///     equals ``init(configuration:restoring:)``'s).
    /// - Complexity: O(state).
    public init(configuration: DetectionConfiguration, restoringWhatFits checkpoint: Checkpoint, reset: inout [String])
    {
        self.init(configuration: configuration)
        let c = configuration
        if let ages = try? AccountAges(configuration: c.ages, restoring: checkpoint.ages) {
            context.ages = ages
        } else {
            reset.append("account_ages")
        }
        if let miner = try? TemplateMiner(configuration: c.miner, restoring: checkpoint.miner) {
            context.miner = miner
        } else {
            reset.append("templates")
        }
        if let lifecycle = try? AlertLifecycle(configuration: c.lifecycle, restoring: checkpoint.lifecycle) {
            context.lifecycle = lifecycle
        } else {
            reset.append("open_alerts")
        }
        do {
            context.tables = try Self.fitting(
                checkpoint.tables, like: context.tables, features: context.features)
        } catch {
            reset.append("shared_tables")
        }
        let d = checkpoint.establishedDomains
        let fresh = context.establishedDomains
        if d.width == fresh.width && d.depth == fresh.depth && d.epochMicroseconds == fresh.epochMicroseconds {
            context.establishedDomains = d
        } else {
            reset.append("established_domains")
        }
        if let saved = checkpoint.establishedRecipients, let fresh = context.establishedRecipients {
            if saved.capacity == fresh.capacity {
                context.establishedRecipients = saved
            } else {
                reset.append("established_recipients")
            }
        }
        context.counters = checkpoint.counters
        for i in rules.indices {
            let name = type(of: rules[i]).name
            guard let saved = checkpoint.rules.states.first(where: { $0.name == name }) else { continue }
            do {
                rules[i] = try rules[i].restored(configuration, budget: ruleBudget, from: saved.state)
            } catch {
                reset.append("rules.\(name.rawValue)")
            }
        }
        context.ruleEvictions = rules.reduce(0) { $0 &+ $1.evictions }
        watermark = checkpoint.watermark
        lastAdvance = checkpoint.lastAdvance
        if (0..<Self.timeJumpConfirmations).contains(checkpoint.jumpVotes) {
            jumpCandidate = checkpoint.jumpCandidate
            jumpVotes = checkpoint.jumpVotes
        }
    }
}

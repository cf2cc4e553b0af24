import Foundation
import SendWatchCore
import Testing

@testable import SendWatchDetect

@Suite struct ConcentratedStrangersTests {
    static let kind = ConcentratedStrangersRule.name.rawValue

    /// Established accounts that mail the two providers (`big.example`, `other.example`) often enough for them to
    /// be public, and the shared mailbox `partners@corp.example`.
    static func established(_ configuration: DetectionConfiguration = .init()) -> Scenario {
        var s = Scenario(configuration)
        for i in 0..<30 {
            s.send("old-\(i % 5)", to: "friend\(i)@big.example", subject: "Hello \(i)", at: Int64(i * 10))
            s.send("old-\(i % 5)", to: "pal\(i)@other.example", subject: "Hi \(i)", at: Int64(i * 10 + 5))
            s.send("old-\(i % 5)", to: "partners@corp.example", subject: "Deal \(i)", at: Int64(i * 10 + 7))
        }
        return s
    }

    /// `accounts` young tenants each inviting `recipients` addresses: `recipient(account, k)`.
    static func wave(
        _ s: inout Scenario, accounts: Int, recipients: Int, start: Int64 = 4000,
        recipient: (Int, Int) -> String = { a, k in "stranger\(a)x\(k)@big.example" }
    ) {
        for a in 0..<accounts {
            for k in 0..<recipients {
                s.send(
                    "t-\(a)", to: recipient(a, k), subject: "Ann invited you to join Brand\(a)",
                    at: start + Int64(a * 120 + k * 30), template: "invite-team")
            }
        }
    }

    /// One young account inviting `strangers` addresses at `big.example`, 30 s apart from `at`.
    static func invite(_ s: inout Scenario, _ account: String, strangers: Int, at: Int64) {
        for k in 0..<strangers {
            s.send(
                account, to: "\(account)-friend\(k)@big.example", subject: "Ann invited you to join \(account)",
                at: at + Int64(k * 30), template: "invite-team")
        }
    }

    @Test("A wave of young accounts each inviting strangers at one provider fires, with counts and domains")
    func fires() throws {
        var s = Self.established()
        Self.wave(&s, accounts: 8, recipients: 4)
        s.finish()
        #expect(s.kinds() == [Self.kind])
        let first = try #require(s.alerts.first { $0.kind == Self.kind && $0.template?.logged == "invite-team" })
        // The second account's second stranger makes two early stranger-mailers whose every first contact is a
        // stranger, with the first (three strangers) in the window: the alert lists that one.
        #expect(first.accounts == ["t-0"])
        #expect(first.evidence.first { $0.0 == "threshold" }?.1 == .int(6))
        #expect(first.evidence.first { $0.0 == "early_accounts" }?.1 == .int(2))
        #expect(first.evidence.first { $0.0 == "early_strangers_only_accounts" }?.1 == .int(2))
        // Every recipient of the listed account is a first contact.
        let recipients = first.evidence.first { $0.0 == "recipients" }?.1
        #expect(recipients == .int(4))
        #expect(first.evidence.first { $0.0 == "first_contacts" }?.1 == recipients)
        guard case .array(let domains)? = first.evidence.first(where: { $0.0 == "recipient_domains" })?.1,
            case .object(let top)? = domains.first
        else {
            Issue.record("no recipient_domains")
            return
        }
        #expect(top.first { $0.0 == "domain" }?.1 == .string("big.example"))
        #expect(s.flagged() == Set((0..<8).map { "t-\($0)" }))
    }

    @Test("One new user inviting three friends stays silent; so do two, and a slow wave below the threshold")
    func single() {
        var s = Self.established()
        Self.wave(&s, accounts: 1, recipients: 3)
        // Two more new users inviting three friends each, 35 minutes apart: below `min_early_accounts` (3), and not
        // within the 30 minutes of `min_early_strangers_only_accounts` (2), which minutes apart would fire
        // (`earlyStrangersOnly`).
        for a in 1...2 { Self.invite(&s, "u-\(a)", strangers: 3, at: 4000 + Int64(a * 2100)) }
        // Five stranger-mailers 40 minutes apart: never two in the 30-minute early window, five in 2 h.
        for a in 0..<5 { Self.invite(&s, "slow-\(a)", strangers: 3, at: 10600 + Int64(a * 2400)) }
        s.finish()
        #expect(!s.kinds().contains(Self.kind))
    }

    /// A steady trickle of new users inviting three friends at one provider, one every 10 minutes from the warm-up's
    /// end for 7 hours (`trickle-N`), then a wave of 30 accounts in 30 minutes (`w-N`); with `baseFactor`.
    static func trickleThenWave(baseFactor: Double) -> Scenario {
        var configuration = DetectionConfiguration()
        configuration[ConcentratedStrangersRule.self].baseFactor = baseFactor
        var s = Self.established(configuration)
        for a in 0..<42 { Self.invite(&s, "trickle-\(a)", strangers: 3, at: 4000 + Int64(a * 600)) }
        for a in 0..<30 { Self.invite(&s, "w-\(a)", strangers: 3, at: 4000 + 7 * 3600 + Int64(a * 60)) }
        s.finish()
        return s
    }

    @Test("A steady trickle of stranger-mailers is learned as the base rate and goes quiet; a wave above it fires")
    func baseRate() {
        let quiet = Self.trickleThenWave(baseFactor: 2)
        let named = quiet.flagged()
        // The base needs 3 completed hours and counts the warm-up's empty hour: from the fourth hour (14,400 s) the
        // trickle (6 an hour, 12 in 2 h) is below twice its rate and is not named; before it, it was. The wave's
        // alert lists the stranger-mailers of its 2 h window, the trickle's last ones too.
        let late = (0..<42).filter { (4 * 3600 + 1800...21000).contains(4000 + $0 * 600) }.map { "trickle-\($0)" }
        #expect(!late.isEmpty && named.isDisjoint(with: late))
        #expect(named.contains("trickle-5"))
        #expect(Set((0..<30).map { "w-\($0)" }).isSubset(of: named))
        // Without the base rate every trickle account is named.
        let loud = Self.trickleThenWave(baseFactor: 0).flagged()
        #expect(Set(late).isSubset(of: loud))
        #expect(Set((0..<30).map { "w-\($0)" }).isSubset(of: loud))
    }

    @Test("An alert the base rate held back until its count reached the raised bar shows that bar and the base rate")
    func baseRateEvidence() throws {
        let s = Self.trickleThenWave(baseFactor: 2)
        func value(_ alert: Alert, _ key: String) -> JSONValue? { alert.evidence.first { $0.0 == key }?.1 }
        let records = s.alerts.filter { $0.kind == Self.kind }
        // The wave's first record (its provider waves fired it): the trickle had set the base at 6 an hour, so the
        // template's own stranger-mailers had to reach 2 × 6 × 2 h in the window, 2 × 6 × 0.5 h early.
        let wave = try #require(records.first { $0.accounts.contains("w-0") })
        #expect(value(wave, "threshold") == .int(6))
        #expect(value(wave, "base_rate") == .double(6))
        #expect(value(wave, "base_threshold") == .int(24))
        #expect(value(wave, "early_base_threshold") == .int(6))
        // Once they do, the reason names the raised bar.
        let own = try #require(
            records.first {
                $0.accounts.contains("w-0") && $0.reasons.first?.contains("each mailed mostly strangers in") == true
            })
        #expect(value(own, "base_threshold") == .int(24))
        #expect(
            own.reasons[0].contains(
                "(threshold 24: 2 × the group's base rate of 6 accounts an hour, above the fixed 6)"))
        // Its count is above the fixed 6 but below 24: it fired early, which the reason says.
        #expect(
            own.reasons[1].hasPrefix("Fired early: ")
                && own.reasons[1].hasSuffix(
                    "(threshold 6: 2 × the group's base rate of 6 accounts an hour, above the fixed 3).")
        )
        // Before the base counted (the trickle's first hours) the fixed thresholds decided: no base keys.
        let first = try #require(records.first)
        #expect(value(first, "base_rate") == nil && value(first, "base_threshold") == nil)
        #expect(value(first, "early_base_threshold") == nil)
        // Without the base rate, none.
        let off = Self.trickleThenWave(baseFactor: 0).alerts.filter { $0.kind == Self.kind }
        #expect(!off.isEmpty && off.allSatisfy { value($0, "base_rate") == nil })
    }

    @Test("A group's base rate is a low quantile of its completed hours: a few hours' wave does not move it")
    func arrivalHistory() {
        var h = ArrivalHistory(at: 2)
        #expect(h.counts == [0, 0, 0])
        #expect(h.base(at: 2, quantile: 0.25, minHours: 3) == nil)
        for hour in 2..<5 { for _ in 0..<6 { h.add(at: hour) } }
        // Completed hours 0, 0, 6, 6, 6 (the open hour 5 not counted): the quantile 0.25 is the second smallest.
        #expect(h.base(at: 5, quantile: 0.25, minHours: 3) == 0)
        for hour in 5..<7 { for _ in 0..<6 { h.add(at: hour) } }
        for hour in 7..<9 { for _ in 0..<40 { h.add(at: hour) } }
        // The last 7 completed hours at hour 9 (hours 2 to 8): 6 five times, 40 twice.
        #expect(h.counts.count == ArrivalHistory.maxHours + 1)
        #expect(h.base(at: 9, quantile: 0.25, minHours: 3) == 6)
        // Quiet hours count as zeros; a long gap leaves only zeros.
        #expect(h.base(at: 100, quantile: 0.25, minHours: 3) == 0)
    }

    @Test("A history from before the stream's start moved back (a partial restore) starts over instead of freezing")
    func arrivalHistoryStale() {
        // Learned over 50 hours at 6 an hour, then the hours count from 0 again.
        var h = ArrivalHistory(at: 0)
        for hour in 0..<50 { for _ in 0..<6 { h.add(at: hour) } }
        #expect(h.base(at: 50, quantile: 0.25, minHours: 3) == 6)
        #expect(h.base(at: 3, quantile: 0.25, minHours: 3) == nil)
        // One arrival an hour after the restart: the base follows it, not the 6 learned before.
        for hour in 0..<10 { h.add(at: hour) }
        #expect(h.base(at: 10, quantile: 0.25, minHours: 3) == 1)
        #expect(h.hour == 9)
        // Late events an hour back still count in the current hour.
        h.add(at: 8)
        #expect(h.counts.last == 2)
    }

    @Test("Three young accounts mailing strangers alike within minutes fire early, listing the stranger-mailers")
    func early() throws {
        var s = Self.established()
        // Two accounts with two strangers each, then one with three, all within five minutes.
        for a in 0..<3 { Self.invite(&s, "t-\(a)", strangers: a == 2 ? 3 : 2, at: 4000 + Int64(a * 60)) }
        s.finish()
        #expect(s.kinds() == [Self.kind])
        let alert = try #require(s.alerts.first { $0.kind == Self.kind })
        #expect(alert.accounts == ["t-2"])
        #expect(alert.evidence.first { $0.0 == "early_accounts" }?.1 == .int(3))
        #expect(alert.evidence.first { $0.0 == "early_threshold" }?.1 == .int(3))
        // All three mail only strangers, so the strangers-only early path holds too, but the template's own early
        // path fired: no record gives the strangers-only path's reason.
        #expect(!s.alerts.contains { $0.reasons.contains { $0.contains("every first contact of theirs") } })
        // The same three with the early path off (more early accounts than there are) stay silent.
        var configuration = DetectionConfiguration()
        configuration[ConcentratedStrangersRule.self].minEarlyAccounts = 4
        // Their strangers are at one provider with nothing else: the provider wave's early path would fire too.
        configuration[ConcentratedStrangersRule.self].minEarlyWaveAccounts = 4
        configuration[ConcentratedStrangersRule.self].minEarlyStrangersOnlyAccounts = 4
        var off = Self.established(configuration)
        for a in 0..<3 { Self.invite(&off, "t-\(a)", strangers: a == 2 ? 3 : 2, at: 4000 + Int64(a * 60)) }
        off.finish()
        #expect(!off.kinds().contains(Self.kind))
    }

    /// A stranger-mailer `t-0` (three strangers at `big.example` from 4000 s) and `t-1` with two strangers from
    /// `second` s; each sends `first(account)` before its invitations when given (a founder's welcome, a known address).
    /// An established account mails the customer company `acme.example` once in the warm-up (a colleague's domain).
    static func strangersOnlyPair(
        _ configuration: DetectionConfiguration = .init(), second: Int64 = 4600,
        first: ((String) -> String)? = nil
    ) -> Scenario {
        var s = Self.established(configuration)
        s.send("old-0", to: "ceo@acme.example", subject: "Deal", at: 300)
        for (account, strangers, at) in [("t-0", 3, Int64(4000)), ("t-1", 2, second)] {
            if let first {
                s.send(account, to: first(account), subject: "Welcome", at: at - 10, template: "welcome")
            }
            Self.invite(&s, account, strangers: strangers, at: at)
        }
        s.finish()
        return s
    }

    @Test("A stranger-mailer and a second account with two strangers, both mailing nobody else, fire within 30 min")
    func earlyStrangersOnly() throws {
        let s = Self.strangersOnlyPair()
        #expect(s.kinds() == [Self.kind])
        func value(_ alert: Alert, _ key: String) -> JSONValue? { alert.evidence.first { $0.0 == key }?.1 }
        let alert = try #require(s.alerts.first { $0.kind == Self.kind })
        // Only the stranger-mailer is listed; the early count is the template's (two, below its 3).
        #expect(alert.accounts == ["t-0"])
        #expect(value(alert, "early_accounts") == .int(2))
        #expect(value(alert, "early_threshold") == .int(3))
        #expect(value(alert, "early_strangers_only_accounts") == .int(2))
        #expect(value(alert, "early_strangers_only_threshold") == .int(2))
        #expect(value(alert, "early_strangers_only_base_threshold") == nil)
        #expect(alert.score == 1)
        #expect(
            alert.reasons.contains {
                $0.hasPrefix("Fired early: 2 young accounts on the template")
                    && $0.contains("every first contact of theirs was a stranger") && $0.hasSuffix("(threshold 2).")
            })
        #expect(!alert.reasons.contains { $0.contains("(threshold 3)") })
        // Off (0), or the second account more than 30 minutes after the first: silent.
        var off = DetectionConfiguration()
        off[ConcentratedStrangersRule.self].minEarlyStrangersOnlyAccounts = 0
        #expect(!Self.strangersOnlyPair(off).kinds().contains(Self.kind))
        #expect(!Self.strangersOnlyPair(second: 4000 + 1900).kinds().contains(Self.kind))
    }

    @Test("A launch-day-like account (its founder at its own domain first), or one with a colleague, never counts")
    func earlyStrangersOnlyLaunchDay() {
        // Both welcome a founder at their own new domain first: each is an early stranger-mailer, but not one
        // whose every recipient is a stranger.
        #expect(!Self.strangersOnlyPair(first: { "founder@\($0).example" }).kinds().contains(Self.kind))
        // The same with the stranger-mailer alone mailing only strangers: one is not two.
        var s = Self.established()
        Self.invite(&s, "t-0", strangers: 3, at: 4000)
        s.send("t-1", to: "founder@t-1.example", subject: "Welcome", at: 4590, template: "welcome")
        Self.invite(&s, "t-1", strangers: 2, at: 4600)
        s.finish()
        #expect(!s.kinds().contains(Self.kind))
        // A person at a company established accounts mail is a colleague.
        #expect(!Self.strangersOnlyPair(first: { "\($0)@acme.example" }).kinds().contains(Self.kind))
        // An address established accounts already mail counts neither way, as a decoy does elsewhere in the rule.
        #expect(Self.strangersOnlyPair(first: { _ in "friend3@big.example" }).kinds() == [Self.kind])
    }

    @Test("A strangers-only early group split by a checkpoint fires after the restore as without one")
    func checkpointEarlyStrangersOnly() throws {
        var s = Self.established()
        Self.invite(&s, "t-0", strangers: 3, at: 4000)
        let restored = try Self.splitByCheckpoint(&s) { run in Self.invite(&run, "t-1", strangers: 2, at: 4600) }
        #expect(restored.kinds() == [Self.kind])
        #expect(restored.alerts.map(\.accounts) == s.alerts.map(\.accounts))
        #expect(restored.alerts.first?.accounts == ["t-0"])
    }

    @Test("Young accounts each inviting two strangers at one provider and nothing else fire together, all listed")
    func twoStrangers() throws {
        let n = ConcentratedStrangersRule.Configuration().minEarlyWaveOnlyAccounts
        // No account reaches a third stranger: no stranger-mailer, no provider-wave member, too few for a spread
        // wave. Their strangers-only early members at big.example fire within half an hour.
        var s = Self.established()
        for a in 0..<n { Self.invite(&s, "t-\(a)", strangers: 2, at: 4000 + Int64(a * 120)) }
        s.finish()
        #expect(s.kinds() == [Self.kind])
        #expect(s.flagged() == Set((0..<n).map { "t-\($0)" }))
        // Its own provider entry, threshold and reason, and a score against its own threshold.
        let alert = try #require(s.alerts.last { $0.kind == Self.kind })
        #expect(
            alert.evidence.first { $0.0 == "provider_waves" }?.1
                == .array([
                    .object([
                        ("provider", .string("big.example (strangers only)")), ("accounts", .int(n)),
                        ("early_accounts", .int(n)),
                    ])
                ]))
        #expect(alert.evidence.first { $0.0 == "early_wave_only_threshold" }?.1 == .int(n))
        #expect(alert.score == 1)
        #expect(alert.reasons.contains { $0.contains("A strangers-only wave at a provider is \(n) young accounts") })
        #expect(alert.reasons.contains { $0.contains("each, but in a strangers-only wave, mailed at least 3") })
        // One account fewer stays silent, and so do the same accounts each welcoming a founder at its own new
        // domain first, as a launch day's tenants do.
        var fewer = Self.established()
        for a in 1..<n { Self.invite(&fewer, "t-\(a)", strangers: 2, at: 4000 + Int64(a * 120)) }
        fewer.finish()
        #expect(!fewer.kinds().contains(Self.kind))
        var launch = Self.established()
        for a in 0..<n {
            let t = 4000 + Int64(a * 120)
            launch.send("t-\(a)", to: "founder@brand\(a).example", subject: "Welcome", at: t - 10, template: "welcome")
            Self.invite(&launch, "t-\(a)", strangers: 2, at: t)
        }
        launch.finish()
        #expect(!launch.kinds().contains(Self.kind))
    }

    @Test("Launch-day tenants (a founder, a colleague, two webmail friends) do not make one stranger-mailer fire")
    func earlyLaunchDay() {
        var s = Self.established()
        // Ten launch-day tenants: a welcome to the founder at their own new domain, an invitation to a colleague
        // there, then two webmail friends (two strangers, but half of their recipients: below the 60 % share).
        for a in 0..<10 {
            let t = 4000 + Int64(a * 20)
            s.send("t-\(a)", to: "founder@brand\(a).example", subject: "Welcome", at: t, template: "welcome")
            for (k, to) in ["bob@brand\(a).example", "friend\(a)x0@big.example", "friend\(a)x1@big.example"]
                .enumerated()
            {
                s.send(
                    "t-\(a)", to: to, subject: "Ann invited you to join Brand\(a)", at: t + 5 + Int64(k * 5),
                    template: "invite-team")
            }
        }
        // One real new user who invited three friends.
        Self.invite(&s, "u-0", strangers: 3, at: 4300)
        s.finish()
        #expect(!s.kinds().contains(Self.kind))
    }

    @Test(
        "A tenant's first recipient on another template than its next (a webmail founder's welcome) is no stranger")
    func ownerIsNoStranger() {
        // Eight launch-day tenants, two minutes apart, whose founder signed up at the provider `big.example`: a
        // first mail to the founder, then a colleague at their own new domain and two friends at the provider.
        func fires(founderTemplate: String) -> Bool {
            var s = Self.established()
            for a in 0..<8 {
                let t = 4000 + Int64(a * 120)
                s.send(
                    "launch-\(a)", to: "founder\(a)@big.example", subject: "Welcome to Brand\(a)", at: t,
                    template: founderTemplate)
                for (k, to) in ["bob@brand\(a).example", "pal\(a)x0@big.example", "pal\(a)x1@big.example"]
                    .enumerated()
                {
                    s.send(
                        "launch-\(a)", to: to, subject: "Ann invited you to join Brand\(a)",
                        at: t + 20 + Int64(k * 20), template: "invite-team")
                }
            }
            s.finish()
            return s.kinds().contains(Self.kind)
        }
        // A welcome is the founder's: two strangers in four recipients each, no stranger-mailer. Before, the
        // founder counted as a third stranger (three in four) and the eight fired as a wave.
        #expect(!fires(founderTemplate: "welcome"))
        // The same first mail on the invitations' template is an invitation: three strangers in four, a wave.
        #expect(fires(founderTemplate: "invite-team"))
    }

    @Test("A held first recipient survives a checkpoint; a state laid out before it restores, counted in full")
    func openingAcrossCheckpointLayouts() throws {
        // ownerIsNoStranger's launch-day tenants, checkpointed after every founder's welcome and before the rest.
        func fires(restoringAs layout: DetectionStateLayout?) throws -> Bool {
            var s = Self.established()
            for a in 0..<8 {
                s.send(
                    "launch-\(a)", to: "founder\(a)@big.example", subject: "Welcome to Brand\(a)",
                    at: 4000 + Int64(a * 10), template: "welcome")
            }
            if let layout {
                let info = layout.userInfo
                let bytes = try StateCoding.encode(s.engine.checkpoint(), userInfo: info)
                s.engine = try DetectionEngine(
                    configuration: .init(),
                    restoring: StateCoding.decode(DetectionEngine.Checkpoint.self, from: bytes, userInfo: info))
            }
            for a in 0..<8 {
                for (k, to) in ["bob@brand\(a).example", "pal\(a)x0@big.example", "pal\(a)x1@big.example"]
                    .enumerated()
                {
                    s.send(
                        "launch-\(a)", to: to, subject: "Ann invited you to join Brand\(a)",
                        at: 4100 + Int64(a * 120 + k * 20), template: "invite-team")
                }
            }
            s.finish()
            return s.kinds().contains(Self.kind)
        }
        #expect(try !fires(restoringAs: nil))
        // The held welcomes are in the checkpoint: the restored engine still takes them for the founders'.
        #expect(try !fires(restoringAs: .current))
        // A state of the layout before (tail format 11, detect 6) held none: what that version counted, each
        // founder a stranger, and the tenants fire as a wave, as they did then.
        #expect(try fires(restoringAs: .withoutOpenings))
        // The two layouts differ by the held recipients: bytes of one are not read as the other.
        var s = Self.established()
        s.send("launch-0", to: "founder0@big.example", subject: "Welcome to Brand0", at: 4000, template: "welcome")
        let old = try StateCoding.encode(s.engine.checkpoint(), userInfo: DetectionStateLayout.withoutOpenings.userInfo)
        #expect(old != (try StateCoding.encode(s.engine.checkpoint())))
        #expect(throws: (any Error).self) { try StateCoding.decode(DetectionEngine.Checkpoint.self, from: old) }
    }

    @Test("Recipients the platform mailed before or colleagues keep a wave silent; spread providers make a spread wave")
    func lookAlikes() {
        // The same wave, to addresses established accounts already mail.
        var known = Self.established()
        Self.wave(&known, accounts: 8, recipients: 4) { _, k in "friend\(k * 7)@big.example" }
        known.finish()
        #expect(!known.kinds().contains(Self.kind))
        // Most of each account's recipients at its own new domain (a launch day's tenant), a few strangers.
        var team = Self.established()
        Self.wave(&team, accounts: 8, recipients: 7) { a, k in
            k % 2 == 0 ? "member\(k)@brand\(a).example" : "stranger\(a)x\(k)@big.example"
        }
        team.finish()
        #expect(!team.kinds().contains(Self.kind))
        // Each account's strangers are split over two providers: no provider wave, but every young account on the
        // template mails only strangers, a spread wave.
        var spread = Self.established()
        Self.wave(&spread, accounts: 8, recipients: 4) { a, k in
            "stranger\(a)x\(k)@" + (k % 2 == 0 ? "big.example" : "other.example")
        }
        spread.finish()
        #expect(spread.kinds() == [Self.kind])
    }

    @Test("A spread wave fires when its all-stranger accounts are a large share of the template's young accounts")
    func spreadWave() throws {
        // Eight accounts that each invite two strangers and stop, one at each provider.
        func pairs(_ s: inout Scenario, start: Int64) {
            Self.wave(&s, accounts: 8, recipients: 2, start: start) { a, k in
                "pair\(a)x\(k)@" + (k == 0 ? "big.example" : "other.example")
            }
        }
        var alone = Self.established()
        pairs(&alone, start: 4000)
        alone.finish()
        let alert = try #require(alone.alerts.first { $0.kind == Self.kind })
        #expect(alert.template?.logged == "invite-team")
        #expect(alone.flagged() == Set((0..<8).map { "t-\($0)" }))
        guard case .array(let waves)? = alert.evidence.first(where: { $0.0 == "provider_waves" })?.1,
            case .object(let wave)? = waves.first
        else {
            Issue.record("no provider_waves")
            return
        }
        #expect(wave.first { $0.0 == "provider" }?.1 == .string(ConcentratedStrangersRule.spreadProvider))
        // Seven are too few (each at two providers: seven with both strangers at one provider are a provider wave's
        // strangers-only early members, which fire at four).
        var seven = Self.established()
        Self.wave(&seven, accounts: 7, recipients: 2) { a, k in
            "pair\(a)x\(k)@" + (k == 0 ? "big.example" : "other.example")
        }
        seven.finish()
        #expect(!seven.kinds().contains(Self.kind))
        // The same eight among twenty launch-day tenants on the template (a founder at their own new domain first,
        // then a webmail friend): 8 of 28 young accounts, below 30 %.
        var launch = Self.established()
        for a in 0..<20 {
            for (k, to) in ["founder@brand\(a).example", "friend\(a)@big.example"].enumerated() {
                launch.send(
                    "l-\(a)", to: to, subject: "Ann invited you to join L\(a)", at: 3900 + Int64(a * 20 + k * 5),
                    template: "invite-team")
            }
        }
        pairs(&launch, start: 4000)
        launch.finish()
        #expect(!launch.kinds().contains(Self.kind))
    }

    @Test("A mail or two to a domain of the account's own, which only young accounts write to, does not hide a wave")
    func decoyColleague() {
        for decoys in 1...2 {
            var s = Self.established()
            Self.wave(&s, accounts: 8, recipients: 3 + decoys) { a, k in
                k < decoys ? "founder\(k)@brand\(a).example" : "stranger\(a)x\(k)@big.example"
            }
            s.finish()
            #expect(s.kinds() == [Self.kind], "\(decoys) decoys")
            #expect(s.flagged() == Set((0..<8).map { "t-\($0)" }), "\(decoys) decoys")
        }
    }

    /// Young accounts each mailing `strangers` never-mailed addresses at `big.example`, `spacing` seconds (10
    /// minutes) apart from `at`, each after a decoy to an address established accounts mail (`pal…@other.example`):
    /// half its recipients are strangers, below the 60 % stranger share.
    static func decoyWave(
        _ s: inout Scenario, accounts: Int, strangers: Int = 3, at start: Int64 = 4000, spacing: Int64 = 600
    ) {
        for a in 0..<accounts {
            var recipients: [String] = []
            for k in 0..<strangers {
                recipients.append("pal\(a * 3 + k)@other.example")
                recipients.append("decoyed\(a)x\(k)@big.example")
            }
            for (k, to) in recipients.enumerated() {
                s.send(
                    "t-\(a)", to: to, subject: "Ann invited you to join Brand\(a)",
                    at: start + Int64(a) * spacing + Int64(k * 60), template: "invite-team")
            }
        }
    }

    /// The settings before early provider-wave members: only members (three strangers at the provider) count,
    /// three of them within the early window fire.
    static var membersOnly: DetectionConfiguration {
        var configuration = DetectionConfiguration()
        configuration[ConcentratedStrangersRule.self].minEarlyWaveStrangers = 3
        configuration[ConcentratedStrangersRule.self].minEarlyWaveAccounts = 3
        return configuration
    }

    @Test("Stranger-mailers hiding among known addresses and people at known companies fire as a provider wave")
    func providerWave() throws {
        var s = Self.established(Self.membersOnly)
        Self.decoyWave(&s, accounts: 6)
        s.finish()
        #expect(s.kinds() == [Self.kind])
        let alert = try #require(s.alerts.first { $0.kind == Self.kind })
        guard case .string(let group)? = alert.evidence.first(where: { $0.0 == "group" })?.1 else {
            Issue.record("no group")
            return
        }
        // A provider wave has no alert of its own: its template's alert lists its members.
        #expect(group == alert.template?.id)
        #expect(alert.template?.logged == "invite-team")
        #expect(
            alert.evidence.first { $0.0 == "provider_waves" }?.1
                == .array([
                    .object([("provider", .string("big.example")), ("accounts", .int(3)), ("early_accounts", .int(3))])
                ]))
        // Ten minutes apart, the third member fires early; the alert grows with the rest.
        #expect(alert.accounts == (0..<3).map { "t-\($0)" })
        #expect(alert.evidence.first { $0.0 == "wave_threshold" }?.1 == .int(6))
        #expect(alert.evidence.first { $0.0 == "early_wave_threshold" }?.1 == .int(3))
        #expect(s.flagged() == Set((0..<6).map { "t-\($0)" }))
        // Five such accounts 16 minutes apart are no wave: never three members in 30 minutes, nor six in 2 hours.
        var five = Self.established(Self.membersOnly)
        Self.decoyWave(&five, accounts: 5, spacing: 960)
        five.finish()
        #expect(!five.kinds().contains(Self.kind))
        // Six of them 16 minutes apart are.
        var six = Self.established(Self.membersOnly)
        Self.decoyWave(&six, accounts: 6, spacing: 960)
        six.finish()
        #expect(six.flagged() == Set((0..<6).map { "t-\($0)" }))
        // Each account first writes to two new people at a company established accounts mail (more than a quarter
        // of its recipients), then five strangers: decoys that count neither way.
        var colleagues = Self.established(Self.membersOnly)
        Self.wave(&colleagues, accounts: 6, recipients: 7) { a, k in
            k < 2 ? "colleague\(a)x\(k)@corp.example" : "stranger\(a)x\(k)@big.example"
        }
        colleagues.finish()
        #expect(colleagues.kinds() == [Self.kind])
        #expect(colleagues.flagged() == Set((0..<6).map { "t-\($0)" }))
    }

    @Test("Three provider-wave members at one provider within 30 minutes fire early; two, or three over 40, do not")
    func providerWaveEarly() throws {
        var three = Self.established(Self.membersOnly)
        Self.decoyWave(&three, accounts: 3)
        three.finish()
        #expect(three.kinds() == [Self.kind])
        let alert = try #require(three.alerts.first { $0.kind == Self.kind })
        #expect(alert.accounts == (0..<3).map { "t-\($0)" })
        #expect(alert.reasons.contains { $0.contains("in provider waves at big.example") })
        #expect(alert.reasons.contains { $0.contains("one of them and 3 with at least 3 strangers there within 30m") })
        var two = Self.established(Self.membersOnly)
        Self.decoyWave(&two, accounts: 2)
        two.finish()
        #expect(!two.kinds().contains(Self.kind))
        var slow = Self.established(Self.membersOnly)
        Self.decoyWave(&slow, accounts: 3, spacing: 1200)
        slow.finish()
        #expect(!slow.kinds().contains(Self.kind))
    }

    @Test("Early members at a member's provider fire the wave at their second stranger; apart or elsewhere, not")
    func providerWaveEarlyMembers() throws {
        // Ten minutes apart: t-0 is a member (three strangers at big.example) at 4300 s, t-1 an early member (two)
        // at 4780 s and a member at 4900 s, t-2 an early member at 5380 s, which fires the wave with the two
        // members listed, two minutes before t-2's third stranger (when only members count).
        var three = Self.established()
        Self.decoyWave(&three, accounts: 3)
        let records = three.alerts.filter { $0.kind == Self.kind }
        three.finish()
        let first = try #require(records.first)
        #expect(first.action == .create)
        #expect(first.eventTime == EventTime(seconds: three.t0 + 5380))
        #expect(first.accounts == ["t-0", "t-1"])
        #expect(
            first.evidence.first { $0.0 == "provider_waves" }?.1
                == .array([
                    .object([("provider", .string("big.example")), ("accounts", .int(2)), ("early_accounts", .int(3))])
                ]))
        #expect(three.flagged() == ["t-0", "t-1", "t-2"])
        var membersOnly = Self.established(Self.membersOnly)
        Self.decoyWave(&membersOnly, accounts: 3)
        #expect(membersOnly.alerts.first { $0.kind == Self.kind }?.eventTime == EventTime(seconds: three.t0 + 5500))
        // A member and one early member are not three.
        var two = Self.established()
        Self.decoyWave(&two, accounts: 2)
        two.finish()
        #expect(!two.kinds().contains(Self.kind))
        // Twenty minutes apart: t-0's last event at its provider is more than 30 minutes before t-2's second
        // stranger.
        var apart = Self.established()
        Self.decoyWave(&apart, accounts: 3, spacing: 1200)
        apart.finish()
        #expect(!apart.kinds().contains(Self.kind))
        // The third account aims at another provider: its strangers at other.example, decoys at big.example.
        var elsewhere = Self.established()
        Self.decoyWave(&elsewhere, accounts: 2)
        for k in 0..<3 {
            for (offset, to) in [(0, "friend\(k)@big.example"), (60, "elsewhere\(k)@other.example")] {
                elsewhere.send(
                    "t-9", to: to, subject: "Ann invited you to join Brand9", at: 5200 + Int64(k * 120 + offset),
                    template: "invite-team")
            }
        }
        elsewhere.finish()
        #expect(!elsewhere.kinds().contains(Self.kind))
    }

    /// Three provider-wave members with their strangers at big.example (decoys: addresses at other.example that
    /// established accounts mail), ten minutes apart, and five minutes after each of them one with its strangers
    /// at other.example (decoys at big.example), in time order.
    static func twoProviderWaves() -> [(at: Int64, account: Int, to: String)] {
        var sends: [(at: Int64, account: Int, to: String)] = []
        for a in 0..<6 {
            let (known, stranger) = a < 3 ? ("pal", "big.example") : ("friend", "other.example")
            let knownDomain = a < 3 ? "other.example" : "big.example"
            for k in 0..<3 {
                let at = 4000 + Int64(a % 3) * 600 + (a < 3 ? 0 : 300) + Int64(k * 120)
                sends.append((at, a, "\(known)\(a * 3 + k)@\(knownDomain)"))
                sends.append((at + 60, a, "decoyed\(a)x\(k)@\(stranger)"))
            }
        }
        return sends.sorted { ($0.at, $0.account) < ($1.at, $1.account) }
    }

    static func send(_ s: inout Scenario, _ send: (at: Int64, account: Int, to: String)) {
        s.send(
            "t-\(send.account)", to: send.to, subject: "Ann invited you to join Brand\(send.account)", at: send.at,
            template: "invite-team")
    }

    @Test("Provider waves of one template at two providers are one alert that lists the members of both")
    func providerWavesOneAlert() throws {
        var s = Self.established()
        // Three members with their strangers at big.example (decoys: addresses at other.example that established
        // accounts mail), ten minutes apart, and five minutes after each of them one with its strangers at
        // other.example (decoys at big.example).
        for send in Self.twoProviderWaves() { Self.send(&s, send) }
        s.finish()
        let records = s.alerts.filter { $0.kind == Self.kind }
        #expect(records.filter { $0.action == .create }.count == 1)
        #expect(Set(records.map(\.id)).count == 1)
        let last = try #require(records.last)
        #expect(last.accounts == (0..<6).map { "t-\($0)" })
        guard case .array(let waves)? = last.evidence.first(where: { $0.0 == "provider_waves" })?.1 else {
            Issue.record("no provider_waves")
            return
        }
        #expect(waves.count == 2)
        // The second provider's members come in an update that names them as added.
        let update = try #require(
            records.first { r in
                (r.added ?? []).contains { $0.key == "accounts" && $0.values.contains("t-5") }
            })
        #expect(update.action == .update)
    }

    @Test("Tenants mailing mostly their own new domain, or strangers spread over providers, are no provider wave")
    func providerWaveLookAlikes() {
        func s(_ scenario: inout Scenario, _ account: String, _ recipients: [String], _ at: Int64) {
            for (k, to) in recipients.enumerated() {
                scenario.send(
                    account, to: to, subject: "Ann invited you to join \(account)", at: at + Int64(k * 5),
                    template: "invite-team")
            }
        }
        // A launch day's tenants: a founder and two colleagues at their own new domain, then three webmail friends
        // at one provider, with a known address: 3 of the 6 recipients that count, below 60 %.
        var launch = Self.established()
        for a in 0..<8 {
            let t = 4000 + Int64(a * 60)
            s(
                &launch, "t-\(a)",
                [
                    "founder@brand\(a).example", "pal\(a)@other.example", "bob@brand\(a).example",
                    "eve@brand\(a).example",
                ], t)
            s(&launch, "t-\(a)", (0..<3).map { "friend\(a)x\($0)@big.example" }, t + 20)
        }
        launch.finish()
        #expect(!launch.kinds().contains(Self.kind))
        // Strangers spread over three providers (a third at each), with known addresses after them: no provider
        // wave (a spread wave, which is off here: each account's first contacts are all strangers).
        let providers = ["big.example", "other.example", "corp.example"]
        var noSpread = DetectionConfiguration()
        noSpread[ConcentratedStrangersRule.self].minSpreadAccounts = 1_000_000
        var spread = Self.established(noSpread)
        for a in 0..<8 {
            s(
                &spread, "t-\(a)",
                (0..<9).map { "x\(a)y\($0)@" + providers[$0 % 3] }
                    + ["pal\(a)@other.example", "pal\(a + 10)@other.example"], 4000 + Int64(a * 60))
        }
        spread.finish()
        #expect(!spread.kinds().contains(Self.kind))

    }

    @Test("The rule's state survives a checkpoint: a restored engine fires on the rest of the wave")
    func checkpoint() throws {
        var s = Self.established()
        Self.wave(&s, accounts: 4, recipients: 4)
        let saved = s.engine.checkpoint()
        let data = try JSONEncoder().encode(saved)
        var restored = s
        restored.engine = try DetectionEngine(
            configuration: .init(), restoring: JSONDecoder().decode(DetectionEngine.Checkpoint.self, from: data))
        Self.wave(&restored, accounts: 8, recipients: 4, start: 4000 + 4 * 120)
        Self.wave(&s, accounts: 8, recipients: 4, start: 4000 + 4 * 120)
        #expect(restored.alerts.map(\.accounts) == s.alerts.map(\.accounts))
        #expect(s.kinds() == [Self.kind])
    }

    /// Checkpoints `s`, restores a copy from it, runs `rest` on both and finishes both; returns the restored copy.
    static func splitByCheckpoint(_ s: inout Scenario, rest: (inout Scenario) -> Void) throws -> Scenario {
        let data = try JSONEncoder().encode(s.engine.checkpoint())
        var restored = s
        restored.engine = try DetectionEngine(
            configuration: .init(), restoring: JSONDecoder().decode(DetectionEngine.Checkpoint.self, from: data))
        rest(&s)
        rest(&restored)
        s.finish()
        restored.finish()
        return restored
    }

    @Test("A group's base rate survives a checkpoint: the restored engine stays quiet on the trickle as the saved one")
    func checkpointBaseRate() throws {
        var s = Self.established()
        // The trickle of `trickleThenWave` up to 5 h after the warm-up's end, then a checkpoint.
        for a in 0..<30 { Self.invite(&s, "trickle-\(a)", strangers: 3, at: 4000 + Int64(a * 600)) }
        let restored = try Self.splitByCheckpoint(&s) { run in
            for a in 30..<42 { Self.invite(&run, "trickle-\(a)", strangers: 3, at: 4000 + Int64(a * 600)) }
        }
        #expect(restored.alerts.map(\.accounts) == s.alerts.map(\.accounts))
        // Without the saved histories the trickle after the restore would fire the fixed thresholds again.
        #expect(restored.flagged().isDisjoint(with: (30..<42).map { "trickle-\($0)" }))
    }

    @Test("A strangers-only wave split by a checkpoint fires after the restore and lists all its accounts")
    func checkpointStrangersOnly() throws {
        var s = Self.established()
        Self.invite(&s, "t-0", strangers: 2, at: 4000)
        Self.invite(&s, "t-1", strangers: 2, at: 4120)
        let restored = try Self.splitByCheckpoint(&s) { run in
            for a in 2..<4 { Self.invite(&run, "t-\(a)", strangers: 2, at: 4000 + Int64(a * 120)) }
        }
        #expect(restored.kinds() == [Self.kind])
        #expect(restored.alerts.map(\.accounts) == s.alerts.map(\.accounts))
        #expect(restored.alerts.last?.accounts == (0..<4).map { "t-\($0)" })
    }

    @Test("A template's wave members survive a checkpoint: a restored engine's alert lists both providers' waves")
    func checkpointWaves() throws {
        var s = Self.established()
        // The first provider's wave fired (at 5500 s), the second's not yet (at 5800 s).
        let sends = Self.twoProviderWaves()
        for send in sends where send.at <= 5600 { Self.send(&s, send) }
        let data = try JSONEncoder().encode(s.engine.checkpoint())
        var restored = s
        restored.engine = try DetectionEngine(
            configuration: .init(), restoring: JSONDecoder().decode(DetectionEngine.Checkpoint.self, from: data))
        for send in sends where send.at > 5600 {
            Self.send(&s, send)
            Self.send(&restored, send)
        }
        s.finish()
        restored.finish()
        #expect(restored.alerts.map(\.accounts) == s.alerts.map(\.accounts))
        #expect(restored.alerts.map(\.id) == s.alerts.map(\.id))
        #expect(s.alerts.last?.accounts == (0..<6).map { "t-\($0)" })
    }

    @Test("A shared mailbox that established accounts write to does not fire recipient_fanin; an unknown one does")
    func sharedInbox() {
        func run(_ inbox: String, ignoreKnown: Bool = true) -> [String] {
            var configuration = DetectionConfiguration()
            configuration[RecipientFanInRule.self].ignoreEstablishedRecipients = ignoreKnown
            var s = Self.established(configuration)
            for a in 0..<6 {
                s.send("t-\(a)", to: "founder@brand\(a).example", subject: "Welcome", at: 4000 + Int64(a * 60))
                s.send("t-\(a)", to: inbox, subject: "Welcome", at: 4010 + Int64(a * 60))
            }
            s.finish()
            return s.kinds()
        }
        #expect(run("partners@corp.example") == [])
        #expect(run("partners@corp.example", ignoreKnown: false) == [RecipientFanInRule.name.rawValue])
        #expect(run("ceo@target.example") == [RecipientFanInRule.name.rawValue])
    }

    /// A launch day on a template established tenants use, with or without creation times in the data: 14 new
    /// tenants each welcome a founder and invite a colleague and two webmail friends; then, with
    /// `swarmAccounts` more, a swarm. Returns the `template_swarm` alerts' `threshold` evidence.
    static func launchDay(createdTimes: Bool, swarmAccounts: Int) -> [JSONValue] {
        var s = established()
        // Six established tenants invite people in the last quarter of the warm-up (and before it).
        for i in 0..<24 {
            s.send(
                "old-tenant-\(i % 6)", to: "user\(i)@other.example", subject: "Bob invited you to join Old\(i % 6)",
                at: 900 + Int64(i * 110), template: "invite-team", created: createdTimes ? -400 * 86_400 : nil)
        }
        for a in 0..<(14 + swarmAccounts) {
            let t = 4000 + Int64(a * 30)
            let created: Int64? = createdTimes ? t - 600 : nil
            s.send(
                "t-\(a)", to: "founder@brand\(a).example", subject: "Welcome to Brand\(a), Ann!", at: t,
                template: "welcome", created: created)
            for (k, to) in ["bob@brand\(a).example", "f\(a)@big.example", "g\(a)@other.example"].enumerated() {
                s.send(
                    "t-\(a)", to: to, subject: "Ann invited you to join Brand\(a)", at: t + 5 + Int64(k * 5),
                    template: "invite-team", created: created)
            }
        }
        s.finish()
        return s.alerts.filter { $0.kind == TemplateSwarmRule.name.rawValue }.compactMap { alert in
            alert.evidence.first { $0.0 == "threshold" }?.1
        }
    }

    @Test("Creation times seed the template baselines like first sight: a launch day is no swarm in either, a swarm is")
    func launchDayWithCreationTimes() throws {
        for created in [false, true] {
            #expect(Self.launchDay(createdTimes: created, swarmAccounts: 0) == [], "created: \(created)")
        }
        let firstSight = Self.launchDay(createdTimes: false, swarmAccounts: 100)
        let creation = Self.launchDay(createdTimes: true, swarmAccounts: 100)
        let threshold = try #require(firstSight.first)
        #expect(creation.first == threshold)
        guard case .double(let value) = threshold else {
            Issue.record("threshold is \(threshold)")
            return
        }
        #expect(value > 10)
    }
}

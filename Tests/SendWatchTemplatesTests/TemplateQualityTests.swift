import SendWatchTemplates
import SendWatchTesting
import Testing

/// A synthetic but realistic corpus: 20 notification templates × 50 instances, slot values drawn from names,
/// organisations, numbers, dates, documents and scam texts (about one slot in five carries a scam text).
enum SubjectCorpus {
    static let templates: [String] = [
        "{name} sent you a private message",
        "{name} invited you to join {org}",
        "Welcome to {org}, {first}!",
        "Password reset for {email}",
        "Your invoice {num} is ready",
        "Your password was reset",
        "Meeting notes {date}",
        "Re: Quarterly report draft",
        "{name} commented on your post",
        "{name} mentioned you in {org}",
        "Your order {num} has shipped",
        "New sign-in to your account from {city}",
        "{org}: please verify your email address",
        "You have {num} new notifications",
        "{name} shared a document with you: {doc}",
        "Action required: {org} payment failed",
        "Your {org} trial ends in {num} days",
        "{name} requested access to {doc}",
        "Reminder: {event} starts at {time}",
        "Daily digest for {first}",
    ]
    static let firsts = [
        "Alice", "Bob", "Carol", "Dmitri", "Elif", "Farah", "Günther", "Hiroshi", "Ines", "José", "Kwame", "Léa",
        "Mohammed", "Nadia", "Olu", "Priya", "Quinn", "Rafael", "Sven", "Tamar",
    ]
    static let lasts = [
        "Smith", "Müller", "Nguyen", "Okafor", "García", "Rossi", "Kowalski", "Tanaka", "O'Brien", "van der Berg",
    ]
    static let orgs = [
        "Acme GmbH", "Initech", "Globex Corporation", "Umbrella Research", "Stark Industries Ltd", "Wayne Enterprises",
        "Hooli", "Pied Piper", "Vandelay Industries", "Soylent Corp", "Tyrell", "Cyberdyne Systems", "Aperture",
        "Black Mesa Labs", "Wonka Industries", "Oceanic Airlines", "Massive Dynamic", "Nakatomi Trading",
    ]
    static let scams = [
        "Your payment of $499 is pending. Call +1 (888) 555-0134",
        "URGENT your account will be closed, verify at http://acc-verify.example/login",
        "Claim your 1000 USD gift card now: call 0800 123 456",
        "Bitcoin doubler!!! Send 0.1 BTC to bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh",
        "Refund of 299,00 € approved – reply with your IBAN",
        "Congratulations you won an iPhone 15, visit win-prize.example",
        "Microsoft Support: your PC is infected, call 1-800-555-0199",
        "Final notice: unpaid toll of $6.99, pay at tolls-pay.example",
    ]
    static let cities = ["Berlin", "São Paulo", "New York", "Lagos", "Mumbai", "Kyiv", "Ho Chi Minh City", "Oslo"]
    static let docs = [
        "Q3 budget.xlsx", "Roadmap", "Team offsite plan", "contract_final_v2.pdf", "Design review notes",
        "Hiring pipeline",
    ]
    static let events = ["Standup", "Sprint review", "All hands", "1:1 with Bob", "Board meeting", "Lunch & learn"]

    static func value(_ kind: Substring, _ rng: inout SplitMix64) -> String {
        let scam = Int.random(in: 0..<5, using: &rng) == 0
        switch kind {
        case "name":
            if scam { return scams.randomElement(using: &rng)! }
            let f = firsts.randomElement(using: &rng)!
            return Bool.random(using: &rng) ? f : f + " " + lasts.randomElement(using: &rng)!
        case "first": return firsts.randomElement(using: &rng)!
        case "org": return scam ? scams.randomElement(using: &rng)! : orgs.randomElement(using: &rng)!
        case "email":
            return firsts.randomElement(using: &rng)!.lowercased()
                + "\(Int.random(in: 1..<999, using: &rng))@example.com"
        case "num": return String(Int.random(in: 1..<100_000, using: &rng))
        case "date": return "2026-\(Int.random(in: 10...12, using: &rng))-\(Int.random(in: 10...28, using: &rng))"
        case "city": return cities.randomElement(using: &rng)!
        case "doc": return docs.randomElement(using: &rng)!
        case "event": return events.randomElement(using: &rng)!
        case "time":
            return "\(Int.random(in: 8...18, using: &rng)):\(["00", "15", "30", "45"].randomElement(using: &rng)!)"
        default: return "?"
        }
    }

    /// Fills `{kind}` placeholders.
    static func instance(_ template: String, _ rng: inout SplitMix64) -> String {
        var out = ""
        var rest = template[...]
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            out += rest[..<open]
            out += value(rest[rest.index(after: open)..<close], &rng)
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    /// (text, true template index) pairs, shuffled with a fixed seed.
    static func make(seed: UInt64, perTemplate: Int = 50) -> [(String, Int)] {
        var rng = SplitMix64(seed: seed)
        var out: [(String, Int)] = []
        for (i, t) in templates.enumerated() {
            for _ in 0..<perTemplate { out.append((instance(t, &rng), i)) }
        }
        out.shuffle(using: &rng)
        return out
    }
}

/// Purity (each mined group's share of its dominant true template) and completeness (each true template's share
/// in its largest mined group), both weighted by texts.
func purityAndCompleteness(truth: [Int], predicted: [TemplateID]) -> (purity: Double, completeness: Double) {
    var pairs: [TemplateID: [Int: Int]] = [:]
    var byTruth: [Int: [TemplateID: Int]] = [:]
    for (t, p) in zip(truth, predicted) {
        pairs[p, default: [:]][t, default: 0] += 1
        byTruth[t, default: [:]][p, default: 0] += 1
    }
    let n = Double(truth.count)
    let purity = Double(pairs.values.map { $0.values.max() ?? 0 }.reduce(0, +)) / n
    let completeness = Double(byTruth.values.map { $0.values.max() ?? 0 }.reduce(0, +)) / n
    return (purity, completeness)
}

@Suite struct TemplateQualityTests {
    @Test("Realistic subjects: purity and completeness at least 0.95", arguments: [UInt64(7), 42, 2026])
    func quality(seed: UInt64) {
        let corpus = SubjectCorpus.make(seed: seed)
        var miner = TemplateMiner()
        let predicted = corpus.map { miner.mine($0.0).id }
        let q = purityAndCompleteness(truth: corpus.map(\.1), predicted: predicted)
        // After learning: the same texts mined again (ids of the final templates).
        let again = purityAndCompleteness(truth: corpus.map(\.1), predicted: corpus.map { miner.mine($0.0).id })
        print(
            "template quality seed \(seed): streaming purity \(q.purity) completeness \(q.completeness); "
                + "after learning purity \(again.purity) completeness \(again.completeness); "
                + "templates \(miner.templateCount), merged \(miner.counters.templatesMerged)")
        #expect(q.purity >= 0.95)
        #expect(q.completeness >= 0.95)
        #expect(miner._checkInvariants() == nil)
    }
}

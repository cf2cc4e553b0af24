import Benchmark
import SendWatchCore
import SendWatchSimulation
import SendWatchTemplates

/// Subjects that match no template, at high cardinality, built from a seeded generator (the same texts on every
/// run and machine).
///
/// Every text is made of words of a made-up vocabulary (three syllables of consonant and vowel each, so no word
/// contains a digit or looks like a hex id, which the tokenizer would mask): two of 24 common words, as real
/// subjects share "your", "account" and the like (their postings reach `maxPostingsPerToken`), and six of 3,000
/// rare words. Two such texts share at most the two common words and, by chance, a rare one: far under the
/// miner's similarity (0.6 of the constants), so each text is a miss that finds candidates through the word
/// index, aligns the best 16 and then creates a template (the miner's most expensive path: a scam text a young
/// account sends that resembles nothing the platform sends).
struct UnmatchedSubjects {
    /// Texts mined before the measurement, one template each (one masked number per text, a slot).
    let templates: [String]
    /// Distinct texts, none of which joins a template.
    let subjects: [String]

    /// Builds `templateCount` template texts and `subjectCount` subjects from `seed`.
    init(templateCount: Int, subjectCount: Int, seed: UInt64) {
        let consonants = Array("bdfgklmnprstvz")
        let vowels = Array("aeiou")
        // Word i spells i in base 70 (consonant-vowel syllables), so words are distinct by construction.
        func word(_ i: Int) -> String {
            var s = ""
            var n = i
            for _ in 0..<3 {
                let syllable = n % 70
                s.append(consonants[syllable / 5])
                s.append(vowels[syllable % 5])
                n /= 70
            }
            return s
        }
        let common = (0..<24).map { word($0 * 997 + 11) }
        let rare = (0..<3_000).map { word(24_000 + $0 * 101) }
        var random = SimulationRandom(seed: seed)
        func text(number: Int?) -> String {
            var words = [random.pick(common), random.pick(common)]
            for _ in 0..<6 { words.append(random.pick(rare)) }
            if let number { words.insert(String(number), at: 4) }
            return words.joined(separator: " ")
        }
        templates = (0..<templateCount).map { text(number: 1_000 + $0) }
        subjects = (0..<subjectCount).map { _ in text(number: nil) }
    }
}

/// The events of young accounts (no warm-up) each sending one subject that matches no template: the miner's miss
/// path and every rule's young-account path with a template each rule has never seen (one template per event,
/// so the template tables run at their bounds).
func unmatchedSubjectEvents(_ subjects: [String]) -> [SendEvent] {
    let start: Int64 = 1_800_000_000
    return subjects.enumerated().map { n, subject in
        SendEvent(
            time: EventTime(seconds: start + Int64(n / 4)),
            account: "young\(n / 2)@tenant\(n % 211).example",
            accountSource: .header, sender: "no-reply@platform.example",
            recipient: "r\(n)@dest\(n % 997).example", subject: subject,
            messageID: "u\(n)@platform.example", status: .sent)
    }
}

/// Registers the miner-miss benchmarks (called from `benchmarks` in Detection.swift).
func registerMinerMissBenchmarks() {
    // 5,000 templates, then 100,000 distinct subjects that match none of them (nor each other). The miner
    // holds at most 10,000 templates (its default bound), so from the 5,001st subject on each creation evicts
    // the least recently matched template.
    let input = UnmatchedSubjects(templateCount: 5_000, subjectCount: 100_000, seed: 17)

    Benchmark("Templates:mine-100k-unmatched-among-5k-templates", configuration: loadedConfiguration) { benchmark in
        var miner = TemplateMiner()
        for t in input.templates { blackHole(miner.mine(t).id) }
        let created = miner.counters.templatesCreated
        benchmark.startMeasurement()
        for s in input.subjects { blackHole(miner.mine(s).id) }
        benchmark.stopMeasurement()
        // A subject that joined a template would make this a different benchmark: fail loudly instead.
        precondition(created == input.templates.count, "templates joined: \(created) created")
        let misses = miner.counters.templatesCreated - created
        precondition(misses == input.subjects.count, "subjects joined templates: \(misses) created")
    }

    // The same kind of subjects through the detection engine, each from a young account: 20,000 events (the
    // engine's young path costs far more per event than the miner alone).
    let events = unmatchedSubjectEvents(
        UnmatchedSubjects(templateCount: 0, subjectCount: 20_000, seed: 18).subjects)

    Benchmark("Detection:young-events-unmatched-subjects", configuration: loadedConfiguration) { benchmark in
        measureEngine(events, configuration: youngConfiguration, benchmark)
    }
}

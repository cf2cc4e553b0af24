import SendWatchTesting
import Testing

@testable import SendWatchTemplates

/// The miner's LCS shortcuts against the LCS table they replace: the position masks' length, the subsequence test
/// of merging, and the miner's assignments with and without the masks (and without indexing's last-entry test).
@Suite struct TemplateLCSTests {
    /// The LCS table's corner for `a` against `b`.
    static func tableLength(_ a: [UInt64], _ b: [UInt64]) -> Int {
        var table = [UInt16](repeating: 0, count: (a.count + 1) * (b.count + 1))
        return a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                table.withUnsafeMutableBufferPointer { d in TemplateMiner.fillLCS(a, b, d) }
            }
        }
    }

    /// A random sequence of `count` hashes drawn from `alphabet` distinct hashes (few distinct values make long,
    /// ambiguous common subsequences).
    static func sequence(_ count: Int, alphabet: Int, _ rng: inout SplitMix64) -> [UInt64] {
        (0..<count).map { _ in UInt64.random(in: 1...UInt64(alphabet), using: &rng) &* 0x9E37_79B9_7F4A_7C15 }
    }

    @Test(
        "Position masks give the LCS table's length, for texts of 0 to 64 constants", arguments: [1, 2, 3] as [UInt64])
    func maskLength(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var masks = ConstantPositionMasks()
        var disagreements = 0
        for round in 0..<3_000 {
            let alphabet = [1, 2, 3, 5, 8, 40, 200][round % 7]
            // Lengths at the edges (0, 1, 63, 64) as well as in between.
            let m = round % 11 == 0 ? [0, 1, 63, 64][round / 11 % 4] : Int.random(in: 0...64, using: &rng)
            let a = Self.sequence(m, alphabet: alphabet, &rng)
            let b = Self.sequence(Int.random(in: 0...70, using: &rng), alphabet: alphabet, &rng)
            let loaded = masks.load(a)
            #expect(loaded)
            if masks.lcsLength(b) != Self.tableLength(a, b) { disagreements += 1 }
        }
        #expect(disagreements == 0)
        // A text of more than 64 constants is not loaded.
        let loadedLong = masks.load(Self.sequence(65, alphabet: 5, &rng))
        #expect(!loadedLong)
        #expect(!masks.isLoaded)
    }

    @Test("The subsequence test agrees with the LCS table", arguments: [4, 5] as [UInt64])
    func subsequence(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var disagreements = 0
        var subsequences = 0
        for round in 0..<3_000 {
            let alphabet = [1, 2, 3, 6][round % 4]
            let a = Self.sequence(Int.random(in: 0...8, using: &rng), alphabet: alphabet, &rng)
            let b = Self.sequence(Int.random(in: 0...20, using: &rng), alphabet: alphabet, &rng)
            let expected = Self.tableLength(a, b) == a.count
            if expected { subsequences += 1 }
            if TemplateMiner.isSubsequence(a, of: b) != expected { disagreements += 1 }
        }
        #expect(disagreements == 0)
        // Both answers occur often enough for the comparison to mean something.
        #expect(subsequences > 300 && subsequences < 2_700)
    }

    /// Random texts: template-like word sequences with varying values, punctuation and near-misses, drawn from a
    /// small vocabulary so that many candidates share words with each text.
    static func texts(seed: UInt64, count: Int, maxWords: Int) -> [String] {
        var rng = SplitMix64(seed: seed)
        let vocabulary = [
            "you", "your", "sent", "a", "the", "message", "private", "invoice", "payment", "account", "to", "of",
            "new", "shared", "document", "with", "is", "ready", "call", "now", "verify", "reset", "password", "team",
        ]
        let punctuation = [",", ".", ":", "!", "-", "(", ")"]
        let values = ["Acme GmbH", "Bob", "42", "$499", "+1 (888) 555-0134", "bob@example.com", "Initech Ltd", "7"]
        var stems: [[String]] = []
        for _ in 0..<40 {
            let n = Int.random(in: 1...maxWords, using: &rng)
            stems.append((0..<n).map { _ in vocabulary.randomElement(using: &rng)! })
        }
        var out: [String] = []
        for _ in 0..<count {
            var words = stems.randomElement(using: &rng)!
            // Edit the stem: drop, replace or insert a word, add punctuation, fill a value in.
            for _ in 0..<Int.random(in: 0...3, using: &rng) {
                let i = Int.random(in: 0..<words.count, using: &rng)
                switch Int.random(in: 0..<5, using: &rng) {
                case 0: if words.count > 1 { words.remove(at: i) }
                case 1: words[i] = vocabulary.randomElement(using: &rng)!
                case 2: words.insert(values.randomElement(using: &rng)!, at: i)
                case 3: words.insert(punctuation.randomElement(using: &rng)!, at: i)
                default: words[i] += punctuation.randomElement(using: &rng)!
                }
            }
            out.append(words.joined(separator: " "))
        }
        return out
    }

    @Test(
        "Random texts get the same templates, ids, slots and posting lists with and without the miss shortcuts",
        arguments: [
            (TemplateMiner.Configuration(), 12),
            (TemplateMiner.Configuration(similarity: 0.3), 12),
            (TemplateMiner.Configuration(similarity: 0.9), 12),
            (TemplateMiner.Configuration(maxTemplates: 30, maxPostingsPerToken: 4, cacheSize: 16), 12),
            // Texts of more than 64 constants take the table for every candidate; shorter ones the masks.
            (TemplateMiner.Configuration(maxTokens: 160, maxCandidates: 4), 90),
            (TemplateMiner.Configuration(maxTokens: 8, cacheSize: 0), 12),
        ] as [(TemplateMiner.Configuration, Int)])
    func sameAssignments(configuration: TemplateMiner.Configuration, maxWords: Int) {
        var withMasks = TemplateMiner(configuration: configuration)
        var withoutMasks = TemplateMiner(configuration: configuration)
        withoutMasks.usesPositionMasks = false
        // The reference also scans whole posting lists for a template's posting (the vocabulary is small, so
        // templates repeat words, and one configuration fills lists to their bound and evicts templates).
        withoutMasks.scansPostingLists = true
        var differences = 0
        var joined = 0
        for text in Self.texts(
            seed: UInt64(maxWords) &+ UInt64(configuration.maxTemplates), count: 4_000, maxWords: maxWords)
        {
            let a = withMasks.mine(text)
            let b = withoutMasks.mine(text)
            if a != b { differences += 1 }
            if !a.isNewTemplate { joined += 1 }
        }
        #expect(differences == 0)
        #expect(withMasks.counters == withoutMasks.counters)
        let sameIDs = withMasks.templateIDs == withoutMasks.templateIDs
        #expect(sameIDs)
        let samePostings = withMasks.wordIndex == withoutMasks.wordIndex
        #expect(samePostings)
        #expect(withMasks.counters.postingsDropped == withoutMasks.counters.postingsDropped)
        // The texts both join and create templates, so candidates were compared.
        #expect(joined > 400 && withMasks.counters.templatesCreated > 20)
        #expect(withMasks._checkInvariants() == nil)
    }
}

import SendWatchCore

/// Why a saved miner state cannot be restored with the current configuration.
public struct TemplateCheckpointError: Error, Sendable, CustomStringConvertible {
    /// What does not fit, e.g. `"template 12 has 80 constants, maxTokens is 64"`.
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { "template miner checkpoint does not fit the configuration: " + message }
}

extension TemplateMiner {
    /// Everything the miner has learned, without its configuration and scratch buffers (`Codable`).
    ///
    /// Saved: the templates (elements, id, version, match count, liveness, explicit flag, shape key) slot for
    /// slot, the free template slots, the recency list, the word index (posting lists in their order, which
    /// decides which posting a full list drops), the creation serial, the counters, and the exact-text cache
    /// (entries, recency list and free entries). The cache is saved because dropping it would change later
    /// output: a hit returns the template the text joined when it was cached, while re-mining the text can pick
    /// a template created since.
    ///
    /// Rebuilt on restore: each template's constant hashes, word count and text (from its elements), the id and
    /// shape indexes, the cache's key index, and every scratch buffer (tokens, LCS table, pair arrays), which is
    /// created empty from the configuration.
    ///
    /// Decoding checks the structure (lengths, links, indices, no adjacent slots, posting targets) and throws
    /// `DecodingError.dataCorrupted`; ``TemplateMiner/init(configuration:restoring:)`` checks the fit with the
    /// configuration.
    public struct Checkpoint: Codable, Sendable {
        var counters: Counters
        var serial: UInt64
        var templates: [Template]
        var freeTemplateSlots: [Int32]
        var templateLRU: LRUList
        var wordKeys: [UInt64]
        var wordPostingCounts: [Int32]
        var wordPostings: [Int32]
        var cacheKey1: [UInt64]
        var cacheKey2: [UInt64]
        var cacheTemplateSlot: [Int32]
        var cacheTemplateID: [UInt64]
        var cacheVersion: [UInt32]
        var cacheRangeCounts: [Int32]
        var cacheRanges: [Int64]
        var cacheLRU: LRUList
        var freeCacheEntries: [Int32]

        enum CodingKeys: String, CodingKey {
            case counters, serial, templates, freeTemplateSlots, templateLRU, wordKeys, wordPostingCounts
            case wordPostings, cacheKey1, cacheKey2, cacheTemplateSlot, cacheTemplateID, cacheVersion
            case cacheRangeCounts, cacheRanges, cacheLRU, freeCacheEntries
        }

        init(_ m: TemplateMiner) {
            counters = m.counters
            serial = m.serial
            templates = m.templates
            freeTemplateSlots = m.freeTemplateSlots
            templateLRU = m.templateLRU
            // Sorted by word hash, so that the same state always encodes to the same bytes.
            wordKeys = m.wordIndex.keys.sorted()
            wordPostingCounts = []
            wordPostings = []
            for k in wordKeys {
                // Safe to force unwrap: `k` is a key of the index.
                let list = m.wordIndex[k]!
                wordPostingCounts.append(Int32(list.count))
                wordPostings.append(contentsOf: list)
            }
            cacheKey1 = m.cacheKey1
            cacheKey2 = m.cacheKey2
            cacheTemplateSlot = m.cacheTemplateSlot
            cacheTemplateID = m.cacheTemplateID
            cacheVersion = m.cacheVersion
            cacheRangeCounts = (0..<m.cacheRanges.count).map { Int32(m.cacheRanges.count(Int32($0))) }
            cacheRanges = (0..<m.cacheRanges.count).flatMap { m.cacheRanges.values(Int32($0)).map { Int64($0) } }
            cacheLRU = m.cacheLRU
            freeCacheEntries = m.freeCacheEntries
        }

        /// Decodes and checks the structure of a saved miner.
        ///
        /// - Throws: `DecodingError.dataCorrupted` when arrays that must agree differ in length, a slot index,
        ///   free entry or link is out of range or points at the wrong kind of entry, a live template id, shape
        ///   key or cache key appears twice, a posting points at a template that is not indexed by words (or
        ///   that lacks the list's word, or appears twice in one list), a cached slot range is not ascending, or a
        ///   counter is negative.
        /// - Complexity: O(state), plus O(*e*) per posting for its template's *e* elements.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            func require(_ ok: Bool, _ message: @autoclosure () -> String) throws {
                try StateCheck.require(ok, "TemplateMiner: " + message(), decoder)
            }
            counters = try c.decode(Counters.self, forKey: .counters)
            serial = try c.decode(UInt64.self, forKey: .serial)
            templates = try c.decode([Template].self, forKey: .templates)
            freeTemplateSlots = try c.decode([Int32].self, forKey: .freeTemplateSlots)
            templateLRU = try c.decode(LRUList.self, forKey: .templateLRU)
            wordKeys = try c.decode([UInt64].self, forKey: .wordKeys)
            wordPostingCounts = try c.decode([Int32].self, forKey: .wordPostingCounts)
            wordPostings = try c.decode([Int32].self, forKey: .wordPostings)
            cacheKey1 = try c.decode([UInt64].self, forKey: .cacheKey1)
            cacheKey2 = try c.decode([UInt64].self, forKey: .cacheKey2)
            cacheTemplateSlot = try c.decode([Int32].self, forKey: .cacheTemplateSlot)
            cacheTemplateID = try c.decode([UInt64].self, forKey: .cacheTemplateID)
            cacheVersion = try c.decode([UInt32].self, forKey: .cacheVersion)
            cacheRangeCounts = try c.decode([Int32].self, forKey: .cacheRangeCounts)
            cacheRanges = try c.decode([Int64].self, forKey: .cacheRanges)
            cacheLRU = try c.decode(LRUList.self, forKey: .cacheLRU)
            freeCacheEntries = try c.decode([Int32].self, forKey: .freeCacheEntries)

            let k = counters
            let counts = [
                k.texts, k.templatesCreated, k.templatesEvicted, k.templatesMerged, k.templatesGeneralised,
                k.cacheHits, k.cacheMisses, k.cacheRealigned, k.truncatedTexts, k.truncatedSlots,
                k.postingsDropped, k.explicitTexts,
            ]
            try require(counts.allSatisfy(StateCheck.isCount), "counter out of range")

            // Templates: live ones are exactly the linked LRU nodes; free slots are the dead ones.
            let n = templates.count
            try require(
                n < Int(Int32.max / 2) && templateLRU.nodeCount == n,
                "\(templateLRU.nodeCount) LRU nodes for \(n) templates")
            var isFree = [Bool](repeating: false, count: n)
            for s in freeTemplateSlots {
                try require(
                    s >= 0 && Int(s) < n && !isFree[Int(s)] && !templates[Int(s)].isLive, "free template slot \(s)")
                isFree[Int(s)] = true
            }
            var ids = Set<UInt64>()
            var shapes = Set<UInt64>()
            for (s, t) in templates.enumerated() {
                try require(
                    t.isLive == templateLRU.isLinked(Int32(s)) && t.isLive != isFree[s], "template slot \(s) state")
                guard t.isLive else { continue }
                try require(ids.insert(t.id.rawValue).inserted, "template id live twice")
                if let key = t.shapeKey {
                    try require(!t.isExplicit && shapes.insert(key).inserted, "shape key live twice")
                }
            }

            // Word index: one non-empty posting list per key, each posting a live word-indexed template.
            try require(
                wordKeys.count == wordPostingCounts.count && Set(wordKeys).count == wordKeys.count,
                "word index keys")
            var total = 0
            for count in wordPostingCounts {
                try require(count >= 1 && Int(count) <= wordPostings.count - total, "posting list length \(count)")
                total += Int(count)
            }
            try require(total == wordPostings.count, "posting lists hold \(total) of \(wordPostings.count) postings")
            for s in wordPostings {
                try require(
                    s >= 0 && Int(s) < n && templates[Int(s)].isLive && !templates[Int(s)].isExplicit
                        && templates[Int(s)].shapeKey == nil, "posting to template slot \(s)")
            }
            // Each posting once per list, under a word its template has: indexing relies on it (a template's
            // posting can only be its list's last entry, see `indexWords`) and eviction removes postings by the
            // template's words.
            var start = 0
            var inList = Set<Int32>()
            for (key, count) in zip(wordKeys, wordPostingCounts) {
                inList.removeAll(keepingCapacity: true)
                for s in wordPostings[start..<(start + Int(count))] {
                    try require(inList.insert(s).inserted, "template slot \(s) posted twice in one list")
                    try require(
                        templates[Int(s)].elements.contains { !$0.isSlot && $0.isWord && $0.hash == key },
                        "posting of template slot \(s) under a word it does not have")
                }
                start += Int(count)
            }

            // Cache: parallel arrays over the cache nodes; linked nodes hold entries, free nodes are unlinked.
            let m = cacheLRU.nodeCount
            try require(
                cacheKey1.count == m && cacheKey2.count == m && cacheTemplateSlot.count == m
                    && cacheTemplateID.count == m && cacheVersion.count == m && cacheRangeCounts.count == m,
                "cache arrays differ in length")
            try require(
                cacheTemplateSlot.allSatisfy { $0 >= 0 && Int($0) < n }, "cache entry for a template slot out of range")
            var freeCache = [Bool](repeating: false, count: m)
            for ci in freeCacheEntries {
                try require(
                    ci >= 0 && Int(ci) < m && !freeCache[Int(ci)] && !cacheLRU.isLinked(ci), "free cache entry \(ci)")
                freeCache[Int(ci)] = true
            }
            try require(cacheLRU.linkedCount + freeCacheEntries.count == m, "cache entries neither linked nor free")
            var keys = Set<UInt64>()
            for ci in 0..<m where cacheLRU.isLinked(Int32(ci)) {
                try require(keys.insert(cacheKey1[ci]).inserted, "cache key listed twice")
            }
            var offset = 0
            for count in cacheRangeCounts {
                try require(
                    count >= 0 && count % 2 == 0 && Int(count) <= cacheRanges.count - offset,
                    "slot range count \(count)")
                var previous: Int64 = 0
                for r in cacheRanges[offset..<(offset + Int(count))] {
                    try require(r >= previous && r <= Int64(Int32.max), "cached slot ranges not ascending")
                    previous = r
                }
                offset += Int(count)
            }
            try require(offset == cacheRanges.count, "cached slot ranges left over")
        }
    }

    /// The miner's state, for a checkpoint (see ``Checkpoint`` for what is saved).
    ///
    /// - Complexity: O(state); copies the templates (copy-on-write arrays) and flattens the indexes.
    public func checkpoint() -> Checkpoint { Checkpoint(self) }

    /// Rebuilds a miner with `configuration` (clamped as in ``init(configuration:)``) and the saved state, so that
    /// it mines every later text exactly as the saved miner would have.
    ///
    /// - Throws: ``TemplateCheckpointError`` when the state does not fit the configuration: more live templates
    ///   than ``Configuration/maxTemplates``, a template with more constants than ``Configuration/maxTokens``
    ///   (the LCS table is sized by it), a posting list longer than ``Configuration/maxPostingsPerToken``, or
    ///   more cache entries than ``Configuration/cacheSize``.
    /// - Complexity: O(state).
    public init(configuration: Configuration = Configuration(), restoring checkpoint: Checkpoint) throws {
        self.init(configuration: configuration)
        let c = self.configuration
        let cp = checkpoint
        let live = cp.templateLRU.linkedCount
        guard live <= c.maxTemplates else {
            throw TemplateCheckpointError("\(live) templates, maxTemplates is \(c.maxTemplates)")
        }
        for (s, t) in cp.templates.enumerated() where t.constantHashes.count > c.maxTokens {
            throw TemplateCheckpointError(
                "template \(s) has \(t.constantHashes.count) constants, maxTokens is \(c.maxTokens)")
        }
        if let longest = cp.wordPostingCounts.max(), Int(longest) > c.maxPostingsPerToken {
            throw TemplateCheckpointError(
                "a posting list holds \(longest), maxPostingsPerToken is \(c.maxPostingsPerToken)")
        }
        guard cp.cacheLRU.nodeCount <= c.cacheSize else {
            throw TemplateCheckpointError("\(cp.cacheLRU.nodeCount) cache entries, cacheSize is \(c.cacheSize)")
        }
        counters = cp.counters
        serial = cp.serial
        templates = cp.templates
        freeTemplateSlots = cp.freeTemplateSlots
        templateLRU = cp.templateLRU
        candidateCount = [Int32](repeating: 0, count: templates.count)
        for (s, t) in templates.enumerated() where t.isLive {
            slotByID[t.id.rawValue] = Int32(s)
            if let k = t.shapeKey { shapeIndex[k] = Int32(s) }
        }
        var offset = 0
        for (k, count) in zip(cp.wordKeys, cp.wordPostingCounts) {
            wordIndex[k] = Array(cp.wordPostings[offset..<(offset + Int(count))])
            offset += Int(count)
        }
        cacheKey1 = cp.cacheKey1
        cacheKey2 = cp.cacheKey2
        cacheTemplateSlot = cp.cacheTemplateSlot
        cacheTemplateID = cp.cacheTemplateID
        cacheVersion = cp.cacheVersion
        cacheRanges.removeAll()
        offset = 0
        for (entry, count) in cp.cacheRangeCounts.enumerated() {
            cacheRanges.appendEntry()
            cacheRanges.set(Int32(entry), cp.cacheRanges[offset..<(offset + Int(count))].lazy.map { Int($0) })
            offset += Int(count)
        }
        cacheLRU = cp.cacheLRU
        freeCacheEntries = cp.freeCacheEntries
        for ci in 0..<cacheKey1.count where cacheLRU.isLinked(Int32(ci)) { cacheMap[cacheKey1[ci]] = Int32(ci) }
    }
}

extension Template {
    /// Restores a template; its constant hashes, word count and text are rebuilt from the elements.
    ///
    /// - Throws: `DecodingError.dataCorrupted` when two slots are adjacent (slot extraction relies on a constant
    ///   between slots) or an evicted template still has elements.
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(id: try c.decode(TemplateID.self, forKey: .id))
        version = try c.decode(UInt32.self, forKey: .version)
        matches = try c.decode(UInt32.self, forKey: .matches)
        isLive = try c.decode(Bool.self, forKey: .isLive)
        isExplicit = try c.decode(Bool.self, forKey: .isExplicit)
        shapeKey = try c.decodeIfPresent(UInt64.self, forKey: .shapeKey)
        elements = try c.decode([Element].self, forKey: .elements)
        var previousSlot = false
        for e in elements {
            guard !(e.isSlot && previousSlot) else {
                throw DecodingError.dataCorruptedError(forKey: .elements, in: c, debugDescription: "adjacent slots")
            }
            previousSlot = e.isSlot
        }
        guard isLive || elements.isEmpty else {
            throw DecodingError.dataCorruptedError(
                forKey: .elements, in: c, debugDescription: "evicted template with elements")
        }
        rebuildDerived()
    }
}

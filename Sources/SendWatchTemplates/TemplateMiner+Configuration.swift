extension TemplateMiner {
    /// Bounds and thresholds of a ``TemplateMiner``.
    public struct Configuration: Sendable, Hashable {
        /// Maximum number of live templates (mined and explicit). Default 10,000.
        ///
        /// At the bound, creating a template first evicts the least recently matched one (counted in
        /// ``Counters/templatesEvicted``); an evicted template's id is never reused for a mined template.
        public var maxTemplates: Int
        /// Minimum share of constant tokens that a text and a template must have in common, in order (longest
        /// common subsequence), for the text to join the template. Range 0...1, default 0.6.
        ///
        /// The share is taken over the *smaller* side: `lcs / min(templateConstants, textConstants)`. Measured
        /// over the template alone (as in Spell), a template first created by a long scam text could never
        /// absorb the short legitimate texts of the same template, so grouping would depend on which came
        /// first. Two guards keep the looser measure safe: at least `min(2, words in template, words in text)`
        /// of the shared tokens must be words (not punctuation), and a join never leaves a template with fewer
        /// than that many word constants. 0.6 keeps `<*> sent you a file` apart from `<*> sent you a private
        /// message` only at the edge (3 of 5), joins two-slot templates such as `Welcome to <*>, <*>!` on their
        /// second instance, and scored purity and completeness of 1.0 on the quality test (0.5 merged
        /// near-identical templates; see the DocC catalog).
        public var similarity: Double
        /// Maximum tokens per text. Default 64. Content after the first `maxTokens - 1` tokens becomes one
        /// masked token (the tail of the last slot); such texts are counted in ``Counters/truncatedTexts``.
        public var maxTokens: Int
        /// Templates whose LCS with the text is computed, per text that misses the cache. Default 16.
        public var maxCandidates: Int
        /// Templates remembered per word in the inverted index. Default 512. At the bound the oldest posting is
        /// dropped (counted in ``Counters/postingsDropped``); the template stays findable through its other
        /// words. Very common words thus only point at the most recent templates that use them.
        public var maxPostingsPerToken: Int
        /// Entries of the exact-text cache (LRU). Default 65,536; 0 disables the cache.
        public var cacheSize: Int
        /// Maximum bytes of one slot value; longer values are cut at a UTF-8 character boundary and counted in
        /// ``Counters/truncatedSlots``. Default 256.
        public var maxSlotBytes: Int

        /// Creates a configuration; every default is listed here.
        public init(
            maxTemplates: Int = 10_000, similarity: Double = 0.6, maxTokens: Int = 64, maxCandidates: Int = 16,
            maxPostingsPerToken: Int = 512, cacheSize: Int = 65_536, maxSlotBytes: Int = 256
        ) {
            self.maxTemplates = maxTemplates
            self.similarity = similarity
            self.maxTokens = maxTokens
            self.maxCandidates = maxCandidates
            self.maxPostingsPerToken = maxPostingsPerToken
            self.cacheSize = cacheSize
            self.maxSlotBytes = maxSlotBytes
        }

        /// Every problem with the configuration, or an empty array. ``TemplateMiner/init(configuration:)``
        /// clamps out-of-range values instead of failing; callers that load user configuration check this first.
        public func problems() -> [String] {
            var out: [String] = []
            if maxTemplates < 1 { out.append("maxTemplates must be at least 1") }
            if !(similarity >= 0 && similarity <= 1) { out.append("similarity must be between 0 and 1") }
            if maxTokens < 2 || maxTokens > 1024 { out.append("maxTokens must be between 2 and 1024") }
            if maxCandidates < 1 { out.append("maxCandidates must be at least 1") }
            if maxPostingsPerToken < 1 { out.append("maxPostingsPerToken must be at least 1") }
            if cacheSize < 0 { out.append("cacheSize must not be negative") }
            if maxSlotBytes < 1 { out.append("maxSlotBytes must be at least 1") }
            return out
        }

        /// The configuration with every field forced into its valid range.
        var clamped: Configuration {
            var c = self
            c.maxTemplates = max(1, min(c.maxTemplates, Int(Int32.max / 2)))
            c.similarity = c.similarity.isNaN ? 0.6 : max(0, min(1, c.similarity))
            c.maxTokens = max(2, min(1024, c.maxTokens))
            c.maxCandidates = max(1, c.maxCandidates)
            c.maxPostingsPerToken = max(1, c.maxPostingsPerToken)
            c.cacheSize = max(0, min(c.cacheSize, Int(Int32.max / 2)))
            c.maxSlotBytes = max(1, c.maxSlotBytes)
            return c
        }
    }

    /// What the miner did since it was created.
    public struct Counters: Sendable, Hashable, Codable {
        /// Texts mined.
        public var texts = 0
        /// Templates created (mined and explicit).
        public var templatesCreated = 0
        /// Templates evicted at ``Configuration/maxTemplates``.
        public var templatesEvicted = 0
        /// Templates removed because a generalised template fully covers them (early splits of one template).
        public var templatesMerged = 0
        /// Joins that changed a template (constants became `<*>` or a slot was inserted).
        public var templatesGeneralised = 0
        /// Texts answered from the exact-text cache with the template unchanged.
        public var cacheHits = 0
        /// Texts not in the cache (or whose cached template was evicted).
        public var cacheMisses = 0
        /// Cache hits whose template had generalised since; the text was re-aligned to the template.
        public var cacheRealigned = 0
        /// Texts longer than ``Configuration/maxTokens`` tokens (counted when tokenised: a repeated text
        /// answered from the cache is not counted again).
        public var truncatedTexts = 0
        /// Slot values cut at ``Configuration/maxSlotBytes`` (counted when computed, not on cache hits).
        public var truncatedSlots = 0
        /// Inverted-index postings dropped at ``Configuration/maxPostingsPerToken``.
        public var postingsDropped = 0
        /// Texts mined with an explicit template id.
        public var explicitTexts = 0

        public init() {}
    }
}

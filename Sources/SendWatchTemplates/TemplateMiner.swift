import SendWatchCore

/// A streaming, bounded miner that groups subject/notification texts by the fixed template they were made from
/// and extracts the variable parts (slots).
///
/// Platforms echo user-controlled fields (tenant name, display name) into fixed templates such as
/// `"<name> sent you a private message"`. The miner sees `"Acme GmbH sent you a private message"` and
/// `"Your payment of $499 is pending. Call +1 (888) 555-0134 sent you a private message"` as one template,
/// `"<*> sent you a private message"`, with slot values `["Acme GmbH"]` and
/// `["Your payment of $499 is pending. Call +1 (888) 555-0134"]`. Slots may hold any number of tokens and sit
/// anywhere, so grouping is by the longest common subsequence (LCS) of constant tokens (Spell-style), with an
/// inverted index from words to templates to find candidates, not by token count and first tokens (Drain).
///
/// Per text:
/// 1. Exact-text cache (LRU, keyed by two independent 64-bit hashes of the bytes and the explicit id): a hit
///    whose template has not changed since returns the cached slot ranges in O(1) (plus the hash of the text).
///    If the template generalised since, the text is re-aligned to it.
/// 2. Tokenise (byte ranges, see the DocC article) and pre-mask obvious variables (numbers, ids, URLs, e-mail
///    addresses, amounts).
/// 3. Candidates: templates sharing words with the text, ranked by the number of shared words; the LCS of
///    constant tokens is computed for the best ``Configuration/maxCandidates``; the best-scoring template that
///    passes ``Configuration/similarity`` is joined (constants missing from the text become `<*>`, a slot is
///    inserted where the text has extra tokens, adjacent slots merge). Otherwise the text creates a template.
/// 4. Slot values are the raw byte spans of the text between the template's constants.
///
/// With an explicit template id (``mine(_:explicitTemplate:)``) the group is the id itself and every text of
/// that id joins its per-id template unconditionally; mined texts never join explicit templates.
///
/// Order dependence: ids are derived from the first text of a template and the creation serial, so they depend
/// on input order (and are stable for the same order). Grouping is largely order independent for templates whose
/// instances share at least the similarity share of their constants; a template's text may differ by order
/// only where a generalisation step was needed (see the DocC catalog).
///
/// Memory: per template about 32 bytes per element (≤ 2 × ``Configuration/maxTokens`` + 1 elements), 9 bytes
/// per constant, the rendered text, constant strings longer than 15 bytes, and one 4-byte posting per word
/// (≈ 1–3 KiB for a typical 8–20 token subject); about 10–30 MiB at 10,000 templates. Each cache entry costs
/// ≈ 100 bytes with its index (room for six slots' ranges inline, ``CachedSlotRanges``; a text with more slots
/// adds about 48 bytes plus 8 per range), ≈ 6.5 MB at 65,536 entries. Scratch: (maxTokens + 1)² × 2 bytes and
/// 2.5 KiB of position masks (``ConstantPositionMasks``).
///
/// Usage:
/// ```swift
/// var miner = TemplateMiner()
/// let m = miner.mine("Acme GmbH sent you a private message")
/// print(m.id, m.text, m.slots)
/// ```
public struct TemplateMiner: Sendable {
    /// The (clamped) configuration in use.
    public let configuration: Configuration
    /// What the miner did so far.
    public internal(set) var counters = Counters()

    // Templates: dense slots, recency list over slot indices, id lookup, word index, shape index.
    var templates: [Template] = []
    var freeTemplateSlots: [Int32] = []
    var templateLRU = LRUList()
    var slotByID: [UInt64: Int32] = [:]
    var wordIndex: [UInt64: [Int32]] = [:]
    var shapeIndex: [UInt64: Int32] = [:]
    var serial: UInt64 = 0

    // Exact-text cache.
    var cacheKey1: [UInt64] = []
    var cacheKey2: [UInt64] = []
    var cacheTemplateSlot: [Int32] = []
    var cacheTemplateID: [UInt64] = []
    var cacheVersion: [UInt32] = []
    var cacheRanges = CachedSlotRanges()
    var cacheMap: [UInt64: Int32] = [:]
    var cacheLRU = LRUList()
    var freeCacheEntries: [Int32] = []

    // Scratch, reused across calls.
    var tokens: TokenBuffer
    var messageConstantHash: [UInt64] = []
    var messageConstantToken: [Int32] = []
    var messageConstantIsWord: [Bool] = []
    var messageWordCount = 0
    var lcsTable: [UInt16] = []
    var positionMasks = ConstantPositionMasks()
    /// Whether candidates' LCS lengths come from ``positionMasks`` (the table is then filled only for the
    /// candidates whose pairs are read). Always on; tests turn it off to compare the two paths.
    var usesPositionMasks = true
    /// Whether adding a posting scans the whole list for the template (``indexWords(templateSlot:)`` shows that
    /// its last entry is enough). Always off; tests turn it on to compare the two.
    var scansPostingLists = false
    var pairTemplate: [Int32] = []
    var pairMessage: [Int32] = []
    var bestPairTemplate: [Int32] = []
    var bestPairMessage: [Int32] = []
    var candidateCount: [Int32] = []
    var touched: [Int32] = []
    var topKeys: [UInt64] = []
    var anchors: [Int32] = []
    var newElements: [Template.Element] = []
    var slotRanges: [Int] = []

    /// Creates an empty miner. Out-of-range configuration values are clamped (see
    /// ``Configuration/problems()``).
    public init(configuration: Configuration = Configuration()) {
        let c = configuration.clamped
        self.configuration = c
        self.tokens = TokenBuffer(capacity: c.maxTokens)
        let side = c.maxTokens + 1
        lcsTable = [UInt16](repeating: 0, count: side * side)
        messageConstantHash.reserveCapacity(c.maxTokens)
        messageConstantToken.reserveCapacity(c.maxTokens)
        messageConstantIsWord.reserveCapacity(c.maxTokens)
        pairTemplate.reserveCapacity(c.maxTokens)
        pairMessage.reserveCapacity(c.maxTokens)
        bestPairTemplate.reserveCapacity(c.maxTokens)
        bestPairMessage.reserveCapacity(c.maxTokens)
        anchors.reserveCapacity(c.maxTokens)
        newElements.reserveCapacity(2 * c.maxTokens + 1)
        slotRanges.reserveCapacity(2 * c.maxTokens + 2)
        topKeys.reserveCapacity(c.maxCandidates)
    }

    /// Mines one text: finds or creates its template and extracts its slot values.
    ///
    /// - Parameters:
    ///   - text: The subject or notification text.
    ///   - explicitTemplate: An explicit template id carried by the log (`X-Template-Id`, JSON `template_id`),
    ///     or `nil` to mine the template from the text alone.
    /// - Returns: The template id, its current text, the slot values and whether this text created it.
    /// - Complexity: Cache hit: O(*n*) to hash the *n* bytes plus O(*s*) for the *s* slot values. Miss: O(*n*)
    ///   tokenising (stopping at ``Configuration/maxTokens``), O(*w* · ``Configuration/maxPostingsPerToken``)
    ///   candidate counting for *w* words, O(``Configuration/maxCandidates`` · *t*) LCS lengths for *t* template
    ///   constants, and an O(*m* · *t*) LCS table for *m* text constants per candidate better than the ones
    ///   before it (at worst every candidate; every one for a text of more than 64 constants).
    public mutating func mine(_ text: String, explicitTemplate: String? = nil) -> TemplateMatch {
        let explicitID = explicitTemplate.map { TemplateID(explicit: $0) }
        return text.withUTF8Bytes { buffer in
            // The buffer is only used inside this call; slot values are copied out as Strings.
            self.mineBytes(UnsafeRawBufferPointer(buffer), explicitID: explicitID)
        }
    }

    /// Mines one text as ``mine(_:explicitTemplate:)`` does, leaving the miner in the same state, without
    /// building the match: for a caller that only teaches the miner (the detection engine's established
    /// accounts), so that no slot value `String`, slot array or template text reference is made only to be
    /// thrown away.
    ///
    /// - Complexity: See ``mine(_:explicitTemplate:)``, without the O(*s*) slot values.
    public mutating func learn(_ text: String, explicitTemplate: String? = nil) {
        let explicitID = explicitTemplate.map { TemplateID(explicit: $0) }
        text.withUTF8Bytes { buffer in
            _ = self.place(UnsafeRawBufferPointer(buffer), explicitID: explicitID)
        }
    }

    /// Mines one text given as UTF-8 bytes (invalid sequences are repaired in the returned strings only).
    ///
    /// - Complexity: See ``mine(_:explicitTemplate:)``.
    public mutating func mine(utf8 bytes: UnsafeRawBufferPointer, explicitTemplate: String? = nil) -> TemplateMatch {
        mineBytes(bytes, explicitID: explicitTemplate.map { TemplateID(explicit: $0) })
    }

    /// Number of live templates (≤ ``Configuration/maxTemplates``).
    public var templateCount: Int { slotByID.count }

    /// The current text of a live template, or `nil` if the id is unknown or evicted.
    public func templateText(for id: TemplateID) -> String? {
        guard let s = slotByID[id.rawValue] else { return nil }
        return templates[Int(s)].text
    }

    /// The ids of all live templates, sorted.
    public var templateIDs: [TemplateID] { slotByID.keys.sorted().map { TemplateID(rawValue: $0) } }
}

/// One template's stored state. A checkpoint saves the fields of ``CodingKeys`` (synthesized `encode(to:)`); the
/// rest is rebuilt from the elements when it is restored (`init(from:)`, in `TemplateMiner+Checkpoint.swift`).
struct Template: Sendable, Codable {
    struct Element: Sendable, Codable {
        /// FNV-1a of the constant's bytes; 0 for a slot.
        var hash: UInt64
        /// The constant's text; empty for a slot.
        var text: String
        var isSlot: Bool
        var isWord: Bool
        var spaceBefore: Bool
    }

    var id: TemplateID
    var version: UInt32 = 0
    /// Texts that matched the template (saturating in practice: wraps only after 2³² texts).
    var matches: UInt32 = 0
    var isLive = true
    var isExplicit = false
    /// Key in the shape index (templates without word constants), or nil.
    var shapeKey: UInt64?
    var elements: [Element] = []
    var constantHashes: [UInt64] = []
    var wordCount = 0
    var text = ""

    /// The saved fields, in the order `encode(to:)` writes them and `init(from:)` reads them.
    enum CodingKeys: String, CodingKey {
        case id, version, matches, isLive, isExplicit, shapeKey, elements
    }

    /// Rebuilds the derived fields (constant hashes, word count, text) from `elements`.
    ///
    /// The text is written once into a string of its final length (the constants' UTF-8 bytes, `<*>` for a
    /// slot, a space before an element that had one), not appended element by element.
    mutating func rebuildDerived() {
        constantHashes.removeAll(keepingCapacity: true)
        // At most one hash per element: one allocation for a new template instead of growing by doubling.
        constantHashes.reserveCapacity(elements.count)
        wordCount = 0
        var length = 0
        for (i, e) in elements.enumerated() {
            if i > 0 && e.spaceBefore { length += 1 }
            if e.isSlot {
                length += 3
            } else {
                length += e.text.utf8.count
                constantHashes.append(e.hash)
                if e.isWord { wordCount += 1 }
            }
        }
        text = String(unsafeUninitializedCapacity: length) { out in
            var w = 0
            for (i, e) in elements.enumerated() {
                if i > 0 && e.spaceBefore {
                    out[w] = 0x20
                    w += 1
                }
                if e.isSlot {
                    out[w] = 0x3C  // <
                    out[w + 1] = 0x2A  // *
                    out[w + 2] = 0x3E  // >
                    w += 3
                } else {
                    // Element texts are valid UTF-8 (decoded with repair when the element was made), so the
                    // result is the same string the concatenation gave.
                    let copied = e.text.utf8.withContiguousStorageIfAvailable { bytes in
                        _ = UnsafeMutableBufferPointer(rebasing: out[w..<(w + bytes.count)]).initialize(from: bytes)
                        return bytes.count
                    }
                    if let n = copied {
                        w += n
                    } else {
                        for b in e.text.utf8 {
                            out[w] = b
                            w += 1
                        }
                    }
                }
            }
            return w
        }
    }
}

extension TemplateMiner {
    /// The whole per-text flow (see the type's discussion).
    mutating func mineBytes(_ p: UnsafeRawBufferPointer, explicitID: TemplateID?) -> TemplateMatch {
        let placed = place(p, explicitID: explicitID)
        let ts = Int(placed.templateSlot)
        if let entry = placed.cacheEntry {
            return TemplateMiner.makeMatch(
                p, id: templates[ts].id, text: templates[ts].text, cached: cacheRanges, entry: entry,
                count: cacheRanges.count(entry), isNew: false)
        }
        return TemplateMiner.makeMatch(
            p, id: templates[ts].id, text: templates[ts].text, ranges: slotRanges, isNew: placed.isNew)
    }

    /// Where ``place(_:explicitID:)`` put a text: its template's slot, the cache entry whose ranges are the
    /// text's slot values (`nil`: they are in ``slotRanges``), and whether the text created the template.
    struct Placement {
        var templateSlot: Int32
        var cacheEntry: Int32?
        var isNew: Bool
    }

    /// The whole per-text flow (see the type's discussion) but the returned match: finds or creates the text's
    /// template, counts and caches it, and says where its slot ranges are. ``mineBytes(_:explicitID:)`` builds
    /// the ``TemplateMatch`` from them; ``learn(_:explicitTemplate:)`` does not.
    mutating func place(_ p: UnsafeRawBufferPointer, explicitID: TemplateID?) -> Placement {
        counters.texts += 1
        if explicitID != nil { counters.explicitTexts += 1 }
        let salt = explicitID.map { FNV1a.finalize($0.rawValue) } ?? 0x6D69_6E65_6421_2121
        let key1 = FNV1a.finalize(FNV1a.hash(p, 0, p.count) ^ salt)
        let key2 = FNV1a.wordHash(p, seed: salt &+ 0x2545_F491_4F6C_DD1D)

        if configuration.cacheSize > 0, let ci = cacheMap[key1], cacheKey2[Int(ci)] == key2 {
            let ts = cacheTemplateSlot[Int(ci)]
            if templates[Int(ts)].isLive && templates[Int(ts)].id.rawValue == cacheTemplateID[Int(ci)] {
                templateLRU.touch(ts)
                cacheLRU.touch(ci)
                templates[Int(ts)].matches &+= 1
                // The range check only fails for a damaged restored cache entry (legitimate ranges come from a
                // text with the same two hashes); such an entry is re-aligned like a changed template.
                let rangeCount = cacheRanges.count(ci)
                if templates[Int(ts)].version == cacheVersion[Int(ci)],
                    (rangeCount == 0 ? 0 : cacheRanges.value(ci, rangeCount - 1)) <= p.count
                {
                    counters.cacheHits += 1
                    return Placement(templateSlot: ts, cacheEntry: ci, isNew: false)
                }
                // The template generalised since: re-align this text to it.
                counters.cacheRealigned += 1
                tokenizeAndCollect(p)
                alignForced(templateSlot: ts, p)
                storeCacheEntry(ci, key1: key1, key2: key2, templateSlot: ts)
                return Placement(templateSlot: ts, cacheEntry: nil, isNew: false)
            }
            removeCacheEntry(ci)
        }
        counters.cacheMisses += 1
        tokenizeAndCollect(p)

        var ts: Int32
        var isNew = false
        if let e = explicitID {
            if let s = slotByID[e.rawValue], templates[Int(s)].isExplicit {
                ts = s
                alignForced(templateSlot: s, p)
            } else {
                // A mined template whose hash equals this explicit id (2⁻⁶⁴ odds) gives way to the explicit one.
                if let s = slotByID[e.rawValue] { evictTemplate(s) }
                ts = createTemplate(p, explicitID: e, shapeKey: nil)
                isNew = true
            }
        } else if messageWordCount == 0 {
            // No words to look up: group by the exact shape (punctuation constants and slots).
            let key = shapeKeyOfMessage()
            if let s = shapeIndex[key] {
                ts = s
                alignForced(templateSlot: s, p)
            } else {
                ts = createTemplate(p, explicitID: nil, shapeKey: key)
                isNew = true
            }
        } else if let s = findBestTemplate() {
            ts = s
            join(templateSlot: s, pairsTemplate: bestPairTemplate, pairsMessage: bestPairMessage, p)
        } else {
            ts = createTemplate(p, explicitID: nil, shapeKey: nil)
            isNew = true
        }
        templateLRU.touch(ts)
        templates[Int(ts)].matches &+= 1
        insertCacheEntry(key1: key1, key2: key2, templateSlot: ts)
        return Placement(templateSlot: ts, cacheEntry: nil, isNew: isNew)
    }

    /// Builds the returned value: the template's stored text (no copy) and one String per slot range.
    ///
    /// Static on purpose: a non-mutating method called from the mutating path made the compiler copy the
    /// whole miner (measured in the profile).
    static func makeMatch(
        _ p: UnsafeRawBufferPointer, id: TemplateID, text: String, ranges: [Int], isNew: Bool
    ) -> TemplateMatch {
        var slots: [String] = []
        slots.reserveCapacity(ranges.count / 2)
        var i = 0
        while i + 1 < ranges.count {
            slots.append(
                String(decoding: UnsafeRawBufferPointer(rebasing: p[ranges[i]..<ranges[i + 1]]), as: UTF8.self))
            i += 2
        }
        return TemplateMatch(id: id, text: text, slots: slots, isNewTemplate: isNew)
    }

    /// ``makeMatch(_:id:text:ranges:isNew:)`` with the `count` ranges of the cache's `entry`.
    static func makeMatch(
        _ p: UnsafeRawBufferPointer, id: TemplateID, text: String, cached: CachedSlotRanges, entry: Int32, count: Int,
        isNew: Bool
    ) -> TemplateMatch {
        var slots: [String] = []
        slots.reserveCapacity(count / 2)
        var i = 0
        while i + 1 < count {
            let range = cached.value(entry, i)..<cached.value(entry, i + 1)
            slots.append(String(decoding: UnsafeRawBufferPointer(rebasing: p[range]), as: UTF8.self))
            i += 2
        }
        return TemplateMatch(id: id, text: text, slots: slots, isNewTemplate: isNew)
    }

    /// Tokenises `p` into `tokens` and collects the constant tokens of the text.
    mutating func tokenizeAndCollect(_ p: UnsafeRawBufferPointer) {
        tokens.tokenize(p, maxTokens: configuration.maxTokens)
        if tokens.truncated { counters.truncatedTexts += 1 }
        messageConstantHash.removeAll(keepingCapacity: true)
        messageConstantToken.removeAll(keepingCapacity: true)
        messageConstantIsWord.removeAll(keepingCapacity: true)
        messageWordCount = 0
        for i in 0..<tokens.count {
            let f = tokens.flags[i]
            if f & TokenFlag.masked != 0 { continue }
            messageConstantHash.append(tokens.hash[i])
            messageConstantToken.append(Int32(i))
            let w = f & TokenFlag.word != 0
            messageConstantIsWord.append(w)
            if w { messageWordCount += 1 }
        }
    }

    /// The shape of a text without words: its punctuation constants and collapsed slots.
    func shapeKeyOfMessage() -> UInt64 {
        var h = FNV1a.mix(FNV1a.offsetBasis, byte: 0x53)
        var previousMasked = false
        for i in 0..<tokens.count {
            if tokens.flags[i] & TokenFlag.masked != 0 {
                if !previousMasked { h = FNV1a.mix(h, byte: 0x2A) }
                previousMasked = true
            } else {
                h = FNV1a.finalize(h ^ tokens.hash[i])
                previousMasked = false
            }
        }
        return h
    }

    // MARK: Candidates and LCS

    /// Finds the best template for the collected text, leaving its LCS pairs in `bestPair*`.
    mutating func findBestTemplate() -> Int32? {
        // The counts and the touched list are moved out of `self` while counting, so that each of the ~1 M
        // postings a miss may read costs an increment, not a uniqueness check of the array inside the miner.
        var counts = candidateCount
        candidateCount = []
        var seen = touched
        touched = []
        defer {
            candidateCount = counts
            touched = seen
        }
        seen.removeAll(keepingCapacity: true)
        counts.withUnsafeMutableBufferPointer { c in
            for k in 0..<messageConstantHash.count where messageConstantIsWord[k] {
                guard let postings = wordIndex[messageConstantHash[k]] else { continue }
                // Postings are live templates' slots, below `templates.count == candidateCount.count`.
                for s in postings {
                    let i = Int(s)
                    if c[i] == 0 { seen.append(s) }
                    c[i] &+= 1
                }
            }
        }
        // Top candidates by shared words (ties: lower slot first), kept sorted descending in the first `n` of
        // `topKeys` (sized to maxCandidates, written through a buffer: no uniqueness check per candidate).
        let k = configuration.maxCandidates
        // (Its capacity is reserved at init: padding it back to `k` allocates nothing.)
        if topKeys.count < k { topKeys.append(contentsOf: repeatElement(0, count: k - topKeys.count)) }
        var n = 0
        counts.withUnsafeMutableBufferPointer { c in
            topKeys.withUnsafeMutableBufferPointer { top in
                for s in seen {
                    let key = UInt64(UInt32(c[Int(s)])) << 32 | UInt64(UInt32.max - UInt32(s))
                    c[Int(s)] = 0
                    if n == k {
                        if key <= top[k - 1] { continue }
                    } else {
                        n += 1
                    }
                    var j = n - 1
                    while j > 0 && top[j - 1] < key {
                        top[j] = top[j - 1]
                        j -= 1
                    }
                    top[j] = key
                }
            }
        }
        topKeys.removeLast(k - n)

        var best: Int32 = -1
        var bestScore = Score(coverage: -1, matches: 0, textShare: 0)
        let mc = messageConstantHash.count
        // The LCS length of every candidate comes from the position masks (exact, O(t), see
        // ``ConstantPositionMasks``); the table is filled only for a candidate that passes every test below that
        // reads the length, because only its pairs are read back. Same lengths, same decisions, same table for
        // the backtrack: the assignment is the one the table alone gave. A text too long for the masks (only with
        // maxTokens above 64) fills the table for every candidate, as before.
        let viaMasks = usesPositionMasks && mc > 0 && positionMasks.load(messageConstantHash)
        for key in topKeys {
            let s = Int32(bitPattern: UInt32.max - UInt32(truncatingIfNeeded: key))
            let tc = templates[Int(s)].constantHashes.count
            if tc == 0 || mc == 0 { continue }
            let lcs = viaMasks ? positionMasks.lcsLength(templates[Int(s)].constantHashes) : lcsFill(templateSlot: s)
            if lcs == 0 { continue }
            if Double(lcs) + 1e-9 < configuration.similarity * Double(min(tc, mc)) { continue }
            let score = Score(
                coverage: lcs * 20 / tc, matches: templates[Int(s)].matches, textShare: Double(lcs) / Double(mc))
            if !(bestScore < score) { continue }
            if viaMasks { _ = lcsFill(templateSlot: s) }
            let words = lcsBacktrack(templateSlot: s)
            if words < min(2, templates[Int(s)].wordCount) { continue }
            best = s
            bestScore = score
            keepPairsAsBest()
        }
        return best >= 0 ? best : nil
    }

    /// Copies the LCS pairs of the last backtrack (`pair*`) into `bestPair*`, keeping their capacity.
    mutating func keepPairsAsBest() {
        bestPairTemplate.removeAll(keepingCapacity: true)
        bestPairMessage.removeAll(keepingCapacity: true)
        bestPairTemplate.append(contentsOf: pairTemplate)
        bestPairMessage.append(contentsOf: pairMessage)
    }

    /// How well a text fits a candidate template, compared lexicographically: the share of the template's
    /// constants present in the text (in 5 % steps), then how many texts the template has matched, then the
    /// share of the text's constants that the template explains.
    ///
    /// Coverage comes first so that a template the text fully contains beats one it only partly matches.
    /// Popularity breaks ties because a slot value repeated verbatim across templates (one tenant name echoed
    /// into every notification of the tenant) looks like constant text: between two templates the text fully
    /// contains, the one confirmed by more texts is the platform's template, the other a slot value that
    /// happened to create a template first.
    struct Score {
        var coverage: Int
        var matches: UInt32
        var textShare: Double

        static func < (a: Score, b: Score) -> Bool {
            if a.coverage != b.coverage { return a.coverage < b.coverage }
            if a.matches != b.matches { return a.matches < b.matches }
            return a.textShare < b.textShare
        }
    }

    /// Fills the LCS table of the text's constants against a template's constants; returns the LCS length.
    ///
    /// - Complexity: O(*m* · *t*), no allocation (the table is a reused scratch buffer).
    mutating func lcsFill(templateSlot s: Int32) -> Int {
        // Move the table out while it is written so the compiler needs no copy of `self` for the overlapping
        // accesses (measured: copying the miner struct dominated the miss path).
        var table = lcsTable
        lcsTable = []
        defer { lcsTable = table }
        let tpl = templates[Int(s)].constantHashes
        return tpl.withUnsafeBufferPointer { tpl in
            messageConstantHash.withUnsafeBufferPointer { msg in
                table.withUnsafeMutableBufferPointer { d in TemplateMiner.fillLCS(msg, tpl, d) }
            }
        }
    }

    /// Fills `d` (row-major, `(a.count + 1) × (b.count + 1)`) with the LCS table of `a` against `b` and returns
    /// the LCS length. Both sides hold at most `maxTokens` hashes, so the indices stay inside the
    /// `(maxTokens + 1)²` table.
    static func fillLCS(
        _ a: UnsafeBufferPointer<UInt64>, _ b: UnsafeBufferPointer<UInt64>, _ d: UnsafeMutableBufferPointer<UInt16>
    ) -> Int {
        let m = a.count
        let t = b.count
        let width = t + 1
        for j in 0...t { d[j] = 0 }
        var i = 1
        while i <= m {
            let row = i * width
            let up = row - width
            d[row] = 0
            let mh = a[i - 1]
            for j in 1..<width {
                if mh == b[j - 1] {
                    d[row + j] = d[up + j - 1] &+ 1
                } else {
                    let x = d[up + j]
                    let y = d[row + j - 1]
                    d[row + j] = x >= y ? x : y
                }
            }
            i += 1
        }
        return Int(d[m * width + t])
    }

    /// After template `t` generalised, removes other mined templates whose constants contain all of `t`'s
    /// constants in order and that matched fewer texts: a text of theirs mined now would join `t` (full
    /// coverage, more matches), so they are early splits of the same template (typically the first instance,
    /// with long values in several slots, seen before `t` had generalised). Their cached texts are re-mined on
    /// their next occurrence and join `t`. Counted in ``Counters/templatesMerged``.
    ///
    /// - Complexity: O(*w* · ``Configuration/maxPostingsPerToken`` + ``Configuration/maxCandidates`` · *t*) for
    ///   templates of at most *t* constants; runs only when a template changes.
    mutating func absorbCoveredTemplates(by t: Int32) {
        let tc = templates[Int(t)].constantHashes.count
        let tw = templates[Int(t)].wordCount
        guard tc > 0, tw > 0 else { return }
        touched.removeAll(keepingCapacity: true)
        for e in templates[Int(t)].elements where e.isWord && !e.isSlot {
            guard let postings = wordIndex[e.hash] else { continue }
            for s in postings where s != t {
                if candidateCount[Int(s)] == 0 { touched.append(s) }
                candidateCount[Int(s)] += 1
            }
        }
        // Only templates sharing every word of `t` qualify; examine at most maxCandidates of them.
        var examined = 0
        var victims: [Int32] = []
        for s in touched {
            let shared = Int(candidateCount[Int(s)])
            candidateCount[Int(s)] = 0
            if shared < tw || examined >= configuration.maxCandidates { continue }
            let other = templates[Int(s)]
            // `t` has not yet counted the text being joined, so a tie means `t` has more.
            if other.matches > templates[Int(t)].matches || other.constantHashes.count < tc { continue }
            if tw < min(2, other.wordCount) { continue }
            examined += 1
            // The LCS of the two equals all of `t`'s constants exactly when they are a subsequence of the
            // other's: a greedy scan decides that in O(other's constants), with no table.
            if TemplateMiner.isSubsequence(templates[Int(t)].constantHashes, of: other.constantHashes) {
                victims.append(s)
            }
        }
        for s in victims {
            evictTemplate(s)
            counters.templatesEvicted -= 1
            counters.templatesMerged += 1
        }
    }

    /// Whether `a` is a subsequence of `b` (that is, their LCS has `a.count` elements).
    ///
    /// Greedy: matching each element of `a` at the earliest position of `b` after the previous match never
    /// loses a match a later choice would have kept.
    /// - Complexity: O(`b.count`).
    static func isSubsequence(_ a: [UInt64], of b: [UInt64]) -> Bool {
        var i = 0
        for x in b where i < a.count && x == a[i] { i += 1 }
        return i == a.count
    }

    /// Reads the LCS pairs out of the filled table into `pair*` (ascending); returns how many are words.
    mutating func lcsBacktrack(templateSlot s: Int32) -> Int {
        pairTemplate.removeAll(keepingCapacity: true)
        pairMessage.removeAll(keepingCapacity: true)
        let t = templates[Int(s)].constantHashes.count
        let width = t + 1
        var i = messageConstantHash.count
        var j = t
        var words = 0
        while i > 0 && j > 0 {
            if messageConstantHash[i - 1] == templates[Int(s)].constantHashes[j - 1]
                && lcsTable[i * width + j] == lcsTable[(i - 1) * width + j - 1] &+ 1
            {
                pairTemplate.append(Int32(j - 1))
                pairMessage.append(Int32(i - 1))
                if messageConstantIsWord[i - 1] { words += 1 }
                i -= 1
                j -= 1
            } else if lcsTable[(i - 1) * width + j] >= lcsTable[i * width + j - 1] {
                i -= 1
            } else {
                j -= 1
            }
        }
        pairTemplate.reverse()
        pairMessage.reverse()
        return words
    }

    /// Aligns the text to a given template without a similarity check (explicit ids, shape matches, cache
    /// re-alignment), generalising it if needed.
    mutating func alignForced(templateSlot s: Int32, _ p: UnsafeRawBufferPointer) {
        if templates[Int(s)].constantHashes.isEmpty || messageConstantHash.isEmpty {
            pairTemplate.removeAll(keepingCapacity: true)
            pairMessage.removeAll(keepingCapacity: true)
        } else {
            _ = lcsFill(templateSlot: s)
            _ = lcsBacktrack(templateSlot: s)
        }
        join(templateSlot: s, pairsTemplate: pairTemplate, pairsMessage: pairMessage, p)
    }

    // MARK: Join and slot extraction

    /// Joins the text to a template given the LCS pairs: unmatched constants become slots, a slot is inserted
    /// where the text has tokens between two matched constants, adjacent slots merge. Then computes the slot
    /// ranges of the text into `slotRanges`.
    mutating func join(
        templateSlot s: Int32, pairsTemplate pt: [Int32], pairsMessage pm: [Int32], _ p: UnsafeRawBufferPointer
    ) {
        newElements.removeAll(keepingCapacity: true)
        anchors.removeAll(keepingCapacity: true)
        var changed = false
        var constantIndex: Int32 = 0
        var pi = 0
        var previousToken: Int32 = -1
        let old = templates[Int(s)].elements
        for e in old {
            if e.isSlot {
                appendSlot(spaceBefore: e.spaceBefore)
                continue
            }
            if pi < pt.count && pt[pi] == constantIndex {
                let tok = messageConstantToken[Int(pm[pi])]
                if tok > previousToken + 1 && !(newElements.last?.isSlot ?? false) {
                    appendSlot(spaceBefore: tokens.flags[Int(previousToken + 1)] & TokenFlag.spaceBefore != 0)
                    changed = true
                }
                newElements.append(e)
                anchors.append(tok)
                previousToken = tok
                pi += 1
            } else {
                appendSlot(spaceBefore: e.spaceBefore)
                changed = true
            }
            constantIndex += 1
        }
        if Int(previousToken) + 1 < tokens.count && !(newElements.last?.isSlot ?? false) {
            appendSlot(spaceBefore: tokens.flags[Int(previousToken + 1)] & TokenFlag.spaceBefore != 0)
            changed = true
        }
        if changed {
            let isIndexed = !templates[Int(s)].isExplicit && templates[Int(s)].shapeKey == nil
            if isIndexed { unindexWords(templateSlot: s) }
            templates[Int(s)].elements = newElements
            templates[Int(s)].version &+= 1
            templates[Int(s)].rebuildDerived()
            if isIndexed { indexWords(templateSlot: s) }
            counters.templatesGeneralised += 1
            if isIndexed { absorbCoveredTemplates(by: s) }
        }
        computeSlotRanges(templateSlot: s, p)
    }

    @inline(__always)
    mutating func appendSlot(spaceBefore: Bool) {
        if let last = newElements.last, last.isSlot { return }
        newElements.append(Template.Element(hash: 0, text: "", isSlot: true, isWord: false, spaceBefore: spaceBefore))
    }

    /// Slot value ranges of the current text against a template whose constants are anchored at `anchors`.
    mutating func computeSlotRanges(templateSlot s: Int32, _ p: UnsafeRawBufferPointer) {
        slotRanges.removeAll(keepingCapacity: true)
        var constantIndex = 0
        var previousToken = -1
        let elements = templates[Int(s)].elements
        for (i, e) in elements.enumerated() {
            if !e.isSlot {
                previousToken = Int(anchors[constantIndex])
                constantIndex += 1
                continue
            }
            // Slots never touch, so the next element is a constant or the end.
            let nextToken = i + 1 < elements.count ? Int(anchors[constantIndex]) : tokens.count
            if appendSlotRange(previousToken + 1, nextToken - 1, p) { counters.truncatedSlots += 1 }
        }
    }

    /// Appends the byte range of tokens `first...last` of the current text to ``slotRanges`` (an empty range at
    /// token `first`'s start, or at the text's end past its last token, when `last < first`), cut at
    /// ``Configuration/maxSlotBytes`` on a character boundary (``slotValueEnd(_:_:_:)``). Returns whether it cut.
    /// The one slot-range step of mined texts (``computeSlotRanges(templateSlot:_:)``) and cut ones
    /// (``prefixSlotRanges(templateSlot:_:)``).
    @discardableResult @inline(__always)
    mutating func appendSlotRange(_ first: Int, _ last: Int, _ p: UnsafeRawBufferPointer) -> Bool {
        if first > last {
            let at = first < tokens.count ? tokens.start[first] : p.count
            slotRanges.append(at)
            slotRanges.append(at)
            return false
        }
        let start = tokens.start[first]
        let end = slotValueEnd(start, tokens.end[last], p)
        slotRanges.append(start)
        slotRanges.append(end)
        return end < tokens.end[last]
    }

    /// The end of the slot value `p[start..<end]` kept: `end` when the value is at most
    /// ``Configuration/maxSlotBytes`` long, else `start + maxSlotBytes` backed off to a UTF-8 character boundary.
    @inline(__always)
    func slotValueEnd(_ start: Int, _ end: Int, _ p: UnsafeRawBufferPointer) -> Int {
        guard end - start > configuration.maxSlotBytes else { return end }
        var cut = start + configuration.maxSlotBytes
        while cut > start && p[cut] & 0xC0 == 0x80 { cut -= 1 }
        return cut
    }
}

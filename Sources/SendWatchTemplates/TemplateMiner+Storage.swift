import SendWatchCore

extension TemplateMiner {
    // MARK: Templates

    /// Creates a template from the collected text (masked tokens become slots) and computes its slot ranges.
    /// Evicts the least recently matched template first when at ``Configuration/maxTemplates``.
    mutating func createTemplate(_ p: UnsafeRawBufferPointer, explicitID: TemplateID?, shapeKey: UInt64?) -> Int32 {
        if slotByID.count >= configuration.maxTemplates, templateLRU.oldest >= 0 {
            evictTemplate(templateLRU.oldest)
        }
        newElements.removeAll(keepingCapacity: true)
        anchors.removeAll(keepingCapacity: true)
        var h = FNV1a.mix(FNV1a.offsetBasis, byte: 0x4D)
        for i in 0..<tokens.count {
            let f = tokens.flags[i]
            let space = f & TokenFlag.spaceBefore != 0
            if f & TokenFlag.masked != 0 {
                if newElements.last?.isSlot ?? false { continue }
                appendSlot(spaceBefore: space)
                h = FNV1a.mix(h, byte: 0x2A)
            } else {
                let text = String(
                    decoding: UnsafeRawBufferPointer(rebasing: p[tokens.start[i]..<tokens.end[i]]), as: UTF8.self)
                newElements.append(
                    Template.Element(
                        hash: tokens.hash[i], text: text, isSlot: false, isWord: f & TokenFlag.word != 0,
                        spaceBefore: space))
                anchors.append(Int32(i))
                h = FNV1a.finalize(h ^ tokens.hash[i])
            }
        }
        var id: UInt64
        if let e = explicitID {
            id = e.rawValue
        } else {
            // The serial makes an evicted template's id unrepeatable; the content keeps ids informative.
            id = FNV1a.finalize(h ^ FNV1a.finalize(serial))
            while slotByID[id] != nil { id = FNV1a.finalize(id) }
        }
        serial &+= 1

        var t = Template(id: TemplateID(rawValue: id))
        t.isExplicit = explicitID != nil
        t.shapeKey = shapeKey
        t.elements = newElements
        t.rebuildDerived()
        let (s, appended) = templates.storeInFreeSlot(t, free: &freeTemplateSlots)
        if appended {
            candidateCount.append(0)
            _ = templateLRU.appendNode()
        }
        templateLRU.linkNewest(s)
        slotByID[id] = s
        if let k = shapeKey {
            shapeIndex[k] = s
        } else if explicitID == nil {
            indexWords(templateSlot: s)
        }
        counters.templatesCreated += 1
        computeSlotRanges(templateSlot: s, p)
        return s
    }

    /// Removes a template and everything that points at it (cache entries are detected as stale on use).
    mutating func evictTemplate(_ s: Int32) {
        let t = templates[Int(s)]
        if let k = t.shapeKey {
            shapeIndex.removeValue(forKey: k)
        } else if !t.isExplicit {
            unindexWords(templateSlot: s)
        }
        slotByID.removeValue(forKey: t.id.rawValue)
        templateLRU.unlink(s)
        templates[Int(s)].isLive = false
        templates[Int(s)].elements = []
        templates[Int(s)].constantHashes = []
        templates[Int(s)].text = ""
        freeTemplateSlots.append(s)
        counters.templatesEvicted += 1
    }

    /// Adds one posting per distinct word constant; drops the oldest posting of a full list.
    ///
    /// A posting of `s` can only be its list's last entry here: `s` enters this call with no posting (a new
    /// template's slot was unindexed when it was freed; a generalised template is unindexed right before), and
    /// postings are appended at the end, so a word repeated in the template finds `s` last (a full list drops its
    /// first entry before appending, never the one just added). Checking the last entry is therefore the whole
    /// duplicate test; `scansPostingLists` restores the scan of the whole list for tests.
    /// - Complexity: O(*w*) for *w* word constants, plus O(``Configuration/maxPostingsPerToken``) per full list
    ///   (dropping its first entry).
    mutating func indexWords(templateSlot s: Int32) {
        let cap = configuration.maxPostingsPerToken
        let scan = scansPostingLists
        var dropped = 0
        for e in templates[Int(s)].elements where e.isWord && !e.isSlot {
            // One lookup: the list is modified in place (a new key gets a list holding `s`).
            TemplateMiner.addPosting(s, to: &wordIndex[e.hash, default: []], cap: cap, scan: scan, dropped: &dropped)
        }
        counters.postingsDropped += dropped
    }

    /// Appends `s` to a posting list unless it is already there (see ``indexWords(templateSlot:)``), first
    /// dropping the list's oldest entry when it holds `cap`.
    @inline(__always)
    static func addPosting(_ s: Int32, to list: inout [Int32], cap: Int, scan: Bool, dropped: inout Int) {
        if list.last == s { return }
        if scan && list.contains(s) { return }
        if list.count >= cap {
            list.removeFirst()
            dropped += 1
        }
        list.append(s)
    }

    /// Removes every posting of a template.
    mutating func unindexWords(templateSlot s: Int32) {
        for e in templates[Int(s)].elements where e.isWord && !e.isSlot {
            guard var list = wordIndex.removeValue(forKey: e.hash) else { continue }
            var w = 0
            for r in 0..<list.count where list[r] != s {
                list[w] = list[r]
                w += 1
            }
            list.removeLast(list.count - w)
            if !list.isEmpty { wordIndex[e.hash] = list }
        }
    }

    // MARK: Exact-text cache

    /// Inserts (or overwrites) the cache entry for the current text, evicting the least recent entry when full.
    mutating func insertCacheEntry(key1: UInt64, key2: UInt64, templateSlot ts: Int32) {
        guard configuration.cacheSize > 0 else { return }
        let ci: Int32
        if let existing = cacheMap[key1] {
            ci = existing
            cacheLRU.touch(ci)
        } else {
            if let free = freeCacheEntries.popLast() {
                ci = free
            } else if cacheLRU.nodeCount < configuration.cacheSize {
                ci = cacheLRU.appendNode()
                cacheKey1.append(0)
                cacheKey2.append(0)
                cacheTemplateSlot.append(0)
                cacheTemplateID.append(0)
                cacheVersion.append(0)
                cacheRanges.appendEntry()
            } else {
                ci = cacheLRU.oldest
                cacheMap.removeValue(forKey: cacheKey1[Int(ci)])
                cacheLRU.unlink(ci)
            }
            cacheLRU.linkNewest(ci)
            cacheMap[key1] = ci
        }
        storeCacheEntry(ci, key1: key1, key2: key2, templateSlot: ts)
    }

    mutating func storeCacheEntry(_ ci: Int32, key1: UInt64, key2: UInt64, templateSlot ts: Int32) {
        let i = Int(ci)
        cacheKey1[i] = key1
        cacheKey2[i] = key2
        cacheTemplateSlot[i] = ts
        cacheTemplateID[i] = templates[Int(ts)].id.rawValue
        cacheVersion[i] = templates[Int(ts)].version
        // Copied into the entry's fixed space (``CachedSlotRanges``), not a buffer of its own.
        cacheRanges.set(ci, slotRanges)
    }

    mutating func removeCacheEntry(_ ci: Int32) {
        cacheMap.removeValue(forKey: cacheKey1[Int(ci)])
        cacheLRU.unlink(ci)
        cacheRanges.clear(ci)
        freeCacheEntries.append(ci)
    }

    // MARK: Invariants

    /// Checks the internal consistency of every structure; returns the first problem found, or `nil`.
    /// For tests (it walks everything: O(state)).
    public func _checkInvariants() -> String? {
        let live = templates.indices.filter { templates[$0].isLive }
        if live.count != slotByID.count { return "live templates \(live.count) != ids \(slotByID.count)" }
        if live.count > configuration.maxTemplates { return "more templates than maxTemplates" }
        if !templateLRU.checkInvariants() || templateLRU.linkedCount != live.count { return "template LRU broken" }
        if live.count + freeTemplateSlots.count != templates.count { return "free template slots inconsistent" }
        for (id, s) in slotByID {
            let t = templates[Int(s)]
            if !t.isLive || t.id.rawValue != id { return "id map points at the wrong template" }
            var previousSlot = false
            var constants = 0
            for e in t.elements {
                if e.isSlot && previousSlot { return "adjacent slots in \(t.text)" }
                previousSlot = e.isSlot
                if !e.isSlot { constants += 1 }
            }
            if constants != t.constantHashes.count { return "constant hashes out of date" }
            if t.constantHashes.count > configuration.maxTokens { return "too many constants" }
        }
        for (h, list) in wordIndex {
            if list.isEmpty { return "empty posting list" }
            if list.count > configuration.maxPostingsPerToken { return "posting list over its bound" }
            for s in list {
                let t = templates[Int(s)]
                if !t.isLive || t.isExplicit || t.shapeKey != nil { return "posting to a dead or unindexed template" }
                if !t.elements.contains(where: { !$0.isSlot && $0.isWord && $0.hash == h }) {
                    return "posting for a word the template does not have"
                }
            }
            if Set(list).count != list.count { return "duplicate postings" }
        }
        for (_, s) in shapeIndex where !templates[Int(s)].isLive || templates[Int(s)].shapeKey == nil {
            return "shape index points at a dead template"
        }
        if candidateCount.contains(where: { $0 != 0 }) { return "candidate scratch not reset" }
        if cacheMap.count > configuration.cacheSize { return "cache over its bound" }
        if !cacheLRU.checkInvariants() || cacheLRU.linkedCount != cacheMap.count { return "cache LRU broken" }
        for (k, ci) in cacheMap where cacheKey1[Int(ci)] != k || !cacheLRU.isLinked(ci) {
            return "cache map inconsistent"
        }
        return nil
    }
}

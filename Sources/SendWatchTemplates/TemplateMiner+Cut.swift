import SendWatchCore

extension TemplateMiner {
    /// The id of the group a cut text joins when it fits no known template as a prefix (``mine(cut:)``): one id
    /// for all such texts, apart from every mined and explicit id.
    public static let cutGroupID = TemplateID(explicit: "\u{0}cut subject")
    /// The text of ``cutGroupID``: the whole logged text is its one slot value.
    public static let cutGroupText = "<*>[cut]"

    /// Mines a text the log cut short (Postfix logs at most 200 bytes of a header, before decoding): the start of
    /// a real subject, whose last token may be partial.
    ///
    /// The text is matched against the known templates **as a prefix**: the best candidate (found as
    /// ``mine(_:explicitTemplate:)`` finds one, without the last token) is taken when its constants matched by
    /// the text are its first ones, every run of the text's other tokens before the last match lies in a slot
    /// of the template, and what follows the last match is either the start of the template's next slot (its
    /// value, open-ended at the cut) or a start of its next constant (the partial last token). The match has
    /// the template's id and text and the values of the slots up to the cut (the last one possibly cut); the
    /// template's later slots are left out. Otherwise (the cut falls inside a leading slot, so only slot text is
    /// logged, or the template is not known) the match is ``cutGroupID`` with the whole text (at most
    /// ``Configuration/maxSlotBytes``) as its one slot value, so that the text still reaches the slot checks
    /// without a template of its own.
    ///
    /// The miner learns nothing from a cut text: no template is created, generalised, counted or touched, and
    /// nothing is cached (a cut text that joined by the ordinary path would turn the template's constants after
    /// the cut into slots, and one that did not would make a template per subject).
    ///
    /// - Complexity: as a cache miss of ``mine(_:explicitTemplate:)`` (tokenising, candidates, LCS).
    public mutating func mine(cut text: String) -> TemplateMatch {
        text.withUTF8Bytes { buffer in self.mineCut(UnsafeRawBufferPointer(buffer)) }
    }

    mutating func mineCut(_ p: UnsafeRawBufferPointer) -> TemplateMatch {
        tokenizeAndCollect(p)
        // The last token may be partial: it takes part in no alignment.
        if tokens.count > 1, let last = messageConstantToken.last, Int(last) == tokens.count - 1 {
            if messageConstantIsWord.removeLast() { messageWordCount -= 1 }
            messageConstantHash.removeLast()
            messageConstantToken.removeLast()
        }
        if messageWordCount > 0 {
            let first = findBestTemplate()
            if let s = first, prefixSlotRanges(templateSlot: s, p) {
                let t = templates[Int(s)]
                return TemplateMiner.makeMatch(p, id: t.id, text: t.text, ranges: slotRanges, isNew: false)
            }
            if let s = openSlotPrefixTemplate(skipping: first), prefixSlotRanges(templateSlot: s, p) {
                let t = templates[Int(s)]
                return TemplateMiner.makeMatch(p, id: t.id, text: t.text, ranges: slotRanges, isNew: false)
            }
        }
        slotRanges.removeAll(keepingCapacity: true)
        slotRanges.append(0)
        slotRanges.append(slotValueEnd(0, p.count, p))
        return TemplateMiner.makeMatch(
            p, id: Self.cutGroupID, text: Self.cutGroupText, ranges: slotRanges, isNew: false)
    }

    /// The candidate of the last ``findBestTemplate()`` (its `topKeys`, most shared words first) that the text fits
    /// as a prefix **with the slot open at the cut**, ignoring the similarity the ordinary path asks for, or `nil`;
    /// leaves its LCS pairs in `bestPair*`. `skip` (the ordinary path's choice, already tried) is left out.
    ///
    /// The ordinary similarity counts all of a template's constants, but a cut text can hold only those before
    /// the cut: `Call +1 (877) 268-5165 now mentioned you in #refu` shares 3 of the 7 constants of `<*> mentioned
    /// you in <*>: see the notes`, below the 0.6 of the smaller side, though it is that template cut inside its
    /// channel slot. So a candidate is taken here when its constants the text matched are its first ones, with
    /// at least two words (all its words when it has fewer), and the element after the last of them is a slot
    /// (the one the cut fell in); ``prefixSlotRanges(templateSlot:_:)`` then checks that every other run of the
    /// text lies in a slot. The candidate with the most matched constants wins (ties: the earlier one). A cut
    /// inside a constant (`… mention`) is not placed by this path: a partial word is too weak a hint.
    ///
    /// - Complexity: one LCS fill and backtrack per candidate, at most ``Configuration/maxCandidates``.
    mutating func openSlotPrefixTemplate(skipping skip: Int32?) -> Int32? {
        var best: Int32 = -1
        var bestLength = 0
        for key in topKeys {
            let s = Int32(bitPattern: UInt32.max - UInt32(truncatingIfNeeded: key))
            if s == skip { continue }
            let t = templates[Int(s)]
            if t.constantHashes.isEmpty || messageConstantHash.isEmpty { continue }
            let length = lcsFill(templateSlot: s)
            if length <= bestLength { continue }
            let words = lcsBacktrack(templateSlot: s)
            if words < min(2, t.wordCount) { continue }
            // The first constants, then a slot.
            guard pairTemplate.last.map(Int.init) == length - 1,
                Self.slotFollows(constants: length, in: t.elements)
            else { continue }
            best = s
            bestLength = length
            keepPairsAsBest()
        }
        return best >= 0 ? best : nil
    }

    /// Whether the element after the template's first `n` constants (`n ≥ 1`) is a slot.
    private static func slotFollows(constants n: Int, in elements: [Template.Element]) -> Bool {
        var seen = 0
        for (i, e) in elements.enumerated() where !e.isSlot {
            seen += 1
            if seen == n { return i + 1 < elements.count && elements[i + 1].isSlot }
        }
        return false
    }

    /// Whether the text fits template `s` as a prefix with the LCS pairs in `bestPair*` (see ``mine(cut:)``);
    /// if so, leaves the slot ranges up to the cut in ``slotRanges``.
    mutating func prefixSlotRanges(templateSlot s: Int32, _ p: UnsafeRawBufferPointer) -> Bool {
        let elements = templates[Int(s)].elements
        let pairs = bestPairTemplate.count
        // The matched constants are the template's first ones.
        for (i, c) in bestPairTemplate.enumerated() where Int(c) != i { return false }
        slotRanges.removeAll(keepingCapacity: true)
        var constantIndex = 0
        var previousToken = -1
        var pendingSlot = false
        for e in elements {
            if e.isSlot {
                pendingSlot = true
                continue
            }
            if constantIndex == pairs {
                // The first constant the text did not reach: after the last match comes the next slot's value
                // (open at the cut), or a start of this constant.
                let first = previousToken + 1
                if pendingSlot {
                    appendSlotRange(first, tokens.count - 1, p)
                } else if first < tokens.count {
                    guard first == tokens.count - 1, Self.startsConstant(p, token: first, of: e, tokens) else {
                        return false
                    }
                }
                return true
            }
            let token = Int(messageConstantToken[Int(bestPairMessage[constantIndex])])
            if pendingSlot {
                appendSlotRange(previousToken + 1, token - 1, p)
            } else if token != previousToken + 1 {
                return false
            }
            pendingSlot = false
            previousToken = token
            constantIndex += 1
        }
        // Every constant matched: a trailing slot takes the rest; without one the text must end here.
        if pendingSlot { appendSlotRange(previousToken + 1, tokens.count - 1, p) }
        return pendingSlot || previousToken + 1 >= tokens.count
    }

    /// Whether token `i` of the text is a non-empty start of constant `e`'s text.
    private static func startsConstant(
        _ p: UnsafeRawBufferPointer, token i: Int, of e: Template.Element, _ tokens: TokenBuffer
    ) -> Bool {
        let start = tokens.start[i]
        let n = tokens.end[i] - start
        let constant = e.text.utf8
        guard n > 0, n <= constant.count else { return false }
        var k = start
        for b in constant.prefix(n) {
            if p[k] != b { return false }
            k += 1
        }
        return true
    }
}

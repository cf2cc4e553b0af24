import SendWatchCore
import SendWatchWindows

/// The sorted names of the accounts a rule's distinct counter holds for one subject (a template), kept between
/// findings so that a finding rebuilt because one account joined inserts one name instead of sorting them all.
///
/// While a rule's alert is open, the rule rebuilds its finding whenever the number of accounts changes
/// (``AlertLifecycle/wants(kind:key:severity:accountsTotal:volume:at:refreshVolume:)``); on a busy template that
/// is nearly every young account's event, and sorting up to `detect.max_alert_accounts` names each time was half
/// of all the work on a log where most accounts are new (docs/performance.md, "Adversarial cardinality"). This
/// list is updated from the counter's hashes instead: accounts that left are dropped, new ones are looked up
/// and inserted at their place, and the listed accounts' young-table slots are kept, so that their evidence
/// samples are read without hashing a name.
///
/// It lists exactly what ``DetectionContext/accountNames(_:at:)`` lists: the names of the counter's accounts
/// that the young-account table holds, sorted (for several counters, the names of either, each once). Slots are looked up again whenever the young-account table
/// removed any entry since the last update (``BoundedKeyTable/removals``), so an evicted account drops out as
/// it would there. (Two names that compare equal as `String`s but differ in bytes keep the order they were
/// added in rather than the counter's order; account names are e-mail addresses and logins, where that does
/// not happen.)
///
/// Derived state: never saved; a restored rule starts without it and builds it at its first finding.
///
/// It also keeps what a finding says about the listed accounts, so that a finding costs no lookup per account:
/// each account's evidence sample (refreshed only for the accounts whose samples the engine changed since the
/// last update, ``YoungTouchLog``) and the time its age is measured from (``AccountAges/ageBase(accountKey:)``,
/// kept sorted, so the least, median and greatest age are read off directly). A finding shares the names and
/// samples (``snapshot(accountsTotal:)``, ``SharedChunks``) instead of copying them.
///
/// Memory: per listed account a name and a sample (32 bytes; their heap blocks are shared with the young-account
/// table), a key (8), a slot (4), a mark (1), a scratch position (4), an age base twice (24), plus a key index
/// of 4 bytes per cell at 2–8 cells per account (8 only after half the accounts left since it was last built):
/// about 90 bytes per account (at most 105), at most `detect.max_alert_accounts` accounts per counter
/// listed (one for `template_swarm`; two for `concentrated_strangers`, whose list is the union of a template's
/// stranger-mailers and its waves' members).
///
/// - Complexity: ``update(to:young:ages:touched:)`` is O(*n*) integer work for *n* counted accounts, plus
///   O(log *n*) name comparisons and an O(*n*) move per account that joined (a full sort when many joined at
///   once) and an O(*n*) pass over the key index per account that joined and per update with departures, plus
///   a young-table read per listed account whose sample changed (every account's after the list missed more
///   than ``YoungTouchLog/capacity`` changes), plus an age lookup and an O(*n*) move for each
///   change of a listed account's age base (``AccountAges/baseLog``; an age lookup per listed account and a sort
///   after the list missed more than its capacity of changes).
struct ListedAccounts: Sendable {
    /// A listed account: its name and its evidence sample as the young-account table holds it.
    struct Member: Sendable {
        var name: String
        var sample: AccountSample
    }

    /// The listed accounts, ascending by name, in chunks that a finding's ``snapshot`` shares
    /// (``SharedChunks``). Each sample equals the young-account table's after every ``update(to:young:ages:touched:)``:
    /// refreshed for the accounts ``YoungTouchLog`` names, all of them when the log no longer reaches back.
    private(set) var members = SharedChunks<Member>()
    /// `keys[i]` is the ``StableHash`` of `members[i]`'s name, the account's key in every table keyed by account.
    private(set) var keys: [UInt64] = []
    /// The young-touch log's ``YoungTouchLog/total`` when the samples were last refreshed.
    private var touchesSeen: UInt64 = 0
    /// `slots[i]` is `names[i]`'s slot in the young-account table, valid while its ``BoundedKeyTable/removals``
    /// equals ``youngRemovals``.
    private var slots: [BoundedKeyTable<YoungAccountState>.Slot] = []
    /// The young-account table's removals when ``slots`` were last checked.
    private var youngRemovals: UInt64 = 0
    /// `bases[i]` is `names[i]`'s ``AccountAges/ageBase(accountKey:)``: refreshed for the keys
    /// ``AccountAges/baseLog`` names since ``agesChanges``, all of them when the log no longer reaches back.
    private var bases: [Int64?] = []
    /// The bases that are not `nil`, ascending (a multiset): the ages' least, median and greatest without a
    /// lookup or a selection per finding (``ageEvidence(at:)``).
    private var sortedBases: [Int64] = []
    /// The account ages' ``AccountAges/baseChanges`` when ``bases`` were last looked up.
    private var agesChanges: UInt64 = 0
    /// Open addressing over `keys`: the index of a listed key plus one, 0 for an empty cell, or
    /// ``departedCell`` for a cell whose account left (probes pass over it, a joining account may take it). Its
    /// size is a power of two, at least 16 and at least twice ``indexUsed``; kept up to date with each join and
    /// departure (``indexInsert(_:at:)``, ``keepHeld()``) and built again only when it grows, when departed
    /// cells outnumber listed accounts, or after a full sort (``addSorting(_:_:)``).
    private var index: [Int32] = []
    /// Cells of ``index`` that are not empty: listed accounts plus departed cells.
    private var indexUsed = 0
    /// Scratch space of ``keepHeld()``: each listed account's position plus one after the departures, or
    /// ``departedCell``.
    private var moved: [Int32] = []
    /// Scratch space of ``update(to:young:ages:touched:)``: which listed accounts the counter still holds, and the
    /// keys it holds that are not listed.
    private var held: [Bool] = []
    private var joined: [UInt64] = []

    /// More accounts joining in one update than this are listed by sorting everything again, which is cheaper
    /// than inserting each.
    private static let maxInsertions = 32

    /// An ``index`` cell whose account left the list.
    private static let departedCell: Int32 = -1

    /// Lists the accounts of `hashes` (a distinct counter's sample, ``SlidingDistinct/sampleItems(limit:at:)``, or
    /// the samples of several counters one after the other, where a key may repeat) that `young` holds, sorted by
    /// name, each once, with their age bases from `ages` and their samples from `young` (refreshed for the
    /// accounts `touched` names since the last update).
    mutating func update(
        to hashes: [UInt64], young: BoundedKeyTable<YoungAccountState>, ages: AccountAges, touched: YoungTouchLog
    ) {
        let wasEmpty = keys.isEmpty
        if youngRemovals != young.removals {
            recheckSlots(young)
        }
        // The scratch arrays are moved out while they are filled (no copy, no uniqueness check per hash).
        var marks = held
        held = []
        marks.removeAll(keepingCapacity: true)
        marks.append(contentsOf: repeatElement(false, count: keys.count))
        var joining = joined
        joined = []
        joining.removeAll(keepingCapacity: true)
        var stillHeld = 0
        index.withUnsafeBufferPointer { cells in
            keys.withUnsafeBufferPointer { listed in
                marks.withUnsafeMutableBufferPointer { marked in
                    let mask = cells.count - 1
                    for h in hashes {
                        // ``position(of:)``, inlined on the buffers.
                        var found = -1
                        if !cells.isEmpty {
                            var cell = Self.cell(of: h, mask: mask)
                            while cells[cell] != 0 {
                                let i = Int(cells[cell]) - 1
                                if i >= 0 && listed[i] == h {
                                    found = i
                                    break
                                }
                                cell = (cell + 1) & mask
                            }
                        }
                        if found < 0 {
                            joining.append(h)
                        } else if !marked[found] {
                            marked[found] = true
                            stillHeld += 1
                        }
                    }
                }
            }
        }
        held = marks
        joined = joining
        if stillHeld < keys.count {
            keepHeld()
        }
        if joined.count > Self.maxInsertions {
            addSorting(young, ages)
        } else {
            for (k, h) in joined.enumerated() {
                // A key given twice is inserted once (at most maxInsertions² comparisons).
                guard let slot = young.find(h), !joined[..<k].contains(h) else { continue }
                insert(young.name(slot), key: h, slot: slot, base: ages.ageBase(accountKey: h), young: young)
            }
        }
        if wasEmpty {
            // Every sample was read just now.
            touchesSeen = touched.total
        } else {
            refreshSamples(young, touched)
        }
        if wasEmpty {
            // Every base was read just now.
            agesChanges = ages.baseChanges
        } else if agesChanges != ages.baseChanges {
            refreshBases(ages)
        }
    }

    /// `account_age_seconds` of the listed accounts at `now`: what ``DetectionContext/ageEvidence(_:at:)``
    /// gives for their names (an age is `max(0, now − base)`, which falls as the base rises, so the *k*-th least
    /// age is that of the *k*-th greatest base); valid only right after ``update(to:young:ages:touched:)`` with
    /// the same ages.
    ///
    /// - Complexity: O(1).
    func ageEvidence(at now: EventTime) -> [(String, JSONValue)] {
        let n = sortedBases.count
        guard n > 0 else { return [("account_age_seconds", .null)] }
        func age(_ base: Int64) -> Int64 { max(0, now.seconds - base) }
        return DetectionContext.ageEvidence(
            min: age(sortedBases[n - 1]), median: age(sortedBases[n - 1 - n / 2]), max: age(sortedBases[0]))
    }

    /// The listed accounts' names, ascending.
    var names: [String] { members.all.map(\.name) }

    /// The number of listed accounts.
    var count: Int { keys.count }

    /// What a finding keeps of the list: the names and samples of its first `limit` accounts, sharing their
    /// chunks with the list (O(1) for the whole list, else O(chunks) plus a copy of the chunk the prefix ends in).
    func snapshot(accountsTotal: Int, limit: Int = .max) -> ListedSnapshot {
        let shown = members.count <= limit ? members : members.prefix(limit)
        return ListedSnapshot(members: shown, listsEveryAccount: accountsTotal <= shown.count)
    }

    /// Sets the samples of the listed accounts `touched` names since the last refresh from `young` (every
    /// listed account's when the log no longer holds them all).
    private mutating func refreshSamples(_ young: BoundedKeyTable<YoungAccountState>, _ touched: YoungTouchLog) {
        let complete = touched.forEach(since: touchesSeen) { key in
            if let i = position(of: key) { members[i].sample = young[slots[i]].samples }
        }
        if !complete {
            for i in slots.indices { members[i].sample = young[slots[i]].samples }
        }
        touchesSeen = touched.total
    }

    /// Reads again the bases of the listed accounts that `ages` logged a change of since the last refresh (every
    /// listed account's, and sorts them, when the log no longer holds them all).
    private mutating func refreshBases(_ ages: AccountAges) {
        let complete = ages.baseLog.forEach(since: agesChanges) { logged in
            // The log holds the table's form of a key (lowest bit set): the listed key is it or it less that bit.
            if let i = position(of: logged) { refreshBase(i, ages) }
            if logged & 1 != 0, let i = position(of: logged & ~1) { refreshBase(i, ages) }
        }
        if !complete {
            bases = keys.map { ages.ageBase(accountKey: $0) }
            sortBases()
        }
        agesChanges = ages.baseChanges
    }

    /// Reads again the base of the `i`-th listed account, moving it within ``sortedBases`` when it changed.
    private mutating func refreshBase(_ i: Int, _ ages: AccountAges) {
        let base = ages.ageBase(accountKey: keys[i])
        guard base != bases[i] else { return }
        if let old = bases[i] { sortedBases.remove(at: sortedPosition(old)) }
        if let base { sortedBases.insert(base, at: sortedPosition(base)) }
        bases[i] = base
    }

    /// Sorts the bases that are not `nil` into ``sortedBases``.
    private mutating func sortBases() {
        sortedBases.removeAll(keepingCapacity: true)
        for case let b? in bases { sortedBases.append(b) }
        sortedBases.sort()
    }

    /// The position of the first base in ``sortedBases`` not less than `base`.
    private func sortedPosition(_ base: Int64) -> Int {
        var low = 0
        var high = sortedBases.count
        while low < high {
            let mid = (low + high) / 2
            if sortedBases[mid] < base { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// Looks up every listed account's slot again after the young-account table removed entries, and drops
    /// the accounts it no longer holds.
    private mutating func recheckSlots(_ young: BoundedKeyTable<YoungAccountState>) {
        youngRemovals = young.removals
        held.removeAll(keepingCapacity: true)
        var stillHeld = 0
        for i in keys.indices {
            let slot = young.find(keys[i])
            held.append(slot != nil)
            if let slot {
                slots[i] = slot
                stillHeld += 1
            }
        }
        if stillHeld < keys.count {
            keepHeld()
        }
    }

    /// Removes the listed accounts whose ``held`` mark is false, keeping the order, and updates ``index``: the
    /// departed accounts' cells are marked departed and every other cell is given its account's new position
    /// (one pass over the cells; built again when departed cells would outnumber the accounts listed).
    private mutating func keepHeld() {
        moved.removeAll(keepingCapacity: true)
        var w = 0
        for r in keys.indices {
            guard held[r] else {
                if let b = bases[r] { sortedBases.remove(at: sortedPosition(b)) }
                moved.append(Self.departedCell)
                continue
            }
            if w != r {
                keys[w] = keys[r]
                slots[w] = slots[r]
                bases[w] = bases[r]
            }
            w += 1
            moved.append(Int32(w))
        }
        members.keep(where: held)
        keys.removeLast(keys.count - w)
        slots.removeLast(slots.count - w)
        bases.removeLast(bases.count - w)
        if indexUsed - keys.count > keys.count {
            rebuildIndex()
            return
        }
        moved.withUnsafeBufferPointer { moved in
            index.withUnsafeMutableBufferPointer { cells in
                for c in cells.indices where cells[c] > 0 { cells[c] = moved[Int(cells[c]) - 1] }
            }
        }
    }

    /// Inserts one account after the names that are not greater (where a stable sort of the counter's order
    /// puts an account that joined last).
    private mutating func insert(
        _ name: String, key: UInt64, slot: BoundedKeyTable<YoungAccountState>.Slot, base: Int64?,
        young: BoundedKeyTable<YoungAccountState>
    ) {
        var low = 0
        var high = members.count
        while low < high {
            let mid = (low + high) / 2
            if name < members[mid].name { high = mid } else { low = mid + 1 }
        }
        members.insert(Member(name: name, sample: young[slot].samples), at: low)
        keys.insert(key, at: low)
        slots.insert(slot, at: low)
        bases.insert(base, at: low)
        if let base { sortedBases.insert(base, at: sortedPosition(base)) }
        indexInsert(key, at: low)
    }

    /// Adds to ``index`` the key just inserted into ``keys`` at position `p`: the cells of the accounts at or
    /// after `p` move up by one, and the key takes the first empty or departed cell of its probe. Built again
    /// instead when the cells in use would exceed half the index.
    ///
    /// - Complexity: O(index cells), a pass without hashing or probing (building it again hashes and probes
    ///   every listed key).
    private mutating func indexInsert(_ key: UInt64, at p: Int) {
        guard (indexUsed + 1) * 2 <= index.count else {
            rebuildIndex()
            return
        }
        let stored = Int32(p)
        index.withUnsafeMutableBufferPointer { cells in
            for c in cells.indices { cells[c] &+= cells[c] > stored ? 1 : 0 }
            let mask = cells.count - 1
            var cell = Self.cell(of: key, mask: mask)
            while cells[cell] > 0 { cell = (cell + 1) & mask }
            if cells[cell] == 0 { indexUsed += 1 }
            cells[cell] = stored + 1
        }
    }

    /// Adds the ``joined`` accounts that `young` holds and sorts the whole list again.
    private mutating func addSorting(_ young: BoundedKeyTable<YoungAccountState>, _ ages: AccountAges) {
        typealias Entry = (member: Member, key: UInt64, slot: BoundedKeyTable<YoungAccountState>.Slot, base: Int64?)
        var entries: [Entry] = []
        entries.reserveCapacity(keys.count + joined.count)
        let listed = members.all
        for i in keys.indices { entries.append((listed[i], keys[i], slots[i], bases[i])) }
        var added = Set<UInt64>(minimumCapacity: joined.count)
        for h in joined {
            // A key given twice is added once.
            guard let slot = young.find(h), added.insert(h).inserted else { continue }
            entries.append(
                (Member(name: young.name(slot), sample: young[slot].samples), h, slot, ages.ageBase(accountKey: h)))
        }
        // Stable, like the sort of ``DetectionContext/accountNames(_:at:)``: listed accounts first, then the
        // joined ones in the counter's order.
        entries.sort { $0.member.name < $1.member.name }
        members = SharedChunks(entries.map(\.member))
        keys = entries.map(\.key)
        slots = entries.map(\.slot)
        bases = entries.map(\.base)
        sortBases()
        rebuildIndex()
    }

    /// The position of `key` among ``keys``, or `nil`.
    private func position(of key: UInt64) -> Int? {
        guard !index.isEmpty else { return nil }
        let mask = index.count - 1
        var cell = Self.cell(of: key, mask: mask)
        while index[cell] != 0 {
            let i = Int(index[cell]) - 1
            if i >= 0 && keys[i] == key { return i }
            cell = (cell + 1) & mask
        }
        return nil
    }

    /// Whether ``index`` holds exactly the listed keys at their positions, with ``indexUsed`` cells in use, at
    /// most half of them (for tests).
    var indexIsConsistent: Bool {
        guard keys.isEmpty || !index.isEmpty else { return false }
        let live = index.filter { $0 > 0 }.count
        let used = index.filter { $0 != 0 }.count
        guard live == keys.count, used == indexUsed, used * 2 <= max(index.count, 1) else { return false }
        return keys.indices.allSatisfy { position(of: keys[$0]) == $0 }
    }

    /// Builds ``index`` from ``keys``, with no departed cell.
    private mutating func rebuildIndex() {
        var size = 16
        while size < keys.count * 2 { size *= 2 }
        if index.count == size {
            for c in index.indices { index[c] = 0 }
        } else {
            index = [Int32](repeating: 0, count: size)
        }
        PositionIndex.fill(&index, count: keys.count) { Self.cell(of: keys[$0], mask: $1) }
        indexUsed = keys.count
    }

    /// A key's first cell: the high bits of a multiplicative hash, so that keys that differ only in high bits
    /// spread too.
    private static func cell(of key: UInt64, mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }
}

/// The lists of a rule's few busiest subjects (``ListedAccounts``), at most ``maxLists``; the list used least
/// recently is dropped for a new subject. Derived state, never saved.
///
/// Memory: at most ``maxLists`` lists of about 90 bytes per listed account, at most 105 (``ListedAccounts``):
/// with the default 1,000 accounts per alert, under 7 MB for lists of one counter (14 MB for
/// `concentrated_strangers`' lists of two).
struct ListedAccountsCache: Sendable {
    /// Subjects whose lists are kept: more than the templates an adversarial log keeps busy at once (12
    /// `template_swarm` alerts open at once on the first 400,000 lines of `scripts/adversarial-cardinality`'s log
    /// with `--warmup 5m`, where 8 lists made findings rotating over them sort whole lists again).
    static let maxLists = 64

    private var keys: [UInt64] = []
    private var lastUse: [UInt64] = []
    private var lists: [ListedAccounts] = []
    private var uses: UInt64 = 0

    /// The number of subjects whose lists are kept.
    var count: Int { lists.count }

    /// Whether the list of subject `key` is kept.
    func holds(_ key: UInt64) -> Bool { keys.contains(key) }

    /// The list of subject `key`, updated to `hashes` (see ``ListedAccounts/update(to:young:ages:touched:)``).
    mutating func update(
        _ key: UInt64, to hashes: [UInt64], young: BoundedKeyTable<YoungAccountState>, ages: AccountAges,
        touched: YoungTouchLog
    ) -> ListedAccounts {
        uses &+= 1
        var i = keys.firstIndex(of: key) ?? -1
        if i < 0 {
            if lists.count < Self.maxLists {
                keys.append(key)
                lastUse.append(0)
                lists.append(ListedAccounts())
                i = lists.count - 1
            } else {
                // Safe to force unwrap: maxLists > 0 lists are kept here.
                i = lastUse.indices.min { lastUse[$0] < lastUse[$1] }!
                keys[i] = key
                lists[i] = ListedAccounts()
            }
        }
        lastUse[i] = uses
        lists[i].update(to: hashes, young: young, ages: ages, touched: touched)
        return lists[i]
    }
}

/// What a finding keeps of its ``ListedAccounts``: the names and evidence samples of the accounts it lists, as
/// they were when it was made, in chunks shared with the list (``SharedChunks``), so that keeping it costs
/// nothing per account and the list's later changes copy only the chunks they touch. The lifecycle flattens it
/// only for a record it writes or a checkpoint it saves (``Finding/accounts``, ``Finding/recordEvidence``).
struct ListedSnapshot: Sendable {
    let members: SharedChunks<ListedAccounts.Member>
    /// Whether the finding lists every account it counts.
    let listsEveryAccount: Bool

    /// The names, ascending.
    var names: [String] { members.all.map(\.name) }

    /// The samples, in the names' order, as ``DetectionContext/accountEvidence(_:)`` takes them.
    var samples: AccountSamples {
        AccountSamples(listed: members.all.map(\.sample), listsEveryAccount: listsEveryAccount)
    }
}

/// The keys of the young accounts whose evidence samples the engine changed, oldest first, in a ring of
/// ``capacity`` keys: from it ``ListedAccounts`` refreshes only the samples that changed since its last update.
/// ``AccountAges/baseLog`` logs the accounts whose age bases may have changed the same way. Derived, not saved
/// (a restored engine starts with new lists).
///
/// Memory: ``capacity`` keys, 8 bytes each (128 KB by default), allocated at the first key.
struct YoungTouchLog: Sendable {
    /// Keys kept: a list that waited for more young events than this refreshes all its samples.
    let capacity: Int
    private var ring: [UInt64] = []
    /// Keys appended so far.
    private(set) var total: UInt64 = 0

    init(capacity: Int = 16_384) {
        precondition(capacity > 0, "a log holds at least one key")
        self.capacity = capacity
    }

    /// Notes that the samples of the young account `key` changed.
    mutating func append(_ key: UInt64) {
        if ring.isEmpty { ring = [UInt64](repeating: 0, count: capacity) }
        ring[Int(total % UInt64(capacity))] = key
        total &+= 1
    }

    /// Calls `body` with each key appended after the first `seen`, oldest first; returns false (calling it for
    /// none) when the ring no longer holds them all.
    ///
    /// - Complexity: O(keys since `seen`).
    func forEach(since seen: UInt64, _ body: (UInt64) -> Void) -> Bool {
        guard total - seen <= UInt64(capacity) else { return false }
        var k = seen
        while k < total {
            body(ring[Int(k % UInt64(capacity))])
            k += 1
        }
        return true
    }
}

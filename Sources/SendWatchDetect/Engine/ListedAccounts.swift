import SendWatchCore
import SendWatchWindows

/// The sorted names of the accounts a rule's distinct counter holds for one subject (a template), kept between
/// findings so that a finding rebuilt because one account joined inserts one name instead of sorting them all.
///
/// While a rule's alert is open, the rule rebuilds its finding whenever the number of accounts changes
/// (``AlertLifecycle/wants(kind:key:severity:accountsTotal:volume:at:refreshVolume:withoutArtefacts:)``); on a busy
/// template that is nearly every young account's event, and sorting up to `detect.max_alert_accounts` names each time
/// was half of all the work on a log where most accounts are new (docs/performance.md, "Adversarial cardinality"). This
/// list is updated from the counter's hashes instead: accounts that left are dropped, new ones are looked up and
/// inserted at their place, and the listed accounts' young-table slots are kept, so that their ages and evidence
/// samples are read without hashing a name.
///
/// It lists exactly what ``DetectionContext/accountNames(_:at:)`` lists: the names of the counter's accounts
/// that the young-account table holds, sorted. Slots are looked up again whenever the young-account table
/// removed any entry since the last update (``BoundedKeyTable/removals``), so an evicted account drops out as
/// it would there. (Two names that compare equal as `String`s but differ in bytes keep the order they were
/// added in rather than the counter's order; account names are e-mail addresses and logins, where that does
/// not happen.)
///
/// Derived state: never saved; a restored rule starts without it and builds it at its first finding.
///
/// Memory: per listed account a name (16 bytes; its heap block is shared with the young-account table), a key
/// (8), a slot (4) and a mark (1), plus a key index of 4 bytes per slot at 2–4 slots per account: about 45
/// bytes per account, at most `detect.max_alert_accounts` accounts.
///
/// - Complexity: ``update(to:young:)`` is O(*n*) integer work for *n* counted accounts, plus O(log *n*) name
///   comparisons and an O(*n*) move per account that joined (a full sort when many joined at once), plus a
///   young-table lookup per listed account after the table removed entries.
struct ListedAccounts: Sendable {
    /// The listed accounts' names, ascending.
    private(set) var names: [String] = []
    /// `keys[i]` is the ``StableHash`` of `names[i]`, the account's key in every table keyed by account.
    private(set) var keys: [UInt64] = []
    /// `slots[i]` is `names[i]`'s slot in the young-account table, valid while its ``BoundedKeyTable/removals``
    /// equals ``youngRemovals``.
    private var slots: [BoundedKeyTable<YoungAccountState>.Slot] = []
    /// The young-account table's removals when ``slots`` were last checked.
    private var youngRemovals: UInt64 = 0
    /// Open addressing over `keys`: the index of a listed key plus one, or 0 for an empty cell; a power of two
    /// at least twice the accounts listed.
    private var index: [Int32] = []
    /// Scratch space of ``update(to:young:)``: which listed accounts the counter still holds, and the keys it
    /// holds that are not listed.
    private var held: [Bool] = []
    private var joined: [UInt64] = []

    /// More accounts joining in one update than this are listed by sorting everything again, which is cheaper
    /// than inserting each.
    private static let maxInsertions = 32

    /// Lists the accounts of `hashes` (a distinct counter's sample, ``SlidingDistinct/sampleItems(limit:at:)``)
    /// that `young` holds, sorted by name.
    mutating func update(to hashes: [UInt64], young: BoundedKeyTable<YoungAccountState>) {
        if youngRemovals != young.removals {
            recheckSlots(young)
        }
        held.removeAll(keepingCapacity: true)
        held.append(contentsOf: repeatElement(false, count: keys.count))
        joined.removeAll(keepingCapacity: true)
        var stillHeld = 0
        for h in hashes {
            if let i = position(of: h) {
                if !held[i] {
                    held[i] = true
                    stillHeld += 1
                }
            } else {
                joined.append(h)
            }
        }
        var changed = false
        if stillHeld < keys.count {
            keepHeld()
            changed = true
        }
        if joined.count > Self.maxInsertions {
            addSorting(young)
            changed = true
        } else {
            for h in joined {
                guard let slot = young.find(h) else { continue }
                insert(young.name(slot), key: h, slot: slot)
                changed = true
            }
        }
        if changed { rebuildIndex() }
    }

    /// The evidence samples of the listed accounts, in list order, as ``DetectionContext/accountSamples(_:accountsTotal:)``
    /// takes them; valid only right after ``update(to:young:)`` with the same table.
    ///
    /// - Complexity: O(listed accounts), without hashing.
    func samples(young: BoundedKeyTable<YoungAccountState>, accountsTotal: Int) -> AccountSamples {
        var samples = AccountSamples(listsEveryAccount: accountsTotal <= names.count)
        samples.listed.reserveCapacity(slots.count)
        for slot in slots { samples.listed.append(young[slot].samples) }
        return samples
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
            rebuildIndex()
        }
    }

    /// Removes the listed accounts whose ``held`` mark is false, keeping the order.
    private mutating func keepHeld() {
        var w = 0
        for r in keys.indices where held[r] {
            if w != r {
                names.swapAt(w, r)
                keys[w] = keys[r]
                slots[w] = slots[r]
            }
            w += 1
        }
        names.removeLast(names.count - w)
        keys.removeLast(keys.count - w)
        slots.removeLast(slots.count - w)
    }

    /// Inserts one account after the names that are not greater (where a stable sort of the counter's order
    /// puts an account that joined last).
    private mutating func insert(_ name: String, key: UInt64, slot: BoundedKeyTable<YoungAccountState>.Slot) {
        var low = 0
        var high = names.count
        while low < high {
            let mid = (low + high) / 2
            if name < names[mid] { high = mid } else { low = mid + 1 }
        }
        names.insert(name, at: low)
        keys.insert(key, at: low)
        slots.insert(slot, at: low)
    }

    /// Adds the ``joined`` accounts that `young` holds and sorts the whole list again.
    private mutating func addSorting(_ young: BoundedKeyTable<YoungAccountState>) {
        var entries: [(name: String, key: UInt64, slot: BoundedKeyTable<YoungAccountState>.Slot)] = []
        entries.reserveCapacity(keys.count + joined.count)
        for i in keys.indices { entries.append((names[i], keys[i], slots[i])) }
        for h in joined {
            guard let slot = young.find(h) else { continue }
            entries.append((young.name(slot), h, slot))
        }
        // Stable, like the sort of ``DetectionContext/accountNames(_:at:)``: listed accounts first, then the
        // joined ones in the counter's order.
        entries.sort { $0.name < $1.name }
        names = entries.map(\.name)
        keys = entries.map(\.key)
        slots = entries.map(\.slot)
    }

    /// The position of `key` among ``keys``, or `nil`.
    private func position(of key: UInt64) -> Int? {
        guard !index.isEmpty else { return nil }
        let mask = index.count - 1
        var cell = Self.cell(of: key, mask: mask)
        while index[cell] != 0 {
            let i = Int(index[cell]) - 1
            if keys[i] == key { return i }
            cell = (cell + 1) & mask
        }
        return nil
    }

    private mutating func rebuildIndex() {
        var size = 16
        while size < keys.count * 2 { size *= 2 }
        if index.count == size {
            for c in index.indices { index[c] = 0 }
        } else {
            index = [Int32](repeating: 0, count: size)
        }
        let mask = size - 1
        for i in keys.indices {
            var cell = Self.cell(of: keys[i], mask: mask)
            while index[cell] != 0 { cell = (cell + 1) & mask }
            index[cell] = Int32(i + 1)
        }
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
/// Memory: at most ``maxLists`` lists of about 45 bytes per listed account (``ListedAccounts``): with the default
/// 1,000 accounts per alert, under 3 MB.
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

    /// The list of subject `key`, updated to `hashes` (see ``ListedAccounts/update(to:young:)``).
    mutating func update(_ key: UInt64, to hashes: [UInt64], young: BoundedKeyTable<YoungAccountState>)
        -> ListedAccounts
    {
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
        lists[i].update(to: hashes, young: young)
        return lists[i]
    }
}

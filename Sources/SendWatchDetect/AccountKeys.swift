import SendWatchCore

/// The distinct stable hashes (``StableHash/of(_:)``) of an alert's account list, sorted: a filter that tells
/// incident linking which alerts cannot list any of a few wanted accounts without hashing every listed name.
///
/// Linking asks, for every open and remembered alert, whether it lists one of a new finding's accounts. With
/// thousands of alerts listing up to `detect.max_alert_accounts` accounts each, hashing each listed name into a
/// `Set<String>` probe for every finding cost more than all the rules together on a log with many alerts
/// (docs/performance.md, "Incident linking"). The keys are computed once when an alert's account list changes;
/// a probe is one binary search per wanted account. A hit only says "maybe" (two names may share a 64-bit
/// hash): callers confirm it by comparing the names, so linking decides exactly as before.
///
/// Memory: 8 bytes per distinct listed account.
struct AccountKeys: Sendable, Equatable {
    /// The hashes, ascending, without repeats.
    private(set) var sorted: [UInt64]

    /// The keys of `accounts`.
    ///
    /// - Complexity: O(*n* log *n*) for *n* accounts.
    init(_ accounts: [String]) { self.init(keys: accounts.map { StableHash.of($0) }) }

    /// The keys `keys`, sorted, without repeats.
    ///
    /// - Complexity: O(*n* log *n*) for *n* keys.
    init(keys: [UInt64]) {
        var keys = keys
        keys.sort()
        var w = 0
        for r in keys.indices where r == 0 || keys[r] != keys[r - 1] {
            keys[w] = keys[r]
            w += 1
        }
        keys.removeLast(keys.count - w)
        sorted = keys
    }

    /// Whether some key is in both: `false` means no account is listed by both lists; `true` that one may be.
    ///
    /// - Complexity: O(*s* log *l*) for the smaller (*s*) and the larger (*l*) list; no allocation.
    func meets(_ other: AccountKeys) -> Bool {
        let (small, large) = sorted.count <= other.sorted.count ? (sorted, other.sorted) : (other.sorted, sorted)
        guard let first = large.first, let last = large.last else { return false }
        for key in small where key >= first && key <= last {
            var low = 0
            var high = large.count
            while low < high {
                let mid = (low + high) / 2
                if large[mid] < key { low = mid + 1 } else { high = mid }
            }
            if low < large.count && large[low] == key { return true }
        }
        return false
    }
}

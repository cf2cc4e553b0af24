/// The live workers of one name (`sendwatch forward`), announced in one key of the lease bucket: its value lists
/// each worker's id with a counter that worker raises at every beat (`id=counter;…`), written with the key's
/// revision checks, so concurrent beats never lose one another (a refused write is tried again at the next beat).
///
/// As with ``WorkerLease``, no clocks are compared between machines: a worker is alive while its counter changed
/// within ``seconds`` by the observer's own monotonic clock; a worker first seen counts as alive for ``seconds``.
/// A worker whose counter stopped for ``seconds`` is dropped from the key at the next beat. Each worker takes
/// ``share(of:)`` partitions: the live ids sorted, the first `P % n` take `P / n + 1`, the others `P / n`.
///
/// Memory: one entry per worker seen in the key (the key's value is bounded by the server's `max_payload`).
public final class WorkerMembers {
    /// This worker's id (letters and digits).
    public let id: String
    /// Seconds without a beat after which a worker is taken as gone.
    public let seconds: Double
    /// Seconds between beats: a quarter of ``seconds``, at most 1.
    public var beatSeconds: Double { min(seconds / 4, 1) }
    /// The live workers' ids at the last beat, sorted (this one included).
    public private(set) var live: [String] = []
    private var store: any LeaseStore
    private var counter: UInt64 = 0
    /// Per other worker: its counter last seen and since when (monotonic seconds).
    private var seen: [String: (counter: UInt64, since: Double)] = [:]
    private var lastBeat = -Double.infinity

    /// The member `id` of the workers announced in `store`'s key.
    public init(store: any LeaseStore, id: String, seconds: Double) {
        self.store = store
        self.id = id
        self.seconds = seconds
        live = [id]
    }

    /// Beats when ``beatSeconds`` passed since the last beat: reads the key, notes the others' counters, writes
    /// this worker's raised counter without the workers gone. Returns whether the key could be read.
    @discardableResult
    public func beat(now: Double) -> Bool {
        guard now - lastBeat >= beatSeconds else { return true }
        lastBeat = now
        // A write refused because another worker wrote in between is tried again on what it wrote (three times at
        // most), so that a worker is not taken as gone for losing a few races.
        for _ in 0..<3 {
            switch beatOnce(now: now) {
            case .written: return true
            case .conflict: continue
            case .unavailable: return false
            }
        }
        return true
    }

    /// One read and write of the key.
    private func beatOnce(now: Double) -> LeaseWrite {
        let read = store.read()
        var entries: [(String, UInt64)] = []
        var revision: UInt64?
        switch read {
        case .unavailable(let why): return .unavailable(why)
        case .missing: break
        case .entry(let r, let value):
            revision = r
            entries = Self.parse(value)
        }
        var alive: [String] = [id]
        var kept: [(String, UInt64)] = []
        for (other, c) in entries where other != id {
            if let s = seen[other], s.counter == c {
                guard now - s.since < seconds else { continue }  // gone: left out of the key
            } else {
                seen[other] = (c, now)
            }
            alive.append(other)
            kept.append((other, c))
        }
        seen = seen.filter { entry in kept.contains { $0.0 == entry.key } }
        live = alive.sorted()
        counter &+= 1
        kept.append((id, counter))
        let value = kept.map { "\($0.0)=\($0.1)" }.joined(separator: ";")
        return revision.map { store.update(value, last: $0) } ?? store.create(value)
    }

    /// How many of `partitions` partitions this worker takes: the first `partitions % n` of the live ids sorted take
    /// one more than `partitions / n`.
    public func share(of partitions: Int) -> Int {
        let n = max(1, live.count)
        let rank = live.firstIndex(of: id) ?? 0
        return partitions / n + (rank < partitions % n ? 1 : 0)
    }

    /// Takes this worker out of the key (a clean stop), best effort: otherwise the others drop it after ``seconds``.
    public func leave() {
        guard case .entry(let revision, let value) = store.read() else { return }
        let rest = Self.parse(value).filter { $0.0 != id }.map { "\($0.0)=\($0.1)" }.joined(separator: ";")
        _ = store.update(rest, last: revision)
    }

    /// The entries of a key's value (malformed ones skipped).
    static func parse(_ value: String) -> [(String, UInt64)] {
        value.split(separator: ";").compactMap { part in
            let pieces = part.split(separator: "=")
            guard pieces.count == 2, let c = UInt64(pieces[1]) else { return nil }
            return (String(pieces[0]), c)
        }
    }
}

@available(*, unavailable)
extension WorkerMembers: Sendable {}

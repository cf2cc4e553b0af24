/// A global memory budget for the window state, split into named shares, with the bytes each component
/// reports, so the pipeline can size its tables up front and print "memory used against the budget".
///
/// The budget does no allocation tracking of its own: components (``BoundedKeyTable``, sketches) report their
/// ``ApproximateHeapSize``-based estimates through ``record(_:bytes:)``, typically once per batch. The figures
/// are estimates (payload plus a 32-byte header per heap block; allocator rounding adds up to ~15 %), so leave
/// head room: ``defaultTotalBytes`` is 512 MiB, a quarter of a 2 GB box, leaving the rest to the process,
/// ingest buffers and the allocator's overhead.
///
/// Per-entry byte estimates used for sizing (64-bit platform; see each type):
///
/// | State | Bytes |
/// |---|---|
/// | ``BoundedKeyTable`` entry | 72 + stride of `Value?` (112 for `SlidingCount`); + 32 + length for names > 15 B |
/// | ``SlidingCount`` (n buckets) | 40 inline + 32 + 4 n heap (312 for 60 buckets) |
/// | ``MultiHorizonCount`` (standard layout) | 32 inline + 240 heap |
/// | ``SlidingDistinct`` exact | 48 inline + 32 + 16 × pairs rounded up to a power of two (≤ 2 080 at 128 items) |
/// | ``SlidingDistinct`` sketch (p = 10, 8 sub-buckets) | 48 inline + 9 577 heap |
/// | ``HyperLogLog`` (precision p) | 32 + 2^p |
/// | ``CountMinSketch`` (w × d) | 32 + 8 w d (two epochs) |
/// | ``SpaceSaving`` (k counters) | 64 + 45 k (4 608 for 100) |
/// | ``EWMABaseline`` | 96 inline, no heap |
///
/// Usage:
/// ```swift
/// var budget = MemoryBudget(totalBytes: MemoryBudget.defaultTotalBytes)
/// let accountBytes = budget.share(0.4)                      // give 40 % to the per-account table
/// let maxAccounts = MemoryBudget.entries(fitting: accountBytes, bytesPerEntry: 600)
/// ...
/// budget.record("accounts", bytes: accounts.approximateBytes)
/// print(budget.summary)   // "accounts 212.4 MiB, templates 3.1 MiB; total 215.5 MiB of 512.0 MiB (42 %)"
/// ```
public struct MemoryBudget: Sendable {
    /// 512 MiB: a quarter of a 2 GB machine.
    public static let defaultTotalBytes = 512 << 20

    /// The whole budget in bytes.
    public var totalBytes: Int

    var _components: [(name: String, bytes: Int)] = []

    /// Creates a budget of `totalBytes`.
    public init(totalBytes: Int = MemoryBudget.defaultTotalBytes) {
        self.totalBytes = max(0, totalBytes)
    }

    /// `fraction` of the budget, in bytes (clamped to 0 ... 1).
    public func share(_ fraction: Double) -> Int {
        let f = min(1, max(0, fraction.isNaN ? 0 : fraction))
        return Int(Double(totalBytes) * f)
    }

    /// How many entries of `bytesPerEntry` fit in `bytes` (at least 1).
    public static func entries(fitting bytes: Int, bytesPerEntry: Int) -> Int {
        max(1, bytes / max(1, bytesPerEntry))
    }

    /// Records the current bytes of a component (replacing its previous figure). Components keep the order in
    /// which they were first recorded.
    ///
    /// - Complexity: O(components).
    public mutating func record(_ component: String, bytes: Int) {
        if let i = _components.firstIndex(where: { $0.name == component }) {
            _components[i].bytes = bytes
        } else {
            _components.append((component, bytes))
        }
    }

    /// The recorded components, in first-recorded order.
    public var components: [(name: String, bytes: Int)] { _components }

    /// The sum of the recorded bytes.
    public var usedBytes: Int { _components.reduce(0) { $0 + $1.bytes } }

    /// Bytes left (negative when over budget).
    public var remainingBytes: Int { totalBytes - usedBytes }

    /// Whether the recorded bytes exceed the budget.
    public var isOverBudget: Bool { usedBytes > totalBytes }

    /// The used fraction of the budget (0 when the budget is 0 bytes).
    public var usedFraction: Double { totalBytes == 0 ? 0 : Double(usedBytes) / Double(totalBytes) }

    /// One line such as `accounts 212.4 MiB, templates 3.1 MiB; total 215.5 MiB of 512.0 MiB (42 %)`.
    public var summary: String {
        let parts = _components.map { "\($0.name) \(Self.mebibytes($0.bytes))" }.joined(separator: ", ")
        let percent = Int((usedFraction * 100).rounded())
        let total = "total \(Self.mebibytes(usedBytes)) of \(Self.mebibytes(totalBytes)) (\(percent) %)"
        return parts.isEmpty ? total : parts + "; " + total
    }

    /// `bytes` as MiB with one decimal, without Foundation formatters.
    static func mebibytes(_ bytes: Int) -> String {
        let tenths = (bytes * 10 + (1 << 19)) >> 20
        return "\(tenths / 10).\(abs(tenths % 10)) MiB"
    }
}

/// The simulator's pseudo-random numbers: xoshiro256** seeded through SplitMix64, plus a stateless 64-bit mix
/// for values derived from (seed, entity, field).
///
/// Everything the simulator draws comes from here, so the output is a pure function of the seed and the
/// configuration, on every platform and toolchain. Swift's `SystemRandomNumberGenerator`, `Hasher` and the
/// standard library's `random(in:using:)` (whose algorithm may change between releases) are never used.
public struct SimulationRandom: Sendable {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    /// Creates a generator whose state is four SplitMix64 outputs of `seed`.
    public init(seed: UInt64) {
        var sm = seed
        s0 = SimulationRandom.splitMix(&sm)
        s1 = SimulationRandom.splitMix(&sm)
        s2 = SimulationRandom.splitMix(&sm)
        s3 = SimulationRandom.splitMix(&sm)
        if s0 | s1 | s2 | s3 == 0 { s0 = 1 }
    }

    /// Creates the generator of one named stream of a seed (streams never share state).
    public init(seed: UInt64, stream: UInt64) {
        self.init(seed: SimulationRandom.mix(seed, stream))
    }

    @inline(__always)
    private static func splitMix(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return finalize(state)
    }

    @inline(__always)
    static func finalize(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A stateless mix of several words (SplitMix64's finaliser chained): the same inputs give the same
    /// output everywhere. Used for per-entity attributes (names, rates) so they need no stored state.
    @inline(__always)
    public static func mix(_ a: UInt64, _ b: UInt64, _ c: UInt64 = 0, _ d: UInt64 = 0) -> UInt64 {
        var h = finalize(a &+ 0x9E37_79B9_7F4A_7C15)
        h = finalize(h ^ (b &+ 0x632B_E59B_D9B4_E019))
        h = finalize(h ^ (c &+ 0x8CB9_2BA7_2F3D_8DD7))
        return finalize(h ^ (d &+ 0x2545_F491_4F6C_DD1D))
    }

    /// The next 64 random bits (xoshiro256**).
    ///
    /// - Complexity: O(1).
    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    @inline(__always)
    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A uniform integer in `0..<bound` (Lemire's multiply-and-reject; `bound` ≤ 0 gives 0).
    @inline(__always)
    public mutating func int(below bound: Int) -> Int {
        guard bound > 1 else { return 0 }
        let b = UInt64(bound)
        var m = next().multipliedFullWidth(by: b)
        if m.low < b {
            let threshold = (0 &- b) % b
            while m.low < threshold { m = next().multipliedFullWidth(by: b) }
        }
        return Int(m.high)
    }

    /// A uniform integer in `range` (an empty range gives its lower bound).
    @inline(__always)
    public mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + int(below: range.upperBound - range.lowerBound + 1)
    }

    /// A uniform double in [0, 1) with 53 random bits.
    @inline(__always)
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// A uniform double in `[low, high)`.
    @inline(__always)
    public mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * unit() }

    /// `true` with probability `p`.
    @inline(__always)
    public mutating func chance(_ p: Double) -> Bool { unit() < p }

    /// An exponential variate with the given mean.
    public mutating func exponential(mean: Double) -> Double {
        -mean * log1pNegative(unit())
    }

    /// A Pareto variate with minimum `minimum` and tail index `alpha` (heavy-tailed for small alpha).
    public mutating func pareto(minimum: Double, alpha: Double) -> Double {
        minimum * powPositive(1 - unit(), -1 / alpha)
    }

    /// A random element of `items` (which must not be empty).
    @inline(__always)
    public mutating func pick<T>(_ items: [T]) -> T { items[int(below: items.count)] }
}

/// `log(1 - u)` for `u` in [0, 1), without Foundation.
@inline(__always)
func log1pNegative(_ u: Double) -> Double {
    let x = 1 - u
    return x > 0 ? naturalLog(x) : -745
}

/// Natural logarithm for positive finite `x`, by range reduction to [1, 2) and an atanh series; accurate to
/// about 1e-15, which is plenty for drawing random times (and is the same on every platform, unlike libm).
func naturalLog(_ x: Double) -> Double {
    guard x > 0, x.isFinite else { return x == 0 ? -745 : 0 }
    let e = x.exponent
    let m = x.significand  // [1, 2)
    let t = (m - 1) / (m + 1)
    let t2 = t * t
    var term = t
    var sum = 0.0
    var k = 1.0
    while k < 60 {
        sum += term / k
        term *= t2
        k += 2
        if abs(term) < 1e-18 { break }
    }
    return 2 * sum + Double(e) * 0.693_147_180_559_945_3
}

/// `x` raised to `y` for positive `x`, via exp(y ln x), computed without libm for platform independence.
func powPositive(_ x: Double, _ y: Double) -> Double { naturalExp(y * naturalLog(x)) }

/// e raised to `x`, by range reduction (x = k ln2 + r) and a Taylor series on r.
func naturalExp(_ x: Double) -> Double {
    if x > 709 { return .greatestFiniteMagnitude }
    if x < -745 { return 0 }
    let ln2 = 0.693_147_180_559_945_3
    let k = (x / ln2).rounded()
    let r = x - k * ln2
    var term = 1.0
    var sum = 1.0
    var n = 1.0
    while n < 30 {
        term *= r / n
        sum += term
        if abs(term) < 1e-18 { break }
        n += 1
    }
    return Double(sign: .plus, exponent: Int(k), significand: sum)
}

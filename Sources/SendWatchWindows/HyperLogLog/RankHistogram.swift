#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How many HyperLogLog registers hold each rank, and the estimate computed from that histogram.
///
/// Kept separate from ``HyperLogLog`` so ``SlidingDistinct`` can keep the histogram of its union up to date
/// incrementally and estimate from a union of sub-sketches without materialising it.
extension InlineCounts {
    /// Ertl (2017), algorithm 6: the improved raw estimator, with α∞ = 1 / (2 ln 2), from a histogram of
    /// register ranks.
    func estimate(precision p: Int) -> Double {
        let histogram = self
        let m = Double(1 << p)
        let q = 64 - p
        // C[q + 1] registers are saturated; C[0] are empty.
        var z = m * tau(1.0 - Double(histogram[q + 1]) / m)
        var k = q
        while k >= 1 {
            z = 0.5 * (z + Double(histogram[k]))
            k -= 1
        }
        z += m * sigma(Double(histogram[0]) / m)
        if z.isInfinite { return 0 }
        let alphaInfinity = 0.721_347_520_444_481_7
        return alphaInfinity * m * m / z
    }
}

/// 66 counters (ranks 0 ... 65; ranks never exceed 65 - 4 = 61) stored inline so histograms never allocate.
struct InlineCounts: Sendable {
    var words:
        (
            UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32,
            UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32,
            UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32,
            UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32,
            UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32,
            UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32
        ) = (
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
        )

    @inline(__always)
    mutating func increment(_ index: Int) {
        let i = min(index, 65)
        withUnsafeMutableBytes(of: &words) { raw in
            // Safe to force unwrap: the buffer covers a 264-byte tuple, never empty; `i` is clamped to 0 ... 65
            // and the tuple holds 66 UInt32 values.
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt32.self)
            p[i] &+= 1
        }
    }

    @inline(__always)
    mutating func decrement(_ index: Int) {
        let i = min(index, 65)
        withUnsafeMutableBytes(of: &words) { raw in
            // Safe to force unwrap: as in `increment`.
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt32.self)
            p[i] &-= 1
        }
    }

    subscript(index: Int) -> UInt32 {
        guard index >= 0 && index <= 65 else { return 0 }
        return withUnsafeBytes(of: words) { raw in raw.load(fromByteOffset: index * 4, as: UInt32.self) }
    }
}

/// σ(x) = x + Σ_{k≥1} x^(2^k) 2^(k-1), for the empty-register (small range) correction.
func sigma(_ x0: Double) -> Double {
    if x0 == 1 { return .infinity }
    var x = x0
    var y = 1.0
    var z = x0
    while true {
        x *= x
        let previous = z
        z += x * y
        y += y
        if z == previous { return z }
    }
}

/// τ(x) = (1 / 3)(1 - x - Σ_{k≥1} (1 - x^(2^-k))² 2^-k), for the saturated-register (large range) correction.
func tau(_ x0: Double) -> Double {
    if x0 == 0 || x0 == 1 { return 0 }
    var x = x0
    var y = 1.0
    var z = 1.0 - x0
    while true {
        x = x.squareRoot()
        let previous = z
        y *= 0.5
        z -= (1 - x) * (1 - x) * y
        if z == previous { return z / 3 }
    }
}

/// The natural logarithm (libm), used only off the hot path.
func naturalLog(_ x: Double) -> Double { log(x) }

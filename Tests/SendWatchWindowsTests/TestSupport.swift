import SendWatchCore
import SendWatchTesting

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A manual event-time clock that tests advance by hand.
struct ManualEventTime {
    var now: EventTime
    init(seconds: Int64 = 1_800_000_000) { now = EventTime(seconds: seconds) }
    mutating func advance(microseconds: Int64) { now = EventTime(microseconds: now.microseconds + microseconds) }
    mutating func advance(seconds: Int64) { advance(microseconds: seconds * 1_000_000) }
}

/// Draws ranks 0..<n with probability proportional to 1 / (rank + 1)^s, by inverting a precomputed CDF.
struct ZipfSampler {
    var cdf: [Double]
    init(n: Int, s: Double) {
        var acc = 0.0
        var c: [Double] = []
        c.reserveCapacity(n)
        for k in 1...n {
            acc += 1.0 / pow(Double(k), s)
            c.append(acc)
        }
        cdf = c.map { $0 / acc }
    }
    func sample(using rng: inout SplitMix64) -> Int {
        let u = Double(rng.next() >> 11) / Double(UInt64(1) << 53)
        var lo = 0
        var hi = cdf.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if cdf[mid] < u { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}

func squareRoot(_ x: Double) -> Double { x.squareRoot() }

/// Whether CI asked for internal invariant checks (`SENDWATCH_INTERNAL_CHECKS=1`, see `.ci/run`): the
/// model-based tests then check invariants after every step instead of every hundredth.
let internalChecks: Bool = {
    guard let value = getenv("SENDWATCH_INTERNAL_CHECKS") else { return false }
    return String(cString: value) != "0"
}()

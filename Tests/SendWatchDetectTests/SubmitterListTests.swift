import Testing

@testable import SendWatchDetect

@Suite("Submitter evidence lists")
struct SubmitterListTests {
    @Test("The k smallest values equal the sorted set's first k, for sets of 0 to 40 values", arguments: [0, 1, 3, 10])
    func smallestEqualsSortedPrefix(k: Int) {
        var generator = SystemRandomNumberGenerator()
        for n in 0...40 {
            // Mixed lengths, cases and non-ASCII text, so that String's ordering (not byte order) decides.
            let values = Set(
                (0..<n).map { i in
                    [
                        "acct-\(i)", "Acct-\(i * 7 % 13)", "é-\(i % 5)",
                        "\(UInt32.random(in: 0...99, using: &generator))",
                    ][
                        i % 4]
                })
            #expect(DetectionContext.smallest(k, of: values) == Array(values.sorted().prefix(k)), "n \(n)")
        }
    }
}

import Foundation
import SendWatchCore
import SendWatchTesting
import Testing

@testable import SendWatchFormats

/// One way to damage a checkpoint, and the words the error must contain (so that the test fails when the
/// value is rejected for some other reason than the check it is about).
struct Damage<C: Sendable>: Sendable, CustomTestStringConvertible {
    var name: String
    var expected: String
    var edit: @Sendable (inout C) -> Void

    var testDescription: String { name }
}

/// The message of a thrown `DecodingError.dataCorrupted`, or a description of any other error.
private func corruptionMessage(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch DecodingError.dataCorrupted(let context) {
        return context.debugDescription
    } catch {
        return "not dataCorrupted: \(error)"
    }
}

/// Applies `damage` to `checkpoint`, round-trips it through the state coder and restores it with `restore`: the
/// damage must be refused with `dataCorrupted` and its expected words.
private func expectRefused<C: Codable>(
    _ checkpoint: C, _ damage: Damage<C>, sourceLocation: SourceLocation = #_sourceLocation,
    restore: (C) throws -> Void
) throws {
    var damaged = checkpoint
    damage.edit(&damaged)
    let message = corruptionMessage { try restore(try roundTrip(damaged)) }
    let text = try #require(message, "the damaged checkpoint was accepted", sourceLocation: sourceLocation)
    #expect(text.contains(damage.expected), "\(text)", sourceLocation: sourceLocation)
}

extension SavedMessageTable {
    /// The column of the string field `name` (one of the format's ``SavedMessageCoding/stringFields``).
    subscript(field name: String) -> [Int32] {
        get { fields[Coding.stringFields.firstIndex { $0.name == name } ?? -1] }
        set { fields[Coding.stringFields.firstIndex { $0.name == name } ?? -1] = newValue }
    }
}

@Suite("Parser checkpoints: damaged or hostile state throws instead of trapping")
struct ParserCheckpointDamageTests {
    /// A Postfix checkpoint with several open messages, remembered recipients and a resolved year.
    static func postfixCheckpoint() -> (PostfixParser.Checkpoint, rest: [[UInt8]]) {
        let lines = LogGenerator.postfixRollover().map { Array($0.utf8) }
        var parser = PostfixParser()
        parser.beginInput(yearHint: .year(2025))
        var events: EventBatch = []
        var best = (open: -1, k: 0, checkpoint: parser.checkpoint())
        for (k, line) in lines.enumerated() {
            _ = line.withUnsafeBytes { parser.parse(line: $0, into: &events) }
            let c = parser.checkpoint()
            if c.openMessages > best.open && !c.joined.messages.attempted.isEmpty { best = (c.openMessages, k + 1, c) }
        }
        return (best.checkpoint, Array(lines[best.k...]))
    }

    static func eximCheckpoint() -> (EximParser.Checkpoint, rest: [[UInt8]]) {
        let lines = LogGenerator.eximRollover().map { Array($0.utf8) }
        var parser = EximParser()
        parser.beginInput(yearHint: .year(2025))
        var events: EventBatch = []
        var best = (open: -1, k: 0, checkpoint: parser.checkpoint())
        for (k, line) in lines.enumerated() {
            _ = line.withUnsafeBytes { parser.parse(line: $0, into: &events) }
            let c = parser.checkpoint()
            if c.openMessages > best.open && !c.joined.messages.attempted.isEmpty { best = (c.openMessages, k + 1, c) }
        }
        return (best.checkpoint, Array(lines[best.k...]))
    }

    static let postfixDamages: [Damage<PostfixParser.Checkpoint>] = [
        Damage(name: "lastTouched shorter than the ids", expected: "lastTouched has") {
            $0.joined.messages.times.removeLast()
        },
        Damage(name: "flags longer than the ids", expected: "flags has") { $0.joined.messages.flags.append(0) },
        Damage(name: "unknown flag bit", expected: "unknown message flags") { $0.joined.messages.flags[0] = 0x80 },
        Damage(name: "string reference past the table", expected: "sender refers to string") {
            $0.joined.messages[field: "sender"][0] = Int32($0.joined.messages.strings.count)
        },
        Damage(name: "negative string reference", expected: "subject refers to string") {
            $0.joined.messages[field: "subject"][0] = -2
        },
        Damage(name: "string table emptied", expected: "refers to string") { $0.joined.messages.strings = [] },
        Damage(name: "recipient counts exceed the saved hashes", expected: "add up to") {
            $0.joined.messages.attemptedCounts[0] += 1
        },
        Damage(name: "hashes without a count", expected: "add up to") { $0.joined.messages.attempted.append(42) },
        Damage(name: "negative recipient count", expected: "has a count of -1") {
            $0.joined.messages.attemptedCounts[0] = -1
        },
        Damage(name: "more recipients than a message remembers", expected: "has a count of 5000") {
            $0.joined.messages.attemptedCounts[0] = 5000
            $0.joined.messages.attempted += Array(repeating: 7, count: 5000)
        },
        Damage(name: "a scope missing", expected: "scopes has") { $0.joined.messages.scopes.removeLast() },
        Damage(name: "a queue id that is not one", expected: "is not a Postfix queue id") {
            $0.joined.messages.ids[0] = "not-a-queue-id"
        },
        Damage(name: "an over-long queue id", expected: "is not a Postfix queue id") {
            $0.joined.messages.ids[0] = String(repeating: "A", count: 40)
        },
        Damage(name: "the same queue id twice", expected: "saved twice") {
            $0.joined.messages.ids[1] = $0.joined.messages.ids[0]
        },
        Damage(name: "negative counter", expected: "parse counter") { $0.joined.counters.lines = -1 },
        Damage(name: "counter that would overflow", expected: "parse counter") { $0.joined.counters.events = .max },
        Damage(name: "reject counts without codes", expected: "rejectedCodes has") {
            $0.joined.counters.rejectedCounts.append(1)
        },
        Damage(name: "unknown reject code", expected: "unknown reject reason") {
            $0.joined.counters.rejectedCodes.append("bogus")
            $0.joined.counters.rejectedCounts.append(1)
        },
        Damage(name: "reject code twice", expected: "appears twice") {
            $0.joined.counters.rejectedCodes += ["malformed", "malformed"]
            $0.joined.counters.rejectedCounts += [1, 1]
        },
        Damage(name: "month 13", expected: "month 13") { $0.joined.years.month = 13 },
        Damage(name: "unknown year hint", expected: "unknown year hint") { $0.joined.years.hintKind = 9 },
        Damage(name: "year that would overflow", expected: "out of range") { $0.joined.years.year = .max },
        Damage(name: "hint year that would overflow", expected: "out of range") { $0.joined.years.hintValue = .max },
        Damage(name: "resolved year without a hint", expected: "without a year hint") { $0.joined.years.hintKind = 0 },
        Damage(name: "modification time that would overflow", expected: "out of range") {
            $0.joined.years.hintKind = 2
            $0.joined.years.hintValue = .min
        },
    ]

    @Test("Damaged Postfix checkpoints throw dataCorrupted", arguments: postfixDamages)
    func postfix(damage: Damage<PostfixParser.Checkpoint>) throws {
        let (checkpoint, _) = Self.postfixCheckpoint()
        #expect(checkpoint.openMessages >= 2)
        try expectRefused(checkpoint, damage) { _ = try PostfixParser(configuration: .init(), restoring: $0) }
    }

    static let eximDamages: [Damage<EximParser.Checkpoint>] = [
        Damage(name: "unknown phase", expected: "unknown message phase") { $0.joined.messages.flags[0] = 9 },
        Damage(name: "phases shorter than the ids", expected: "phases has") { $0.joined.messages.flags.removeLast() },
        Damage(name: "unknown header trust", expected: "unknown header trust") {
            $0.joined.messages.flags[0] |= 3 << 4
        },
        Damage(name: "no sender", expected: "sender refers to string") { $0.joined.messages[field: "sender"][0] = -1 },
        Damage(name: "client IP list shorter", expected: "clientIP has") {
            $0.joined.messages[field: "clientIP"].removeLast()
        },
        Damage(name: "string reference past the table", expected: "subject refers to string") {
            $0.joined.messages[field: "subject"][0] = Int32.max
        },
        Damage(name: "a host missing", expected: "hosts has") { $0.joined.messages.scopes.removeLast() },
        Damage(name: "a message id that is not one", expected: "is not an Exim message id") {
            $0.joined.messages.ids[0] = "1wAAA-bad"
        },
        Damage(name: "the same message id twice", expected: "saved twice") {
            $0.joined.messages.ids[1] = $0.joined.messages.ids[0]
        },
        Damage(name: "recipient counts do not add up", expected: "add up to") {
            $0.joined.messages.attempted.removeLast()
        },
        Damage(name: "negative recipient count", expected: "has a count of") {
            $0.joined.messages.attemptedCounts[0] = -3
        },
        Damage(name: "negative counter", expected: "parse counter") { $0.joined.counters.incompleteMessages = -7 },
        Damage(name: "month 0 with a year", expected: "without a year hint") {
            $0.joined.years.hintKind = 0
            $0.joined.years.month = 5
        },
    ]

    @Test("Damaged Exim checkpoints throw dataCorrupted", arguments: eximDamages)
    func exim(damage: Damage<EximParser.Checkpoint>) throws {
        let (checkpoint, _) = Self.eximCheckpoint()
        #expect(checkpoint.openMessages >= 2)
        try expectRefused(checkpoint, damage) { _ = try EximParser(configuration: .init(), restoring: $0) }
    }

    static let jsonDamages: [Damage<JSONLinesParser.Checkpoint>] = [
        Damage(name: "negative JSON-lines counter", expected: "JSON-lines counter") {
            $0.jsonCounters.unknownStatus = -5
        },
        Damage(name: "huge JSON-lines counter", expected: "JSON-lines counter") {
            $0.jsonCounters.droppedRecipients = 1 << 60
        },
        Damage(name: "huge ignored counter", expected: "parse counter") { $0.counters.ignored = 1 << 60 },
    ]

    @Test("Damaged JSON-lines checkpoints throw dataCorrupted", arguments: jsonDamages)
    func jsonLines(damage: Damage<JSONLinesParser.Checkpoint>) throws {
        try expectRefused(JSONLinesParser().checkpoint(), damage) { _ = try JSONLinesParser(restoring: $0) }
    }

    static let detectorDamages: [Damage<FormatDetector.Checkpoint>] = [
        Damage(name: "votes without formats", expected: "votes has") { $0.votes.append(3) },
        Damage(name: "a format twice", expected: "appears twice") {
            $0.formats.append($0.formats[0])
            $0.votes.append(1)
        },
        Damage(name: "negative votes", expected: "vote count") { $0.votes[0] = -1 },
        Damage(name: "month 14 in the detector's syslog reader", expected: "month 14") { $0.years.month = 14 },
    ]

    @Test("Damaged format detector checkpoints throw dataCorrupted", arguments: detectorDamages)
    func detector(damage: Damage<FormatDetector.Checkpoint>) throws {
        var detector = FormatDetector(decisiveVotes: 100)
        for line in LogGenerator.postfixRollover().prefix(10) {
            _ = Array(line.utf8).withUnsafeBytes { detector.observe(line: $0) }
        }
        try expectRefused(detector.checkpoint(), damage) { _ = try FormatDetector(decisiveVotes: 100, restoring: $0) }
    }

    @Test("An unknown format name in a detector checkpoint is rejected by decoding")
    func unknownFormatName() throws {
        let json = #"{"formats":["smtp"],"votes":[1],"years":{"hintKind":1,"hintValue":2000,"year":0,"month":0}}"#
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(FormatDetector.Checkpoint.self, from: Data(json.utf8))
        }
    }

    /// Changes bytes of the encoded checkpoint at fixed pseudo-random places: whatever decodes and restores must
    /// then parse the rest of the log and finish without trapping (a trap ends the test run).
    @Test("Randomly altered checkpoint bytes either throw or give a parser that runs to the end", arguments: [0, 1])
    func alteredBytes(format: Int) throws {
        var state: UInt64 = 0xC0FF_EE00 + UInt64(format)
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        let (bytes, rest): ([UInt8], [[UInt8]])
        if format == 0 {
            let (c, r) = Self.postfixCheckpoint()
            (bytes, rest) = (try encodedState(c), r)
        } else {
            let (c, r) = Self.eximCheckpoint()
            (bytes, rest) = (try encodedState(c), r)
        }
        var accepted = 0
        var rejected = 0
        for round in 0..<400 {
            var altered = bytes
            for _ in 0...next(3) {
                let i = next(altered.count)
                // Mostly small changes (a count or index off by a little), sometimes any byte.
                altered[i] = round % 2 == 0 ? altered[i] &+ UInt8(1 + next(3)) : UInt8(next(256))
            }
            var events: EventBatch = []
            do {
                if format == 0 {
                    let c = try decodedState(PostfixParser.Checkpoint.self, from: altered)
                    var p = try PostfixParser(configuration: .init(maxOpenMessages: 8), restoring: c)
                    for line in rest { _ = line.withUnsafeBytes { p.parse(line: $0, into: &events) } }
                    p.finish(into: &events)
                    _ = p.counters.rejectedTotal
                } else {
                    let c = try decodedState(EximParser.Checkpoint.self, from: altered)
                    var p = try EximParser(configuration: .init(maxOpenMessages: 8), restoring: c)
                    for line in rest { _ = line.withUnsafeBytes { p.parse(line: $0, into: &events) } }
                    p.finish(into: &events)
                    _ = p.counters.rejectedTotal
                }
                accepted += 1
            } catch {
                rejected += 1
            }
        }
        // Both paths must be exercised: many changes are harmless (a hash, a time), many are caught.
        #expect(accepted > 0)
        #expect(rejected > 0)
    }
}

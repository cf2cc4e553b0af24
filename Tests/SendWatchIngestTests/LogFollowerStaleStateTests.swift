import Foundation
import SendWatchIngest
import SendWatchTesting
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// logrotate's individual steps (delete the oldest, rename, the writer's last lines into the renamed file,
/// create, copytruncate, compress `.2` into `.2.gz` in its two halves), with a restart after EVERY step from
/// EVERY state taken at an earlier step (a crash restores the last checkpoint, which can be several steps
/// stale): each restart must deliver exactly the lines written after its state's position, none lost, none
/// twice (issue 14, item 13).
///
/// A restart is checked only while every line it still has to deliver exists on disk: lines of a rotated file
/// deleted before they were read are lost by design (see ``LogFollower``), so a state older than the deletion
/// of a file it had not finished is not checked after that deletion.
@Suite("LogFollower restarts from stale states through logrotate's steps", .serialized)
struct LogFollowerStaleStateTests {
    /// logrotate's rotation method.
    enum Method: String, CaseIterable {
        /// `create`: rename the live file, then create a new one (the writer reopens it).
        case create
        /// `copytruncate`: copy the live file to `.1`, then truncate it in place.
        case copytruncate
    }

    /// Whether the running follower polls between the steps (a busy machine may not get to it).
    enum Polling: String, CaseIterable {
        case afterEveryStep
        case onlyAfterWrites
    }

    final class Model {
        let dir = LogDirectory()
        let clock = ManualMilliseconds()
        var written: [String] = []
        /// The file (a content generation: a copy is a new one) that holds each written line.
        var fileOfLine: [Int] = []
        /// The generation at each name.
        var generation: [String: Int] = [:]
        var nextGeneration = 0
        var deleted: Set<Int> = []
        var sequence = 0
        /// The writer's open file: it keeps writing to the renamed file until the new one is created.
        var writerTarget = "mail.log"

        init() {
            dir.create("mail.log")
            generation["mail.log"] = newGeneration()
        }

        func newGeneration() -> Int {
            nextGeneration += 1
            return nextGeneration
        }

        func follower(restoring state: FollowerState?, clock: ManualMilliseconds? = nil) throws -> LogFollower {
            var configuration = FollowConfiguration()
            configuration.startAtEnd = false
            configuration.usePolling = true
            return try LogFollower(
                patterns: [dir.full("mail.log")], configuration: configuration, restoring: state,
                clock: (clock ?? self.clock).closure)
        }

        func write(_ count: Int) {
            var text = ""
            // Safe to force unwrap: the writer's target always has a generation.
            let g = generation[writerTarget]!
            for _ in 0..<count {
                sequence += 1
                let line = "L\(sequence) " + String(repeating: "z", count: 30)
                written.append(line)
                fileOfLine.append(g)
                text += line + "\n"
            }
            dir.append(writerTarget, text)
        }

        func rename(_ from: String, _ to: String) {
            dir.rename(from, to)
            generation[to] = generation.removeValue(forKey: from)
            if writerTarget == from { writerTarget = to }
        }

        func remove(_ name: String) {
            guard dir.exists(name) else { return }
            dir.remove(name)
            if let g = generation.removeValue(forKey: name) { deleted.insert(g) }
        }

        /// One logrotate step; `name` for messages.
        func steps(_ method: Method) -> [(name: String, run: () throws -> Void)] {
            var out: [(String, () throws -> Void)] = [
                ("delete the oldest (mail.log.2.gz)", { self.remove("mail.log.2.gz") }),
                (
                    "rename mail.log.1 to mail.log.2",
                    { if self.dir.exists("mail.log.1") { self.rename("mail.log.1", "mail.log.2") } }
                ),
            ]
            switch method {
            case .create:
                out += [
                    ("rename mail.log to mail.log.1", { self.rename("mail.log", "mail.log.1") }),
                    ("the writer's last lines into mail.log.1", { self.write(40) }),
                    (
                        "create mail.log",
                        {
                            self.dir.create("mail.log")
                            self.generation["mail.log"] = self.newGeneration()
                            self.writerTarget = "mail.log"
                        }
                    ),
                ]
            case .copytruncate:
                out += [
                    (
                        "copytruncate mail.log to mail.log.1",
                        {
                            // The copy holds the lines now; the live name starts a new generation in place.
                            // Safe to force unwrap: mail.log always exists in this method.
                            let old = self.generation["mail.log"]!
                            let copy = self.newGeneration()
                            self.fileOfLine = self.fileOfLine.map { $0 == old ? copy : $0 }
                            self.dir.copyTruncate("mail.log", to: "mail.log.1")
                            self.generation["mail.log.1"] = copy
                            self.generation["mail.log"] = self.newGeneration()
                        }
                    )
                ]
            }
            out += [
                ("new lines into mail.log", { self.write(60) }),
                (
                    "gzip writes mail.log.2.gz",
                    {
                        guard self.dir.exists("mail.log.2") else { return }
                        self.dir.root.write("mail.log.2.gz", Compress.gzipMember(self.dir.read("mail.log.2")))
                        self.generation["mail.log.2.gz"] = self.generation["mail.log.2"]
                    }
                ),
                (
                    "gzip removes mail.log.2",
                    {
                        guard self.dir.exists("mail.log.2") else { return }
                        self.dir.remove("mail.log.2")
                        self.generation["mail.log.2"] = nil
                    }
                ),
                ("more lines into mail.log", { self.write(150) }),
            ]
            return out
        }
    }

    func drain(_ follower: LogFollower, into out: inout FollowCollector) throws {
        var rounds = 0
        while true {
            let report = follower.poll(into: &out)
            if !report.moreAvailable { break }
            rounds += 1
            try #require(rounds < 1000)
        }
    }

    @Test(
        "Every restart from every earlier state, after every logrotate step, delivers each line once",
        arguments: Method.allCases, Polling.allCases)
    func staleRestarts(method: Method, polling: Polling) throws {
        let model = Model()
        model.write(150)
        let live = try model.follower(restoring: nil)
        var liveOut = FollowCollector()
        try drain(live, into: &liveOut)
        /// Saved states with the number of lines delivered when each was taken.
        var saved: [(state: FollowerState, delivered: Int, step: String)] = [
            (try roundTrip(live.state), liveOut.lines.count, "start")
        ]
        var checked = 0
        for round in 1...3 {
            for (name, run) in model.steps(method) {
                try run()
                model.clock.now += 500
                let step = "round \(round): \(name)"
                if polling == .afterEveryStep || name.contains("lines") { try drain(live, into: &liveOut) }
                #expect(
                    liveOut.texts == Array(model.written.prefix(liveOut.lines.count)),
                    "the running follower, after \(step)")
                for (state, delivered, taken) in saved {
                    let pending = model.fileOfLine[delivered...]
                    guard !pending.contains(where: { model.deleted.contains($0) }) else { continue }
                    var out = FollowCollector()
                    let clock = ManualMilliseconds()
                    clock.now = model.clock.now
                    let restarted = try model.follower(restoring: try roundTrip(state), clock: clock)
                    try drain(restarted, into: &out)
                    // Past the quiet period: a renamed file is read to its end and closed.
                    clock.now += 10_000
                    try drain(restarted, into: &out)
                    let expected = Array(model.written[delivered...])
                    #expect(
                        out.texts == expected,
                        "restart after \(step) from the state taken at \(taken): \(out.texts.count) lines delivered, \(expected.count) expected, first \(out.texts.first ?? "-") vs \(expected.first ?? "-")"
                    )
                    checked += 1
                }
                saved.append((try roundTrip(live.state), liveOut.lines.count, step))
            }
        }
        try drain(live, into: &liveOut)
        model.clock.now += 10_000
        try drain(live, into: &liveOut)
        #expect(liveOut.texts == model.written)
        #expect(checked > 50)
    }
}

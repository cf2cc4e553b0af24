import Foundation
import SendWatchIngest
import SendWatchTesting
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the follower says about the names it is given, the way administrators give them: one file named
/// twice, a glob that matches nothing yet, a glob that also matches rotated files.
@Suite("LogFollower: names given twice, globs matching nothing or rotated files", .serialized)
struct LogFollowerNamingTests {
    let dir = LogDirectory()
    let clock = ManualMilliseconds()

    func follower(_ patterns: [String], fromStart: Bool = true) throws -> LogFollower {
        var configuration = FollowConfiguration()
        configuration.startAtEnd = !fromStart
        configuration.usePolling = true
        return try LogFollower(patterns: patterns, configuration: configuration, clock: clock.closure)
    }

    @Test("One file named twice (two spellings, a link and its target, a glob) is followed once, and said so")
    func sameFileTwice() throws {
        dir.append("mail.log", numbered("a", 1...3))
        symlink(dir.full("mail.log"), dir.full("link.log"))
        let follower = try follower([
            dir.full("mail.log"), dir.path + "/./mail.log", dir.full("link.log"), dir.full("mail.log"),
            dir.path + "/mail.l?g",
        ])
        var out = FollowCollector()
        let first = follower.poll(into: &out)
        // Before: four streams (the glob's match is the same name), every line delivered four times.
        #expect(out.take() == ["a1", "a2", "a3"])
        #expect(follower.streams.map(\.name) == [dir.full("mail.log")])
        let same = first.diagnostics.filter { $0.code == .sameFileTwice }
        #expect(same.map(\.path) == [dir.path + "/./mail.log", dir.full("link.log")], "\(first.diagnostics)")
        #expect(
            same.allSatisfy {
                $0.message == "is the same file as \(dir.full("mail.log")); followed once, as \(dir.full("mail.log"))"
            })
        dir.append("mail.log", numbered("b", 1...2))
        let second = follower.poll(into: &out)
        #expect(out.take() == ["b1", "b2"])
        #expect(second.diagnostics.isEmpty)
    }

    @Test("A glob match that appears later and is a file already followed is not followed again")
    func sameFileLater() throws {
        dir.append("mail.log", numbered("a", 1...2))
        dir.makeDirectory("links")
        let follower = try follower([dir.full("mail.log"), dir.path + "/links/*.log"])
        var out = FollowCollector()
        let first = follower.poll(into: &out)
        #expect(out.take() == ["a1", "a2"])
        #expect(first.diagnostics.map(\.code) == [.nothingMatches])
        symlink(dir.full("mail.log"), dir.full("links/mail.log"))
        dir.create("links/other.log")
        dir.append("links/other.log", numbered("o", 1...1))
        dir.append("mail.log", numbered("b", 1...1))
        let second = follower.poll(into: &out)
        #expect(out.take().sorted() == ["b1", "o1"])
        #expect(follower.streams.map(\.name) == [dir.full("mail.log"), dir.full("links/other.log")])
        #expect(second.diagnostics.map(\.code) == [.sameFileTwice])
        #expect(second.diagnostics.first?.path == dir.full("links/mail.log"))
        _ = follower.poll(into: &out)
        #expect(follower.poll(into: &out).diagnostics.isEmpty, "reported once")
    }

    @Test("Different files are all followed, rotated or not, whatever their names")
    func differentFiles() throws {
        dir.append("a.log", numbered("a", 1...1))
        dir.append("b.log", numbered("b", 1...1))
        let follower = try follower([dir.full("a.log"), dir.full("b.log"), dir.path + "/*.log"])
        var out = FollowCollector()
        let report = follower.poll(into: &out)
        #expect(out.take().sorted() == ["a1", "b1"])
        #expect(follower.streams.count == 2)
        #expect(report.diagnostics.isEmpty)
    }

    @Test("A glob that matches nothing yet says so once, naming a missing directory, and waits")
    func nothingMatches() throws {
        let follower = try follower([dir.path + "/nomatch*.log", dir.path + "/later/*.log"])
        var out = FollowCollector()
        let first = follower.poll(into: &out)
        // Before: nothing at all until a file matched.
        #expect(first.diagnostics.map(\.code) == [.nothingMatches, .nothingMatches])
        #expect(
            first.diagnostics.map(\.message) == [
                "matches no file yet; waiting for one to appear",
                "matches no file, and its directory \(dir.path)/later does not exist; waiting for both to appear",
            ])
        #expect(follower.poll(into: &out).diagnostics.isEmpty, "said once")
        dir.makeDirectory("later")
        dir.create("later/x.log")
        dir.append("later/x.log", numbered("x", 1...2))
        _ = follower.poll(into: &out)
        #expect(out.take() == ["x1", "x2"])
    }

    @Test("A plain name whose directory does not exist says that too")
    func missingDirectory() throws {
        let follower = try follower([dir.path + "/nodir/mail.log"])
        var out = FollowCollector()
        let first = follower.poll(into: &out)
        #expect(first.diagnostics.map(\.code) == [.pathMissing])
        #expect(first.diagnostics.first?.message.contains("nor does its directory \(dir.path)/nodir") == true)
    }

    @Test("From the start, a glob's rotated matches are named as not read; at the end (the default) they are not")
    func rotatedMatches() throws {
        dir.append("mail.log", numbered("a", 1...1))
        dir.append("mail.log.1", numbered("r", 1...1))
        dir.append("mail.log.2.gz", "not really gzip\n")
        let fromStart = try follower([dir.path + "/mail.log*"])
        var out = FollowCollector()
        let first = fromStart.poll(into: &out)
        #expect(out.take() == ["a1"])
        let note = try #require(first.diagnostics.first { $0.code == .rotatedMatchesNotRead })
        #expect(note.message.contains("also matches 2 rotated files, not read"), "\(note.message)")
        #expect(note.message.contains("\(dir.full("mail.log.1")) \(dir.full("mail.log.2.gz"))"))
        #expect(note.message.hasSuffix("to have their lines, read them first with sendwatch replay"))
        var shipping = FollowConfiguration(usePolling: true, startAtEnd: false)
        shipping.rotatedFilesAdvice = "ship them first: name them in a sendwatch ship --once run"
        let shipFollower = try LogFollower(
            patterns: [dir.path + "/mail.log*"], configuration: shipping, clock: clock.closure)
        let shipNote = try #require(
            shipFollower.poll(into: &out).diagnostics.first { $0.code == .rotatedMatchesNotRead })
        let shipAdvice = "to have their lines, ship them first: name them in a sendwatch ship --once run"
        #expect(shipNote.message.hasSuffix(shipAdvice))
        _ = out.take()
        // One rotated match: "it", not "them".
        try FileManager.default.removeItem(atPath: dir.full("mail.log.2.gz"))
        let oneLeft = try LogFollower(
            patterns: [dir.path + "/mail.log*"], configuration: shipping, clock: clock.closure)
        let oneNote = try #require(oneLeft.poll(into: &out).diagnostics.first { $0.code == .rotatedMatchesNotRead })
        #expect(oneNote.message.hasSuffix("to have its lines, ship it first: name it in a sendwatch ship --once run"))
        _ = out.take()
        let atEnd = try follower([dir.path + "/mail.log*"], fromStart: false)
        #expect(!atEnd.poll(into: &out).diagnostics.contains { $0.code == .rotatedMatchesNotRead })
    }
}

import Foundation
import SendWatchIngest
import SendWatchTesting
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite("LogFollower scenarios", .serialized)
struct LogFollowerTests {
    let dir = LogDirectory()
    let clock = ManualMilliseconds()

    func follower(
        _ patterns: [String]? = nil, fromStart: Bool = true, restoring state: FollowerState? = nil,
        configure: (inout FollowConfiguration) -> Void = { _ in }
    ) throws -> LogFollower {
        var configuration = FollowConfiguration()
        configuration.startAtEnd = !fromStart
        configure(&configuration)
        return try LogFollower(
            patterns: patterns ?? [dir.full("mail.log")], configuration: configuration, restoring: state,
            clock: clock.closure)
    }

    @Test("Appended lines are delivered in order; the state offset is the end of the last line")
    func append() throws {
        dir.append("mail.log", numbered("a", 1...2))
        let follower = try follower()
        var out = FollowCollector()
        let first = follower.poll(into: &out)
        #expect(out.take() == ["a1", "a2"])
        #expect(first.linesDelivered == 2)
        dir.append("mail.log", numbered("b", 1...3))
        _ = follower.poll(into: &out)
        #expect(out.take() == ["b1", "b2", "b3"])
        #expect(follower.state.streams.first?.file?.offset == dir.size("mail.log"))
        #expect(follower.lag.first?.behindBytes == 0)
        #expect(follower.streams == [FollowedStream(index: 0, name: dir.full("mail.log"))])
    }

    @Test(
        "A name with no file (or a link to nothing) is reported once as path_missing, counted, and read from its start when it appears"
    )
    func missingPath() throws {
        symlink(dir.full("nowhere.log"), dir.full("link.log"))
        let follower = try follower([dir.full("mail.log"), dir.full("link.log")])
        var out = FollowCollector()
        let first = follower.poll(into: &out)
        #expect(first.diagnostics.map(\.code) == [.pathMissing, .pathMissing])
        #expect(first.diagnostics.first?.message.contains("waiting for it to appear") == true)
        #expect(follower.streamsWithoutFile == 2)
        #expect(follower.poll(into: &out).diagnostics.isEmpty, "reported once")
        dir.append("mail.log", numbered("a", 1...2))
        _ = follower.poll(into: &out)
        #expect(out.take() == ["a1", "a2"])
        #expect(follower.streamsWithoutFile == 1)
        // A rename leaves the name without a file until the next one: no missing report for that gap.
        dir.rename("mail.log", "mail.log.1")
        let gap = follower.poll(into: &out)
        #expect(!gap.diagnostics.contains { $0.code == .pathMissing })
    }

    @Test("Default start is the end of the last complete line; a partial tail is completed and delivered whole")
    func startAtEnd() throws {
        dir.append("mail.log", numbered("old", 1...3) + "part")
        let follower = try follower(fromStart: false)
        var out = FollowCollector()
        _ = follower.poll(into: &out)
        #expect(out.take().isEmpty)
        dir.append("mail.log", "ial\nnew\n")
        _ = follower.poll(into: &out)
        #expect(out.take() == ["partial", "new"])
    }

    @Test("A partial line is held until its newline arrives; the state offset stays before it")
    func partialThenCompletion() throws {
        dir.append("mail.log", "a1\nhalf")
        let follower = try follower()
        var out = FollowCollector()
        _ = follower.poll(into: &out)
        #expect(out.take() == ["a1"])
        #expect(follower.state.streams[0].file?.offset == 3)
        dir.append("mail.log", " and rest\n")
        _ = follower.poll(into: &out)
        #expect(out.take() == ["half and rest"])
    }

    @Test("A partial line is delivered after the quiet period of the injected clock")
    func partialFlushedAfterQuietPeriod() throws {
        dir.append("mail.log", "a1\nno newline")
        let follower = try follower()
        var out = FollowCollector()
        _ = follower.poll(into: &out)
        clock.now += 4999
        _ = follower.poll(into: &out)
        #expect(out.take() == ["a1"])
        clock.now += 1
        let report = follower.poll(into: &out)
        #expect(out.take() == ["no newline"])
        #expect(report.partialLinesFlushed == 1)
        #expect(follower.state.streams[0].file?.offset == dir.size("mail.log"))
    }

    @Test("Overlong lines are skipped to their newline and counted; the offset stays at line boundaries")
    func overlongLine() throws {
        dir.append("mail.log", "short\n" + String(repeating: "x", count: 100) + "\nafter\n")
        let follower = try follower { $0.maxLineBytes = 10 }
        var out = FollowCollector()
        let report = follower.poll(into: &out)
        #expect(out.take() == ["short", "after"])
        #expect(report.linesTooLong == 1)
    }

    @Test("rename + create: the new file is read from 0 once it has data")
    func renameCreate() throws {
        dir.append("mail.log", numbered("a", 1...2))
        let follower = try follower()
        var out = FollowCollector()
        _ = follower.poll(into: &out)
        #expect(out.take() == ["a1", "a2"])
        dir.rename("mail.log", "mail.log.1")
        dir.create("mail.log")
        _ = follower.poll(into: &out)
        #expect(out.take().isEmpty)
        dir.append("mail.log", numbered("b", 1...2))
        let report = follower.poll(into: &out)
        #expect(out.take() == ["b1", "b2"])
        #expect(report.rotations == 1)
    }

    @Test("rename + create with unread data in the old file: the old file is finished first")
    func renameCreateWithUnreadData() throws {
        dir.append("mail.log", numbered("a", 1...2))
        let follower = try follower()
        var out = FollowCollector()
        _ = follower.poll(into: &out)
        dir.append("mail.log", numbered("b", 1...2) + "tail without newline")
        dir.rename("mail.log", "mail.log.1")
        dir.append("mail.log", numbered("c", 1...2))
        _ = follower.poll(into: &out)
        #expect(out.take() == ["a1", "a2", "b1", "b2", "tail without newline", "c1", "c2"])
    }

    @Test("Two rotations between polls: the intermediate rotated file is read too, in order")
    func twoRotationsBetweenPolls() throws {
        dir.append("mail.log", numbered("a", 1...2))
        let follower = try follower()
        var out = FollowCollector()
        _ = follower.poll(into: &out)
        _ = out.take()
        dir.append("mail.log", "a3\n")
        dir.rename("mail.log", "mail.log.1")
        dir.append("mail.log", "b1\n")
        dir.rename("mail.log.1", "mail.log.2")
        dir.rename("mail.log", "mail.log.1")
        dir.append("mail.log", "c1\n")
        _ = follower.poll(into: &out)
        #expect(out.take() == ["a3", "b1", "c1"])
    }

    @Test("copytruncate with unread data: the copy is read from our offset, then the truncated file from 0")
    func copyTruncate() throws {
        dir.append("mail.log", numbered("a", 1...2))
        let follower = try follower()
        var out = FollowCollector()
        _ = follower.poll(into: &out)
        _ = out.take()
        dir.append("mail.log", numbered("b", 1...2))
        dir.copyTruncate("mail.log", to: "mail.log.1")
        dir.append("mail.log", numbered("c", 1...5))  // longer than before: only the first bytes show it
        let report = follower.poll(into: &out)
        #expect(out.take() == ["b1", "b2", "c1", "c2", "c3", "c4", "c5"])
        #expect(report.truncations == 1)
        #expect(report.diagnostics.isEmpty)
    }

    @Test("Truncation with unread bytes and no copy is reported, then the file is read from 0")
    func truncateWithoutCopy() throws {
        dir.append("mail.log", numbered("a", 1...2))
        let follower = try follower()
        var out = FollowCollector()
        _ = follower.poll(into: &out)
        clock.now += 1
        dir.append("mail.log", numbered("b", 1...2))
        _ = follower.poll(into: &out)
        #expect(out.take() == ["a1", "a2", "b1", "b2"])
        dir.create("mail.log")
        dir.append("mail.log", "c1\n")
        let report = follower.poll(into: &out)
        #expect(out.take() == ["c1"])
        #expect(report.truncations == 1)
        #expect(report.diagnostics.isEmpty)  // nothing unread was lost
    }

    @Test("delete + recreate: the deleted file is drained, then the new file is read from 0")
    func deleteRecreate() throws {
        dir.append("mail.log", "a1\n")
        let follower = try follower()
        var out = FollowCollector()
        _ = follower.poll(into: &out)
        dir.append("mail.log", "a2\n")
        dir.remove("mail.log")
        _ = follower.poll(into: &out)
        #expect(out.take() == ["a1", "a2"])
        dir.append("mail.log", "b1\n")
        let report = follower.poll(into: &out)
        #expect(out.take() == ["b1"])
        #expect(report.rotations == 1)
    }

    @Test(
        "A rotation that removes the file being read before it is searched reports the rotated file written after it as unread"
    )
    func rotatedAwayWhileRead() throws {
        dir.append("mail.log", "a1\n")
        let follower = try follower()
        var out = FollowCollector()
        _ = follower.poll(into: &out)
        #expect(out.take() == ["a1"])
        dir.age("mail.log", secondsAgo: 100)
        // Two rotations with `rotate 1` before the next poll: the file read is removed, its successor is .1.
        dir.rename("mail.log", "mail.log.1")
        dir.append("mail.log", "b1\n")
        dir.age("mail.log", secondsAgo: 50)
        dir.rename("mail.log", "mail.log.1")
        dir.append("mail.log", "c1\n")
        let report = follower.poll(into: &out)
        #expect(out.take() == ["c1"])
        #expect(report.diagnostics.map(\.code) == [.rotatedFilesUnread], "\(report.diagnostics)")
        #expect(report.diagnostics.first?.path == dir.full("mail.log.1"))
        #expect(report.diagnostics.first?.message.contains("1 rotated file(s)") == true)
    }

    @Test("delete + recreate beside an older rotated file reports nothing")
    func deleteRecreateBesideOlderArchive() throws {
        dir.append("mail.log.1", "old1\n")
        dir.age("mail.log.1", secondsAgo: 200)
        dir.append("mail.log", "a1\n")
        dir.age("mail.log", secondsAgo: 100)
        let follower = try follower()
        var out = FollowCollector()
        _ = follower.poll(into: &out)
        dir.remove("mail.log")
        dir.append("mail.log", "b1\n")
        let report = follower.poll(into: &out)
        #expect(out.take().suffix(1) == ["b1"])
        #expect(report.diagnostics.isEmpty, "\(report.diagnostics)")
    }

    @Test("A deleted file is closed after the quiet period; a file appearing later is read from 0")
    func deletedThenQuietThenRecreated() throws {
        dir.append("mail.log", "a1\n")
        let follower = try follower()
        var out = FollowCollector()
        _ = follower.poll(into: &out)
        dir.remove("mail.log")
        _ = follower.poll(into: &out)
        clock.now += 5000
        _ = follower.poll(into: &out)
        // The closed file at its end stays the position (a restart reads rotated files newer than it first).
        let closed = try roundTrip(follower.state)
        #expect(closed.streams[0].file?.offset == 3)
        dir.append("mail.log", "b1\n")
        _ = follower.poll(into: &out)
        #expect(out.take() == ["a1", "b1"])
        // Restarted from that state: the deleted file is not found (reported), the new one is read from 0.
        var again = FollowCollector()
        let restarted = try LogFollower(
            patterns: [dir.full("mail.log")], configuration: follower.configuration, restoring: closed,
            clock: clock.closure)
        let report = restarted.poll(into: &again)
        #expect(again.take() == ["b1"])
        #expect(report.diagnostics.map(\.code) == [.savedFileNotFound])
    }

    @Test("A file that appears later is read from 0, even when starting at the end")
    func fileAppearingLater() throws {
        let follower = try follower(fromStart: false)
        var out = FollowCollector()
        _ = follower.poll(into: &out)
        #expect(follower.state.streams == [StreamPosition(name: dir.full("mail.log"), file: nil)])
        dir.append("mail.log", numbered("a", 1...3))
        _ = follower.poll(into: &out)
        #expect(out.take() == ["a1", "a2", "a3"])
    }

    @Test(
        "Restart after rename + compress: the compressed predecessor is found by its decompressed bytes",
        arguments: ["gz", "zst"])
    func compressedPredecessorRestart(kind: String) throws {
        dir.append("mail.log", numbered("a", 1...50))
        var out = FollowCollector()
        var saved: FollowerState
        do {
            let first = try follower()
            _ = first.poll(into: &out)
            saved = try roundTrip(first.state)
        }
        dir.append("mail.log", numbered("b", 1...3))
        dir.rename("mail.log", "mail.log.1")
        dir.append("mail.log", numbered("c", 1...2))
        dir.compress("mail.log.1", as: kind)
        #expect(!dir.exists("mail.log.1"))
        _ = out.take()
        let second = try follower(restoring: saved)
        let report = second.poll(into: &out)
        #expect(out.take() == ["b1", "b2", "b3", "c1", "c2"])
        #expect(report.diagnostics.isEmpty)
        saved = try roundTrip(second.state)
        #expect(saved.streams[0].file?.path == dir.full("mail.log"))
    }

    @Test(
        "Restart with the command-line compressors, when installed (scripts/deps test installs them)",
        arguments: ["gzip", "zstd", "xz", "bzip2", "lz4"])
    func compressedWithTools(tool: String) throws {
        let binary = "/usr/bin/" + tool
        guard FileManager.default.isExecutableFile(atPath: binary) else { return }
        dir.append("mail.log", numbered("a", 1...20))
        var out = FollowCollector()
        let first = try follower()
        _ = first.poll(into: &out)
        let saved = try roundTrip(first.state)
        dir.append("mail.log", "b1\n")
        dir.rename("mail.log", "mail.log.1")
        dir.append("mail.log", "c1\n")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        let path = dir.full("mail.log.1")
        switch tool {
        case "zstd": process.arguments = ["-q", "--rm", path]
        // lz4 writes to standard output when it is not a terminal unless the output file is named.
        case "lz4": process.arguments = ["-q", "--rm", path, path + ".lz4"]
        default: process.arguments = [path]
        }
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        _ = out.take()
        let second = try follower(restoring: saved)
        _ = second.poll(into: &out)
        #expect(out.take() == ["b1", "c1"])
    }

    /// How the files change while the follower is stopped, and what it must deliver after the restart.
    enum StoppedRotation: String, CaseIterable {
        case none, renameCreate, renameCreateGzip, renameCreateZstd, copyTruncate, copyTruncateGzip
        case twoRenames, deleteRecreate
    }

    @Test("Restart from saved state in each rotation state", arguments: StoppedRotation.allCases)
    func restartInEachRotationState(rotation: StoppedRotation) throws {
        dir.append("mail.log", numbered("a", 1...3))
        var out = FollowCollector()
        let saved: FollowerState
        do {
            let first = try follower()
            _ = first.poll(into: &out)
            saved = try roundTrip(first.state)
        }
        dir.append("mail.log", numbered("b", 1...2) + "b-partial")  // unread at the stop; partial re-read whole
        dir.append("mail.log", " done\n")
        switch rotation {
        case .none: break
        case .renameCreate, .renameCreateGzip, .renameCreateZstd:
            dir.rename("mail.log", "mail.log.1")
            dir.create("mail.log")
            if rotation == .renameCreateGzip { dir.compress("mail.log.1", as: "gz") }
            if rotation == .renameCreateZstd { dir.compress("mail.log.1", as: "zst") }
        case .copyTruncate, .copyTruncateGzip:
            dir.copyTruncate("mail.log", to: "mail.log.1")
            if rotation == .copyTruncateGzip { dir.compress("mail.log.1", as: "gz") }
        case .twoRenames:
            dir.rename("mail.log", "mail.log.1")
            dir.append("mail.log", "m1\n")
            dir.rename("mail.log.1", "mail.log.2")
            dir.rename("mail.log", "mail.log.1")
        case .deleteRecreate:
            dir.remove("mail.log")
        }
        dir.append("mail.log", numbered("c", 1...2))
        _ = out.take()
        let second = try follower(restoring: saved)
        let report = second.poll(into: &out)
        switch rotation {
        case .deleteRecreate:
            #expect(out.take() == ["c1", "c2"])
            #expect(report.diagnostics.map(\.code) == [.savedFileNotFound])
        case .twoRenames:
            #expect(out.take() == ["b1", "b2", "b-partial done", "m1", "c1", "c2"])
        default:
            #expect(out.take() == ["b1", "b2", "b-partial done", "c1", "c2"])
            #expect(report.diagnostics.isEmpty)
        }
        // And a second restart reads nothing twice.
        let third = try follower(restoring: try roundTrip(second.state))
        _ = third.poll(into: &out)
        #expect(out.take().isEmpty)
    }

    @Test("Restart while a rotated predecessor is only partly read resumes inside it")
    func restartInsidePredecessor() throws {
        dir.append("mail.log", numbered("a", 1...2))
        var out = FollowCollector()
        let first = try follower { $0.maxBytesPerStreamPerPoll = 64 * 1024 }
        _ = first.poll(into: &out)
        let long = (1...3000).map { "b\($0) " + String(repeating: "y", count: 40) + "\n" }
        dir.append("mail.log", long.joined())
        dir.rename("mail.log", "mail.log.1")
        dir.append("mail.log", "c1\n")
        let report = first.poll(into: &out)
        #expect(report.moreAvailable)
        let delivered = out.take()
        let saved = try roundTrip(first.state)
        #expect(saved.streams[0].file?.path == dir.full("mail.log"))  // opened as mail.log, renamed since
        dir.compress("mail.log.1", as: "zst")
        let second = try follower(restoring: saved)
        while second.poll(into: &out).moreAvailable {}
        #expect(delivered + out.take() == ["a1", "a2"] + long.map { String($0.dropLast()) } + ["c1"])
    }

    @Test("Inode reuse: a new file with the saved device and inode but other content is read from 0")
    func inodeReuse() throws {
        dir.append("mail.log", "old content line one\nold two\n")
        var out = FollowCollector()
        var saved = try {
            let first = try follower()
            _ = first.poll(into: &out)
            return first.state
        }()
        dir.remove("mail.log")
        dir.append("mail.log", "new content, longer than the old one was\nnew two\n")
        // Make the reuse certain: the saved file claims the new file's device and inode.
        let (device, inode) = dir.inode("mail.log")
        saved.streams[0].file?.identity.device = device
        saved.streams[0].file?.identity.inode = inode
        _ = out.take()
        let second = try follower(restoring: try roundTrip(saved))
        let report = second.poll(into: &out)
        #expect(out.take() == ["new content, longer than the old one was", "new two"])
        #expect(report.diagnostics.map(\.code) == [.savedFileNotFound])
    }

    @Test("Two files with identical first lines are told apart by device and inode")
    func identicalFirstLines() throws {
        dir.append("mail.log", "same header line\nA1\n")
        var out = FollowCollector()
        let saved = try {
            let first = try follower()
            _ = first.poll(into: &out)
            return try roundTrip(first.state)
        }()
        dir.rename("mail.log", "mail.log.1")
        dir.append("mail.log", "same header line\nB1\n")  // same size, same first line
        _ = out.take()
        let second = try follower(restoring: saved)
        let report = second.poll(into: &out)
        #expect(out.take() == ["same header line", "B1"])
        #expect(report.diagnostics.isEmpty)
    }

    @Test("Two glob streams with identical first lines stay separate streams")
    func identicalFirstLinesInTwoStreams() throws {
        dir.append("a.log", "same\nA\n")
        dir.append("b.log", "same\nB\n")
        let follower = try follower([dir.full("*.log")])
        var out = FollowCollector()
        _ = follower.poll(into: &out)
        #expect(out.lines.map { "\($0.stream):\($0.text)" } == ["0:same", "0:A", "1:same", "1:B"])
        let identities = follower.state.streams.compactMap { $0.file?.identity }
        #expect(identities.count == 2 && identities[0] != identities[1])
    }

    @Test("An empty file that is written later is read; its empty fingerprint grows")
    func emptyFileThenWritten() throws {
        dir.create("mail.log")
        let follower = try follower(fromStart: false)
        var out = FollowCollector()
        _ = follower.poll(into: &out)
        #expect(follower.state.streams[0].file?.identity.fingerprintLength == 0)
        dir.append("mail.log", "a1\n")
        _ = follower.poll(into: &out)
        #expect(out.take() == ["a1"])
        #expect(follower.state.streams[0].file?.identity.fingerprintLength == 3)
    }

    @Test("Restart from an empty file's state after it was written and renamed (not compressed)")
    func emptyFileRestart() throws {
        dir.create("mail.log")
        let saved = try roundTrip(try follower().state)
        dir.append("mail.log", "a1\n")
        dir.rename("mail.log", "mail.log.1")
        dir.append("mail.log", "b1\n")
        var out = FollowCollector()
        _ = try follower(restoring: saved).poll(into: &out)
        #expect(out.take() == ["a1", "b1"])
    }

    @Test("A glob picks up a new matching file as a new stream; rotated names are not streams")
    func globPicksUpNewFile() throws {
        dir.append("a.log", "a1\n")
        dir.append("a.log.1", "old\n")
        let follower = try follower([dir.full("*.log*")])
        var out = FollowCollector()
        _ = follower.poll(into: &out)
        #expect(follower.streams.map(\.name) == [dir.full("a.log")])
        dir.append("b.log", "b1\n")
        let report = follower.poll(into: &out)
        #expect(report.streamsOpened == [1])
        #expect(out.lines.map { "\($0.stream):\($0.text)" } == ["0:a1", "1:b1"])
        dir.remove("b.log")
        _ = follower.poll(into: &out)
        clock.now += 5000
        let closed = follower.poll(into: &out)
        #expect(closed.streamsRetired.isEmpty, "closed, but the name gets a quiet period for a successor")
        clock.now += 5000
        let later = follower.poll(into: &out)
        #expect(later.streamsRetired == [1])
    }

    /// The lines of mail.log (a1, a2) and of its successor after a rotation (b1, b2) came as one stream, never
    /// retired nor opened again (so its consumer's parser state went on).
    func expectOneStream(_ reports: [PollReport], _ out: FollowCollector) {
        #expect(reports.flatMap(\.streamsRetired).isEmpty, "the stream (and its parser state) is not ended")
        #expect(reports.flatMap(\.streamsOpened).isEmpty, "the new file is no new stream")
        #expect(out.lines.map { "\($0.stream):\($0.text)" } == ["0:a1", "0:a2", "0:b1", "0:b2"])
    }

    @Test(
        "A glob match rotated after a quiet spell (rename, then create) keeps its stream: the successor continues it",
        arguments: [0, 2000])
    func globRotationAfterQuietKeepsStream(createAfterMilliseconds: Int64) throws {
        dir.append("mail.log", numbered("a", 1...2))
        let follower = try follower([dir.full("mail.log*")])
        var out = FollowCollector()
        _ = follower.poll(into: &out)
        // The old file was quiet longer than the quiet period when logrotate renames it; a poll (woken by
        // inotify) sees the name without a file and closes the renamed file at once.
        clock.now += 6000
        dir.rename("mail.log", "mail.log.1")
        var reports = [follower.poll(into: &out)]
        clock.now += createAfterMilliseconds
        dir.create("mail.log")
        reports.append(follower.poll(into: &out))
        clock.now += 1000
        dir.append("mail.log", numbered("b", 1...2))
        reports.append(follower.poll(into: &out))
        expectOneStream(reports, out)
        #expect(follower.streams.map(\.name) == [dir.full("mail.log")])
    }

    @Test("A restart between a glob match's rename and its create keeps the stream for the successor")
    func globRestartInRotationGapKeepsStream() throws {
        dir.append("mail.log", numbered("a", 1...2))
        var out = FollowCollector()
        let before = try follower([dir.full("mail.log*")])
        _ = before.poll(into: &out)
        dir.rename("mail.log", "mail.log.1")
        let saved = try roundTrip(before.state)
        let follower = try follower([dir.full("mail.log*")], restoring: saved)
        var reports = [follower.poll(into: &out)]
        clock.now += 1000
        dir.append("mail.log", numbered("b", 1...2))
        reports.append(follower.poll(into: &out))
        expectOneStream(reports, out)
    }

    @Test("The number of streams is bounded; the extra matches are counted and reported once")
    func maxStreams() throws {
        for name in ["a", "b", "c", "d"] { dir.append("\(name).log", "\(name)1\n") }
        let follower = try follower([dir.full("*.log")]) { $0.maxStreams = 2 }
        var out = FollowCollector()
        let report = follower.poll(into: &out)
        #expect(follower.streams.count == 2)
        #expect(report.streamsOverLimit == 2)
        #expect(report.diagnostics.filter { $0.code == .streamLimitReached }.count == 1)
        #expect(out.texts == ["a1", "b1"])
        let again = follower.poll(into: &out)
        #expect(again.streamsOverLimit == 2)
        #expect(again.diagnostics.isEmpty)
    }

    @Test(
        "A directory or FIFO in place of the file: one clear diagnostic, skipped, no crash",
        arguments: ["directory", "fifo"])
    func notARegularFile(kind: String) throws {
        if kind == "directory" { dir.makeDirectory("mail.log") } else { dir.makeFIFO("mail.log") }
        let follower = try follower()
        var out = FollowCollector()
        let first = follower.poll(into: &out)
        #expect(first.diagnostics.map(\.code) == [.notARegularFile])
        #expect(first.diagnostics.first?.message.contains(kind == "directory" ? "a directory" : "a FIFO") == true)
        #expect(follower.poll(into: &out).diagnostics.isEmpty)
        if kind == "directory" { dir.removeDirectory("mail.log") } else { dir.remove("mail.log") }
        dir.append("mail.log", "a1\n")
        _ = follower.poll(into: &out)
        #expect(out.take() == ["a1"])
    }

    @Test("A saved stream that no pattern matches is dropped with a diagnostic")
    func savedStreamDropped() throws {
        let state = FollowerState(streams: [StreamPosition(name: "/nowhere/x.log", file: nil)])
        dir.append("mail.log", "a1\n")
        var out = FollowCollector()
        let report = try follower(restoring: state).poll(into: &out)
        #expect(report.diagnostics.map(\.code) == [.savedStreamDropped])
    }

    @Test("Invalid configurations are rejected with every problem listed")
    func invalidConfiguration() {
        var configuration = FollowConfiguration()
        configuration.maxStreams = 0
        configuration.pollIntervalMilliseconds = 0
        #expect {
            try configuration.validate()
        } throws: { error in
            let error = error as? IngestError
            return error?.code == .invalidConfiguration && error?.message.contains("maxStreams") == true
                && error?.message.contains("pollIntervalMilliseconds") == true
        }
        #expect(throws: IngestError.self) { try LogFollower(patterns: []) }
    }

    @Test("A damaged fingerprint in a saved state is a decoding error, not a crash")
    func damagedState() throws {
        let json =
            #"{"streams":[{"name":"x","file":{"identity":{"device":1,"inode":2,"fingerprint":"zz","#
            + #""fingerprintLength":3},"offset":0,"path":"x"}}]}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(FollowerState.self, from: Data(json.utf8)) }
    }

    @Test("inotify: a write is noticed by wait well within 250 ms", .timeLimit(.minutes(1)))
    func inotifyWakesUp() throws {
        try wakeUp(polling: false)
    }

    @Test("Polling fallback: a write is noticed within the poll interval", .timeLimit(.minutes(1)))
    func pollingWakesUp() throws {
        try wakeUp(polling: true)
    }

    private func wakeUp(polling: Bool) throws {
        dir.create("mail.log")
        var configuration = FollowConfiguration()
        configuration.usePolling = polling
        configuration.pollIntervalMilliseconds = 100
        let follower = try LogFollower(patterns: [dir.full("mail.log")], configuration: configuration)
        var out = FollowCollector()
        let first = follower.poll(into: &out)
        #expect(!first.diagnostics.contains { $0.code == .watchUnavailable })
        let path = dir.full("mail.log")
        let writer = Thread {
            usleep(30_000)
            let fd = open(path, O_WRONLY | O_APPEND)
            _ = "x1\n".withCString { write(fd, $0, 3) }
            close(fd)
        }
        let start = LogFollower.monotonicMilliseconds()
        writer.start()
        var elapsed: Int64 = 0
        while out.lines.isEmpty && elapsed < 2000 {
            follower.wait(timeoutMilliseconds: 5000)
            _ = follower.poll(into: &out)
            elapsed = LogFollower.monotonicMilliseconds() - start
        }
        #expect(out.texts == ["x1"])
        // 30 ms until the write, then at most one wake-up (inotify: at once; polling: 100 ms).
        #expect(elapsed < 250)
    }
}

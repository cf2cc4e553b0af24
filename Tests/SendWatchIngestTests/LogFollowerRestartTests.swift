import Foundation
import SendWatchIngest
import SendWatchTesting
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Restarts after logrotate-with-delaycompress rotations made while the follower was stopped (the `sendwatch
/// tail` SIGKILL test): `mv x.1 x.2; gzip -f x.2; mv x x.1; create x`, the state taken at various points.
@Suite("LogFollower restart after delaycompress rotations", .serialized)
struct LogFollowerRestartTests {
    let dir = LogDirectory()
    let clock = ManualMilliseconds()

    func follower(restoring state: FollowerState? = nil) throws -> LogFollower {
        var configuration = FollowConfiguration()
        configuration.startAtEnd = false
        configuration.usePolling = true
        return try LogFollower(
            patterns: [dir.full("mail.log")], configuration: configuration, restoring: state, clock: clock.closure)
    }

    /// `gzip -f` with the real tool when installed (it writes a name header), else our own gzip member.
    func gzip(_ name: String) throws { try gzipWithTool(name, in: dir) }

    /// One logrotate run with delaycompress: the older predecessor is compressed (replacing an older `.2.gz`).
    func rotate(midCompression: Bool = false) throws {
        if dir.exists("mail.log.1") {
            dir.rename("mail.log.1", "mail.log.2")
            if midCompression {
                // gzip has written mail.log.2.gz but not yet removed mail.log.2.
                dir.root.write("mail.log.2.gz", Compress.gzipMember(dir.read("mail.log.2")))
            } else {
                try gzip("mail.log.2")
            }
        }
        dir.rename("mail.log", "mail.log.1")
        dir.create("mail.log")
    }

    /// One logrotate run with `rotate 9` and `delaycompress` as the crash test does it: the older rotated files
    /// move up (`.N.gz` -> `.N+1.gz`) instead of being replaced.
    func rotateCascading() throws {
        dir.cascadeRotatedNames()
        try dir.finishRotation { try gzip($0) }
    }

    func lines(_ prefix: String, _ count: Int) -> [String] { paddedLines(prefix, count) }

    /// Appends `lines` to mail.log, each with its newline.
    func append(_ lines: [String]) { dir.append("mail.log", lines.map { $0 + "\n" }.joined()) }

    /// Appends `lines` to mail.log and to `written`, the lines every restart must deliver once.
    func append(_ lines: [String], recordingIn written: inout [String]) {
        written += lines
        append(lines)
    }

    func drain(_ follower: LogFollower, into out: inout FollowCollector) -> [FollowDiagnostic.Code] {
        var codes: [FollowDiagnostic.Code] = []
        while true {
            let report = follower.poll(into: &out)
            codes += report.diagnostics.map(\.code)
            if !report.moreAvailable { break }
        }
        return codes
    }

    /// When the saved state is taken.
    enum StateTaken: String, CaseIterable {
        /// Right after init, before any poll, with mail.log empty (the tail's first checkpoint).
        case beforePollEmpty
        /// Right after init with 100 bytes in mail.log (a fingerprint shorter than 4 KiB).
        case beforePollShort
        /// Right after init with more than 4 KiB in mail.log (offset 0, full fingerprint).
        case beforePollFull
        /// After a poll that read part of mail.log.
        case afterPoll
    }

    @Test(
        "Restart after 1-2 delaycompress rotations while stopped: every line once, whatever the state's moment",
        arguments: StateTaken.allCases, [1, 2])
    func rotationsWhileStopped(taken: StateTaken, rotations: Int) throws {
        var written: [String] = []
        var delivered = FollowCollector()
        dir.create("mail.log")
        switch taken {
        case .beforePollEmpty: break
        case .beforePollShort: append(["s1 short", "s2 short", "s3 short"], recordingIn: &written)
        case .beforePollFull, .afterPoll: append(lines("a", 200), recordingIn: &written)
        }
        let first = try follower()
        if taken == .afterPoll { _ = drain(first, into: &delivered) }
        let saved = try roundTrip(first.state)
        if taken != .afterPoll { #expect(saved.streams[0].file?.offset == 0) }
        // Written after the state: the saved file grows before its rotation.
        append(lines("b", 200), recordingIn: &written)
        for round in 1...rotations {
            try rotate()
            append(lines("r\(round)-", 150), recordingIn: &written)
        }
        let second = try follower(restoring: saved)
        let codes = drain(second, into: &delivered)
        #expect(delivered.texts == written)
        #expect(codes.isEmpty)
        // The state after the restart is found again too.
        let third = try follower(restoring: try roundTrip(second.state))
        _ = drain(third, into: &delivered)
        #expect(delivered.texts == written)
    }

    @Test(
        "Restart while gzip has written mail.log.2.gz but not yet removed mail.log.2: read once",
        arguments: StateTaken.allCases)
    func midCompression(taken: StateTaken) throws {
        var written: [String] = []
        var delivered = FollowCollector()
        dir.create("mail.log")
        if taken == .beforePollShort { append(["s1 short"], recordingIn: &written) }
        if taken == .beforePollFull || taken == .afterPoll { append(lines("a", 200), recordingIn: &written) }
        let first = try follower()
        if taken == .afterPoll { _ = drain(first, into: &delivered) }
        let saved = try roundTrip(first.state)
        append(lines("b", 200), recordingIn: &written)
        try rotate()
        append(lines("c", 150), recordingIn: &written)
        try rotate(midCompression: true)
        append(lines("d", 10), recordingIn: &written)
        #expect(dir.exists("mail.log.2") && dir.exists("mail.log.2.gz"))
        _ = drain(try follower(restoring: saved), into: &delivered)
        #expect(delivered.texts == written)
    }

    @Test(
        "The saved file rotated away entirely: the older remaining rotated files are read, the loss reported",
        arguments: StateTaken.allCases)
    func savedFileDeleted(taken: StateTaken) throws {
        var delivered = FollowCollector()
        var lost: [String] = []
        var kept: [String] = []
        dir.create("mail.log")
        var initial: [String] = []
        if taken == .beforePollShort { initial = ["s1 short"] }
        if taken == .beforePollFull || taken == .afterPoll { initial = lines("a", 200) }
        append(initial)
        let first = try follower()
        if taken == .afterPoll { _ = drain(first, into: &delivered) } else { lost += initial }
        let saved = try roundTrip(first.state)
        let b = lines("b", 200)
        append(b)
        lost += b
        // Three rotations: the third `gzip -f` replaces mail.log.2.gz, which held the saved file.
        for round in 1...3 {
            try rotate()
            let new = lines("r\(round)-", 150)
            append(new)
            if round == 1 { lost += new } else { kept += new }  // r1 is mail.log.2.gz now, r2 mail.log.1
        }
        // r1 (mail.log.2.gz) and r2 (mail.log.1) are newer than the saved file: read them, then mail.log.
        _ = lost
        let alreadyDelivered = delivered.lines.count
        let codes = drain(try follower(restoring: saved), into: &delivered)
        let after = Array(delivered.texts[alreadyDelivered...])
        #expect(after == lines("r1-", 150) + kept)
        // An empty saved file had nothing delivered and cannot be told from a file that never got data.
        #expect(codes == (taken == .beforePollEmpty ? [] : [.savedFileNotFound]))
    }

    @Test("Inode reuse across rotations: a newer file with the saved inode does not skip the files between")
    func inodeReuseDuringRotation() throws {
        append(lines("a", 200))
        var delivered = FollowCollector()
        let first = try follower()
        _ = drain(first, into: &delivered)
        var saved = try roundTrip(first.state)
        try rotate()
        append(lines("b", 150))
        try rotate()
        append(lines("c", 150))
        try rotate()
        dir.append("mail.log", "d1\n")
        // The saved file (a) is gone; claim that mail.log.1 (c) reuses its inode, as the kernel did in the test.
        let (device, inode) = dir.inode("mail.log.1")
        saved.streams[0].file?.identity.device = device
        saved.streams[0].file?.identity.inode = inode
        _ = delivered.take()
        let codes = drain(try follower(restoring: try roundTrip(saved)), into: &delivered)
        #expect(delivered.take() == lines("b", 150) + lines("c", 150) + ["d1"])
        #expect(codes == [.savedFileNotFound])
    }

    @Test("Without rotated files older than the saved one being found, a deleted live file leaves them unread")
    func deleteRecreateKeepsOlderRotatedFiles() throws {
        dir.append("mail.log.1", "old1\n")
        dir.append("mail.log", "a1\n")
        var delivered = FollowCollector()
        let first = try follower()
        _ = drain(first, into: &delivered)
        #expect(delivered.take() == ["a1"])  // a rotated file present at start is not read: it is older
        let saved = try roundTrip(first.state)
        dir.remove("mail.log")
        dir.append("mail.log", "n1\n")
        let codes = drain(try follower(restoring: saved), into: &delivered)
        #expect(delivered.take() == ["n1"])  // mail.log.1 is the predecessor: not read again
        #expect(codes == [.savedFileNotFound])
    }
}

/// The state taken while no file is open at the name: logrotate renamed `mail.log` and has not created the new
/// one yet (the tail SIGKILL test lost a whole `mail.log.1` this way, about 1 run in 20 under load). The same
/// follower, lines and drain as the delaycompress restarts; the rotations here are plain renames.
extension LogFollowerRestartTests {
    /// How the follower came to have no file open when its state was taken.
    enum Gap: String, CaseIterable {
        /// Restored between the rename and the create: the saved file is drained from the backlog.
        case restoredInGap
        /// Running: the renamed file is drained and closed after the quiet period, the name still missing.
        case closedAfterQuietPeriod
    }

    @Test(
        "A state taken between logrotate's rename and create: the next file, rotated before the restart, is read",
        arguments: Gap.allCases)
    func stateWithoutOpenFile(gap: Gap) throws {
        var delivered = FollowCollector()
        append(lines("a", 200))
        let first = try follower()
        _ = drain(first, into: &delivered)
        var saved = try roundTrip(first.state)
        append(lines("b", 200))
        dir.rename("mail.log", "mail.log.1")  // logrotate's rename; the create comes later
        var gapFollower = first
        if gap == .restoredInGap { gapFollower = try follower(restoring: saved) }
        _ = drain(gapFollower, into: &delivered)
        clock.now += 10_000  // past the quiet period: the renamed file is closed
        _ = drain(gapFollower, into: &delivered)
        #expect(delivered.texts == lines("a", 200) + lines("b", 200))
        saved = try roundTrip(gapFollower.state)
        #expect(saved.streams[0].file != nil, "the last file read is the position while none is open")
        // Killed; meanwhile the name gets its file, which is written and rotated in turn.
        dir.create("mail.log")
        append(lines("c", 200))
        dir.rename("mail.log.1", "mail.log.2")
        dir.rename("mail.log", "mail.log.1")
        dir.create("mail.log")
        append(lines("d", 10))
        let codes = drain(try follower(restoring: saved), into: &delivered)
        #expect(delivered.texts == lines("a", 200) + lines("b", 200) + lines("c", 200) + lines("d", 10))
        #expect(codes.isEmpty)
    }

    @Test(
        "State at offset 0 of the first file (short or full fingerprint), 1-5 cascading rotations while stopped",
        arguments: [3, 200], 1...5)
    func restartAtStart(initialLines: Int, rotations: Int) throws {
        var written: [String] = []
        var delivered = FollowCollector()
        dir.create("mail.log")
        append(lines("a", initialLines), recordingIn: &written)
        let saved = try roundTrip(try follower().state)
        #expect(saved.streams[0].file?.offset == 0)
        append(lines("b", 200), recordingIn: &written)
        for round in 1...rotations {
            try rotateCascading()
            append(lines("r\(round)-", 150), recordingIn: &written)
        }
        let codes = drain(try follower(restoring: saved), into: &delivered)
        #expect(delivered.texts.count == written.count)
        #expect(delivered.texts == written)
        #expect(codes.isEmpty)
    }
}

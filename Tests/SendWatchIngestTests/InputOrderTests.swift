import SendWatchIngest
import Testing

@Suite("Input order")
struct InputOrderTests {
    /// Every path but `-` and those in `notRegular` is a regular file.
    func order(_ paths: [String], notRegular: Set<String> = []) -> [String] {
        InputOrder.oldestFirst(paths) { !notRegular.contains($0) }
    }

    @Test("The shell's newest-first expansion of mail.log* is read oldest first, .10 before .2")
    func shellOrder() {
        let given = ["/var/log/mail.log", "/var/log/mail.log.1", "/var/log/mail.log.10.gz", "/var/log/mail.log.2.gz"]
        #expect(
            order(given) == [
                "/var/log/mail.log.10.gz", "/var/log/mail.log.2.gz", "/var/log/mail.log.1", "/var/log/mail.log",
            ])
    }

    @Test("Dated names (dateext) are ordered by date, older than numbered ones, the live file last")
    func dated() {
        let given = ["m.log", "m.log-20261203.zst", "m.log-20261201", "m.log.1", "m.log-20261202.gz"]
        #expect(order(given) == ["m.log-20261201", "m.log-20261202.gz", "m.log-20261203.zst", "m.log.1", "m.log"])
        #expect(order(["a.log.20261202", "a.log.20261201"]) == ["a.log.20261201", "a.log.20261202"])
    }

    @Test("Each log's files fill the places they were given in; other inputs keep their place")
    func places() {
        let given = ["a.log", "-", "b.log.1", "a.log.1", "fifo.1", "b.log", "lonely.log.3"]
        #expect(
            order(given, notRegular: ["fifo.1"]) == [
                "a.log.1", "-", "b.log.1", "a.log", "fifo.1", "b.log", "lonely.log.3",
            ])
        // Different directories are different logs.
        #expect(order(["x/m.log", "y/m.log.1"]) == ["x/m.log", "y/m.log.1"])
    }

    @Test("Inputs group into separate logs: a log's rotated files oldest first, every other input alone")
    func logs() {
        let given = ["a.log", "-", "b.log.1", "a.log.1", "fifo.1", "b.log", "lonely.log.3", "-"]
        #expect(
            InputOrder.logs(given) { $0 != "fifo.1" } == [
                ["a.log.1", "a.log"], ["-"], ["b.log.1", "b.log"], ["fifo.1"], ["lonely.log.3"], ["-"],
            ])
        // Two hosts' live logs in different directories are two logs; one log named twice stays one.
        #expect(InputOrder.logs(["h1/mail.log", "h2/mail.log"]) { _ in true } == [["h1/mail.log"], ["h2/mail.log"]])
        #expect(InputOrder.logs(["m.log", "m.log"]) { _ in true } == [["m.log", "m.log"]])
        #expect(InputOrder.logs([]) { _ in true } == [])
    }

    @Test("A quoted glob is expanded as the shell would, then read oldest first; a glob matching nothing stays")
    func quotedGlob() {
        let dir = TemporaryDirectory()
        for name in ["mail.log", "mail.log.1", "mail.log.2.gz", "other.log"] { dir.write(name, []) }
        let d = dir.path
        // `sendwatch replay '/var/log/mail.log*'`: before, the pattern reached open(2) and failed with "no file
        // matches this pattern", although four files matched.
        let (paths, expanded) = InputOrder.expandingPatterns(["-", "\(d)/mail.log*", "\(d)/none*"])
        #expect(paths == ["-", "\(d)/mail.log", "\(d)/mail.log.1", "\(d)/mail.log.2.gz", "\(d)/none*"])
        #expect(expanded.map(\.pattern) == ["\(d)/mail.log*"])
        #expect(expanded.map(\.matches) == [3])
        #expect(
            InputOrder.oldestFirst(paths) == [
                "-", "\(d)/mail.log.2.gz", "\(d)/mail.log.1", "\(d)/mail.log", "\(d)/none*",
            ])
        // A file whose name holds a metacharacter is read as named, not expanded.
        let literal = dir.write("odd[1].log", [])
        dir.write("odd1.log", [])
        #expect(InputOrder.expandingPatterns([literal]).paths == [literal])
        #expect(InputOrder.expandingPatterns(["\(d)/odd?.log"]).paths == ["\(d)/odd1.log"])
        withExtendedLifetime(dir) {}
    }

    @Test("Equal ranks keep the order given; an ordered list is unchanged")
    func ties() {
        #expect(order(["m.log.1.gz", "m.log.1", "m.log"]) == ["m.log.1.gz", "m.log.1", "m.log"])
        #expect(order(["m.log.1", "m.log.1.gz", "m.log"]) == ["m.log.1", "m.log.1.gz", "m.log"])
        #expect(order(["m.log.2", "m.log.1", "m.log"]) == ["m.log.2", "m.log.1", "m.log"])
        #expect(order(["m.log", "m.log"]) == ["m.log", "m.log"])
    }

    @Test("Names that only look partly rotated are left alone")
    func notRotations() {
        // A dash needs 6 to 14 digits; a bare number is no rotation of anything.
        #expect(order(["x.log-12", "x.log"]) == ["x.log-12", "x.log"])
        #expect(order([".1", ".2"]) == [".1", ".2"])
        #expect(order(["2.log", "1.log"]) == ["2.log", "1.log"])
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The order `replay` and `events` read their inputs in: the rotated files of one log oldest first, whatever
/// order they were named in.
///
/// Parser and detector state carries from one input to the next, and detection runs on event time, so a log
/// read newest first loses nearly everything: every event of an older file is behind the newest one already
/// seen and is dropped as late. The shell hands over `mail.log*` as `mail.log mail.log.1 mail.log.2.gz` (newest
/// first), and sorts `mail.log.10.gz` before `mail.log.2.gz`, so the order the inputs are named in cannot be
/// trusted for rotated files.
///
/// The order is taken from the names, never from the contents (nothing is opened, so it costs one `stat` per
/// input). A regular file's name is split into a *stem*, a rotation suffix and a compression ending
/// (`.gz`, `.zst`, `.xz`, `.bz2`, `.lz4`):
/// - `.N` with 1 to 6 digits: rotation number N (logrotate's default); a higher number is older;
/// - `-D` with 6 to 14 digits, or `.D` with 7 to 14 digits: a date (logrotate's `dateext`, e.g. `-20261201`);
///   fewer digits is older, then the smaller date; every dated name is older than every numbered one (as
///   `tail` ranks them, see ``RotatedNames/candidates(of:)``);
/// - no suffix: the live file, the newest.
///
/// Files with the same directory and stem form one log. The places the files of one log occupy in the list
/// are filled with its files oldest first; every other input keeps its place: standard input (`-`), FIFOs,
/// `/dev/stdin` and other non-regular files, paths that do not exist (they fail when opened, in their place),
/// and a file that is the only one of its log. Two files with the same rank (`mail.log.1` and
/// `mail.log.1.gz`, or a name given twice) keep the order they were named in.
///
/// ``logs(_:isRegularFile:)`` groups the same inputs into separate logs, for a caller that merges the logs by
/// time (`replay`: the logs of several hosts, or a central log and one host's): the files of one log oldest
/// first as one log, every other input a log of its own.
///
/// What it deliberately leaves out: names that carry the date elsewhere (`mail-2026-12-01.log`) are not
/// recognised as rotations (each such file is a log of its own).
public enum InputOrder {
    /// `paths` with the rotated files of each log put oldest first (see ``InputOrder``).
    ///
    /// - Parameter isRegularFile: whether a path names an existing regular file; only those are reordered.
    ///   Default: `stat(2)`.
    /// - Complexity: O(n log n) for n paths, plus one `isRegularFile` call per path.
    public static func oldestFirst(
        _ paths: [String], isRegularFile: (String) -> Bool = InputOrder.isRegularFile
    ) -> [String] {
        var logs: [String: [(rank: Rank, index: Int)]] = [:]
        var firstSeen: [String] = []
        for (index, path) in paths.enumerated() where path != "-" && isRegularFile(path) {
            let (stem, rank) = split(path)
            if logs[stem] == nil { firstSeen.append(stem) }
            logs[stem, default: []].append((rank, index))
        }
        var ordered = paths
        for stem in firstSeen {
            // Safe to force unwrap: every stem in `firstSeen` was added to `logs` with it.
            let files = logs[stem]!
            guard files.count > 1 else { continue }
            let places = files.map(\.index)
            let oldestFirst = files.sorted { a, b in a.rank != b.rank ? a.rank < b.rank : a.index < b.index }
            for (place, file) in zip(places, oldestFirst) { ordered[place] = paths[file.index] }
        }
        return ordered
    }

    /// `paths` grouped into separate logs: the rotated files of each log, oldest first (as
    /// ``oldestFirst(_:isRegularFile:)`` orders them), form one log; every other input (`-`, a non-regular
    /// file, a missing path, a file alone in its log) is a log of its own. Logs are listed in the order their
    /// first file was named in.
    ///
    /// - Parameter isRegularFile: whether a path names an existing regular file; only those are grouped.
    ///   Default: `stat(2)`.
    /// - Complexity: O(n log n) for n paths, plus one `isRegularFile` call per path.
    public static func logs(
        _ paths: [String], isRegularFile: (String) -> Bool = InputOrder.isRegularFile
    ) -> [[String]] {
        var groupOfStem: [String: Int] = [:]
        var groups: [[(rank: Rank, index: Int)]] = []
        for (index, path) in paths.enumerated() {
            guard path != "-" && isRegularFile(path) else {
                groups.append([(Rank(group: 2, major: 0, digits: []), index)])
                continue
            }
            let (stem, rank) = split(path)
            if let g = groupOfStem[stem] {
                groups[g].append((rank, index))
            } else {
                groupOfStem[stem] = groups.count
                groups.append([(rank, index)])
            }
        }
        return groups.map { files in
            files.sorted { a, b in a.rank != b.rank ? a.rank < b.rank : a.index < b.index }.map { paths[$0.index] }
        }
    }

    /// `paths` with each shell pattern that reached SendWatch unexpanded replaced by its matches, sorted (as
    /// the shell would have expanded it): a path with `*`, `?` or `[` at which nothing exists, quoted on the
    /// command line (`sendwatch replay '/var/log/mail.log*'`, the way `tail` wants its globs) or passed on by a
    /// shell whose pattern matched nothing. A pattern that matches nothing stays as given, so that it fails when
    /// opened with "no file matches this pattern"; a path that exists is never expanded, whatever its name.
    ///
    /// - Parameters:
    ///   - exists: whether something exists at a path (default: `lstat(2)` succeeds).
    ///   - expand: the matches of a pattern (default: `glob(3)`, sorted).
    /// - Returns: the paths and a list of the patterns expanded, each with its number of matches.
    public static func expandingPatterns(
        _ paths: [String], exists: (String) -> Bool = InputOrder.exists,
        expand: (String) -> [String] = InputOrder.matches
    ) -> (paths: [String], expanded: [(pattern: String, matches: Int)]) {
        var result: [String] = []
        var expanded: [(pattern: String, matches: Int)] = []
        for path in paths {
            guard path != "-", RotatedNames.isGlob(path), !exists(path) else {
                result.append(path)
                continue
            }
            let matches = expand(path)
            if matches.isEmpty {
                result.append(path)
            } else {
                result += matches
                expanded.append((path, matches.count))
            }
        }
        return (result, expanded)
    }

    /// `paths` with every input that names a file already named before it left out: the same name given twice,
    /// `./a.log` and `a.log`, a symbolic link and its target, two hard links (one file, by device and inode,
    /// following symbolic links). `replay /var/log/mail.log /var/log/mail.log*` would otherwise read the live file
    /// twice and count every event in it twice. Only regular files are compared: `-`, FIFOs, devices and paths
    /// that do not exist keep their places (each is read, or fails, on its own); rotated archives are files of
    /// their own (another inode), so they all stay.
    ///
    /// - Parameter identity: the device and inode of the regular file at a path, `nil` for anything else.
    ///   Default: `stat(2)`.
    /// - Returns: the paths left, in the order given, and each path left out with the earlier path that named
    ///   the same file.
    /// - Complexity: O(n) for n paths, plus one `identity` call per path other than `-`.
    public static func distinctFiles(
        _ paths: [String], identity: (String) -> FileKey? = InputOrder.fileKey
    ) -> (paths: [String], repeated: [(path: String, sameAs: String)]) {
        var first: [FileKey: String] = [:]
        var kept: [String] = []
        var repeated: [(path: String, sameAs: String)] = []
        for path in paths {
            guard path != "-", let key = identity(path) else {
                kept.append(path)
                continue
            }
            if let earlier = first[key] {
                repeated.append((path, earlier))
            } else {
                first[key] = path
                kept.append(path)
            }
        }
        return (kept, repeated)
    }

    /// What makes two paths one file: the device and the inode of the file they lead to.
    public struct FileKey: Hashable, Sendable {
        public var device: UInt64
        public var inode: UInt64
        public init(device: UInt64, inode: UInt64) {
            self.device = device
            self.inode = inode
        }
    }

    /// The device and inode of the regular file at `path` (following symbolic links); `nil` for anything else.
    public static func fileKey(_ path: String) -> FileKey? {
        guard case .regular(let device, let inode, _) = PathStatus.of(path) else { return nil }
        return FileKey(device: device, inode: inode)
    }

    /// The paths matching the shell pattern `pattern`, sorted (`glob(3)`); empty when nothing matches.
    public static func matches(_ pattern: String) -> [String] { RotatedNames.expand(pattern) }

    /// Whether anything exists at `path` (`lstat(2)`: a dangling symbolic link exists).
    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Whether `path` names an existing regular file (following symbolic links).
    public static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    /// How old a file is within its log: smaller is older.
    struct Rank: Comparable {
        /// 0 dated, 1 numbered, 2 live.
        var group: Int
        /// Dated: the number of date digits; numbered: minus the rotation number; live: 0.
        var major: Int
        /// Dated: the date digits; otherwise empty.
        var digits: [UInt8]

        static func < (a: Rank, b: Rank) -> Bool {
            if a.group != b.group { return a.group < b.group }
            if a.major != b.major { return a.major < b.major }
            return a.digits.lexicographicallyPrecedes(b.digits)
        }
    }

    /// The log a path belongs to (its directory and stem) and its rank within that log.
    static func split(_ path: String) -> (stem: String, rank: Rank) {
        var bytes = Array(path.utf8)
        let nameStart = (bytes.lastIndex(of: UInt8(ascii: "/")) ?? -1) + 1
        for ending in RotatedNames.compressedEndings
        where bytes.count - nameStart > ending.count && bytes.suffix(ending.count).elementsEqual(ending) {
            bytes.removeLast(ending.count)
            break
        }
        var first = bytes.count
        while first > nameStart && bytes[first - 1] >= 0x30 && bytes[first - 1] <= 0x39 { first -= 1 }
        let digits = Array(bytes[first...])
        let live = Rank(group: 2, major: 0, digits: [])
        // A separator, digits, and a non-empty stem before them.
        guard !digits.isEmpty, first - 1 > nameStart else { return (String(decoding: bytes, as: UTF8.self), live) }
        let separator = bytes[first - 1]
        let stem = String(decoding: bytes[..<(first - 1)], as: UTF8.self)
        if separator == UInt8(ascii: "."), digits.count <= 6 {
            // Safe: at most 6 decimal digits.
            let number = digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
            return (stem, Rank(group: 1, major: -number, digits: []))
        }
        if (separator == UInt8(ascii: "-") && digits.count >= 6 && digits.count <= 14)
            || (separator == UInt8(ascii: ".") && digits.count >= 7 && digits.count <= 14)
        {
            return (stem, Rank(group: 0, major: digits.count, digits: digits))
        }
        return (String(decoding: bytes, as: UTF8.self), live)
    }
}

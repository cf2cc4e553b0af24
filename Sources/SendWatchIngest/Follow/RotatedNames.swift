#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The names rotation gives a log file, and glob expansion.
///
/// For `mail.log` the rotated names are `mail.log.N` and `mail.log-DIGITS` (logrotate's `dateext`), each
/// optionally followed by `.gz`, `.zst`, `.xz`, `.bz2` or `.lz4`. They are ordered newest first: numbered names by N
/// ascending (plain before `.gz`, `.zst`, `.xz`, `.bz2`, `.lz4` for the same N), then dated names by date descending.
enum RotatedNames {
    /// The endings compressors give a rotated file, in the order a plain name's compressed forms are ranked.
    static let compressedEndings: [[UInt8]] = [".gz", ".zst", ".xz", ".bz2", ".lz4"].map { Array($0.utf8) }

    /// At most this many rotated names are considered per search.
    static let maxCandidates = 32

    /// The directory part of `path` (`.` when it has none).
    static func directory(of path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "." }
        if slash == path.utf8.startIndex { return "/" }
        return String(path[..<slash])
    }

    /// The last component of `path`.
    static func baseName(of path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return path }
        return String(path[path.utf8.index(after: slash)...])
    }

    /// Rotated names of `path` that exist now, newest first, at most ``maxCandidates``.
    ///
    /// - Complexity: O(entries in the directory), one `readdir` pass.
    static func candidates(of path: String) -> [String] {
        let directory = directory(of: path)
        let base = Array(baseName(of: path).utf8)
        guard let handle = opendir(directory) else { return [] }
        defer { closedir(handle) }
        // (group, number or date digits, compression rank, name)
        var found: [(group: Int, key: String, number: Int, rank: Int, name: String)] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            let bytes = Array(name.utf8)
            guard bytes.count > base.count + 1, bytes.starts(with: base) else { continue }
            var suffix = Array(bytes[base.count...])
            var rank = 0
            for (index, ending) in compressedEndings.enumerated()
            where suffix.count > ending.count && suffix.suffix(ending.count).elementsEqual(ending) {
                suffix.removeLast(ending.count)
                rank = index + 1
                break
            }
            guard suffix.count >= 2 else { continue }
            let digits = suffix.dropFirst()
            guard digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { continue }
            let digitText = String(decoding: digits, as: UTF8.self)
            if suffix[0] == UInt8(ascii: "."), digits.count <= 6, let number = Int(digitText) {
                found.append((0, "", number, rank, name))
            } else if suffix[0] == UInt8(ascii: "-"), digits.count >= 6, digits.count <= 14 {
                found.append((1, digitText, 0, rank, name))
            }
        }
        found.sort { a, b in
            if a.group != b.group { return a.group < b.group }
            if a.group == 0 {
                if a.number != b.number { return a.number < b.number }
            } else if a.key != b.key {
                return a.key.count != b.key.count ? a.key.count > b.key.count : a.key > b.key
            }
            if a.rank != b.rank { return a.rank < b.rank }
            return a.name < b.name
        }
        let prefix = directory == "." && !path.hasPrefix("./") ? "" : (directory == "/" ? "/" : directory + "/")
        return found.prefix(maxCandidates).map { prefix + $0.name }
    }

    /// The rotated names of `path` (``candidates(of:)``) with the device and inode each named when listed
    /// (`nil` for a name gone before its `stat`). Two listings are equal when no rotated file was renamed,
    /// created or deleted between them.
    struct Listing: Equatable {
        /// The names, newest first.
        var paths: [String]
        /// Device and inode per name.
        var files: [FileKey?]
    }

    /// A file's device and inode.
    struct FileKey: Equatable {
        var device: UInt64
        var inode: UInt64
    }

    /// Lists the rotated names of `path` and `stat`s each.
    /// - Complexity: one `readdir` pass and one `stat` per name (at most ``maxCandidates``).
    static func listing(of path: String) -> Listing {
        let paths = candidates(of: path)
        let files = paths.map { name -> FileKey? in
            guard case .regular(let device, let inode, _) = PathStatus.of(name) else { return nil }
            return FileKey(device: device, inode: inode)
        }
        return Listing(paths: paths, files: files)
    }

    /// Whether a glob match looks like a rotated or compressed file (`x.1`, `x-20261129`, `x.gz`, `x.zst`,
    /// `x.xz`, `x.bz2`), which globs do not follow as streams of their own: they are read as predecessors.
    static func looksRotated(_ path: String) -> Bool {
        let name = baseName(of: path)
        if compressedEndings.contains(where: {
            name.utf8.count > $0.count && name.utf8.suffix($0.count).elementsEqual($0)
        }) {
            return true
        }
        let bytes = Array(name.utf8)
        var index = bytes.count - 1
        while index >= 0 && bytes[index] >= 0x30 && bytes[index] <= 0x39 { index -= 1 }
        let digitCount = bytes.count - 1 - index
        guard digitCount > 0, index > 0 else { return false }
        if bytes[index] == UInt8(ascii: ".") { return true }
        return bytes[index] == UInt8(ascii: "-") && digitCount >= 6
    }

    /// Whether `pattern` has glob metacharacters.
    static func isGlob(_ pattern: String) -> Bool {
        pattern.utf8.contains { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "[") }
    }

    /// The paths matching `pattern`, sorted (`glob(3)`); empty when nothing matches.
    static func expand(_ pattern: String) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        guard glob(pattern, 0, nil, &result) == 0 else { return [] }
        var paths: [String] = []
        paths.reserveCapacity(Int(result.gl_pathc))
        for index in 0..<Int(result.gl_pathc) {
            if let path = result.gl_pathv[index] { paths.append(String(cString: path)) }
        }
        return paths
    }

    /// Whether `name` matches `pattern` (`fnmatch(3)` with `FNM_PATHNAME`).
    static func matches(_ name: String, pattern: String) -> Bool {
        fnmatch(pattern, name, FNM_PATHNAME) == 0
    }
}

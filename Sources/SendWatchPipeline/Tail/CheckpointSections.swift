import SendWatchCore
import SendWatchIngest

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The large arrays of the tail checkpoint (``StateSections``: the recipient filters, the sketch of established
/// domains) on disk, in files of their own beside `checkpoint`, so that a checkpoint rewrites only the words that
/// changed since the last one instead of every array.
///
/// Files, per generation `g`:
/// - `checkpoint-sections.g`: every part in full (a ``CheckpointFile``: header, then the part count, each part's
///   size, and either the parts' bytes or, when that is under half their size, a frame of their non-zero words
///   as below; CRC-checked), written to a `.tmp` file, fsynced and renamed;
/// - `checkpoint-sections.g.delta`: the words changed since, appended one frame per checkpoint: a frame is, per
///   changed part, its index and a record count (4 bytes each), then for each changed 4-byte word its index and
///   its new value (4 bytes each), all little-endian.
///
/// The main checkpoint names the generation, the delta's length and the CRC-32 of that length in its header
/// (`sections_generation`, `sections_delta_bytes`, `sections_delta_crc32`): bytes after that length are ignored,
/// so a crash while a frame is appended leaves the old checkpoint whole. Order of a checkpoint: the frame (or a new
/// generation's base file) is written and fsynced first, then the main checkpoint is renamed into place, and only
/// then are the files of other generations removed. A crash at any point therefore leaves a main checkpoint whose
/// base and delta prefix are on disk; nothing of two checkpoints can be combined.
///
/// A new generation (a full base file and an empty delta) starts when there is none yet, when the parts' number
/// or sizes changed (another configuration), or when the delta would grow past the base's size: so restoring reads
/// at most twice the sections' size, and a steady run writes about twice the bytes that changed.
///
/// Memory: the parts of the last written checkpoint are kept to compare against (the sections' size, about
/// 10 MiB with the default filters), plus the parts being written.
final class CheckpointSectionStore {
    /// Where the main checkpoint finds its sections.
    struct Reference: Equatable, Sendable {
        var generation: UInt64
        /// Bytes of the delta file that belong to the checkpoint.
        var deltaBytes: UInt64
        /// CRC-32 of those bytes.
        var deltaCRC: UInt32
    }

    /// Sections written but not yet part of a checkpoint (``commit(_:)`` after the main file is renamed).
    struct Staged {
        var sections: StateSections
        var reference: Reference?
        /// Bytes written to the section files.
        var bytesWritten: Int
        var baseBytes: Int
    }

    /// How a base file holds its parts: every byte, or a frame of the non-zero words (parts start as zeros).
    static let rawBase: UInt64 = 0
    static let sparseBase: UInt64 = 1

    let directory: String
    /// The sections of the last checkpoint on disk, and where they are.
    private var committed = StateSections()
    private var reference: Reference?
    private var baseBytes = 0

    init(directory: String) { self.directory = directory }

    /// Takes the sections of the checkpoint a run restored from (the next checkpoint writes only what changed
    /// since).
    func restore(_ sections: StateSections, reference: Reference?) {
        committed = sections
        self.reference = reference
        baseBytes = sections.parts.reduce(0) { $0 + $1.count }
    }

    static func basePath(_ directory: String, _ generation: UInt64) -> String {
        "\(directory)/checkpoint-sections.\(generation)"
    }

    static func deltaPath(_ directory: String, _ generation: UInt64) -> String {
        basePath(directory, generation) + ".delta"
    }

    /// Writes `sections`: the changed words as a frame of the current delta, or a new generation.
    ///
    /// - Throws: ``CheckpointFile/Failure`` when a file cannot be written; nothing is committed.
    func stage(_ sections: StateSections) throws(CheckpointFile.Failure) -> Staged {
        let total = sections.parts.reduce(0) { $0 + $1.count }
        guard !sections.parts.isEmpty else {
            return Staged(sections: sections, reference: nil, bytesWritten: 0, baseBytes: 0)
        }
        if let reference, committed.parts.map(\.count) == sections.parts.map(\.count) {
            let room = baseBytes - Int(reference.deltaBytes)
            if let frame = Self.frame(from: committed, to: sections, limit: room) {
                if frame.isEmpty {
                    return Staged(sections: sections, reference: reference, bytesWritten: 0, baseBytes: baseBytes)
                }
                let crc = try appendFrame(frame, to: reference)
                var next = reference
                next.deltaBytes += UInt64(frame.count)
                next.deltaCRC = crc
                return Staged(sections: sections, reference: next, bytesWritten: frame.count, baseBytes: baseBytes)
            }
        }
        let generation = (reference?.generation ?? 0) + 1
        var body: [UInt8] = []
        Self.append(UInt64(sections.parts.count), to: &body)
        for part in sections.parts { Self.append(UInt64(part.count), to: &body) }
        // Mostly zero parts (a young state: empty filters and sketch) are written as their non-zero words.
        if let sparse = Self.frame(from: nil, to: sections, limit: total / 2) {
            Self.append(Self.sparseBase, to: &body)
            body += sparse
        } else {
            Self.append(Self.rawBase, to: &body)
            body.reserveCapacity(body.count + total)
            for part in sections.parts { body.append(contentsOf: part) }
        }
        let header = Array("{\"sendwatch_sections\":1,\"generation\":\(generation)}".utf8)
        try CheckpointFile.write(path: Self.basePath(directory, generation), header: header, body: body)
        // A delta left by an earlier attempt at this generation holds nothing of it.
        _ = unlink(Self.deltaPath(directory, generation))
        return Staged(
            sections: sections, reference: Reference(generation: generation, deltaBytes: 0, deltaCRC: 0),
            bytesWritten: body.count, baseBytes: total)
    }

    /// Makes `staged` the sections of the checkpoint on disk (its main file was renamed into place), and removes
    /// the files of every other generation.
    func commit(_ staged: Staged) {
        committed = staged.sections
        reference = staged.reference
        baseBytes = staged.baseBytes
        removeFiles(except: reference?.generation)
    }

    /// Removes the section files of every generation but `keep`.
    private func removeFiles(except keep: UInt64?) {
        guard let dir = opendir(directory) else { return }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name.hasPrefix("checkpoint-sections.") else { continue }
            if let keep, name == "checkpoint-sections.\(keep)" || name == "checkpoint-sections.\(keep).delta" {
                continue
            }
            names.append(name)
        }
        closedir(dir)
        for name in names { _ = unlink(directory + "/" + name) }
    }

    /// Appends `frame` to the delta of `reference` at its committed length (dropping any bytes after it that a
    /// failed checkpoint left) and fsyncs it; returns the CRC of the delta's new prefix.
    private func appendFrame(_ frame: [UInt8], to reference: Reference) throws(CheckpointFile.Failure) -> UInt32 {
        let path = Self.deltaPath(directory, reference.generation)
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw CheckpointFile.Failure(path: path, message: "cannot open: \(errnoDescription(errno))")
        }
        var failure: CheckpointFile.Failure?
        if ftruncate(fd, off_t(reference.deltaBytes)) != 0 || lseek(fd, off_t(reference.deltaBytes), SEEK_SET) < 0 {
            failure = .init(path: path, message: "cannot truncate: \(errnoDescription(errno))")
        }
        if failure == nil, let e = frame.withUnsafeBytes({ writeFully(fd, $0).errno }) {
            failure = .init(path: path, message: "cannot write: \(errnoDescription(e))")
        }
        if failure == nil, fsync(fd) != 0 {
            failure = .init(path: path, message: "fsync failed: \(errnoDescription(errno))")
        }
        _ = close(fd)
        if let failure { throw failure }
        if reference.deltaBytes == 0 { CheckpointFile.syncDirectory(of: path) }
        return frame.withUnsafeBytes { crc32($0, continuing: reference.deltaCRC) }
    }

    /// Bytes compared with `memcmp` before the words of a range are looked at one by one: most ranges of a
    /// filter or sketch are unchanged between two checkpoints (or zero in a young state), and a libc comparison
    /// passes them at memory speed whatever the build's optimisation.
    static let compareChunk = 256

    /// The frame of the words that differ between `old` (all zeros when nil) and `new` (parts of equal sizes);
    /// nil when it would take more than `limit` bytes.
    ///
    /// - Complexity: O(bytes of the parts) in `memcmp`, plus O(words) of each 256-byte range that differs.
    static func frame(from old: StateSections?, to new: StateSections, limit: Int) -> [UInt8]? {
        var frame: [UInt8] = []
        let zeros = [UInt8](repeating: 0, count: compareChunk)
        for p in new.parts.indices {
            let before = frame.count
            var records: UInt32 = 0
            let fits = new.parts[p].withUnsafeBytes { n in
                zeros.withUnsafeBytes { z in
                    (old?.parts[p] ?? []).withUnsafeBytes { o in
                        var start = 0
                        while start < n.count {
                            let length = min(compareChunk, n.count - start)
                            // Safe: both ranges lie inside their buffers (parts of equal sizes, or the zero chunk).
                            let other = old == nil ? z.baseAddress! : o.baseAddress! + start
                            if memcmp(n.baseAddress! + start, other, length) != 0 {
                                for word in (start / 4)..<((start + length) / 4) {
                                    let value = n.loadUnaligned(fromByteOffset: word * 4, as: UInt32.self)
                                    let was =
                                        old == nil ? 0 : o.loadUnaligned(fromByteOffset: word * 4, as: UInt32.self)
                                    guard value != was else { continue }
                                    if records == 0 {
                                        append(UInt32(p), to: &frame)
                                        append(UInt32(0), to: &frame)
                                    }
                                    records += 1
                                    append(UInt32(word), to: &frame)
                                    append(UInt32(littleEndian: value), to: &frame)
                                    guard frame.count <= limit else { return false }
                                }
                            }
                            start += length
                        }
                        return true
                    }
                }
            }
            guard fits else { return nil }
            if records > 0 {
                withUnsafeBytes(of: records.littleEndian) { count in
                    for k in 0..<4 { frame[before + 4 + k] = count[k] }
                }
            }
        }
        return frame
    }

    /// Reads the sections `reference` names: the base file, then the delta's frames up to its length.
    ///
    /// - Throws: ``CheckpointFile/Failure`` when a file is missing, cut short or damaged (CRC), or a frame names
    ///   a part or word that does not exist.
    static func load(directory: String, reference: Reference) throws(CheckpointFile.Failure) -> StateSections {
        let basePath = basePath(directory, reference.generation)
        guard let base = try CheckpointFile.read(path: basePath) else {
            throw .init(path: basePath, message: "missing (the checkpoint names it)")
        }
        var reader = ByteReader(bytes: base.body)
        var sections = StateSections()
        guard let count = reader.u64(), count <= UInt64(base.body.count / 8) else {
            throw .init(path: basePath, message: "part count damaged")
        }
        // Parts are whole 4-byte words; together at most the largest checkpoint file read (16 GiB), so that a
        // sparse base cannot make the reader allocate more than a raw one could.
        var sizes: [Int] = []
        var total: UInt64 = 0
        for _ in 0..<count {
            guard let size = reader.u64(), size % 4 == 0, size <= (1 << 34) - total else {
                throw .init(path: basePath, message: "part size damaged")
            }
            total += size
            sizes.append(Int(size))
        }
        switch reader.u64() {
        case rawBase:
            for size in sizes {
                guard let part = reader.bytes(size) else { throw .init(path: basePath, message: "parts cut short") }
                sections.parts.append(part)
            }
        case sparseBase:
            sections.parts = sizes.map { [UInt8](repeating: 0, count: $0) }
            try apply(reader.rest(), to: &sections, path: basePath)
        default:
            throw .init(path: basePath, message: "unknown way of holding the parts")
        }
        guard reader.atEnd else { throw .init(path: basePath, message: "bytes left over after the parts") }
        guard reference.deltaBytes > 0 else { return sections }
        let deltaPath = deltaPath(directory, reference.generation)
        let delta = try readPrefix(path: deltaPath, count: Int(clamping: reference.deltaBytes))
        guard delta.withUnsafeBytes({ crc32($0) }) == reference.deltaCRC else {
            throw .init(path: deltaPath, message: "CRC-32 of its first \(reference.deltaBytes) bytes differs (damaged)")
        }
        try apply(delta, to: &sections, path: deltaPath)
        return sections
    }

    /// Writes the words of the frames in `bytes` into `sections`.
    ///
    /// - Throws: ``CheckpointFile/Failure`` naming `path` when a frame is cut short or names a part or word that
    ///   does not exist.
    private static func apply(_ bytes: [UInt8], to sections: inout StateSections, path: String)
        throws(CheckpointFile.Failure)
    {
        var frames = ByteReader(bytes: bytes)
        while !frames.atEnd {
            guard let part = frames.u32(), let records = frames.u32(), Int(part) < sections.parts.count else {
                throw .init(path: path, message: "frame names no part")
            }
            let words = sections.parts[Int(part)].count / 4
            for _ in 0..<records {
                guard let word = frames.u32(), let value = frames.u32(), Int(word) < words else {
                    throw .init(path: path, message: "record cut short or beyond part \(part)")
                }
                sections.parts[Int(part)].withUnsafeMutableBytes {
                    $0.storeBytes(of: value.littleEndian, toByteOffset: Int(word) * 4, as: UInt32.self)
                }
            }
        }
    }

    /// The first `count` bytes of the file at `path`.
    private static func readPrefix(path: String, count: Int) throws(CheckpointFile.Failure) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .init(path: path, message: "cannot open: \(errnoDescription(errno))") }
        defer { _ = close(fd) }
        var bytes = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = bytes.withUnsafeMutableBytes { raw in
                // Safe: got < count == raw.count.
                read(fd, raw.baseAddress! + got, count - got)
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw .init(path: path, message: "cannot read: \(errnoDescription(errno))") }
            if n == 0 { throw .init(path: path, message: "\(got) bytes, the checkpoint names \(count) (cut short)") }
            got += n
        }
        return bytes
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
}

/// Little-endian reads from a byte array, nil past its end.
private struct ByteReader {
    let bytes: [UInt8]
    var offset = 0

    var atEnd: Bool { offset == bytes.count }

    mutating func u64() -> UInt64? { fixed(UInt64.self) }
    mutating func u32() -> UInt32? { fixed(UInt32.self) }

    mutating func fixed<T: FixedWidthInteger>(_ type: T.Type) -> T? {
        guard bytes.count - offset >= MemoryLayout<T>.size else { return nil }
        let value = bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
        offset += MemoryLayout<T>.size
        return value
    }

    /// The bytes not read yet (all of them are then read).
    mutating func rest() -> [UInt8] {
        defer { offset = bytes.count }
        return Array(bytes[offset...])
    }

    mutating func bytes(_ count: Int) -> [UInt8]? {
        guard count >= 0, bytes.count - offset >= count else { return nil }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }
}

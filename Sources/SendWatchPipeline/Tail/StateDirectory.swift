import SendWatchCore
import SendWatchFormats
import SendWatchIngest

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What `tail`, `ship`, `detect` and `sink` share about their state directory: creating and locking it, and
/// reading and writing a checkpoint file of a given state format with errors that say what to do.
enum StateDirectory {
    /// Creates `directory` (mode 0700) when it is missing and takes its lock; `nil` without a directory.
    ///
    /// - Throws: ``TailError`` `.stateDirectoryUnusable` when it cannot be created, or what
    ///   ``StateDirectoryLock`` throws (another run holds it).
    static func prepare(_ directory: String?) throws(TailError) -> StateDirectoryLock? {
        guard let dir = directory else { return nil }
        if mkdir(dir, 0o700) != 0 && errno != EEXIST {
            let e = errno
            throw TailError(
                code: .stateDirectoryUnusable,
                message: "cannot create state directory \(dir): \(errnoDescription(e))", path: dir,
                underlyingErrno: e)
        }
        // Before anything in the directory is read or written: a second run on it stops here.
        return try StateDirectoryLock(directory: dir)
    }

    /// Reads the checkpoint at `path` (nil when there is none) whose header must name state format `format`, or
    /// an older format one of `migrating` names (its body is then decoded with that migration's `userInfo`, for
    /// the types whose layout changed since to read the old one).
    ///
    /// - Parameters:
    ///   - name: how messages name the file (`checkpoint`, `ship checkpoint`).
    ///   - damagedAdvice: what to do with a damaged file, appended to the reason.
    ///   - incompatibleAdvice: what to do with a file of another state format.
    /// - Returns: the state, the header and the state format the file has.
    /// - Throws: ``TailError`` `.checkpointDamaged` (unreadable, bad checksum) or `.checkpointIncompatible`
    ///   (another state format, or a body that does not decode); the file is left in place.
    static func readCheckpoint<State: Decodable>(
        _ type: State.Type, path: String, format: Int, migrating: [StateMigration] = [], name: String,
        damagedAdvice: String, incompatibleAdvice: String
    ) throws(TailError) -> (state: State, header: [UInt8], format: Int)? {
        guard
            let (contents, read) = try readCheckpointFile(
                path: path, formats: [format] + migrating.map(\.format), name: name,
                damagedAdvice: damagedAdvice, incompatibleAdvice: incompatibleAdvice)
        else { return nil }
        let userInfo = StateMigration.userInfo(reading: read, among: migrating)
        let state = try decodeBody(State.self, contents.body, sections: nil, userInfo: userInfo, name: name, path: path)
        return (state, contents.header, read)
    }

    /// Reads the checkpoint file at `path` (nil when there is none) whose header must name one of the state
    /// formats `formats`; returns it with the format it names.
    ///
    /// - Throws: ``TailError`` as ``readCheckpoint(_:path:format:migrating:name:damagedAdvice:incompatibleAdvice:)``.
    static func readCheckpointFile(
        path: String, formats: [Int], name: String, damagedAdvice: String, incompatibleAdvice: String
    ) throws(TailError) -> (contents: CheckpointFile.Contents, format: Int)? {
        let contents: CheckpointFile.Contents?
        do {
            contents = try CheckpointFile.read(path: path)
        } catch {
            throw TailError(code: .checkpointDamaged, message: "\(error). \(damagedAdvice)", path: path)
        }
        guard let contents else { return nil }
        let version = CheckpointFile.integerField("state_format", in: contents.header)
        guard let version, let format = formats.first(where: { UInt64($0) == version }) else {
            let reads = formats.map(String.init).joined(separator: " or ")
            throw TailError(
                code: .checkpointIncompatible,
                message: "\(name) \(path) has state format \(version.map(String.init) ?? "none"); this SendWatch "
                    + "reads format \(reads). \(incompatibleAdvice)",
                path: path)
        }
        return (contents, format)
    }

    /// Writes the checkpoint of `state` to `path` (atomically, as ``CheckpointFile`` does), its header
    /// `{"<kind>":1,"state_format":<format>,…}` with the fields `fields` adds.
    ///
    /// - Throws: ``TailError`` `.checkpointFailed` when it cannot be encoded or written.
    static func writeCheckpoint<State: Encodable>(
        _ state: State, path: String, kind: StaticString, format: Int, fields: (inout JSONWriter) -> Void
    ) throws(TailError) {
        var header = JSONWriter(capacity: 256)
        header.beginObject()
        header.key(kind); header.int(1)
        header.key("state_format"); header.int(format)
        fields(&header)
        header.endObject()
        do {
            let body = try StateCoding.encode(state)
            try CheckpointFile.write(path: path, header: header.bytes, body: body)
        } catch {
            throw TailError(code: .checkpointFailed, message: "cannot write \(path): \(error)", path: path)
        }
    }

    /// Decodes a checkpoint's body (with the large arrays in `sections`, when it has them); `userInfo` tells
    /// the decoded types how an older state format laid them out (``StateMigration``).
    ///
    /// - Throws: ``TailError`` `.checkpointIncompatible` when the body does not decode.
    static func decodeBody<State: Decodable>(
        _ type: State.Type, _ body: [UInt8], sections: StateSections?,
        userInfo: [CodingUserInfoKey: any Sendable] = [:], name: String, path: String
    ) throws(TailError) -> State {
        do {
            if let sections {
                return try StateCoding.decode(State.self, from: body, sections: sections, userInfo: userInfo)
            }
            return try StateCoding.decode(State.self, from: body, userInfo: userInfo)
        } catch {
            throw TailError(
                code: .checkpointIncompatible,
                message: "\(name) \(path) cannot be decoded: \(error). Move it away to start over.", path: path)
        }
    }
}

/// An older state format that is still read, migrated to the current one: its number, and what the body's
/// decoder is told (`userInfo`) so that the types whose layout changed since read the old layout. The next
/// checkpoint is written in the current format.
struct StateMigration {
    /// The older state format.
    var format: Int
    /// What the decoder of a body of that format is told.
    var userInfo: [CodingUserInfoKey: any Sendable]

    /// State formats written before parsers were saved by name: `format` is read with the parsers by
    /// position (``SavedParsersLayout/positionalPostfixEximJSONLines``).
    static func parsersByPosition(format: Int) -> StateMigration {
        StateMigration(
            format: format,
            userInfo: [SavedParsersLayout.userInfoKey: SavedParsersLayout.positionalPostfixEximJSONLines])
    }

    /// This migration, its decoder told `userInfo` too (a format older than two layout changes).
    func adding(_ more: [CodingUserInfoKey: any Sendable]) -> StateMigration {
        StateMigration(format: format, userInfo: userInfo.merging(more) { _, new in new })
    }

    /// What the decoder of a body of state format `format` is told: the `userInfo` of the migration of `migrations`
    /// that reads it; nothing for the current format.
    static func userInfo(reading format: Int, among migrations: [StateMigration]) -> [CodingUserInfoKey: any Sendable] {
        migrations.first { $0.format == format }?.userInfo ?? [:]
    }
}

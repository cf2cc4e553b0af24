/// The positions of a ``LogFollower``, to save in a checkpoint and restore after a restart.
///
/// It holds, per stream, the file being read and the offset just after the last line delivered from it, so a
/// restart neither splits a line nor reads one twice. Which file comes next (a newer rotated file, then the file
/// now at the stream's name) is found again on restore, by name order and identity. The checkpoint file that
/// stores this value carries the version; this type's keys only ever gain optional members.
public struct FollowerState: Codable, Sendable, Equatable {
    /// One entry per followed stream, in stream-index order.
    public var streams: [StreamPosition]

    /// Creates a state.
    public init(streams: [StreamPosition] = []) {
        self.streams = streams
    }
}

/// Where one stream (one followed name) stands.
public struct StreamPosition: Codable, Sendable, Equatable {
    /// The followed name (a path as given, or a glob's match); the stable key of the stream.
    public var name: String
    /// The file being read and its offset. With no file open (the name missing between a rename and its
    /// successor's creation, or deleted) it is the last file read, at its end, so that a restart reads the
    /// rotated files newer than it before the name's file; `nil` only when no file was ever read (the name's
    /// file, when it exists, is then read from offset 0).
    public var file: FilePosition?

    /// Creates a stream position.
    public init(name: String, file: FilePosition?) {
        self.name = name
        self.file = file
    }
}

/// A file and how far it was delivered. Made by the follower only (its memberwise init is internal); restored from a
/// saved ``FollowerState``.
public struct FilePosition: Codable, Sendable, Equatable {
    /// Which file: device, inode and fingerprint of its first bytes.
    public var identity: FileIdentity
    /// The offset in the file's *decompressed* bytes just after the last delivered line (always a line
    /// boundary, or the end of a partial line that was delivered after the quiet period).
    public var offset: Int64
    /// The path where the file was last read (the name itself, or a rotated name); for messages only.
    public var path: String
    /// The newest file with content that is older than this one (the file read before it, or the newest rotated
    /// file with content when this one was opened), or `nil` when there was none.
    ///
    /// When the file itself cannot be found again on restore (deleted by rotation, or empty when saved and
    /// compressed since), the rotated files newer than this predecessor are the ones newer than the saved file:
    /// they are read from their start, so a whole newer file is never skipped.
    public var predecessor: FileIdentity?
}

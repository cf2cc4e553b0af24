import SendWatchIngest

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An exclusive lock on a `tail` state directory, so that two runs never share one checkpoint and journal.
///
/// `flock(2)` on the file `lock` in the directory, taken without waiting and held for the lock's lifetime (the
/// run's). The kernel drops it when the descriptor closes, also when the process is killed (SIGKILL, a crash): a
/// lock is never left behind. The file holds the holder's process id as text, for the message a second run
/// gives; the file itself stays (removing it would let a third run lock a new inode while the second still
/// waits on the old one).
///
/// Not taken across hosts: `flock` on NFS is local to each client on some systems; a state directory belongs to
/// one host.
final class StateDirectoryLock {
    /// The lock file's name in the state directory.
    static let fileName = "lock"

    private let descriptor: Int32

    /// Takes the lock of `directory` (which exists), or throws at once when another process holds it.
    ///
    /// - Throws: ``TailError`` `.stateDirectoryLocked` naming the directory and, when the lock file says, the
    ///   holder's process id; `.stateDirectoryUnusable` when the lock file cannot be opened or locked.
    init(directory: String) throws(TailError) {
        let path = directory + "/" + Self.fileName
        var fd: Int32
        repeat { fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600) } while fd < 0 && errno == EINTR
        guard fd >= 0 else {
            let e = errno
            throw TailError(
                code: .stateDirectoryUnusable,
                message: "cannot open the lock file \(path): \(errnoDescription(e))", path: directory,
                underlyingErrno: e)
        }
        var failure = Self.tryLock(fd)
        // A holder that is this very process is a descriptor of a run that has just ended, still open in a child
        // that a thread of the process forked (posix_spawn) and that has not yet reached its exec (O_CLOEXEC
        // closes it only then): the lock is dropped within moments. Wait for it, a bounded time
        // (``ownHolderWaitMilliseconds``), instead of refusing a restart in the same process.
        var waited = 0
        while failure == EWOULDBLOCK && Self.readHolder(fd) == Int(getpid()) && waited < Self.ownHolderWaitMilliseconds
        {
            usleep(10_000)
            waited += 10
            failure = Self.tryLock(fd)
        }
        if failure != 0 {
            let e = failure
            let holder = Self.readHolder(fd)
            close(fd)
            guard e == EWOULDBLOCK else {
                throw TailError(
                    code: .stateDirectoryUnusable,
                    message: "cannot lock \(path): \(errnoDescription(e))", path: directory, underlyingErrno: e)
            }
            throw TailError(
                code: .stateDirectoryLocked,
                message: "the state directory \(directory) is in use by another sendwatch tail"
                    + (holder.map { " (pid \($0))" } ?? "")
                    + "; two runs on one state directory would write every alert twice. Stop that run, or give "
                    + "this one a --state of its own.",
                path: directory)
        }
        descriptor = fd
        // The holder's pid, for the message above; best effort (the lock itself is what counts).
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    deinit {
        close(descriptor)
    }

    /// How long a lock whose holder is this process is waited for: 2 s.
    static let ownHolderWaitMilliseconds = 2_000

    /// `flock(fd, LOCK_EX | LOCK_NB)`, repeated on EINTR: 0 when the lock is taken, else the `errno` it failed with.
    private static func tryLock(_ fd: Int32) -> Int32 {
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let e = errno
            if e != EINTR { return e }
        }
        return 0
    }

    /// The process id written in the lock file, if it holds one.
    private static func readHolder(_ fd: Int32) -> Int? {
        var bytes = [UInt8](repeating: 0, count: 24)
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        let digits = bytes[0..<n].prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        return Int(String(decoding: digits, as: UTF8.self)).flatMap { $0 > 0 ? $0 : nil }
    }
}

@available(*, unavailable)
extension StateDirectoryLock: Sendable {}

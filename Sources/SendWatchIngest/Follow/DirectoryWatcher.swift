#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// inotify on the directories of the followed names: wakes ``LogFollower/wait(timeoutMilliseconds:)`` when a
/// file in them is written, created, moved or deleted.
///
/// Directories are watched, not files, so rotation (a new file under the name) is seen too. Bounded: one watch
/// per distinct directory of the followed names and literal glob directories. Not available on Darwin (the
/// follower polls there).
final class DirectoryWatcher {
    private let fd: Int32
    /// Watched directory → watch descriptor.
    private var watches: [String: Int32] = [:]
    /// Whether every wanted directory is watched (else the caller must poll).
    private(set) var complete = false

    /// Creates the inotify instance, or returns `nil` when the system has none or refuses one.
    init?() {
        #if canImport(Glibc) || canImport(Musl)
        let descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else { return nil }
        fd = descriptor
        #else
        return nil
        #endif
    }

    deinit { _ = close(fd) }

    /// Watches exactly `directories` (adds new ones, removes ones no longer wanted).
    func watch(_ directories: Set<String>) {
        #if canImport(Glibc) || canImport(Musl)
        for (directory, descriptor) in watches where !directories.contains(directory) {
            _ = inotify_rm_watch(fd, descriptor)
            watches[directory] = nil
        }
        var all = true
        let mask = UInt32(
            IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CLOSE_WRITE | IN_ATTRIB
                | IN_DELETE_SELF | IN_MOVE_SELF)
        for directory in directories where watches[directory] == nil {
            let descriptor = inotify_add_watch(fd, directory, mask)
            if descriptor >= 0 {
                watches[directory] = descriptor
            } else {
                all = false
            }
        }
        complete = all
        #endif
    }

    /// Waits up to `timeoutMilliseconds` for an event, then drains the queue.
    ///
    /// - Returns: whether any event arrived.
    func wait(timeoutMilliseconds: Int) -> Bool {
        var waiter = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        var ready: Int32
        repeat { ready = poll(&waiter, 1, Int32(clamping: timeoutMilliseconds)) } while ready < 0 && errno == EINTR
        guard ready > 0 else { return false }
        drain()
        return true
    }

    /// Reads all queued events; forgets watches the kernel removed (their directory was deleted or moved), so
    /// the next ``watch(_:)`` adds them again when the directory is back.
    private func drain() {
        #if canImport(Glibc) || canImport(Musl)
        let size = 16 * 1024
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
        defer { buffer.deallocate() }
        var removed: [Int32] = []
        // Bounded: a writer cannot keep us here for ever.
        for _ in 0..<64 {
            let n = read(fd, buffer, size)
            guard n > 0 else { break }
            var offset = 0
            let header = MemoryLayout<inotify_event>.size
            while offset + header <= n {
                let event = buffer.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                if event.mask & UInt32(IN_IGNORED) != 0 || event.mask & UInt32(IN_MOVE_SELF) != 0 {
                    removed.append(event.wd)
                }
                offset += header + Int(event.len)
            }
        }
        if !removed.isEmpty {
            for (directory, descriptor) in watches where removed.contains(descriptor) {
                _ = inotify_rm_watch(fd, descriptor)
                watches[directory] = nil
            }
            complete = false
        }
        #endif
    }
}

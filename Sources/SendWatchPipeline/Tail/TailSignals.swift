#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization

/// SIGTERM and SIGINT handling for `tail`: the handler only sets a flag, which the loop checks at least once per
/// poll interval before draining, writing and checkpointing. SIGPIPE is ignored, so that a closed output pipe
/// is an error the loop reports (and does not checkpoint past) instead of a silent death.
public enum TailSignals {
    private static let flag = Atomic<Int>(0)

    /// Whether SIGTERM or SIGINT arrived (or ``requestStop()`` was called).
    public static var stopRequested: Bool { flag.load(ordering: .relaxed) != 0 }

    /// Asks the loop to stop, as a signal would.
    public static func requestStop() { flag.store(1, ordering: .relaxed) }

    /// Installs the handlers.
    public static func install() {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in TailSignals.flag.store(1, ordering: .relaxed) }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(SIGTERM, &action, nil)
        sigaction(SIGINT, &action, nil)
        signal(SIGPIPE, SIG_IGN)
        // A parent may have started us with signals blocked (the mask is inherited across exec): unblock the
        // two we handle, or a stop request would wait forever.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }
}

import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Signal handling for `tail`. The handlers only set flags, which the loop checks at least once per poll
/// interval:
/// - SIGTERM and SIGINT: drain, write the alerts, checkpoint, exit (``stopRequested``);
/// - SIGHUP: reopen the alert output by name and re-read the configuration file (``takeReopenRequest()``), as
///   daemons do after logrotate; it does not stop the run.
///
/// SIGPIPE is ignored, so that a closed output pipe is an error the loop reports (and does not checkpoint
/// past) instead of a silent death.
public enum TailSignals {
    private static let stopFlag = Atomic<Int>(0)
    private static let reopenFlag = Atomic<Int>(0)

    /// Whether SIGTERM or SIGINT arrived (or ``requestStop()`` was called).
    public static var stopRequested: Bool { stopFlag.load(ordering: .relaxed) != 0 }

    /// Asks the loop to stop, as a signal would.
    public static func requestStop() { stopFlag.store(1, ordering: .relaxed) }

    /// Whether SIGHUP arrived since the last call (or ``requestReopen()`` was called); clears the request.
    /// Several signals before the loop looks are one request.
    public static func takeReopenRequest() -> Bool { reopenFlag.exchange(0, ordering: .relaxed) != 0 }

    /// Asks the loop to reopen its output, as SIGHUP would.
    public static func requestReopen() { reopenFlag.store(1, ordering: .relaxed) }

    /// Installs the handlers.
    public static func install() {
        var stop = sigaction()
        stop.__sigaction_handler.sa_handler = { _ in TailSignals.stopFlag.store(1, ordering: .relaxed) }
        sigemptyset(&stop.sa_mask)
        // No SA_RESTART: a signal ends the follower's wait at once instead of at its timeout.
        stop.sa_flags = 0
        sigaction(SIGTERM, &stop, nil)
        sigaction(SIGINT, &stop, nil)
        var hangUp = sigaction()
        hangUp.__sigaction_handler.sa_handler = { _ in TailSignals.reopenFlag.store(1, ordering: .relaxed) }
        sigemptyset(&hangUp.sa_mask)
        hangUp.sa_flags = 0
        sigaction(SIGHUP, &hangUp, nil)
        signal(SIGPIPE, SIG_IGN)
        // A parent may have started us with signals blocked (the mask is inherited across exec): unblock the
        // ones we handle, or a request would wait forever.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGHUP)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }
}

import SendWatchFormats

/// Recognises an input's format from its first lines (`--format auto`), holding those lines until the format
/// is known so that they are parsed with it.
///
/// Held lines are bounded by ``lineLimit`` lines and ``byteLimit`` bytes: at either bound the detector's best
/// guess decides; when no line voted, the held lines are counted as `unknown_format` and detection goes on with
/// the next lines (the votes so far are kept).
///
/// With a ``configured`` format (`--format`) the first lines are held and looked at all the same, so that a
/// run without events can name the other MTA the log belongs to (``FormatDetector/foreignGuess``); the
/// configured format always decides, at the first vote or at a bound, and no held line is given up.
struct FormatDetection {
    static var lineLimit: Int { 64 }
    static var byteLimit: Int { 1 << 20 }

    /// The format given by configuration or flag; `nil` recognises it.
    var configured: LogFormat?
    var detector = FormatDetector()
    /// Lines read while the format is undecided, in order.
    var held: [[UInt8]] = []
    var heldBytes = 0
    /// Lines given up as `unknown_format`, over every input (not reset by ``beginInput()``).
    var unknownFormatLines = 0

    /// Starts a new input: no votes and no held lines.
    mutating func beginInput() {
        detector = FormatDetector()
        held.removeAll()
        heldBytes = 0
    }

    /// Holds `line` and lets it vote; returns the format once it is decided (the held lines, this one included,
    /// are then in ``held`` for the caller to parse).
    mutating func hold(_ line: UnsafeRawBufferPointer) -> LogFormat? {
        held.append(Array(line))
        heldBytes += line.count
        if let decided = detector.observe(line: line) { return configured ?? decided }
        guard held.count >= Self.lineLimit || heldBytes >= Self.byteLimit else { return nil }
        return settle()
    }

    /// Decides with the configured format or the best guess so far (the end of an input, or a quiet log); with
    /// neither, the held lines are counted as `unknown_format` and dropped.
    mutating func settle() -> LogFormat? {
        if let configured { return configured }
        if let guess = detector.bestGuess { return guess }
        unknownFormatLines += held.count
        held.removeAll()
        heldBytes = 0
        return nil
    }

    /// Takes the held lines (after a decision).
    mutating func takeHeld() -> [[UInt8]] {
        defer {
            held = []
            heldBytes = 0
        }
        return held
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Cuts a stream of byte chunks into lines, with a bound on line length and without rescanning or copying
/// complete lines.
///
/// A line ends at `\n`; one `\r` right before the `\n` is removed too, so `\r\n` files frame the same as `\n`
/// files. Lines are handed to a ``LineConsumer`` without their terminator. **Empty lines are passed on** as
/// empty buffers, so the parser decides what they mean (and counting stays in one place).
///
/// Lines that lie entirely within a pushed chunk are passed straight from the chunk's memory. Only the
/// unfinished line at the end of a chunk is copied, into a carry buffer that is reused (its capacity is
/// kept). Newlines are found with `memchr`, and no byte is searched twice: the carry holds no newline by
/// construction, so the search always continues in the new chunk.
///
/// ## Bounds
/// A line with more than ``maxLineBytes`` bytes before its `\n` (a `\r` counts) is never kept whole: as soon
/// as it is known to be too long it is counted in ``linesTooLong``, the carried part is dropped, and bytes
/// are skipped up to the next `\n`. The line after it is framed normally. So the carry buffer never holds more
/// than `maxLineBytes` bytes.
///
/// Usage:
/// ```swift
/// var framer = LineFramer(maxLineBytes: 64 * 1024)
/// framer.push(chunk, to: &parser)   // for every chunk read
/// framer.finish(to: &parser)        // at the end: the last line may lack a newline
/// ```
public struct LineFramer: Sendable {
    /// The longest line, in bytes before its `\n`, that is passed on. Longer lines are skipped and counted.
    public let maxLineBytes: Int
    /// Lines passed to a consumer so far.
    public private(set) var lines: Int
    /// Lines skipped because they exceeded ``maxLineBytes`` (counted when the excess is detected).
    public private(set) var linesTooLong: Int
    /// Unfinished lines dropped by ``reset()`` (those not already counted in ``linesTooLong``).
    public private(set) var partialLinesDropped: Int
    /// Bytes pushed so far, including terminators and skipped bytes.
    public private(set) var bytes: Int64

    /// The start of an unfinished line (never contains `\n`; at most `maxLineBytes` bytes).
    private var carry: [UInt8]
    /// Inside an overlong line: drop bytes up to and including the next `\n`.
    private var skippingOverlongLine: Bool

    /// Creates a framer.
    ///
    /// - Parameter maxLineBytes: the longest line passed on, in bytes before the `\n`; default 64 KiB. Values
    ///   below 1 are treated as 1.
    public init(maxLineBytes: Int = 64 * 1024) {
        self.maxLineBytes = max(1, maxLineBytes)
        self.lines = 0
        self.linesTooLong = 0
        self.partialLinesDropped = 0
        self.bytes = 0
        self.carry = []
        self.skippingOverlongLine = false
    }

    /// Whether an unfinished line (carried or being skipped) is pending.
    public var hasPartialLine: Bool { !carry.isEmpty || skippingOverlongLine }

    /// Frames `chunk` and passes every line it completes to `consumer`.
    ///
    /// - Parameters:
    ///   - chunk: the next bytes of the stream; may be empty. Not retained.
    ///   - consumer: receives each completed line, in order.
    /// - Complexity: O(n) in `chunk.count`, each byte searched once by `memchr`; copies only the unfinished
    ///   line at the chunk's end (at most ``maxLineBytes`` bytes in the carry). No allocation once the carry
    ///   buffer has grown to the longest carried line.
    public mutating func push<C: LineConsumer>(_ chunk: UnsafeRawBufferPointer, to consumer: inout C) {
        bytes &+= Int64(chunk.count)
        guard let base = chunk.baseAddress, chunk.count > 0 else { return }
        let end = chunk.count
        let limit = maxLineBytes
        var emitted = 0
        var tooLong = 0
        var position = 0

        // 1. Finish the line left over from the previous chunk, if any.
        if skippingOverlongLine || !carry.isEmpty {
            guard let newline = findNewline(base, from: 0, to: end) else {
                if !skippingOverlongLine {
                    if carry.count + end > limit {
                        carry.removeAll(keepingCapacity: true)
                        skippingOverlongLine = true
                        linesTooLong += 1
                    } else {
                        carry.append(contentsOf: chunk)
                    }
                }
                return
            }
            if skippingOverlongLine {
                skippingOverlongLine = false
            } else if carry.count + newline > limit {
                carry.removeAll(keepingCapacity: true)
                tooLong += 1
            } else {
                carry.append(contentsOf: UnsafeRawBufferPointer(start: base, count: newline))
                carry.withUnsafeBytes { carried in
                    // Safe: `carried` is valid for the duration of this closure, which is all `consume` may use.
                    consumer.consume(line: Self.strippingCarriageReturn(carried))
                }
                carry.removeAll(keepingCapacity: true)
                emitted += 1
            }
            position = newline + 1
        }

        // 2. Lines that lie entirely within the chunk go straight from its memory.
        while position < end, let newline = findNewline(base, from: position, to: end) {
            let length = newline - position
            if length > limit {
                tooLong += 1
            } else {
                var lineLength = length
                if lineLength > 0 && base.load(fromByteOffset: newline - 1, as: UInt8.self) == 0x0D {
                    lineLength -= 1
                }
                consumer.consume(line: UnsafeRawBufferPointer(start: base + position, count: lineLength))
                emitted += 1
            }
            position = newline + 1
        }

        // 3. Carry the unfinished tail, unless it is already too long.
        if position < end {
            let rest = end - position
            if rest > limit {
                skippingOverlongLine = true
                tooLong += 1
            } else {
                carry.append(contentsOf: UnsafeRawBufferPointer(start: base + position, count: rest))
            }
        }
        lines += emitted
        linesTooLong += tooLong
    }

    /// Ends the stream: passes a final line that has no `\n` (one trailing `\r` removed) to `consumer`.
    ///
    /// The framer is then empty and can frame a new stream; the counters keep counting.
    ///
    /// - Parameter consumer: receives the final line, if there is one.
    /// - Complexity: O(1) apart from the consumer.
    public mutating func finish<C: LineConsumer>(to consumer: inout C) {
        if !carry.isEmpty {
            carry.withUnsafeBytes { carried in
                // Safe: `carried` is valid for the duration of this closure, which is all `consume` may use.
                consumer.consume(line: Self.strippingCarriageReturn(carried))
            }
            carry.removeAll(keepingCapacity: true)
            lines += 1
        }
        skippingOverlongLine = false
    }

    /// Drops any unfinished line, e.g. when switching to a new input or after the input was found damaged.
    ///
    /// A dropped carried line is counted in ``partialLinesDropped``; the rest of an overlong line being
    /// skipped was already counted in ``linesTooLong`` and is not counted again.
    ///
    /// - Returns: whether an unfinished line was dropped.
    /// - Complexity: O(1); keeps the carry buffer's capacity.
    @discardableResult
    public mutating func reset() -> Bool {
        let hadPartialLine = hasPartialLine
        if !carry.isEmpty {
            partialLinesDropped += 1
            carry.removeAll(keepingCapacity: true)
        }
        skippingOverlongLine = false
        return hadPartialLine
    }

    @inline(__always)
    private static func strippingCarriageReturn(_ line: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        guard let last = line.last, last == 0x0D else { return line }
        return UnsafeRawBufferPointer(rebasing: line[0..<(line.count - 1)])
    }
}

/// The index of the first `\n` in `base[from..<to]`, found with `memchr`.
@inline(__always)
private func findNewline(_ base: UnsafeRawPointer, from: Int, to: Int) -> Int? {
    guard from < to, let hit = memchr(base + from, 0x0A, to - from) else { return nil }
    return base.distance(to: UnsafeRawPointer(hit))
}

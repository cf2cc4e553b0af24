/// A bounded snake_case error code of one error type (`Domain`), e.g. `IngestError.Code.openFailed`.
///
/// An open set: each error type names its codes as static members in an extension constrained to its domain,
/// and callers compare with those members (switch with a `default` branch, since later versions may add
/// codes). Codes of different error types are different types, so they cannot be mixed up.
///
/// Usage:
/// ```swift
/// extension ErrorCode where Domain == IngestError {
///     public static var openFailed: Self { Self("open_failed") }
/// }
/// ```
public struct ErrorCode<Domain>: Hashable, Sendable, CustomStringConvertible {
    private let name: String

    /// A code named `name` (snake_case). Only the package's error types declare codes.
    package init(_ name: String) { self.name = name }

    /// The bounded snake_case code, e.g. `corrupt_compressed_data`, for counters and logs.
    public var description: String { name }
}

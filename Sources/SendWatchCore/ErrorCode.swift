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

/// An error that is a code and a sentence, nothing more: what a module throws whose failures concern its input as
/// a whole, with no path, offset or `errno` to carry.
///
/// `Domain` only keeps the error types apart (their codes cannot be mixed up). A module names its error as a
/// typealias and its codes in an extension constrained to it:
/// ```swift
/// public enum EvaluationFailure {}
/// public typealias EvaluationError = CodedError<EvaluationFailure>
/// extension ErrorCode where Domain == EvaluationError {
///     public static var invalidLabels: Self { Self("invalid_labels") }
/// }
/// ```
public struct CodedError<Domain>: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure this is. An open set: compare with the static members of the module's extension.
    public typealias Code = ErrorCode<CodedError<Domain>>

    /// What kind of failure this is.
    public var code: Code
    /// A sentence saying what is wrong and where.
    public var message: String

    /// Makes an error.
    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { message }
}

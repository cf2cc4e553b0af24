public import SendWatchCore

/// Why an evaluation could not be made: the labels or the alerts are unusable.
///
/// Bad alert *lines* are not errors: they are counted in ``EvaluationReport/badLines`` and the evaluation goes
/// on. Only input that makes every number meaningless throws: labels that do not follow the schema, an alert
/// record of a schema version this scorer does not know, or alert input none of whose lines is a record.
///
/// ``CodedError/message`` says what is wrong and where (the JSON path of the key, or the line number).
public typealias EvaluationError = CodedError<EvaluationFailure>

/// The domain of ``EvaluationError``'s codes.
public enum EvaluationFailure {}

extension ErrorCode where Domain == EvaluationError {
    /// The labels are not valid JSON or miss a required key or have a value of the wrong type.
    public static var invalidLabels: Self { Self("invalid_labels") }
    /// An alert record has a `v` other than 1.
    public static var unsupportedAlertVersion: Self { Self("unsupported_alert_version") }
    /// A `--require` expression cannot be parsed.
    public static var invalidRequirement: Self { Self("invalid_requirement") }
    /// The alert input has lines but not one of them is a SendWatch alert record (v 1 to 5) (OCSF output, another
    /// tool's JSON, a binary file): scoring it would report "nothing detected" for the wrong reason.
    public static var noUsableAlerts: Self { Self("no_usable_alerts") }
}

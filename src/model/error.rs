//! The function's error classes. Each maps to a stable Lambda `errorType`. Messages are made of
//! our own words, resource names, the AWS error code and AWS's error message: never a raw
//! response body, a request body or a parameter value.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::waiters::error::WaiterError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use lambda_runtime::Diagnostic;

use crate::model::Resource;

/// Everything that can make an invocation fail. Lambda retries a failed asynchronous invocation
/// and finally hands the event to the on-failure destination / DLQ, so every variant here means
/// "the job was not done".
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The event looks like one of ours but is malformed (a required field missing or of the
    /// wrong type, an unknown field). Retrying will not help.
    #[error("invalid event: {0}")]
    InvalidEvent(String),

    /// The event comes from a sender, account or region the function does not act for.
    #[error("untrusted event: {0}")]
    UntrustedEvent(String),

    #[error("{resource} {identifier:?} was not found")]
    DatabaseNotFound {
        resource: Resource,
        identifier: String,
    },

    /// The database exists but cannot be described completely yet (still `creating`, no
    /// endpoint). A later retry is expected to succeed.
    #[error("{resource} {identifier:?} is not ready: {detail}")]
    DatabaseNotReady {
        resource: Resource,
        identifier: String,
        detail: String,
    },

    #[error("password parameter {name:?} was not found")]
    PasswordParameterNotFound { name: String },

    #[error("password parameter {name:?} is of type {found}; only SecureString is accepted")]
    PasswordParameterNotSecure { name: String, found: String },

    /// The parameter exists and is a SecureString, but its value cannot be used (empty, or too
    /// large for a secret).
    #[error("password parameter {name:?} is unusable: {reason}")]
    PasswordParameterInvalid { name: String, reason: String },

    #[error("invalid secret name {name:?}: {reason}")]
    InvalidSecretName { name: String, reason: String },

    /// A secret exists at the rendered name but is not this function's secret for the same
    /// database and user (or is a replica of another region's secret). Nothing was written.
    #[error("secret {name:?} is not this function's secret for {expected}: {reason}; nothing was written")]
    SecretConflict {
        name: String,
        expected: String,
        reason: String,
    },

    /// A secret of that name is scheduled for deletion. It is not restored silently: an
    /// operator decides (RestoreSecret, or wait for the deletion).
    #[error("secret {name:?} is scheduled for deletion; restore it or wait until it is deleted")]
    SecretScheduledForDeletion { name: String },

    /// The secret's current value is not a JSON object (a bare password, an array, binary): the
    /// function only ever updates a JSON object's connection keys, so it left the value
    /// untouched. Retrying will not help; an operator decides what the value should be.
    #[error("secret {name:?} holds a value that is not a JSON object; it was left untouched (only a JSON object's connection keys are ever updated)")]
    SecretNotJson { name: String },

    /// A rotation is in progress on the secret (a version labelled `AWSPENDING` that is not
    /// `AWSCURRENT`): nothing is written until it ends. A retry is expected to succeed.
    #[error("secret {name:?} is being rotated (an AWSPENDING version exists); nothing was written, retry after the rotation")]
    RotationInProgress { name: String },

    /// A rotation failed and left its `AWSPENDING` version behind, older than the secret's
    /// rotation window plus 15 minutes: no retry helps until an operator removes the label.
    #[error("secret {name:?} has a rotation stuck since {since} (AWSPENDING on version {version}, past its rotation window); nothing was written. Fix the rotation's cause, then remove the label: aws secretsmanager update-secret-version-stage --secret-id {name} --version-stage AWSPENDING --remove-from-version-id {version}")]
    RotationStuck {
        name: String,
        version: String,
        since: String,
    },

    /// The member account's role could not be assumed (missing, or it does not trust the hub's
    /// role). Nothing was done in that account.
    #[error("the hub cannot assume role {role} in member account {account}: {message}; deploy the member stack there, or check its trust policy")]
    MemberAccessDenied {
        account: String,
        role: String,
        message: String,
    },

    #[error("configuration error in {variable}: {reason}")]
    Configuration { variable: String, reason: String },

    /// An AWS call failed for a reason not classified above (throttling after the SDK's own
    /// retries, 5xx, timeouts, access denied, ...).
    #[error("{service} {operation} failed: {message}")]
    AwsService {
        service: &'static str,
        operation: &'static str,
        message: String,
        /// AWS's error code (`AccessDeniedException`, `ThrottlingException`, ...), when AWS
        /// answered with one.
        code: Option<String>,
    },
}

impl Error {
    /// The stable `errorType` reported to Lambda (and to the DLQ / on-failure destination).
    pub fn error_type(&self) -> &'static str {
        match self {
            Error::InvalidEvent(_) => "InvalidEvent",
            Error::UntrustedEvent(_) => "UntrustedEvent",
            Error::DatabaseNotFound { .. } => "DatabaseNotFound",
            Error::DatabaseNotReady { .. } => "DatabaseNotReady",
            Error::PasswordParameterNotFound { .. } => "PasswordParameterNotFound",
            Error::PasswordParameterNotSecure { .. } => "PasswordParameterNotSecure",
            Error::PasswordParameterInvalid { .. } => "PasswordParameterInvalid",
            Error::InvalidSecretName { .. } => "InvalidSecretName",
            Error::SecretConflict { .. } => "SecretConflict",
            Error::SecretScheduledForDeletion { .. } => "SecretScheduledForDeletion",
            Error::SecretNotJson { .. } => "SecretNotJson",
            Error::RotationInProgress { .. } => "RotationInProgress",
            Error::RotationStuck { .. } => "RotationStuck",
            Error::MemberAccessDenied { .. } => "MemberAccessDenied",
            Error::Configuration { .. } => "ConfigurationError",
            Error::AwsService { .. } => "AwsServiceError",
        }
    }

    /// Whether trying again (in this run, or at once) could succeed. `false` for what only an
    /// operator can change: a refusal (`AccessDenied*`, `UnauthorizedOperation`), a request AWS
    /// rejects as invalid (`ValidationException`, `InvalidParameter*`), a value the function
    /// does not overwrite (`SecretNotJson`), a conflict, a stuck rotation, a bad parameter or
    /// configuration. The sweep reports these once as `stuck` and does not retry them within
    /// the run.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::AwsService { code, .. } => !code.as_deref().is_some_and(is_persistent_code),
            Error::DatabaseNotFound { .. }
            | Error::DatabaseNotReady { .. }
            | Error::PasswordParameterNotFound { .. }
            | Error::RotationInProgress { .. } => true,
            Error::InvalidEvent(_)
            | Error::UntrustedEvent(_)
            | Error::PasswordParameterNotSecure { .. }
            | Error::PasswordParameterInvalid { .. }
            | Error::InvalidSecretName { .. }
            | Error::SecretConflict { .. }
            | Error::SecretScheduledForDeletion { .. }
            | Error::SecretNotJson { .. }
            | Error::RotationStuck { .. }
            | Error::MemberAccessDenied { .. }
            | Error::Configuration { .. } => false,
        }
    }

    /// Hub mode: whether the error is answered as a non-error `refused` outcome, so that
    /// Lambda does not retry it (one member's flood of bad events costs one invocation each,
    /// not three): an event that is not well formed or not trusted, and, for a user event
    /// (`user_event`), a database that does not exist. docs/outcomes.md lists them.
    pub fn is_refusal(&self, user_event: bool) -> bool {
        match self {
            Error::InvalidEvent(_) | Error::UntrustedEvent(_) => true,
            Error::DatabaseNotFound { .. } => user_event,
            _ => false,
        }
    }

    pub fn config(variable: &str, reason: impl Into<String>) -> Self {
        Error::Configuration {
            variable: variable.to_string(),
            reason: reason.into(),
        }
    }

    /// Wraps a failed SDK call about one resource (named in the message; empty for a listing).
    pub fn aws_on<E, R>(
        service: &'static str,
        operation: &'static str,
        resource: &str,
        err: &SdkError<E, R>,
    ) -> Self
    where
        E: ProvideErrorMetadata,
    {
        let what = describe_sdk_error(err);
        let code = sdk_error_code(err).map(str::to_string);
        Error::AwsService {
            service,
            operation,
            code,
            message: if resource.is_empty() {
                what
            } else {
                format!("{resource}: {what}")
            },
        }
    }

    /// Wraps a failed listing (no single resource).
    pub fn aws<E, R>(service: &'static str, operation: &'static str, err: &SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata,
    {
        Self::aws_on(service, operation, "", err)
    }

    /// Wraps a waiter that failed for another reason than its deadline or a failure state.
    pub fn waiter<O, E>(service: &'static str, resource: &str, err: &WaiterError<O, E>) -> Self
    where
        E: ProvideErrorMetadata,
    {
        let what = match err {
            WaiterError::OperationFailed(e) => describe_sdk_error(e.error()),
            WaiterError::ConstructionFailure(_) => "the waiter could not be built".to_string(),
            WaiterError::ExceededMaxWait(_) => "the wait exceeded its bound".to_string(),
            WaiterError::FailureState(_) => "the resource reached a failure state".to_string(),
            _ => "the waiter failed".to_string(),
        };
        Error::AwsService {
            service,
            operation: "wait until available",
            message: format!("{resource}: {what}"),
            code: None,
        }
    }
}

/// AWS error codes that mean "not without an operator": refusals and invalid requests.
fn is_persistent_code(code: &str) -> bool {
    matches!(
        code,
        "AccessDenied"
            | "AccessDeniedException"
            | "UnauthorizedOperation"
            | "ValidationException"
            | "ValidationError"
            | "InvalidParameterException"
            | "InvalidParameterValue"
            | "InvalidParameterValueException"
            | "InvalidParameterCombination"
    )
}

/// The AWS error code of a failed SDK call (`AccessDeniedException`, ...); `None` for a
/// failure without a service answer (a timeout, a dropped connection).
pub fn sdk_error_code<E, R>(err: &SdkError<E, R>) -> Option<&str>
where
    E: ProvideErrorMetadata,
{
    match err {
        SdkError::ServiceError(ctx) => ctx.err().meta().code(),
        _ => None,
    }
}

/// Our words for a failed SDK call: for an AWS error its code and message, for anything else
/// what happened (timeout, connection, unreadable response) without the response itself.
pub fn describe_sdk_error<E, R>(err: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata,
{
    match err {
        SdkError::ServiceError(ctx) => {
            let meta = ctx.err().meta();
            match (meta.code(), meta.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (Some(code), None) => code.to_string(),
                (None, Some(message)) => format!("an AWS error without a code: {message}"),
                (None, None) => "an AWS error without a code or message".to_string(),
            }
        }
        SdkError::TimeoutError(_) => "the request timed out (timeout)".to_string(),
        SdkError::DispatchFailure(d) if d.is_timeout() => {
            "the connection timed out (timeout)".to_string()
        }
        SdkError::DispatchFailure(d) if d.is_io() => {
            "the connection failed (the endpoint could not be reached)".to_string()
        }
        SdkError::DispatchFailure(_) => "the request could not be sent".to_string(),
        SdkError::ResponseError(_) => {
            "the response could not be read or parsed (its body is not shown)".to_string()
        }
        SdkError::ConstructionFailure(_) => "the request could not be built".to_string(),
        _ => "the call failed".to_string(),
    }
}

impl From<Error> for Diagnostic {
    fn from(err: Error) -> Self {
        Diagnostic {
            error_type: err.error_type().to_string(),
            error_message: err.to_string(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostic_carries_the_stable_error_type_and_names_the_resource() {
        let d: Diagnostic = Error::PasswordParameterNotSecure {
            name: "/db-secrets/rds/db1/admin".into(),
            found: "String".into(),
        }
        .into();
        assert_eq!(d.error_type, "PasswordParameterNotSecure");
        assert!(d.error_message.contains("/db-secrets/rds/db1/admin"));
        let d: Diagnostic = Error::config("SECRET_NAME_TEMPLATE", "unknown placeholder {x}").into();
        assert_eq!(d.error_type, "ConfigurationError");
        assert!(d.error_message.contains("SECRET_NAME_TEMPLATE"));
        let d: Diagnostic = Error::SecretConflict {
            name: "db-secrets/rds/a/admin".into(),
            expected: "rds/instance/a user admin".into(),
            reason: "it carries no managed-by tag".into(),
        }
        .into();
        assert_eq!(d.error_type, "SecretConflict");
        assert!(d.error_message.contains("db-secrets/rds/a/admin"));
    }

    #[test]
    fn refusals_and_invalid_requests_are_not_transient_throttling_is() {
        let aws = |code: Option<&str>| Error::AwsService {
            service: "Secrets Manager",
            operation: "PutSecretValue",
            message: "x".into(),
            code: code.map(str::to_string),
        };
        for code in [
            "AccessDeniedException",
            "AccessDenied",
            "ValidationException",
        ] {
            assert!(!aws(Some(code)).is_transient(), "{code}");
        }
        for code in [
            Some("ThrottlingException"),
            Some("InternalServiceError"),
            None,
        ] {
            assert!(aws(code).is_transient(), "{code:?}");
        }
        assert!(!Error::SecretNotJson { name: "s".into() }.is_transient());
        assert!(Error::RotationInProgress { name: "s".into() }.is_transient());
    }
}

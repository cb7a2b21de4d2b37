//! The function's error classes. Each maps to a stable Lambda `errorType`; messages name the
//! resource involved and never carry a password.

use aws_smithy_types::error::display::DisplayErrorContext;
use lambda_runtime::Diagnostic;

use crate::model::Resource;

/// Everything that can make an invocation fail. Lambda retries a failed asynchronous invocation
/// and finally hands the event to the on-failure destination / DLQ, so every variant here means
/// "the job was not done".
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The event looks like one of ours but is malformed (a required field missing or of the
    /// wrong type). Retrying will not help.
    #[error("invalid event: {0}")]
    InvalidEvent(String),

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

    /// A secret of that name is scheduled for deletion. It is not restored silently: an
    /// operator decides (RestoreSecret, or wait for the deletion).
    #[error("secret {name:?} is scheduled for deletion; restore it or wait until it is deleted")]
    SecretScheduledForDeletion { name: String },

    #[error("configuration error in {variable}: {reason}")]
    Configuration { variable: String, reason: String },

    /// An AWS call failed for a reason not classified above (throttling after the SDK's own
    /// retries, 5xx, timeouts, access denied, ...).
    #[error("{service} {operation} failed: {message}")]
    AwsService {
        service: &'static str,
        operation: &'static str,
        message: String,
    },
}

impl Error {
    /// The stable `errorType` reported to Lambda (and to the DLQ / on-failure destination).
    pub fn error_type(&self) -> &'static str {
        match self {
            Error::InvalidEvent(_) => "InvalidEvent",
            Error::DatabaseNotFound { .. } => "DatabaseNotFound",
            Error::DatabaseNotReady { .. } => "DatabaseNotReady",
            Error::PasswordParameterNotFound { .. } => "PasswordParameterNotFound",
            Error::PasswordParameterNotSecure { .. } => "PasswordParameterNotSecure",
            Error::PasswordParameterInvalid { .. } => "PasswordParameterInvalid",
            Error::InvalidSecretName { .. } => "InvalidSecretName",
            Error::SecretScheduledForDeletion { .. } => "SecretScheduledForDeletion",
            Error::Configuration { .. } => "ConfigurationError",
            Error::AwsService { .. } => "AwsServiceError",
        }
    }

    pub fn config(variable: &str, reason: impl Into<String>) -> Self {
        Error::Configuration {
            variable: variable.to_string(),
            reason: reason.into(),
        }
    }

    /// Wraps an SDK error about one resource (named in the message).
    pub fn aws_on<E>(service: &'static str, operation: &'static str, resource: &str, err: E) -> Self
    where
        E: std::error::Error,
    {
        Error::AwsService {
            service,
            operation,
            message: format!("{resource}: {}", DisplayErrorContext(&err)),
        }
    }

    /// Wraps an SDK error that the caller did not classify more precisely.
    pub fn aws<E>(service: &'static str, operation: &'static str, err: E) -> Self
    where
        E: std::error::Error,
    {
        Error::AwsService {
            service,
            operation,
            message: DisplayErrorContext(&err).to_string(),
        }
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
    }
}

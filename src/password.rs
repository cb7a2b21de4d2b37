//! Reading the initial password from an SSM SecureString parameter.

use aws_sdk_ssm::operation::get_parameter::GetParameterError;
use aws_sdk_ssm::types::ParameterType;
use secrecy::SecretString;

use crate::error::{Error, Result};

/// Reads `name` with decryption. Only a `SecureString` is accepted: a plain `String` or
/// `StringList` means the password sat unencrypted in Parameter Store, which is an error.
pub async fn read(ssm: &aws_sdk_ssm::Client, name: &str) -> Result<SecretString> {
    let out = ssm
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| match e.into_service_error() {
            GetParameterError::ParameterNotFound(_)
            | GetParameterError::ParameterVersionNotFound(_) => Error::PasswordParameterNotFound {
                name: name.to_string(),
            },
            other => Error::aws_on("SSM", "GetParameter", name, other),
        })?;
    let parameter = out
        .parameter
        .ok_or_else(|| Error::PasswordParameterNotFound {
            name: name.to_string(),
        })?;
    match parameter.r#type {
        Some(ParameterType::SecureString) => {}
        other => {
            return Err(Error::PasswordParameterNotSecure {
                name: name.to_string(),
                found: other
                    .map(|t| t.as_str().to_string())
                    .unwrap_or_else(|| "unknown".into()),
            })
        }
    }
    match parameter.value {
        Some(value) if !value.is_empty() => Ok(SecretString::from(value)),
        _ => Err(Error::PasswordParameterInvalid {
            name: name.to_string(),
            reason: "the value is empty".into(),
        }),
    }
}

/// Deletes the initial-password parameter once the secret holds the password
/// (`DELETE_PASSWORD_PARAMETER=true`). Already gone is fine.
pub async fn delete(ssm: &aws_sdk_ssm::Client, name: &str) -> Result<()> {
    match ssm.delete_parameter().name(name).send().await {
        Ok(_) => Ok(()),
        Err(e) => match e.into_service_error() {
            aws_sdk_ssm::operation::delete_parameter::DeleteParameterError::ParameterNotFound(
                _,
            ) => Ok(()),
            other => Err(Error::aws_on("SSM", "DeleteParameter", name, other)),
        },
    }
}

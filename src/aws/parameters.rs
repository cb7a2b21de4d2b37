//! Reading the initial password from an SSM SecureString parameter.

use aws_sdk_ssm::operation::delete_parameter::DeleteParameterError;
use aws_sdk_ssm::operation::get_parameter::GetParameterError;
use aws_sdk_ssm::types::{Parameter, ParameterType};
use std::time::SystemTime;

use secrecy::SecretString;

use crate::model::error::{Error, Result};

/// An initial password and when its parameter was last written (`LastModifiedDate`): a
/// password goes into an existing secret only when the parameter is newer than the secret's
/// last change.
#[derive(Debug)]
pub struct Password {
    pub value: SecretString,
    pub modified: Option<SystemTime>,
}

/// Reads `name` with decryption. Only a `SecureString` is accepted: a plain `String` or
/// `StringList` means the password sat unencrypted in Parameter Store, which is an error.
pub async fn read(ssm: &aws_sdk_ssm::Client, name: &str) -> Result<Password> {
    let out = ssm
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| match e.as_service_error() {
            Some(
                GetParameterError::ParameterNotFound(_)
                | GetParameterError::ParameterVersionNotFound(_),
            ) => Error::PasswordParameterNotFound {
                name: name.to_string(),
            },
            _ => Error::aws_on("SSM", "GetParameter", name, &e),
        })?;
    let parameter = out
        .parameter
        .ok_or_else(|| Error::PasswordParameterNotFound {
            name: name.to_string(),
        })?;
    accept(name, parameter)
}

/// The password in `parameter`, if it is a non-empty SecureString.
fn accept(name: &str, parameter: Parameter) -> Result<Password> {
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
    let modified = parameter
        .last_modified_date
        .and_then(|t| SystemTime::try_from(t).ok());
    match parameter.value {
        Some(value) if !value.is_empty() => Ok(Password {
            value: SecretString::from(value),
            modified,
        }),
        _ => Err(Error::PasswordParameterInvalid {
            name: name.to_string(),
            reason: "the value is empty".into(),
        }),
    }
}

/// A read started before Describe, concurrently with it.
pub enum Early {
    /// GetParameter of the exact name (the template needed nothing from Describe).
    Exact(String, Result<Password>),
    /// GetParametersByPath of the parent path, when only a trailing `/{username}` was unknown:
    /// the first page of the parameters directly under it, each already judged by [`accept`].
    Listed(Result<Vec<(String, Result<Password>)>>),
}

/// What to read early, if anything.
pub enum Plan {
    Exact(String),
    Listed(String),
}

impl Plan {
    pub async fn run(self, ssm: &aws_sdk_ssm::Client) -> Early {
        match self {
            Plan::Exact(name) => {
                let result = read(ssm, &name).await;
                Early::Exact(name, result)
            }
            Plan::Listed(path) => Early::Listed(read_listed(ssm, &path).await),
        }
    }
}

impl Early {
    /// The password of `name`: from the early read when it covers that name, otherwise (a
    /// wrong guess, a later page, a failed listing) with GetParameter.
    pub async fn take(self, ssm: &aws_sdk_ssm::Client, name: &str) -> Result<Password> {
        match self {
            Early::Exact(n, result) if n == name => result,
            Early::Listed(Ok(list)) => match list.into_iter().find(|(n, _)| n == name) {
                Some((_, result)) => result,
                None => read(ssm, name).await,
            },
            _ => read(ssm, name).await,
        }
    }
}

/// The parameters directly under `path` (first page of 10), decrypted and judged. Values of
/// other users' parameters are dropped (zeroized) as soon as the caller picks its own.
async fn read_listed(
    ssm: &aws_sdk_ssm::Client,
    path: &str,
) -> Result<Vec<(String, Result<Password>)>> {
    let out = ssm
        .get_parameters_by_path()
        .path(path)
        .recursive(false)
        .with_decryption(true)
        .max_results(10)
        .send()
        .await
        .map_err(|e| Error::aws_on("SSM", "GetParametersByPath", path, &e))?;
    Ok(out
        .parameters
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| {
            let name = p.name.clone()?;
            let result = accept(&name, p);
            Some((name, result))
        })
        .collect())
}

/// Deletes the initial-password parameter once the secret holds the password
/// (`DELETE_PASSWORD_PARAMETER=true`). Already gone is fine.
pub async fn delete(ssm: &aws_sdk_ssm::Client, name: &str) -> Result<()> {
    match ssm.delete_parameter().name(name).send().await {
        Ok(_) => Ok(()),
        Err(e) => match e.as_service_error() {
            Some(DeleteParameterError::ParameterNotFound(_)) => Ok(()),
            _ => Err(Error::aws_on("SSM", "DeleteParameter", name, &e)),
        },
    }
}

//! Storing the secret in Secrets Manager.

use aws_sdk_secretsmanager::operation::create_secret::CreateSecretError;
use secrecy::{ExposeSecret, SecretString};

use crate::error::{Error, Result};

/// What `CreateSecret` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// This invocation stored the secret.
    Created { arn: String, name: String },
    /// A secret of that name already exists; it was left as it is.
    AlreadyExists,
}

/// Creates the secret. An existing secret is never overwritten: a replayed event must not
/// replace a password that was rotated since. The SDK fills `ClientRequestToken` itself and
/// reuses it across its own retries, so a retried call cannot create a second version.
pub async fn create(
    secrets: &aws_sdk_secretsmanager::Client,
    name: &str,
    description: &str,
    value: &SecretString,
) -> Result<Stored> {
    let result = secrets
        .create_secret()
        .name(name)
        .description(description)
        .secret_string(value.expose_secret())
        .send()
        .await;
    match result {
        Ok(out) => Ok(Stored::Created {
            arn: out.arn.unwrap_or_default(),
            name: out.name.unwrap_or_else(|| name.to_string()),
        }),
        Err(e) => match e.into_service_error() {
            CreateSecretError::ResourceExistsException(_) => Ok(Stored::AlreadyExists),
            other => Err(Error::aws("Secrets Manager", "CreateSecret", other)),
        },
    }
}

/// Secrets Manager's naming rules, checked before any call: 1–512 characters of
/// `[A-Za-z0-9/_+=.@-]`, and not ending in `-` followed by six letters or digits: Secrets
/// Manager appends exactly such a suffix to ARNs, so a name like that makes partial-ARN lookups
/// ambiguous (`…/db-1/admin` is fine: the suffix AWS adds never contains `/`).
pub fn validate_name(name: &str) -> Result<()> {
    let invalid = |reason: String| Error::InvalidSecretName {
        name: name.chars().take(600).collect(),
        reason,
    };
    if name.is_empty() {
        return Err(invalid("the name is empty".into()));
    }
    if name.len() > 512 {
        return Err(invalid(format!(
            "{} characters, more than the 512 allowed",
            name.chars().count()
        )));
    }
    if let Some(c) = name.chars().find(|c| !is_name_char(*c)) {
        return Err(invalid(format!(
            "character {c:?} is not allowed (only A-Z a-z 0-9 / _ + = . @ -)"
        )));
    }
    let b = name.as_bytes();
    if b.len() >= 7
        && b[b.len() - 7] == b'-'
        && b[b.len() - 6..].iter().all(u8::is_ascii_alphanumeric)
    {
        return Err(invalid(
            "it ends with '-' and six letters or digits, which Secrets Manager reserves for ARN suffixes"
                .into(),
        ));
    }
    Ok(())
}

pub fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "/_+=.@-".contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_names() {
        for n in [
            "a",
            "db-secrets/rds/orders-db/admin",
            "x+y=z.w@v_u-t",
            &"a".repeat(512),
            "db-secrets/rds/orders/admin-12345",
            "db-secrets/rds/orders-1/admin",
            "db-secrets/rds/orders/admin-a.b_cd",
        ] {
            validate_name(n).unwrap_or_else(|e| panic!("{n}: {e}"));
        }
    }

    #[test]
    fn rejects_invalid_names() {
        for (n, needle) in [
            ("", "empty"),
            (&"a".repeat(513) as &str, "513 characters"),
            ("db secrets/x", "' '"),
            ("db/ä", "'ä'"),
            ("db/x*", "'*'"),
            (
                "db-secrets/rds/orders/admin-abc123",
                "six letters or digits",
            ),
            (
                "db-secrets/rds/orders/admin-ABCDEF",
                "six letters or digits",
            ),
        ] {
            let e = validate_name(n).unwrap_err();
            assert_eq!(e.error_type(), "InvalidSecretName");
            assert!(e.to_string().contains(needle), "{n}: {e}");
        }
    }
}

//! Storing the secret in Secrets Manager: one CreateSecret carrying the KMS key, tags and
//! replica regions; the existing-secret path (DescribeSecret, missing replicas, `update`);
//! resource policy and rotation.

use aws_sdk_secretsmanager::operation::create_secret::CreateSecretError;
use aws_sdk_secretsmanager::operation::describe_secret::{
    DescribeSecretError, DescribeSecretOutput,
};
use aws_sdk_secretsmanager::types::{
    ReplicaRegionType, ReplicationStatusType, RotationRulesType, Tag,
};
use aws_sdk_secretsmanager::Client;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::config::{ExistingSecret, Replica, SecretOptions, MANAGED_TAG_KEY, MANAGED_TAG_VALUE};
use crate::error::{Error, Result};
use crate::outcome::ReplicaStatus;

/// The keys `EXISTING_SECRET=update` refreshes; everything else (username, password,
/// masterarn, keys added by rotation functions or people) is kept.
pub const CONNECTION_KEYS: &[&str] = &[
    "engine",
    "host",
    "port",
    "dbname",
    "dbInstanceIdentifier",
    "dbClusterIdentifier",
    "namespaceName",
    "ssl",
];

/// What storing did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// This invocation created the secret.
    Created {
        arn: String,
        name: String,
        replicas: Vec<ReplicaStatus>,
    },
    /// The secret (ours) existed; `what` says what was changed.
    Updated {
        arn: String,
        name: String,
        replicas: Vec<ReplicaStatus>,
        what: String,
    },
    /// The secret existed and was left as it is.
    Unchanged {
        arn: Option<String>,
        name: String,
        reason: String,
        ours: bool,
    },
}

/// Creates the secret, or deals with the existing one as `options.existing` says. An existing
/// secret's password is never overwritten: a replayed event must not replace a password that
/// was rotated since. The SDK fills `ClientRequestToken` itself and reuses it across its own
/// retries, so a retried call cannot create a second version.
pub async fn store(
    secrets: &Client,
    options: &SecretOptions,
    name: &str,
    description: &str,
    value: &SecretString,
) -> Result<Stored> {
    let result = secrets
        .create_secret()
        .name(name)
        .description(description)
        .secret_string(value.expose_secret())
        .set_kms_key_id(options.kms_key_id.clone())
        .set_tags(Some(
            options
                .tags
                .iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect(),
        ))
        .set_add_replica_regions(replica_regions(&options.replicas))
        .set_force_overwrite_replica_secret(options.force_overwrite_replica.then_some(true))
        .send()
        .await;
    match result {
        Ok(out) => {
            let arn = out.arn.clone().unwrap_or_default();
            configure_new(secrets, options, &arn).await?;
            Ok(Stored::Created {
                arn,
                name: out.name.clone().unwrap_or_else(|| name.to_string()),
                replicas: replica_statuses(out.replication_status()),
            })
        }
        Err(e) => match e.into_service_error() {
            CreateSecretError::ResourceExistsException(_) => {
                existing(secrets, options, name, value).await
            }
            CreateSecretError::InvalidRequestException(e)
                if e.message()
                    .is_some_and(|m| m.contains("scheduled for deletion")) =>
            {
                Err(Error::SecretScheduledForDeletion {
                    name: name.to_string(),
                })
            }
            other => Err(Error::aws_on(
                "Secrets Manager",
                "CreateSecret",
                name,
                other,
            )),
        },
    }
}

/// Resource policy and rotation, after CreateSecret: independent, so concurrent.
async fn configure_new(secrets: &Client, options: &SecretOptions, arn: &str) -> Result<()> {
    let (policy, rotation) = tokio::join!(
        put_policy(secrets, options, arn),
        start_rotation(secrets, options, arn)
    );
    policy.and(rotation)
}

async fn put_policy(secrets: &Client, options: &SecretOptions, arn: &str) -> Result<()> {
    let Some(policy) = &options.resource_policy else {
        return Ok(());
    };
    secrets
        .put_resource_policy()
        .secret_id(arn)
        .resource_policy(policy)
        .block_public_policy(true)
        .send()
        .await
        .map(drop)
        .map_err(|e| {
            Error::aws(
                "Secrets Manager",
                "PutResourcePolicy",
                e.into_service_error(),
            )
        })
}

async fn start_rotation(secrets: &Client, options: &SecretOptions, arn: &str) -> Result<()> {
    let Some(rotation) = &options.rotation else {
        return Ok(());
    };
    secrets
        .rotate_secret()
        .secret_id(arn)
        .rotation_lambda_arn(&rotation.lambda_arn)
        .rotation_rules(
            RotationRulesType::builder()
                .schedule_expression(&rotation.schedule)
                .build(),
        )
        // The first rotation follows the schedule; the initial password stays valid until then.
        .rotate_immediately(false)
        .send()
        .await
        .map(drop)
        .map_err(|e| {
            Error::aws_on(
                "Secrets Manager",
                "RotateSecret",
                arn,
                e.into_service_error(),
            )
        })
}

/// DescribeSecret, or `None` when there is no such secret.
pub async fn describe(secrets: &Client, name: &str) -> Result<Option<DescribeSecretOutput>> {
    match secrets.describe_secret().secret_id(name).send().await {
        Ok(out) => Ok(Some(out)),
        Err(e) => match e.into_service_error() {
            DescribeSecretError::ResourceNotFoundException(_) => Ok(None),
            other => Err(Error::aws_on(
                "Secrets Manager",
                "DescribeSecret",
                name,
                other,
            )),
        },
    }
}

/// Whether the secret carries the function's managed-by tag.
pub fn is_ours(d: &DescribeSecretOutput) -> bool {
    d.tags()
        .iter()
        .any(|t| t.key() == Some(MANAGED_TAG_KEY) && t.value() == Some(MANAGED_TAG_VALUE))
}

/// The secret exists (another invocation won the race, a replay, or someone else's secret).
async fn existing(
    secrets: &Client,
    options: &SecretOptions,
    name: &str,
    value: &SecretString,
) -> Result<Stored> {
    let d = describe(secrets, name)
        .await?
        .ok_or_else(|| Error::AwsService {
            service: "Secrets Manager",
            operation: "DescribeSecret",
            message: format!("secret {name:?} was reported to exist but cannot be found"),
        })?;
    if d.deleted_date().is_some() {
        return Err(Error::SecretScheduledForDeletion {
            name: name.to_string(),
        });
    }
    let arn = d.arn().unwrap_or_default().to_string();
    if !is_ours(&d) {
        return Ok(Stored::Unchanged {
            arn: Some(arn),
            name: name.to_string(),
            reason: format!(
                "the secret exists and has no {MANAGED_TAG_KEY}={MANAGED_TAG_VALUE} tag; it was left as it is"
            ),
            ours: false,
        });
    }

    let mut changes: Vec<String> = Vec::new();
    let mut replicas = replica_statuses(d.replication_status());
    let missing: Vec<Replica> = options
        .replicas
        .iter()
        .filter(|r| {
            !d.replication_status()
                .iter()
                .any(|s| s.region() == Some(r.region.as_str()))
        })
        .cloned()
        .collect();
    if !missing.is_empty() {
        let out = secrets
            .replicate_secret_to_regions()
            .secret_id(&arn)
            .set_add_replica_regions(replica_regions(&missing))
            .force_overwrite_replica_secret(options.force_overwrite_replica)
            .send()
            .await
            .map_err(|e| {
                Error::aws(
                    "Secrets Manager",
                    "ReplicateSecretToRegions",
                    e.into_service_error(),
                )
            })?;
        replicas = replica_statuses(out.replication_status());
        let regions: Vec<&str> = missing.iter().map(|r| r.region.as_str()).collect();
        changes.push(format!("replicated to {}", regions.join(", ")));
    }

    if options.existing == ExistingSecret::Update
        && refresh_connection(secrets, &arn, value).await?
    {
        changes.push("connection details refreshed (username and password kept)".into());
    }
    if options.rotation.is_some() && d.rotation_enabled() != Some(true) {
        start_rotation(secrets, options, &arn).await?;
        changes.push("rotation turned on".into());
    }
    // A policy cannot be compared cheaply; putting the same one again is harmless.
    put_policy(secrets, options, &arn).await?;

    if changes.is_empty() {
        Ok(Stored::Unchanged {
            arn: Some(arn),
            name: name.to_string(),
            reason: "the secret already exists; it was left as it is".into(),
            ours: true,
        })
    } else {
        Ok(Stored::Updated {
            arn,
            name: name.to_string(),
            replicas,
            what: changes.join("; "),
        })
    }
}

/// Puts a new version with the connection keys of `value` and everything else of the current
/// version. Returns false when nothing differs. The version's `ClientRequestToken` is derived
/// from the current version id and the new connection keys (never the password), so
/// concurrent invocations making the same change create one version.
async fn refresh_connection(secrets: &Client, arn: &str, value: &SecretString) -> Result<bool> {
    let current = secrets
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| {
            Error::aws_on(
                "Secrets Manager",
                "GetSecretValue",
                arn,
                e.into_service_error(),
            )
        })?;
    let mut merged: Map<String, Value> = current
        .secret_string()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default();
    let new: Map<String, Value> = serde_json::from_str(value.expose_secret()).unwrap_or_default();
    let connection: Map<String, Value> = new
        .into_iter()
        .filter(|(k, _)| CONNECTION_KEYS.contains(&k.as_str()))
        .collect();
    if connection.iter().all(|(k, v)| merged.get(k) == Some(v)) {
        return Ok(false);
    }
    let mut hasher = Sha256::new();
    hasher.update(arn.as_bytes());
    hasher.update(current.version_id().unwrap_or_default().as_bytes());
    hasher.update(Value::Object(connection.clone()).to_string().as_bytes());
    let token: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    merged.extend(connection);
    let merged = SecretString::from(Value::Object(merged).to_string());
    secrets
        .put_secret_value()
        .secret_id(arn)
        .client_request_token(token)
        .secret_string(merged.expose_secret())
        .send()
        .await
        .map_err(|e| {
            Error::aws_on(
                "Secrets Manager",
                "PutSecretValue",
                arn,
                e.into_service_error(),
            )
        })?;
    Ok(true)
}

fn replica_regions(replicas: &[Replica]) -> Option<Vec<ReplicaRegionType>> {
    (!replicas.is_empty()).then(|| {
        replicas
            .iter()
            .map(|r| {
                ReplicaRegionType::builder()
                    .region(&r.region)
                    .set_kms_key_id(r.kms_key_id.clone())
                    .build()
            })
            .collect()
    })
}

fn replica_statuses(statuses: &[ReplicationStatusType]) -> Vec<ReplicaStatus> {
    statuses
        .iter()
        .map(|s| ReplicaStatus {
            region: s.region().unwrap_or_default().to_string(),
            status: s
                .status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            message: s
                .status_message()
                .map(str::to_string)
                .filter(|m| !m.is_empty()),
        })
        .collect()
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

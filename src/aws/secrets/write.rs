//! The Secrets Manager adapter: one CreateSecret carrying the KMS key, tags and replica
//! regions; DescribeSecret; and the calls that change an existing secret. The lifecycle calls
//! (listing the function's secrets, tags, restore, deletion, replica repair) are in
//! [`lifecycle`]. It only talks to AWS: what to change is decided in [`crate::rules::existing_secret`] and
//! the drift rules.

use aws_sdk_secretsmanager::operation::create_secret::CreateSecretError;
use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretError;
use aws_sdk_secretsmanager::types::{
    ReplicaRegionType, ReplicationStatusType, RotationRulesType, Tag,
};
use aws_sdk_secretsmanager::Client;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

use crate::config::{Replica, SecretOptions};
use crate::model::error::{Error, Result};
use crate::model::identifiers::SecretName;
use crate::model::outcome::ReplicaStatus;
use crate::model::secret::SecretState;
use crate::model::secret::SecretValue;

/// What CreateSecret did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// This invocation created the secret.
    New {
        arn: String,
        name: String,
        replicas: Vec<ReplicaStatus>,
    },
    /// A secret of that name exists (a replay, a duplicate, a concurrent invocation that won,
    /// or someone else's secret).
    Exists,
    /// A secret of that name is scheduled for deletion (DescribeSecret tells whose, and why).
    ScheduledForDeletion,
}

/// Creates the secret with `tags` (the operator's and the ownership tags). The SDK fills
/// `ClientRequestToken` itself and reuses it across its own retries, so a retried call cannot
/// create a second version.
pub async fn create(
    secrets: &Client,
    options: &SecretOptions,
    name: &SecretName,
    description: &str,
    value: &SecretValue,
    tags: &[(String, String)],
) -> Result<Created> {
    let result = secrets
        .create_secret()
        .name(name.as_str())
        .description(description)
        .secret_string(value.json().expose_secret())
        .set_kms_key_id(options.kms_key_id.clone())
        .set_tags(Some(
            tags.iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect(),
        ))
        .set_add_replica_regions(replica_regions(&options.replicas))
        .set_force_overwrite_replica_secret(options.force_overwrite_replica.then_some(true))
        .send()
        .await;
    match result {
        Ok(out) => Ok(Created::New {
            arn: out.arn.clone().unwrap_or_default(),
            name: out.name.clone().unwrap_or_else(|| name.to_string()),
            replicas: replica_statuses(out.replication_status()),
        }),
        Err(e) => match e.as_service_error() {
            Some(CreateSecretError::ResourceExistsException(_)) => Ok(Created::Exists),
            Some(CreateSecretError::InvalidRequestException(e))
                if e.message()
                    .is_some_and(|m| m.contains("scheduled for deletion")) =>
            {
                Ok(Created::ScheduledForDeletion)
            }
            _ => Err(Error::aws_on(
                "Secrets Manager",
                "CreateSecret",
                name.as_str(),
                &e,
            )),
        },
    }
}

/// DescribeSecret, or `None` when there is no such secret.
pub async fn describe(secrets: &Client, name: &str) -> Result<Option<SecretState>> {
    match secrets.describe_secret().secret_id(name).send().await {
        Ok(d) => Ok(Some(SecretState {
            arn: d.arn().unwrap_or_default().to_string(),
            name: d.name().unwrap_or(name).to_string(),
            rotation_pending: crate::model::secret::rotation_pending(
                d.version_ids_to_stages()
                    .into_iter()
                    .flat_map(|m| m.values().map(Vec::as_slice)),
            ),
            tags: tag_pairs(d.tags()),
            scheduled_for_deletion: d.deleted_date().is_some(),
            rotation_enabled: d.rotation_enabled() == Some(true),
            replicas: replica_statuses(d.replication_status()),
            primary_region: d.primary_region().map(str::to_string),
        })),
        Err(e) => match e.as_service_error() {
            Some(DescribeSecretError::ResourceNotFoundException(_)) => Ok(None),
            _ => Err(Error::aws_on("Secrets Manager", "DescribeSecret", name, &e)),
        },
    }
}

/// Adds replica regions; returns the replication status AWS reports.
pub async fn replicate(
    secrets: &Client,
    arn: &str,
    replicas: &[Replica],
    force_overwrite: bool,
) -> Result<Vec<ReplicaStatus>> {
    let out = secrets
        .replicate_secret_to_regions()
        .secret_id(arn)
        .set_add_replica_regions(replica_regions(replicas))
        .force_overwrite_replica_secret(force_overwrite)
        .send()
        .await
        .map_err(|e| Error::aws("Secrets Manager", "ReplicateSecretToRegions", &e))?;
    Ok(replica_statuses(out.replication_status()))
}

/// The current version: its id and its JSON object (empty if it is not a JSON object).
pub async fn current_value(secrets: &Client, arn: &str) -> Result<(String, Map<String, Value>)> {
    let current = secrets
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| Error::aws_on("Secrets Manager", "GetSecretValue", arn, &e))?;
    let value = current
        .secret_string()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default();
    Ok((current.version_id().unwrap_or_default().to_string(), value))
}

/// Puts a new `AWSCURRENT` version. `token` (`ClientRequestToken`) makes it idempotent; without
/// one the SDK makes one and keeps it across its own retries.
pub async fn put_value(
    secrets: &Client,
    arn: &str,
    token: Option<&str>,
    value: &SecretString,
) -> Result<()> {
    secrets
        .put_secret_value()
        .secret_id(arn)
        .set_client_request_token(token.map(str::to_string))
        .secret_string(value.expose_secret())
        .send()
        .await
        .map(drop)
        .map_err(|e| Error::aws_on("Secrets Manager", "PutSecretValue", arn, &e))
}

/// Resource policy and rotation (with `rotator`, when the secret gets one), after CreateSecret:
/// independent, so concurrent.
pub async fn configure_new(
    secrets: &Client,
    options: &SecretOptions,
    arn: &str,
    rotator: Option<&str>,
) -> Result<()> {
    let rotation = async {
        match (rotator, &options.rotation) {
            (Some(lambda), Some(r)) => start_rotation(secrets, lambda, &r.schedule, arn).await,
            _ => Ok(()),
        }
    };
    let (policy, rotation) = tokio::join!(put_policy(secrets, options, arn), rotation);
    policy.and(rotation)
}

pub async fn put_policy(secrets: &Client, options: &SecretOptions, arn: &str) -> Result<()> {
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
        .map_err(|e| Error::aws("Secrets Manager", "PutResourcePolicy", &e))
}

/// Turns rotation on with the rotation function `lambda` on `schedule`.
pub async fn start_rotation(
    secrets: &Client,
    lambda: &str,
    schedule: &str,
    arn: &str,
) -> Result<()> {
    secrets
        .rotate_secret()
        .secret_id(arn)
        .rotation_lambda_arn(lambda)
        .rotation_rules(
            RotationRulesType::builder()
                .schedule_expression(schedule)
                .build(),
        )
        // The first rotation follows the schedule; the initial password stays valid until then.
        .rotate_immediately(false)
        .send()
        .await
        .map(drop)
        .map_err(|e| Error::aws_on("Secrets Manager", "RotateSecret", arn, &e))
}

/// A secret's tags as Secrets Manager returns them, as (key, value) pairs.
pub(super) fn tag_pairs(tags: &[Tag]) -> Vec<(String, String)> {
    tags.iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
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

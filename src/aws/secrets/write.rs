//! Changing secrets: one CreateSecret carrying the KMS key, tags and replica regions, and the
//! calls that change an existing secret (values, tags, policy, rotation, restore, deletion,
//! replicas). It only talks to AWS: what to change is decided in `rules/`.

use aws_sdk_secretsmanager::operation::create_secret::CreateSecretError;
use aws_sdk_secretsmanager::operation::delete_secret::DeleteSecretError;
use aws_sdk_secretsmanager::types::{ReplicaRegionType, RotationRulesType, Tag};
use aws_sdk_secretsmanager::Client;
use secrecy::{ExposeSecret, SecretString};

use super::read::replica_statuses;
use crate::config::{Replica, SecretOptions};
use crate::model::error::{Error, Result};
use crate::model::identifiers::SecretName;
use crate::model::outcome::ReplicaStatus;
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

/// Adds or overwrites tags (only the function's own keys are ever passed).
pub async fn tag(secrets: &Client, arn: &str, pairs: &[(&str, &str)]) -> Result<()> {
    secrets
        .tag_resource()
        .secret_id(arn)
        .set_tags(Some(
            pairs
                .iter()
                .map(|(k, v)| Tag::builder().key(*k).value(*v).build())
                .collect(),
        ))
        .send()
        .await
        .map(drop)
        .map_err(|e| Error::aws_on("Secrets Manager", "TagResource", arn, &e))
}

pub async fn untag(secrets: &Client, arn: &str, keys: &[&str]) -> Result<()> {
    secrets
        .untag_resource()
        .secret_id(arn)
        .set_tag_keys(Some(keys.iter().map(|k| k.to_string()).collect()))
        .send()
        .await
        .map(drop)
        .map_err(|e| Error::aws_on("Secrets Manager", "UntagResource", arn, &e))
}

/// Cancels a scheduled deletion.
pub async fn restore(secrets: &Client, arn: &str) -> Result<()> {
    secrets
        .restore_secret()
        .secret_id(arn)
        .send()
        .await
        .map(drop)
        .map_err(|e| Error::aws_on("Secrets Manager", "RestoreSecret", arn, &e))
}

/// Schedules the deletion with a recovery window (never `ForceDeleteWithoutRecovery`). A
/// secret already scheduled ("marked for deletion", `InvalidRequestException`) is fine: a
/// second retirement (the native and the CloudTrail deletion events race) changes nothing.
pub async fn schedule_deletion(
    secrets: &Client,
    arn: &str,
    recovery_window_days: i64,
) -> Result<()> {
    secrets
        .delete_secret()
        .secret_id(arn)
        .recovery_window_in_days(recovery_window_days)
        .send()
        .await
        .map(drop)
        .or_else(|e| match e.as_service_error() {
            Some(DeleteSecretError::InvalidRequestException(x))
                if x.message()
                    .is_some_and(|m| m.contains("marked for deletion")) =>
            {
                Ok(())
            }
            _ => Err(Error::aws_on("Secrets Manager", "DeleteSecret", arn, &e)),
        })
}

/// Stops replicating to `regions`, which deletes those replicas at once.
pub async fn remove_regions(secrets: &Client, arn: &str, regions: &[String]) -> Result<()> {
    secrets
        .remove_regions_from_replication()
        .secret_id(arn)
        .set_remove_replica_regions(Some(regions.to_vec()))
        .send()
        .await
        .map(drop)
        .map_err(|e| Error::aws_on("Secrets Manager", "RemoveRegionsFromReplication", arn, &e))
}

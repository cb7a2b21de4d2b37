//! Secrets Manager calls of the lifecycle: the function's secrets in one region (one paginated
//! ListSecrets), tags, RestoreSecret, DeleteSecret with a recovery window, and replica repair.

use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType, SecretListEntry, Tag};
use aws_sdk_secretsmanager::Client;

use crate::aws::Clients;
use crate::model::error::{Error, Result};
use crate::model::secret::{rotation_pending, SecretState};
use crate::model::tags;

/// ListSecrets' largest page.
const PAGE: i32 = 100;

/// The function's secrets in the client's region: ListSecrets filtered by the managed-by tag
/// (and by `database`'s tag value when given), including those scheduled for deletion,
/// paginated. AWS matches filter values as prefixes and checks tag keys and values separately,
/// so the entries are then filtered exactly on their tags: only secrets with all three
/// ownership tags (and, with `database`, that database) are returned.
pub async fn list_owned(secrets: &Client, database: Option<&str>) -> Result<Vec<SecretState>> {
    let mut filters = vec![
        filter(FilterNameStringType::TagKey, tags::MANAGED_TAG_KEY),
        filter(FilterNameStringType::TagValue, tags::MANAGED_TAG_VALUE),
    ];
    if let Some(db) = database {
        filters.push(filter(FilterNameStringType::TagKey, tags::DATABASE_TAG_KEY));
        filters.push(filter(FilterNameStringType::TagValue, db));
    }
    let mut pages = secrets
        .list_secrets()
        .set_filters(Some(filters))
        .include_planned_deletion(true)
        .max_results(PAGE)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Error::aws("Secrets Manager", "ListSecrets", &e))?;
        out.extend(page.secret_list().iter().map(state_of).filter(|s| {
            match tags::owner_of(&s.tags) {
                Some(owner) => database.is_none_or(|db| owner.database == db),
                None => false,
            }
        }));
    }
    Ok(out)
}

/// [`list_owned`] in another region (a replica region).
pub async fn list_owned_in(clients: &Clients, region: &str) -> Result<Vec<SecretState>> {
    list_owned(&clients.secrets_in(region), None).await
}

fn filter(key: FilterNameStringType, value: &str) -> Filter {
    Filter::builder().key(key).values(value).build()
}

/// What a ListSecrets entry says (ListSecrets reports no replication status: `replicas` is
/// empty).
fn state_of(e: &SecretListEntry) -> SecretState {
    SecretState {
        arn: e.arn().unwrap_or_default().to_string(),
        name: e.name().unwrap_or_default().to_string(),
        tags: super::tag_pairs(e.tags()),
        scheduled_for_deletion: e.deleted_date().is_some(),
        rotation_enabled: e.rotation_enabled() == Some(true),
        replicas: Vec::new(),
        primary_region: e.primary_region().map(str::to_string),
        rotation_pending: rotation_pending(
            e.secret_versions_to_stages()
                .into_iter()
                .flat_map(|m| m.values().map(Vec::as_slice)),
        ),
    }
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

/// Schedules the deletion with a recovery window (never `ForceDeleteWithoutRecovery`).
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
        .map_err(|e| Error::aws_on("Secrets Manager", "DeleteSecret", arn, &e))
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

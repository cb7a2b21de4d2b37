//! Reading the function's secrets: the secrets in one region (one paginated ListSecrets,
//! joined in memory), DescribeSecret, and the current value a repair merges into. It only
//! talks to AWS.

use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretError;
use aws_sdk_secretsmanager::types::{
    Filter, FilterNameStringType, ReplicationStatusType, RotationRulesType, SecretListEntry, Tag,
};
use aws_sdk_secretsmanager::Client;
use serde_json::{Map, Value};
use std::time::SystemTime;

use crate::aws::Clients;
use crate::model::error::{Error, Result};
use crate::model::outcome::ReplicaStatus;
use crate::model::rotation::Window;
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
    list(secrets, filters, true, |s| match tags::owner_of(&s.tags) {
        Some(owner) => database.is_none_or(|db| owner.database == db),
        None => false,
    })
    .await
}

/// ListSecrets with `filters`, paginated, the entries `keep` accepts.
async fn list(
    secrets: &Client,
    filters: Vec<Filter>,
    include_planned_deletion: bool,
    keep: impl Fn(&SecretState) -> bool,
) -> Result<Vec<SecretState>> {
    let mut pages = secrets
        .list_secrets()
        .set_filters(Some(filters))
        .include_planned_deletion(include_planned_deletion)
        .max_results(PAGE)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Error::aws("Secrets Manager", "ListSecrets", &e))?;
        out.extend(page.secret_list().iter().map(state_of).filter(|s| keep(s)));
    }
    Ok(out)
}

/// The function's secrets in the client's region that carry the copies tag (those of databases
/// with copies in other regions; here mostly replicas of other regions' secrets): one
/// ListSecrets filtered by the managed-by tag and the copies tag's key, paginated.
pub async fn list_with_copies(secrets: &Client) -> Result<Vec<SecretState>> {
    let filters = vec![
        filter(FilterNameStringType::TagKey, tags::MANAGED_TAG_KEY),
        filter(FilterNameStringType::TagValue, tags::MANAGED_TAG_VALUE),
        filter(FilterNameStringType::TagKey, tags::COPIES_TAG_KEY),
    ];
    list(secrets, filters, false, |s| {
        tags::owner_of(&s.tags).is_some() && tags::value(&s.tags, tags::COPIES_TAG_KEY).is_some()
    })
    .await
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
        tags: tag_pairs(e.tags()),
        scheduled_for_deletion: e.deleted_date().is_some(),
        rotation_enabled: e.rotation_enabled() == Some(true),
        replicas: Vec::new(),
        primary_region: e.primary_region().map(str::to_string),
        created_at: e.created_date().and_then(time),
        last_changed_at: e.last_changed_date().and_then(time),
        kms_key_id: e.kms_key_id().map(str::to_string),
        rotation_window: window(e.rotation_rules()),
        rotation_pending: rotation_pending(
            e.secret_versions_to_stages()
                .into_iter()
                .flat_map(|m| m.values().map(Vec::as_slice)),
        ),
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
            created_at: d.created_date().and_then(time),
            last_changed_at: d.last_changed_date().and_then(time),
            kms_key_id: d.kms_key_id().map(str::to_string),
            rotation_window: window(d.rotation_rules()),
        })),
        Err(e) => match e.as_service_error() {
            Some(DescribeSecretError::ResourceNotFoundException(_)) => Ok(None),
            _ => Err(Error::aws_on("Secrets Manager", "DescribeSecret", name, &e)),
        },
    }
}

fn window(rules: Option<&RotationRulesType>) -> Window {
    match rules {
        Some(r) => Window::of(
            r.duration(),
            r.schedule_expression(),
            r.automatically_after_days(),
        ),
        None => Window::Unknown,
    }
}

/// The first version (ListSecretVersionIds, no value read) whose stages `wanted` accepts: its
/// id and when it was created.
async fn version_where(
    secrets: &Client,
    arn: &str,
    wanted: impl Fn(&[String]) -> bool,
) -> Result<Option<(String, Option<SystemTime>)>> {
    let mut pages = secrets
        .list_secret_version_ids()
        .secret_id(arn)
        .max_results(PAGE)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| Error::aws_on("Secrets Manager", "ListSecretVersionIds", arn, &e))?;
        if let Some(v) = page.versions().iter().find(|v| wanted(v.version_stages())) {
            return Ok(Some((
                v.version_id().unwrap_or_default().to_string(),
                v.created_date().and_then(time),
            )));
        }
    }
    Ok(None)
}

/// The version labelled AWSPENDING and not AWSCURRENT, and when it was created; `None` when
/// there is none.
pub async fn pending_version(
    secrets: &Client,
    arn: &str,
) -> Result<Option<(String, Option<SystemTime>)>> {
    version_where(secrets, arn, |stages| {
        stages.iter().any(|s| s == "AWSPENDING") && !stages.iter().any(|s| s == "AWSCURRENT")
    })
    .await
}

fn time(t: &aws_smithy_types::DateTime) -> Option<SystemTime> {
    SystemTime::try_from(*t).ok()
}

/// The secret's current version, as read before anything is written into an existing secret.
#[derive(Debug)]
pub struct Current {
    pub version_id: String,
    pub value: Map<String, Value>,
    /// When the version was created (`CreatedDate` of GetSecretValue: "the date and time that
    /// this version of the secret was created").
    pub created: Option<SystemTime>,
}

/// GetSecretValue of the AWSCURRENT version, as [`Current`]; `SecretNotJson` naming `name`
/// when its value is not a JSON object.
pub async fn current(secrets: &Client, arn: &str, name: &str) -> Result<Current> {
    let out = secrets
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| Error::aws_on("Secrets Manager", "GetSecretValue", arn, &e))?;
    let value = match out.secret_string().map(serde_json::from_str::<Value>) {
        Some(Ok(Value::Object(map))) => map,
        _ => {
            return Err(Error::SecretNotJson {
                name: name.to_string(),
            })
        }
    };
    Ok(Current {
        version_id: out.version_id().unwrap_or_default().to_string(),
        value,
        created: out.created_date().and_then(time),
    })
}

/// When the AWSCURRENT version of `arn` was created (ListSecretVersionIds, no value read);
/// `None` when no version carries the label.
pub async fn current_version_created(secrets: &Client, arn: &str) -> Result<Option<SystemTime>> {
    Ok(version_where(secrets, arn, |stages| {
        stages.iter().any(|s| s == "AWSCURRENT")
    })
    .await?
    .and_then(|(_, created)| created))
}

/// The secret's resource policy (GetResourcePolicy), `None` when it has none.
pub async fn policy(secrets: &Client, arn: &str) -> Result<Option<String>> {
    let out = secrets
        .get_resource_policy()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| Error::aws_on("Secrets Manager", "GetResourcePolicy", arn, &e))?;
    Ok(out
        .resource_policy()
        .filter(|p| !p.is_empty())
        .map(str::to_string))
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

pub(super) fn replica_statuses(statuses: &[ReplicationStatusType]) -> Vec<ReplicaStatus> {
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

//! The function's view of a secret: what DescribeSecret or ListSecrets says about an existing
//! one ([`SecretState`]), and the value it stores ([`SecretValue`], the Secrets Manager "JSON
//! structure of database secrets", serialised exactly once).

use secrecy::{ExposeSecret, SecretString};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::model::outcome::ReplicaStatus;
use crate::model::tags::{self, Owner};

/// What DescribeSecret says about an existing secret.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretState {
    pub arn: String,
    pub name: String,
    pub tags: Vec<(String, String)>,
    /// Scheduled for deletion (`DeletedDate` is set).
    pub scheduled_for_deletion: bool,
    pub rotation_enabled: bool,
    pub replicas: Vec<ReplicaStatus>,
    /// The region of the primary secret, when AWS reports one (a replica names another).
    pub primary_region: Option<String>,
    /// A rotation is in progress: a version is labelled `AWSPENDING` and not `AWSCURRENT`.
    pub rotation_pending: bool,
    /// When the secret was created (`CreatedDate`).
    pub created_at: Option<std::time::SystemTime>,
    /// When it was last changed in any way (`LastChangedDate`), as read before this job
    /// changed it.
    pub last_changed_at: Option<std::time::SystemTime>,
    /// The rotation window its `RotationRules` give (how long a rotation may take).
    pub rotation_window: crate::model::rotation::Window,
    /// The KMS key that encrypts it, as DescribeSecret names it (`KmsKeyId`: a key id, key
    /// ARN or alias ARN); `None` for the AWS managed key `aws/secretsmanager`.
    pub kms_key_id: Option<String>,
}

impl SecretState {
    pub fn is_managed(&self) -> bool {
        tags::is_managed(&self.tags)
    }

    /// Whether the secret is the function's, for `owner`, and primary in `region`.
    pub fn is_owned_by(&self, owner: &Owner, region: Option<&str>) -> bool {
        ownership(self, owner, region).is_none()
    }

    /// Whether the secret is primary in `region`: a replica names another primary region.
    /// Where AWS reports no primary region, or the region is not known, it counts as primary.
    pub fn is_primary_in(&self, region: Option<&str>) -> bool {
        match (self.primary_region.as_deref(), region) {
            (Some(primary), Some(region)) => primary == region,
            _ => true,
        }
    }

    /// When its database was found deleted (the deleted tag's text), when it is retired.
    pub fn retired_on(&self) -> Option<&str> {
        tags::value(&self.tags, tags::DELETED_TAG_KEY)
    }

    /// The deleted tag as a time (either of its forms); `None` when absent or unreadable.
    pub fn retired_at(&self) -> Option<std::time::SystemTime> {
        self.retired_on().and_then(crate::model::timestamp::parse)
    }

    /// Retired: tagged deleted, or scheduled for deletion.
    pub fn is_retired(&self) -> bool {
        self.retired_on().is_some() || self.scheduled_for_deletion
    }
}

/// Whether `AWSPENDING` labels a version that is not `AWSCURRENT` (a rotation in progress),
/// from DescribeSecret's `VersionIdsToStages` or ListSecrets' `SecretVersionsToStages`.
pub fn rotation_pending<'a>(versions: impl IntoIterator<Item = &'a [String]>) -> bool {
    versions.into_iter().any(|stages| {
        stages.iter().any(|s| s == "AWSPENDING") && !stages.iter().any(|s| s == "AWSCURRENT")
    })
}

/// Why `state` is not the function's secret for `owner` in `region` (`None` when it is).
pub fn ownership(state: &SecretState, owner: &Owner, region: Option<&str>) -> Option<String> {
    if let (false, Some(primary)) = (state.is_primary_in(region), &state.primary_region) {
        return Some(format!(
            "it is a replica of a secret whose primary region is {primary}; replicas are never changed"
        ));
    }
    match tags::owner_of(&state.tags) {
        None if !state.is_managed() => Some(format!(
            "it has no {}={} tag",
            tags::MANAGED_TAG_KEY,
            tags::MANAGED_TAG_VALUE
        )),
        None => Some(format!(
            "it lacks the {} and {} tags",
            tags::DATABASE_TAG_KEY,
            tags::USERNAME_TAG_KEY
        )),
        Some(found) if found != *owner => Some(format!("its tags name {found}")),
        Some(_) => None,
    }
}

/// The keys a secret follows its database on: `host`, `port` and, where given, `dbname`. The
/// one map of them (creating over an existing secret, following a change, the sweep's
/// repair); every other key (`username`, `engine`, the identifier keys, `password`,
/// `masterarn`, keys added by rotation functions or people) stays as it is.
pub fn connection_keys(host: &str, port: i32, dbname: Option<&str>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("host".into(), host.into());
    m.insert("port".into(), port.into());
    if let Some(dbname) = dbname {
        m.insert("dbname".into(), dbname.into());
    }
    m
}

/// Secrets Manager's limit on `SecretString`.
pub const MAX_SECRET_BYTES: usize = 65_536;

/// The keys of a database secret. `Debug` shows the password redacted (`SecretString`).
#[derive(Debug, Clone, Serialize)]
pub struct SecretFields {
    pub engine: &'static str,
    pub host: String,
    pub username: String,
    #[serde(serialize_with = "expose")]
    pub password: SecretString,
    /// A JSON number: Describe's value, else the engine's default.
    pub port: i32,
    /// Never `null` or empty: omitted when unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dbname: Option<String>,
    #[serde(
        rename = "dbInstanceIdentifier",
        skip_serializing_if = "Option::is_none"
    )]
    pub db_instance_identifier: Option<String>,
    #[serde(
        rename = "dbClusterIdentifier",
        skip_serializing_if = "Option::is_none"
    )]
    pub db_cluster_identifier: Option<String>,
    #[serde(rename = "namespaceName", skip_serializing_if = "Option::is_none")]
    pub namespace_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssl: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub masterarn: Option<String>,
    /// The connection keys beyond `host` and `port`: `readerHost` and the regional keys
    /// ([`crate::model::Database::extra_connection_keys`]), flat strings and numbers.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl SecretFields {
    /// The keys a secret follows its database on: [`connection_keys`] and the extra ones.
    pub fn connection(&self) -> Map<String, Value> {
        let mut m = connection_keys(&self.host, self.port, self.dbname.as_deref());
        m.extend(self.extra.clone());
        m
    }
}

fn expose<S: Serializer>(password: &SecretString, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(password.expose_secret())
}

/// A shaped secret: its typed fields and their JSON, made once.
#[derive(Debug, Clone)]
pub struct SecretValue {
    pub fields: SecretFields,
    json: SecretString,
}

impl SecretValue {
    /// The value of `fields`, serialised once.
    pub fn new(fields: SecretFields) -> SecretValue {
        // Serialising a struct of strings and numbers cannot fail.
        let text = serde_json::to_string(&fields).unwrap_or_default();
        SecretValue {
            fields,
            json: SecretString::from(text),
        }
    }

    /// The length of the JSON, in bytes.
    pub fn len(&self) -> usize {
        self.json.expose_secret().len()
    }

    /// Never: a secret value has at least its keys.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `SecretString` to store.
    pub fn json(&self) -> &SecretString {
        &self.json
    }
}

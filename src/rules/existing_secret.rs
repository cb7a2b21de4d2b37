//! What to do with a secret that already exists at the rendered name (pure): the store adapter
//! reports what DescribeSecret says ([`SecretState`]), this module decides, the create job
//! carries it out.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::config::{ExistingSecret, Replica, SecretOptions};
use crate::model::error::{Error, Result};
use crate::model::regional;
use crate::model::secret::SecretFields;
pub use crate::model::secret::{ownership, rotation_pending, SecretState};
use crate::model::tags::Owner;

/// The changes an existing secret of ours needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// The database was created again under the same name and its secret is retired: restore
    /// it if scheduled for deletion, drop the deleted tag, and store a fresh version with the new
    /// initial password (the only path that writes a password to an existing secret).
    pub recreate: bool,
    /// Configured replica regions the secret lacks.
    pub missing_replicas: Vec<Replica>,
    /// `EXISTING_SECRET=update`: refresh the connection keys (if any differ).
    pub refresh_connection: bool,
    /// A rotation function applies to the secret, and rotation is not on.
    pub turn_on_rotation: bool,
    /// A resource policy is configured (it cannot be compared cheaply; putting the same one
    /// again is harmless).
    pub put_policy: bool,
}

/// Decides from DescribeSecret alone: the changes a secret of ours needs (possibly none), or
/// `SecretConflict` when the secret is not the function's for `owner` in `region`.
pub fn decide(
    name: &str,
    state: &SecretState,
    owner: &Owner,
    region: Option<&str>,
    options: &SecretOptions,
    rotatable: bool,
) -> Result<Changes> {
    if let Some(reason) = ownership(state, owner, region) {
        return Err(Error::SecretConflict {
            name: name.to_string(),
            expected: owner.to_string(),
            reason,
        });
    }
    // Scheduled for deletion by someone else (no deleted tag): an operator's decision, never
    // reversed silently.
    if state.scheduled_for_deletion && state.retired_on().is_none() {
        return Err(Error::SecretScheduledForDeletion {
            name: name.to_string(),
        });
    }
    Ok(Changes {
        recreate: state.is_retired(),
        missing_replicas: options
            .replicas
            .iter()
            .filter(|r| !state.replicas.iter().any(|s| s.region == r.region))
            .cloned()
            .collect(),
        refresh_connection: options.existing == ExistingSecret::Update,
        turn_on_rotation: rotatable && !state.rotation_enabled,
        put_policy: options.resource_policy.is_some(),
    })
}

/// Whether `state` carries another database's id than `database_id` (both known): a live
/// secret of an earlier database of the same name, whose deletion was never seen.
pub fn of_another_database(state: &SecretState, database_id: Option<&str>) -> bool {
    match (
        crate::model::tags::value(&state.tags, crate::model::tags::DATABASE_ID_TAG_KEY),
        database_id,
    ) {
        (Some(found), Some(id)) => found != id,
        _ => false,
    }
}

/// A refreshed version: the merged JSON, the keys that changed, and a `ClientRequestToken`
/// derived from the current version id and the new keys (never the password), so concurrent
/// invocations making the same change create one version.
#[derive(Debug)]
pub struct Refresh {
    pub merged: Map<String, Value>,
    pub changed: Vec<String>,
    pub token: String,
}

/// Merges the connection keys of `fields` into the current value. `None` when nothing differs.
/// `regional_known`: the database's copies are known, so the regional keys of a region it no
/// longer has a copy in are dropped ([`regional::stale_keys`]).
pub fn refresh(
    arn: &str,
    version_id: &str,
    current: Map<String, Value>,
    fields: &SecretFields,
    regional_known: bool,
) -> Option<Refresh> {
    // `EXISTING_SECRET=update` refreshes the connection keys only. The regional keys of a
    // region no longer listed go only where the new value lists the regions (known copies).
    let keys = fields.connection();
    let drop = if regional_known {
        regional::stale_keys(&current, &keys)
    } else {
        Vec::new()
    };
    merge(arn, version_id, current, keys, &drop)
}

/// Merges `new` keys into the current value, every other key kept but those in `drop` (the
/// one exception to "no version drops a key": [`regional::stale_keys`], a region's keys once
/// the database has no copy there). `None` when nothing differs.
pub fn merge(
    arn: &str,
    version_id: &str,
    current: Map<String, Value>,
    new: Map<String, Value>,
    drop: &[String],
) -> Option<Refresh> {
    let drop: Vec<&String> = drop
        .iter()
        .filter(|k| current.contains_key(k.as_str()) && !new.contains_key(k.as_str()))
        .collect();
    let mut changed: Vec<String> = new
        .iter()
        .filter(|(k, v)| current.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .collect();
    changed.extend(drop.iter().map(|k| k.to_string()));
    if changed.is_empty() {
        return None;
    }
    let mut hasher = Sha256::new();
    hasher.update(arn.as_bytes());
    hasher.update(version_id.as_bytes());
    hasher.update(Value::Object(new.clone()).to_string().as_bytes());
    for k in &drop {
        hasher.update(b"\0-");
        hasher.update(k.as_bytes());
    }
    let token = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    // Filtered rather than removed one by one: the other keys keep their order whether or not
    // serde_json keeps insertion order.
    let mut current: Map<String, Value> = current
        .into_iter()
        .filter(|(k, _)| !drop.contains(&k))
        .collect();
    current.extend(new);
    Some(Refresh {
        merged: current,
        changed,
        token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::model::outcome::ReplicaStatus;
    use crate::model::{DbKind, Service};
    use secrecy::SecretString;
    use serde_json::json;

    fn options(vars: &[(&str, &str)]) -> SecretOptions {
        let map: std::collections::HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
            .unwrap()
            .options
    }

    fn owner() -> Owner {
        Owner::new(Service::Rds, DbKind::Instance, "orders", "admin")
    }

    fn ours() -> SecretState {
        SecretState {
            arn: "arn:s".into(),
            tags: owner().tags().to_vec(),
            ..Default::default()
        }
    }

    fn conflict(state: &SecretState) -> String {
        let e = decide(
            "n",
            state,
            &owner(),
            Some("us-east-1"),
            &options(&[]),
            false,
        )
        .unwrap_err();
        assert_eq!(e.error_type(), "SecretConflict", "{e}");
        e.to_string()
    }

    #[test]
    fn only_our_secret_for_the_same_database_and_user_is_changed() {
        let o = options(&[]);
        assert_eq!(
            decide("n", &ours(), &owner(), Some("us-east-1"), &o, false).unwrap(),
            Changes::default()
        );
        assert!(conflict(&SecretState::default()).contains("no managed-by"));
        let mut managed_only = ours();
        managed_only.tags.truncate(1);
        assert!(conflict(&managed_only).contains("lacks"));
        let mut other_db = ours();
        other_db.tags = Owner::new(Service::Rds, DbKind::Cluster, "orders", "admin")
            .tags()
            .to_vec();
        assert!(conflict(&other_db).contains("rds/cluster/orders"));
        let mut other_user = ours();
        other_user.tags = Owner::new(Service::Rds, DbKind::Instance, "orders", "app")
            .tags()
            .to_vec();
        assert!(conflict(&other_user).contains("user app"));
        let mut replica = ours();
        replica.primary_region = Some("eu-west-1".into());
        assert!(conflict(&replica).contains("replica"));
        let mut scheduled = ours();
        scheduled.scheduled_for_deletion = true;
        assert_eq!(
            decide("n", &scheduled, &owner(), Some("us-east-1"), &o, false)
                .unwrap_err()
                .error_type(),
            "SecretScheduledForDeletion"
        );
        let foreign_scheduled = SecretState {
            scheduled_for_deletion: true,
            ..Default::default()
        };
        assert!(conflict(&foreign_scheduled).contains("managed-by"));
    }

    #[test]
    fn missing_replicas_rotation_update_and_policy() {
        let o = options(&[
            ("AWS_REGION", "us-east-1"),
            ("REPLICA_REGIONS", "us-west-2,eu-west-1"),
            ("EXISTING_SECRET", "update"),
            (
                "ROTATION_LAMBDA_ARNS",
                "mysql=arn:aws:lambda:us-east-1:123456789012:function:r",
            ),
            ("ROTATION_SCHEDULE", "rate(30 days)"),
            ("RESOURCE_POLICY", r#"{"Statement":[]}"#),
        ]);
        let mut s = ours();
        s.replicas.push(ReplicaStatus {
            region: "us-west-2".into(),
            status: "InSync".into(),
            message: None,
        });
        let c = decide("n", &s, &owner(), Some("us-east-1"), &o, true).unwrap();
        assert_eq!(
            c.missing_replicas
                .iter()
                .map(|r| r.region.as_str())
                .collect::<Vec<_>>(),
            ["eu-west-1"]
        );
        assert!(c.refresh_connection && c.turn_on_rotation && c.put_policy);
    }

    #[test]
    fn refresh_merges_connection_keys_and_keeps_the_rest() {
        let fields = SecretFields {
            engine: "mysql",
            host: "new-host".into(),
            username: "admin".into(),
            password: SecretString::from("initial"),
            port: 3306,
            dbname: None,
            db_instance_identifier: Some("db".into()),
            db_cluster_identifier: None,
            namespace_name: None,
            ssl: None,
            masterarn: None,
            extra: Map::new(),
        };
        let current = json!({"engine": "mariadb", "host": "old-host", "port": 3306, "username": "admin",
                             "password": "rotated", "note": "by hand", "dbInstanceIdentifier": "other",
                             "masterarn": "arn:m"});
        let r = refresh(
            "arn",
            "v1",
            current.as_object().unwrap().clone(),
            &fields,
            true,
        )
        .unwrap();
        assert_eq!(r.merged["host"], "new-host");
        assert_eq!(
            r.merged["engine"], "mariadb",
            "only host, port and dbname change"
        );
        assert_eq!(r.merged["dbInstanceIdentifier"], "other");
        assert_eq!(r.merged["masterarn"], "arn:m");
        assert_eq!(
            r.merged["password"], "rotated",
            "never the initial password"
        );
        assert_eq!(r.merged["note"], "by hand");
        assert_eq!(r.token.len(), 64);
        let again = r.merged.clone();
        assert!(
            refresh("arn", "v2", again, &fields, true).is_none(),
            "nothing differs"
        );
    }

    #[test]
    fn a_region_without_a_copy_loses_its_keys_and_nothing_else() {
        let current = json!({"host": "h", "port": 5432, "password": "rotated",
            "regions": "us-east-1,eu-west-1,ap-south-1",
            "us-east-1.host": "h", "eu-west-1.host": "eu", "eu-west-1.port": 5432,
            "ap-south-1.host": "ap", "ap-south-1.port": 5432,
            "sa-east-1.host": "by hand", "eu-west-1.note": "by hand"});
        let current = current.as_object().unwrap().clone();
        let new = json!({"host": "h", "port": 5432, "regions": "us-east-1,eu-west-1",
            "us-east-1.host": "h", "eu-west-1.host": "eu", "eu-west-1.port": 5432});
        let new = new.as_object().unwrap().clone();
        let drop = regional::stale_keys(&current, &new);
        let r = merge("arn", "v1", current.clone(), new.clone(), &drop).unwrap();
        assert_eq!(r.changed, ["regions", "ap-south-1.host", "ap-south-1.port"]);
        assert!(!r.merged.contains_key("ap-south-1.host"));
        assert_eq!(
            r.merged["sa-east-1.host"], "by hand",
            "a region never listed"
        );
        assert_eq!(
            r.merged["eu-west-1.note"], "by hand",
            "not a regional field"
        );
        assert_eq!(r.merged["password"], "rotated");
        let other = merge("arn", "v1", current.clone(), new.clone(), &[]).unwrap();
        assert_ne!(r.token, other.token, "what is dropped is in the token");
        assert!(
            merge("arn", "v2", r.merged.clone(), new, &drop).is_none(),
            "nothing left to drop"
        );
        // No copy anywhere any more: every key of the listed regions and `regions` go.
        let bare = json!({"host": "h", "port": 5432});
        let bare = bare.as_object().unwrap().clone();
        let drop = regional::stale_keys(&current, &bare);
        let r = merge("arn", "v1", current, bare, &drop).unwrap();
        let mut left: Vec<&String> = r.merged.keys().collect();
        left.sort();
        assert_eq!(
            left,
            [
                "eu-west-1.note",
                "host",
                "password",
                "port",
                "sa-east-1.host"
            ]
        );
    }
}

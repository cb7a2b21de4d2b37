//! What to do with a secret that already exists at the rendered name (pure): the store adapter
//! reports what DescribeSecret says ([`SecretState`]), this module decides, the provisioner
//! carries it out.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::config::{ExistingSecret, Replica, SecretOptions};
use crate::error::{Error, Result};
use crate::outcome::ReplicaStatus;
use crate::secret::SecretFields;
use crate::tags;

/// What DescribeSecret says about an existing secret.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretState {
    pub arn: String,
    pub tags: Vec<(String, String)>,
    /// Scheduled for deletion (`DeletedDate` is set).
    pub scheduled_for_deletion: bool,
    pub rotation_enabled: bool,
    pub replicas: Vec<ReplicaStatus>,
}

impl SecretState {
    pub fn is_managed(&self) -> bool {
        tags::is_managed(self.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }
}

/// The changes an existing secret of ours needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Configured replica regions the secret lacks.
    pub missing_replicas: Vec<Replica>,
    /// `EXISTING_SECRET=update`: refresh the connection keys (if any differ).
    pub refresh_connection: bool,
    /// Rotation is configured but not on.
    pub turn_on_rotation: bool,
    /// A resource policy is configured (it cannot be compared cheaply; putting the same one
    /// again is harmless).
    pub put_policy: bool,
}

/// The verdict on an existing secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Not ours: left as it is.
    Foreign,
    /// Ours: these changes, possibly none.
    Ours(Changes),
}

/// Decides from DescribeSecret alone.
pub fn decide(name: &str, state: &SecretState, options: &SecretOptions) -> Result<Decision> {
    if state.scheduled_for_deletion {
        return Err(Error::SecretScheduledForDeletion {
            name: name.to_string(),
        });
    }
    if !state.is_managed() {
        return Ok(Decision::Foreign);
    }
    Ok(Decision::Ours(Changes {
        missing_replicas: options
            .replicas
            .iter()
            .filter(|r| !state.replicas.iter().any(|s| s.region == r.region))
            .cloned()
            .collect(),
        refresh_connection: options.existing == ExistingSecret::Update,
        turn_on_rotation: options.rotation.is_some() && !state.rotation_enabled,
        put_policy: options.resource_policy.is_some(),
    }))
}

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

/// The connection keys of a shaped secret.
fn connection(fields: &SecretFields) -> Map<String, Value> {
    let mut m = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            m.insert(k.to_string(), v);
        }
    };
    put("engine", Some(fields.engine.into()));
    put("host", Some(fields.host.clone().into()));
    put("port", Some(fields.port.into()));
    put("dbname", fields.dbname.clone().map(Value::from));
    put(
        "dbInstanceIdentifier",
        fields.db_instance_identifier.clone().map(Value::from),
    );
    put(
        "dbClusterIdentifier",
        fields.db_cluster_identifier.clone().map(Value::from),
    );
    put(
        "namespaceName",
        fields.namespace_name.clone().map(Value::from),
    );
    put("ssl", fields.ssl.map(Value::from));
    debug_assert!(m.keys().all(|k| CONNECTION_KEYS.contains(&k.as_str())));
    m
}

/// A refreshed version: the merged JSON, and a `ClientRequestToken` derived from the current
/// version id and the new connection keys (never the password), so concurrent invocations
/// making the same change create one version.
#[derive(Debug)]
pub struct Refresh {
    pub merged: Map<String, Value>,
    pub token: String,
}

/// Merges the connection keys of `fields` into the current value. `None` when nothing differs.
pub fn refresh(
    arn: &str,
    version_id: &str,
    mut current: Map<String, Value>,
    fields: &SecretFields,
) -> Option<Refresh> {
    let new = connection(fields);
    if new.iter().all(|(k, v)| current.get(k) == Some(v)) {
        return None;
    }
    let mut hasher = Sha256::new();
    hasher.update(arn.as_bytes());
    hasher.update(version_id.as_bytes());
    hasher.update(Value::Object(new.clone()).to_string().as_bytes());
    let token = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    current.extend(new);
    Some(Refresh {
        merged: current,
        token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::tags::{MANAGED_TAG_KEY, MANAGED_TAG_VALUE};
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

    fn ours() -> SecretState {
        SecretState {
            arn: "arn:s".into(),
            tags: vec![(MANAGED_TAG_KEY.into(), MANAGED_TAG_VALUE.into())],
            ..Default::default()
        }
    }

    #[test]
    fn foreign_scheduled_and_ours() {
        let o = options(&[]);
        let foreign = SecretState::default();
        assert_eq!(decide("n", &foreign, &o).unwrap(), Decision::Foreign);
        let mut scheduled = ours();
        scheduled.scheduled_for_deletion = true;
        assert_eq!(
            decide("n", &scheduled, &o).unwrap_err().error_type(),
            "SecretScheduledForDeletion"
        );
        assert_eq!(
            decide("n", &ours(), &o).unwrap(),
            Decision::Ours(Changes::default())
        );
    }

    #[test]
    fn missing_replicas_rotation_update_and_policy() {
        let o = options(&[
            ("AWS_REGION", "us-east-1"),
            ("REPLICA_REGIONS", "us-west-2,eu-west-1"),
            ("EXISTING_SECRET", "update"),
            (
                "ROTATION_LAMBDA_ARN",
                "arn:aws:lambda:us-east-1:123456789012:function:r",
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
        let Decision::Ours(c) = decide("n", &s, &o).unwrap() else {
            panic!()
        };
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
        };
        let current = json!({"engine": "mysql", "host": "old-host", "port": 3306, "username": "admin",
                             "password": "rotated", "note": "by hand", "dbInstanceIdentifier": "db"});
        let r = refresh("arn", "v1", current.as_object().unwrap().clone(), &fields).unwrap();
        assert_eq!(r.merged["host"], "new-host");
        assert_eq!(
            r.merged["password"], "rotated",
            "never the initial password"
        );
        assert_eq!(r.merged["note"], "by hand");
        assert_eq!(r.token.len(), 64);
        let again = r.merged.clone();
        assert!(
            refresh("arn", "v2", again, &fields).is_none(),
            "nothing differs"
        );
    }
}

//! "Database User Created": the custom event a provisioning pipeline sends after creating a
//! database user.

use super::fields::{optional_string, string_field, Envelope};
use super::{Recognised, Request, Trigger, TriggerRow, USER_CREATED_DETAIL_TYPE};
use crate::error::{Error, Result};
use crate::model::Target;
use crate::names::{
    check_rds_identifier, check_workgroup_name, clip, is_parameter_name_char, Arn, SecretName,
    Username,
};

/// An application user announced by a "Database User Created" event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserSpec {
    pub username: String,
    /// Overrides `PASSWORD_PARAMETER_TEMPLATE`.
    pub password_parameter: Option<String>,
    /// Overrides Describe's database name.
    pub dbname: Option<String>,
    /// Overrides `SECRET_NAME_TEMPLATE`.
    pub secret_name: Option<String>,
    /// Stored as `masterarn`, for the alternating-users rotation strategy.
    pub master_secret_arn: Option<String>,
}

/// The keys naming the database, one of which a user event carries.
const IDENTIFIER_KEYS: [&str; 4] = [
    "dbInstanceIdentifier",
    "dbClusterIdentifier",
    "clusterIdentifier",
    "workgroupName",
];

/// The keys a "Database User Created" event's detail may have.
const KEYS: &[&str] = &[
    "dbInstanceIdentifier",
    "dbClusterIdentifier",
    "clusterIdentifier",
    "workgroupName",
    "username",
    "passwordParameter",
    "dbname",
    "secretName",
    "masterSecretArn",
];

pub(super) fn rows() -> Vec<TriggerRow> {
    vec![TriggerRow {
        name: Trigger::DatabaseUserCreated.as_str(),
        source: None,
        detail_type: USER_CREATED_DETAIL_TYPE,
        detail: Vec::new(),
    }]
}

pub(super) fn recognise(envelope: &Envelope<'_>) -> Result<Recognised> {
    let detail = envelope.detail_object()?;
    if let Some(unknown) = detail.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(Error::InvalidEvent(format!(
            "detail.{} is not a field of {USER_CREATED_DETAIL_TYPE} (expected one of {})",
            clip(unknown),
            KEYS.join(", ")
        )));
    }
    let mut named = Vec::new();
    for key in IDENTIFIER_KEYS {
        if let Some(id) = optional_string(detail, key)? {
            named.push((key, id));
        }
    }
    let (key, id) = match named.as_slice() {
        [one] => *one,
        [] => {
            return Err(Error::InvalidEvent(
                "detail needs exactly one of dbInstanceIdentifier, dbClusterIdentifier, clusterIdentifier, workgroupName; found none".into(),
            ))
        }
        many => {
            let keys: Vec<&str> = many.iter().map(|(k, _)| *k).collect();
            return Err(Error::InvalidEvent(format!(
                "detail needs exactly one database identifier; found {}",
                keys.join(" and ")
            )));
        }
    };
    let target = match key {
        "dbInstanceIdentifier" => Target::DbInstance(id.to_string()),
        "dbClusterIdentifier" => Target::DbCluster(id.to_string()),
        "clusterIdentifier" => Target::RedshiftCluster(id.to_string()),
        _ => Target::Workgroup(id.to_string()),
    };
    match &target {
        Target::Workgroup(name) => check_workgroup_name(name)?,
        other => check_rds_identifier(other.identifier())?,
    }
    let username = string_field(detail, "username")?;
    let username = Username::parse(username).ok_or_else(|| {
        Error::InvalidEvent(format!(
            "detail.username {:?} cannot be part of a secret name (1-128 of A-Z a-z 0-9 _ + = . @ -)",
            clip(username)
        ))
    })?;
    let password_parameter = optional_string(detail, "passwordParameter")?;
    if let Some(p) = password_parameter {
        if p.len() > 2048 || !p.chars().all(is_parameter_name_char) {
            return Err(Error::InvalidEvent(format!(
                "detail.passwordParameter {:?} is not an SSM parameter name",
                clip(p)
            )));
        }
    }
    let secret_name = optional_string(detail, "secretName")?;
    if let Some(n) = secret_name {
        SecretName::parse(n).map_err(|e| Error::InvalidEvent(format!("detail.secretName: {e}")))?;
    }
    let master_secret_arn = optional_string(detail, "masterSecretArn")?;
    if let Some(arn) = master_secret_arn {
        if Arn::parse(arn)?.service != "secretsmanager" {
            return Err(Error::InvalidEvent(format!(
                "detail.masterSecretArn {:?} is not a Secrets Manager ARN",
                clip(arn)
            )));
        }
    }
    let mut request = Request::new(Trigger::DatabaseUserCreated, target, envelope);
    request.user = Some(Box::new(UserSpec {
        username: username.as_str().to_string(),
        password_parameter: password_parameter.map(str::to_string),
        dbname: optional_string(detail, "dbname")?.map(str::to_string),
        secret_name: secret_name.map(str::to_string),
        master_secret_arn: master_secret_arn.map(str::to_string),
    }));
    Ok(Recognised::Provision(request))
}

#[cfg(test)]
mod tests {
    use super::super::{recognise, Recognised, USER_CREATED_DETAIL_TYPE};
    use crate::error::Result;
    use crate::model::Target;
    use serde_json::{json, Value};

    fn user(detail: Value) -> Result<Recognised> {
        recognise(
            &json!({"id": "e", "source": "com.example.pipeline", "detail-type": USER_CREATED_DETAIL_TYPE,
            "account": "123456789012", "region": "us-east-1", "resources": [], "detail": detail}),
        )
    }

    #[test]
    fn user_events() {
        let Recognised::Provision(r) = user(json!({"workgroupName": "bi-wg", "username": "etl",
            "passwordParameter": "/custom/etl", "secretName": "apps/etl", "dbname": "dev"}))
        .unwrap() else {
            panic!()
        };
        assert_eq!(r.target, Target::Workgroup("bi-wg".into()));
        let u = r.user.unwrap();
        assert_eq!(
            (u.password_parameter.as_deref(), u.secret_name.as_deref()),
            (Some("/custom/etl"), Some("apps/etl"))
        );
        for (key, target) in [
            ("dbInstanceIdentifier", Target::DbInstance("d1".into())),
            ("dbClusterIdentifier", Target::DbCluster("d1".into())),
            ("clusterIdentifier", Target::RedshiftCluster("d1".into())),
        ] {
            let mut detail = json!({"username": "u"});
            detail[key] = json!("d1");
            let Recognised::Provision(r) = user(detail).unwrap() else {
                panic!()
            };
            assert_eq!(r.target, target);
        }
    }

    #[test]
    fn invalid_user_events_name_the_field() {
        for (detail, needle) in [
            (json!({"username": "u"}), "found none"),
            (
                json!({"username": "u", "dbInstanceIdentifier": "a", "clusterIdentifier": "b"}),
                "dbInstanceIdentifier and clusterIdentifier",
            ),
            (
                json!({"dbInstanceIdentifier": "a"}),
                "detail.username is missing",
            ),
            (
                json!({"dbInstanceIdentifier": "a", "username": ""}),
                "detail.username is empty",
            ),
            (
                json!({"dbInstanceIdentifier": "a", "username": "bad/user"}),
                "detail.username",
            ),
            (
                json!({"dbInstanceIdentifier": "a", "username": "u", "pasword": "x"}),
                "detail.pasword is not a field",
            ),
            (
                json!({"dbInstanceIdentifier": "a", "username": "u", "passwordParameter": "/x y"}),
                "passwordParameter",
            ),
            (
                json!({"dbInstanceIdentifier": "a", "username": "u", "secretName": "x/name-abcdef"}),
                "secretName",
            ),
            (
                json!({"dbInstanceIdentifier": "a", "username": "u", "masterSecretArn": "arn:aws:s3:us-east-1:1:x:y"}),
                "masterSecretArn",
            ),
            (
                json!({"dbInstanceIdentifier": 5, "username": "u"}),
                "dbInstanceIdentifier must be a string",
            ),
            (
                json!({"workgroupName": "UPPER", "username": "u"}),
                "workgroup name",
            ),
        ] {
            let e = user(detail.clone()).unwrap_err();
            assert_eq!(e.error_type(), "InvalidEvent");
            assert!(e.to_string().contains(needle), "{detail}: {e}");
        }
    }
}

//! "Database User Created": the custom event a provisioning pipeline sends after creating a
//! database user.

use super::fields::{optional_string, string_field, Envelope};
use super::{Action, Recognised, Request, Trigger, TriggerRow, USER_CREATED_DETAIL_TYPE};
use crate::model::error::{Error, Result};
use crate::model::identifiers::{clip, Arn, DbName, RdsIdentifier, Username, WorkgroupName};
use crate::model::request::UserSpec;
use crate::model::Target;

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
    "dbname",
    "masterSecretArn",
];

/// The longest ARN accepted.
const MAX_ARN: usize = 2048;

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
        "dbInstanceIdentifier" => Target::DbInstance(RdsIdentifier::parse(id)?),
        "dbClusterIdentifier" => Target::DbCluster(RdsIdentifier::parse(id)?),
        "clusterIdentifier" => Target::RedshiftCluster(RdsIdentifier::parse(id)?),
        _ => Target::Workgroup(WorkgroupName::parse(id)?),
    };
    let username = string_field(detail, "username")?;
    let username = Username::parse(username).ok_or_else(|| {
        Error::InvalidEvent(format!(
            "detail.username {:?} cannot be part of a secret name (1-128 of A-Z a-z 0-9 _ + = . @ -)",
            clip(username)
        ))
    })?;
    let dbname = optional_string(detail, "dbname")?
        .map(|d| {
            DbName::parse(d).ok_or_else(|| {
                Error::InvalidEvent(format!(
                    "detail.dbname {:?} is not a database name (1-64 of A-Z a-z 0-9 _ $ -)",
                    clip(d)
                ))
            })
        })
        .transpose()?;
    let master_secret_arn = optional_string(detail, "masterSecretArn")?;
    if let Some(arn) = master_secret_arn {
        let not_a_secret = || {
            Error::InvalidEvent(format!(
                "detail.masterSecretArn {:?} is not a Secrets Manager secret ARN",
                clip(arn)
            ))
        };
        let parsed = Arn::parse(arn).map_err(|_| not_a_secret())?;
        if parsed.service != "secretsmanager"
            || parsed.resource_type != "secret"
            || arn.len() > MAX_ARN
        {
            return Err(not_a_secret());
        }
    }
    let mut request = Request::new(
        Trigger::DatabaseUserCreated,
        Action::Provision,
        target,
        envelope,
    );
    request.user = Some(Box::new(UserSpec {
        username,
        dbname,
        master_secret_arn: master_secret_arn.map(str::to_string),
    }));
    Ok(Recognised::Provision(request))
}

#[cfg(test)]
mod tests {
    use super::super::{recognise, Recognised, USER_CREATED_DETAIL_TYPE};
    use crate::model::error::Result;
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
            "dbname": "dev", "masterSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf"}))
        .unwrap() else {
            panic!()
        };
        assert_eq!(r.target, Target::Workgroup("bi-wg".into()));
        assert_eq!(r.source, "com.example.pipeline");
        let u = r.user.unwrap();
        assert_eq!(
            (u.username.as_str(), u.dbname.as_deref()),
            ("etl", Some("dev"))
        );
        assert!(u.master_secret_arn.is_some());
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
                json!({"dbInstanceIdentifier": "a", "username": "u", "passwordParameter": "/db-secrets/rds/b/admin"}),
                "detail.passwordParameter is not a field",
            ),
            (
                json!({"dbInstanceIdentifier": "a", "username": "u", "secretName": "db-secrets/rds/b/admin"}),
                "detail.secretName is not a field",
            ),
            (
                json!({"dbInstanceIdentifier": "a", "username": "u", "masterSecretArn": "arn:aws:s3:us-east-1:1:x:y"}),
                "masterSecretArn",
            ),
            (
                json!({"dbInstanceIdentifier": "a", "username": "u", "masterSecretArn": "arn:aws:rds:us-east-1:1:db:a"}),
                "masterSecretArn",
            ),
            (
                json!({"dbInstanceIdentifier": "a", "username": "u", "masterSecretArn": format!("arn:aws:secretsmanager:us-east-1:1:secret:{}", "x".repeat(3000))}),
                "masterSecretArn",
            ),
            (
                json!({"dbInstanceIdentifier": "a", "username": "u", "dbname": "x; drop"}),
                "detail.dbname",
            ),
            (
                json!({"dbInstanceIdentifier": "a", "username": "u", "dbname": "d".repeat(65)}),
                "detail.dbname",
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

//! API calls recorded by CloudTrail (`detail-type: AWS API Call via CloudTrail`), table-driven:
//! create calls (the resource is `creating` when the call is recorded, so the request asks the
//! lookup to wait), port changes (Modify/Update calls with a port; the database restarts, so
//! the lookup waits too) and delete calls. A failed call (`errorCode`) changed nothing.

use serde_json::{Map, Value};

use super::fields::{optional_object, Envelope};
use super::{Action, Recognised, Request, Trigger, TriggerRow, CLOUDTRAIL_DETAIL_TYPE};
use crate::model::error::{Error, Result};
use crate::model::identifiers::{clip, RdsIdentifier, Username, WorkgroupName};
use crate::model::restore_hint::RestorePoint;
use crate::model::timestamp;
use crate::model::{Resource, Target};
use Action::{FollowConnection as Follow, HintRestore as Hint, Provision, ResetPassword, Retire};
use Resource::{DbCluster, DbInstance, RedshiftCluster, Workgroup};
use Trigger as T;

/// A service's EventBridge source and CloudTrail event source.
struct Api {
    source: &'static str,
    event_source: &'static str,
}

const RDS: Api = Api {
    source: "aws.rds",
    event_source: "rds.amazonaws.com",
};
const REDSHIFT: Api = Api {
    source: "aws.redshift",
    event_source: "redshift.amazonaws.com",
};
const SERVERLESS: Api = Api {
    source: "aws.redshift-serverless",
    event_source: "redshift-serverless.amazonaws.com",
};

/// Where a call names its database: a path in `responseElements` (as AWS stored it), else a
/// key of `requestParameters`.
struct Id {
    response: &'static [&'static str],
    param: &'static str,
}

const INSTANCE: Id = Id {
    response: &["dBInstanceIdentifier"],
    param: "dBInstanceIdentifier",
};
const DB_CLUSTER: Id = Id {
    response: &["dBClusterIdentifier"],
    param: "dBClusterIdentifier",
};
const CLUSTER: Id = Id {
    response: &["clusterIdentifier"],
    param: "clusterIdentifier",
};
const WORKGROUP: Id = Id {
    response: &["workgroup", "workgroupName"],
    param: "workgroupName",
};
/// A point-in-time restore names its new instance `targetDBInstanceIdentifier`.
const TARGET_INSTANCE: Id = Id {
    response: &["dBInstanceIdentifier"],
    param: "targetDBInstanceIdentifier",
};
/// UpdateNamespace names the namespace, whose workgroup holds the secrets.
const NAMESPACE: Id = Id {
    response: &["namespace", "namespaceName"],
    param: "namespaceName",
};
/// A Serverless restore names the workgroup whose namespace it restores into.
const RESTORED_WORKGROUP: Id = Id {
    response: &[],
    param: "workgroupName",
};

/// Where a restore call says what it restores from: the snapshot parameters (first present
/// wins), else a `restoreTime`.
struct RestoreFrom {
    snapshot: &'static [&'static str],
    time: bool,
}

const SNAPSHOT: RestoreFrom = RestoreFrom {
    snapshot: &["dBSnapshotIdentifier"],
    time: false,
};
const CLUSTER_SNAPSHOT: RestoreFrom = RestoreFrom {
    snapshot: &["snapshotIdentifier"],
    time: false,
};
const REDSHIFT_SNAPSHOT: RestoreFrom = RestoreFrom {
    snapshot: &["snapshotArn", "snapshotIdentifier"],
    time: false,
};
const SERVERLESS_SNAPSHOT: RestoreFrom = RestoreFrom {
    snapshot: &["snapshotArn", "snapshotName"],
    time: false,
};
const POINT_IN_TIME: RestoreFrom = RestoreFrom {
    snapshot: &[],
    time: true,
};

/// A Modify/Update call's port: the parameters that carry it (CloudTrail records
/// `dBPortNumber`; `dbPortNumber` is accepted too) and the parameter that renames the database
/// (never followed). Every port change is followed whatever `ApplyImmediately` says: "If you
/// change the DBPortNumber value, your database restarts regardless of the value of the
/// ApplyImmediately parameter" (ModifyDBInstance); DocumentDB's ApplyImmediately "affects only
/// the NewDBClusterIdentifier and MasterUserPassword values" (ModifyDBCluster), and an Aurora
/// port change reboots every instance of the cluster at once (Aurora user guide, "Modifying an
/// Amazon Aurora DB cluster").
struct Port {
    params: &'static [&'static str],
    rename: Option<&'static str>,
}

/// A Modify/Update call's master-password parameters: `manage` (true hands the password to
/// a managed secret: a take-over) and `set` (a new password, which CloudTrail records masked:
/// a reset, whose value is never read).
struct Password {
    manage: &'static str,
    set: &'static str,
}

const RDS_PASSWORD: Password = Password {
    manage: "manageMasterUserPassword",
    set: "masterUserPassword",
};
const REDSHIFT_PASSWORD: Password = Password {
    manage: "manageMasterPassword",
    set: "masterUserPassword",
};
const SERVERLESS_PASSWORD: Password = Password {
    manage: "manageAdminPassword",
    set: "adminUserPassword",
};

/// One recorded call we act on: one row per call, one call per line.
struct Call {
    api: Api,
    event_name: &'static str,
    trigger: Trigger,
    action: Action,
    resource: Resource,
    id: Id,
    port: Option<Port>,
    restore: Option<RestoreFrom>,
    password: Option<Password>,
}

#[rustfmt::skip]
const CALLS: &[Call] = &[
    Call { api: RDS,        event_name: "CreateDBInstance", trigger: T::CloudTrailCreateDbInstance,      action: Provision, resource: DbInstance,      id: INSTANCE,   port: None, restore: None, password: None },
    Call { api: RDS,        event_name: "CreateDBCluster",  trigger: T::CloudTrailCreateDbCluster,       action: Provision, resource: DbCluster,       id: DB_CLUSTER, port: None, restore: None, password: None },
    Call { api: REDSHIFT,   event_name: "CreateCluster",    trigger: T::CloudTrailCreateRedshiftCluster, action: Provision, resource: RedshiftCluster, id: CLUSTER,    port: None, restore: None, password: None },
    Call { api: SERVERLESS, event_name: "CreateWorkgroup",  trigger: T::CloudTrailCreateWorkgroup,       action: Provision, resource: Workgroup,       id: WORKGROUP,  port: None, restore: None, password: None },
    Call { api: RDS,        event_name: "ModifyDBInstance", trigger: T::CloudTrailModifyDbInstance,      action: Follow,    resource: DbInstance,      id: INSTANCE,   port: Some(Port { params: &["dBPortNumber", "dbPortNumber"], rename: Some("newDBInstanceIdentifier") }), restore: None, password: Some(RDS_PASSWORD) },
    Call { api: RDS,        event_name: "ModifyDBCluster",  trigger: T::CloudTrailModifyDbCluster,       action: Follow,    resource: DbCluster,       id: DB_CLUSTER, port: Some(Port { params: &["port"], rename: Some("newDBClusterIdentifier") }), restore: None, password: Some(RDS_PASSWORD) },
    Call { api: REDSHIFT,   event_name: "ModifyCluster",    trigger: T::CloudTrailModifyRedshiftCluster, action: Follow,    resource: RedshiftCluster, id: CLUSTER,    port: Some(Port { params: &["port"], rename: Some("newClusterIdentifier") }), restore: None, password: Some(REDSHIFT_PASSWORD) },
    Call { api: SERVERLESS, event_name: "UpdateWorkgroup",  trigger: T::CloudTrailUpdateWorkgroup,       action: Follow,    resource: Workgroup,       id: WORKGROUP,  port: Some(Port { params: &["port"], rename: None }), restore: None, password: None },
    // Only its admin password is read (`password_change`); the secrets are its workgroup's.
    Call { api: SERVERLESS, event_name: "UpdateNamespace",  trigger: T::CloudTrailUpdateNamespace,       action: ResetPassword, resource: Workgroup,   id: NAMESPACE,  port: None, restore: None, password: Some(SERVERLESS_PASSWORD) },
    Call { api: RDS,        event_name: "DeleteDBInstance", trigger: T::CloudTrailDeleteDbInstance,      action: Retire,    resource: DbInstance,      id: INSTANCE,   port: None, restore: None, password: None },
    Call { api: RDS,        event_name: "DeleteDBCluster",  trigger: T::CloudTrailDeleteDbCluster,       action: Retire,    resource: DbCluster,       id: DB_CLUSTER, port: None, restore: None, password: None },
    Call { api: REDSHIFT,   event_name: "DeleteCluster",    trigger: T::CloudTrailDeleteRedshiftCluster, action: Retire,    resource: RedshiftCluster, id: CLUSTER,    port: None, restore: None, password: None },
    Call { api: SERVERLESS, event_name: "DeleteWorkgroup",  trigger: T::CloudTrailDeleteWorkgroup,       action: Retire,    resource: Workgroup,       id: WORKGROUP,  port: None, restore: None, password: None },
    Call { api: RDS,        event_name: "RestoreDBInstanceFromDBSnapshot", trigger: T::CloudTrailRestoreDbInstanceFromSnapshot,  action: Hint, resource: DbInstance,      id: INSTANCE,           port: None, restore: Some(SNAPSHOT), password: None },
    Call { api: RDS,        event_name: "RestoreDBInstanceToPointInTime",  trigger: T::CloudTrailRestoreDbInstanceToPointInTime, action: Hint, resource: DbInstance,      id: TARGET_INSTANCE,    port: None, restore: Some(POINT_IN_TIME), password: None },
    Call { api: RDS,        event_name: "RestoreDBClusterFromSnapshot",    trigger: T::CloudTrailRestoreDbClusterFromSnapshot,   action: Hint, resource: DbCluster,       id: DB_CLUSTER,         port: None, restore: Some(CLUSTER_SNAPSHOT), password: None },
    Call { api: RDS,        event_name: "RestoreDBClusterToPointInTime",   trigger: T::CloudTrailRestoreDbClusterToPointInTime,  action: Hint, resource: DbCluster,       id: DB_CLUSTER,         port: None, restore: Some(POINT_IN_TIME), password: None },
    Call { api: REDSHIFT,   event_name: "RestoreFromClusterSnapshot",      trigger: T::CloudTrailRestoreRedshiftCluster,         action: Hint, resource: RedshiftCluster, id: CLUSTER,            port: None, restore: Some(REDSHIFT_SNAPSHOT), password: None },
    Call { api: SERVERLESS, event_name: "RestoreFromSnapshot",             trigger: T::CloudTrailRestoreServerless,              action: Hint, resource: Workgroup,       id: RESTORED_WORKGROUP, port: None, restore: Some(SERVERLESS_SNAPSHOT), password: None },
    // The S3 restores take a new master password: they are creations.
    Call { api: RDS,        event_name: "RestoreDBInstanceFromS3",         trigger: T::CloudTrailRestoreDbInstanceFromS3,        action: Provision, resource: DbInstance, id: INSTANCE,          port: None, restore: None, password: None },
    Call { api: RDS,        event_name: "RestoreDBClusterFromS3",          trigger: T::CloudTrailRestoreDbClusterFromS3,         action: Provision, resource: DbCluster,  id: DB_CLUSTER,        port: None, restore: None, password: None },
];

pub(super) fn rows() -> Vec<TriggerRow> {
    CALLS
        .iter()
        .map(|c| TriggerRow {
            name: c.trigger.as_str(),
            source: Some(c.api.source),
            detail_type: CLOUDTRAIL_DETAIL_TYPE,
            detail: vec![
                ("eventSource", c.api.event_source),
                ("eventName", c.event_name),
            ],
        })
        .collect()
}

/// The fields of a CloudTrail record used here.
struct Record<'a> {
    event_source: &'a str,
    event_name: &'a str,
    aws_region: Option<&'a str>,
    recipient_account: Option<&'a str>,
    error_code: Option<&'a Value>,
    params: Option<&'a Map<String, Value>>,
    response: Option<&'a Map<String, Value>>,
}

impl<'a> Record<'a> {
    fn read(detail: &'a Map<String, Value>) -> Result<Self> {
        let text = |key: &str| detail.get(key).and_then(Value::as_str);
        Ok(Record {
            event_source: text("eventSource").unwrap_or(""),
            event_name: text("eventName").unwrap_or(""),
            aws_region: text("awsRegion").filter(|r| !r.is_empty()),
            recipient_account: text("recipientAccountId").filter(|a| !a.is_empty()),
            error_code: detail.get("errorCode").filter(|v| !v.is_null()),
            params: optional_object(detail, "requestParameters")?,
            response: optional_object(detail, "responseElements")?,
        })
    }

    /// `requestParameters.<key>`, when present and not null.
    fn param(&self, key: &str) -> Option<&'a Value> {
        self.params
            .and_then(|p| p.get(key))
            .filter(|v| !v.is_null())
    }

    /// The identifier from the response (as AWS stored it: RDS lowercases identifiers), else
    /// from the request.
    fn identifier(&self, call: &Call) -> Option<&'a str> {
        let mut at = call.id.response.iter();
        let first = at
            .next()
            .and_then(|k| self.response.and_then(|r| r.get(*k)));
        let from_response = at.fold(first, |v, k| v.and_then(|v| v.get(*k)));
        from_response
            .and_then(Value::as_str)
            .or_else(|| {
                self.params
                    .and_then(|p| p.get(call.id.param))
                    .and_then(Value::as_str)
            })
            .filter(|s| !s.is_empty())
    }
}

/// Why a Modify/Update call is not a port change to follow (`None` when it is one, or is not a
/// Modify call).
fn not_a_port_change(call: &Call, record: &Record<'_>) -> Option<String> {
    let Port { params, rename } = call.port.as_ref()?;
    let param = |key: &str| record.param(key);
    if let Some(new) = rename.and_then(param) {
        return Some(format!(
            "{} renames the database (to {:?}): renames are not followed, a renamed database is a new identifier",
            call.event_name,
            clip(new.as_str().unwrap_or(""))
        ));
    }
    if params.iter().all(|p| param(p).is_none()) {
        return Some(format!(
            "{} does not change the port ({}); nothing to follow",
            call.event_name, params[0]
        ));
    }
    None
}

/// What a Modify/Update call asks of the master password (its row's [`Password`]), when it
/// asks no port change and no rename: `manage…: true` is a take-over, a new password (any
/// value: CloudTrail masks it) a reset, a hint that the initial-password parameter may hold it.
/// A call that also changes the port is followed as a port change; for RDS, `RDS-EVENT-0016`
/// then announces the reset.
fn password_change(call: &Call, record: &Record<'_>) -> Option<Action> {
    let Password { manage, set } = call.password.as_ref()?;
    if let Some(Port { params, rename }) = &call.port {
        let renamed = rename.is_some_and(|r| record.param(r).is_some());
        if renamed || params.iter().any(|k| record.param(k).is_some()) {
            return None;
        }
    }
    if record.param(manage).and_then(Value::as_bool) == Some(true) {
        return Some(Action::TakeOver);
    }
    record.param(set).map(|_| Action::ResetPassword)
}

/// The port a Modify/Update call asks for (a JSON number, or a string of digits).
fn requested_port(call: &Call, record: &Record<'_>) -> Option<i32> {
    let Port { params, .. } = call.port.as_ref()?;
    params.iter().find_map(|k| {
        let v = record.params?.get(*k)?;
        v.as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .and_then(|p| i32::try_from(p).ok())
            .filter(|p| (1..=65535).contains(p))
    })
}

/// What a restore call restores from: its snapshot, else its `restoreTime` (CloudTrail
/// records it as given; one that is not RFC 3339 counts as unknown), else unknown (the latest
/// restorable time).
fn restore_point(from: &RestoreFrom, record: &Record<'_>) -> RestorePoint {
    let param = |key: &str| {
        record
            .param(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    if let Some(id) = from.snapshot.iter().find_map(|k| param(k)) {
        return RestorePoint::Snapshot(id.to_string());
    }
    match from.time.then(|| param("restoreTime")).flatten() {
        Some(t) => timestamp::parse(t).map_or(RestorePoint::Unknown, RestorePoint::Time),
        None => RestorePoint::Unknown,
    }
}

pub(super) fn recognise(envelope: &Envelope<'_>) -> Result<Recognised> {
    let record = Record::read(envelope.detail_object()?)?;
    let Some(call) = CALLS.iter().find(|c| {
        c.api.source == envelope.source
            && c.api.event_source == record.event_source
            && c.event_name == record.event_name
    }) else {
        return Ok(Recognised::Ignored(format!(
            "no trigger for CloudTrail call {:?} / {:?}",
            clip(record.event_source),
            clip(record.event_name)
        )));
    };
    if let Some(code) = record.error_code {
        return Ok(Recognised::Ignored(format!(
            "the {} call failed ({}): nothing changed",
            call.event_name,
            clip(code.as_str().unwrap_or("error"))
        )));
    }
    let password = password_change(call, &record);
    if let (None, Some(reason)) = (password, not_a_port_change(call, &record)) {
        return Ok(Recognised::Ignored(reason));
    }
    if password.is_none() && call.action == Action::ResetPassword {
        return Ok(Recognised::Ignored(format!(
            "{} changes no admin password; nothing to follow",
            call.event_name
        )));
    }
    let id = record.identifier(call).ok_or_else(|| {
        Error::InvalidEvent(format!(
            "{} event has no requestParameters.{}",
            call.event_name, call.id.param
        ))
    })?;
    let target = match call.resource {
        Resource::Workgroup if call.id.param == NAMESPACE.param => {
            Target::Namespace(WorkgroupName::parse(id)?)
        }
        Resource::Workgroup => Target::Workgroup(WorkgroupName::parse(id)?),
        resource => {
            let id = RdsIdentifier::parse(&id.to_ascii_lowercase())?;
            match resource {
                Resource::DbInstance => Target::DbInstance(id),
                Resource::DbCluster => Target::DbCluster(id),
                _ => Target::RedshiftCluster(id),
            }
        }
    };
    let mut request = Request::new(
        call.trigger,
        password.unwrap_or(call.action),
        target,
        envelope,
    );
    request.claim("detail.awsRegion", None, record.aws_region)?;
    request.claim("detail.recipientAccountId", record.recipient_account, None)?;
    // A create call's database is `creating`, a modified one restarts; a deleted one is gone,
    // and a restore only leaves a hint.
    request.wait = matches!(request.action, Action::Provision | Action::FollowConnection);
    request.restore = call
        .restore
        .as_ref()
        .map(|from| restore_point(from, &record));
    request.port = requested_port(call, &record);
    request.master_username_hint = record
        .params
        .and_then(|p| p.get("masterUsername"))
        .and_then(Value::as_str)
        .and_then(Username::parse);
    Ok(Recognised::Provision(request))
}

#[cfg(test)]
mod tests {
    use super::super::{recognise, Recognised, Request, CLOUDTRAIL_DETAIL_TYPE};
    use crate::model::Target;
    use serde_json::{json, Value};

    fn cloudtrail(source: &str, event_source: &str, name: &str, params: Value) -> Value {
        json!({"id": "e", "source": source, "detail-type": CLOUDTRAIL_DETAIL_TYPE, "account": "123456789012",
           "region": "eu-central-1", "resources": [], "detail": {
            "eventSource": event_source, "eventName": name, "awsRegion": "eu-central-1",
            "requestParameters": params, "responseElements": null
        }})
    }

    fn provision(v: &Value) -> Request {
        match recognise(v).unwrap() {
            Recognised::Provision(r) => r,
            other => panic!("expected a request, got {other:?}"),
        }
    }

    #[test]
    fn cloudtrail_create_calls() {
        let r = provision(&cloudtrail(
            "aws.rds",
            "rds.amazonaws.com",
            "CreateDBInstance",
            json!({"dBInstanceIdentifier": "Mixed-Case", "masterUsername": "root", "masterUserPassword": "****"}),
        ));
        assert_eq!(
            r.target,
            Target::DbInstance("mixed-case".into()),
            "RDS stores identifiers lowercased"
        );
        assert!(r.wait);
        assert_eq!(r.master_username_hint.as_deref(), Some("root"));
        assert_eq!(r.location.region.as_deref(), Some("eu-central-1"));
        let r = provision(&cloudtrail(
            "aws.rds",
            "rds.amazonaws.com",
            "CreateDBCluster",
            json!({"dBClusterIdentifier": "c1"}),
        ));
        assert_eq!(r.target, Target::DbCluster("c1".into()));
        let r = provision(&cloudtrail(
            "aws.redshift",
            "redshift.amazonaws.com",
            "CreateCluster",
            json!({"clusterIdentifier": "wh", "dBName": "dev"}),
        ));
        assert_eq!(r.target, Target::RedshiftCluster("wh".into()));
        let r = provision(&cloudtrail(
            "aws.redshift-serverless",
            "redshift-serverless.amazonaws.com",
            "CreateWorkgroup",
            json!({"workgroupName": "wg-1"}),
        ));
        assert_eq!(r.target, Target::Workgroup("wg-1".into()));
        let mut from_response = cloudtrail(
            "aws.redshift-serverless",
            "redshift-serverless.amazonaws.com",
            "CreateWorkgroup",
            json!({"workgroupName": "wg-1"}),
        );
        from_response["detail"]["responseElements"] =
            json!({"workgroup": {"workgroupName": "wg-2"}});
        assert_eq!(
            provision(&from_response).target,
            Target::Workgroup("wg-2".into())
        );
    }

    #[test]
    fn a_call_recorded_in_another_region_or_account_is_untrusted() {
        let mut e = cloudtrail(
            "aws.rds",
            "rds.amazonaws.com",
            "CreateDBInstance",
            json!({"dBInstanceIdentifier": "x"}),
        );
        e["detail"]["awsRegion"] = json!("ap-south-1");
        let err = recognise(&e).unwrap_err();
        assert_eq!(err.error_type(), "UntrustedEvent");
        assert!(err.to_string().contains("awsRegion"), "{err}");
        e["detail"]["awsRegion"] = json!("eu-central-1");
        e["detail"]["recipientAccountId"] = json!("999999999999");
        let err = recognise(&e).unwrap_err();
        assert_eq!(err.error_type(), "UntrustedEvent");
        assert!(err.to_string().contains("recipientAccountId"), "{err}");
    }

    #[test]
    fn cloudtrail_failed_and_unrelated_calls_are_ignored() {
        let mut failed = cloudtrail(
            "aws.rds",
            "rds.amazonaws.com",
            "CreateDBInstance",
            json!({"dBInstanceIdentifier": "x"}),
        );
        failed["detail"]["errorCode"] = json!("DBInstanceAlreadyExists");
        for e in [
            failed,
            cloudtrail(
                "aws.rds",
                "rds.amazonaws.com",
                "RebootDBInstance",
                json!({"dBInstanceIdentifier": "x"}),
            ),
            cloudtrail("aws.s3", "s3.amazonaws.com", "CreateBucket", json!({})),
            // a CreateCluster from the wrong source is not Redshift's
            cloudtrail(
                "aws.rds",
                "redshift.amazonaws.com",
                "CreateCluster",
                json!({"clusterIdentifier": "x"}),
            ),
        ] {
            assert!(
                matches!(recognise(&e).unwrap(), Recognised::Ignored(_)),
                "{e}"
            );
        }
        let e = recognise(&cloudtrail(
            "aws.rds",
            "rds.amazonaws.com",
            "CreateDBInstance",
            json!({}),
        ))
        .unwrap_err();
        assert!(e.to_string().contains("dBInstanceIdentifier"));
    }

    #[test]
    fn port_changes_and_deletions() {
        use super::super::{Action, Trigger};
        let follow = [
            (
                "aws.rds",
                "rds.amazonaws.com",
                "ModifyDBInstance",
                json!({"dBInstanceIdentifier": "Orders", "dBPortNumber": 6000}),
                Trigger::CloudTrailModifyDbInstance,
            ),
            (
                "aws.rds",
                "rds.amazonaws.com",
                "ModifyDBCluster",
                json!({"dBClusterIdentifier": "c", "port": 6000, "applyImmediately": true}),
                Trigger::CloudTrailModifyDbCluster,
            ),
            // The AWS CLI's default, --no-apply-immediately: the port changes at once anyway.
            (
                "aws.rds",
                "rds.amazonaws.com",
                "ModifyDBCluster",
                json!({"dBClusterIdentifier": "c", "port": 6000}),
                Trigger::CloudTrailModifyDbCluster,
            ),
            (
                "aws.rds",
                "rds.amazonaws.com",
                "ModifyDBInstance",
                json!({"dBInstanceIdentifier": "Orders", "dbPortNumber": "6000"}),
                Trigger::CloudTrailModifyDbInstance,
            ),
            (
                "aws.redshift",
                "redshift.amazonaws.com",
                "ModifyCluster",
                json!({"clusterIdentifier": "w", "port": 5440}),
                Trigger::CloudTrailModifyRedshiftCluster,
            ),
            (
                "aws.redshift-serverless",
                "redshift-serverless.amazonaws.com",
                "UpdateWorkgroup",
                json!({"workgroupName": "bi-wg", "port": 5440}),
                Trigger::CloudTrailUpdateWorkgroup,
            ),
        ];
        for (source, es, name, params, trigger) in follow {
            let r = provision(&cloudtrail(source, es, name, params));
            assert_eq!(
                (r.trigger, r.action, r.wait),
                (trigger, Action::FollowConnection, true),
                "{name}"
            );
            assert!(
                matches!(r.port, Some(6000 | 5440)),
                "{name}: the requested port"
            );
        }
        assert_eq!(
            provision(&cloudtrail(
                "aws.rds",
                "rds.amazonaws.com",
                "ModifyDBInstance",
                json!({"dBInstanceIdentifier": "Orders", "dBPortNumber": 6000})
            ))
            .target,
            Target::DbInstance("orders".into())
        );
        let delete = [
            (
                "aws.rds",
                "rds.amazonaws.com",
                "DeleteDBInstance",
                json!({"dBInstanceIdentifier": "x"}),
            ),
            (
                "aws.rds",
                "rds.amazonaws.com",
                "DeleteDBCluster",
                json!({"dBClusterIdentifier": "x"}),
            ),
            (
                "aws.redshift",
                "redshift.amazonaws.com",
                "DeleteCluster",
                json!({"clusterIdentifier": "x"}),
            ),
            (
                "aws.redshift-serverless",
                "redshift-serverless.amazonaws.com",
                "DeleteWorkgroup",
                json!({"workgroupName": "bi-wg"}),
            ),
        ];
        for (source, es, name, params) in delete {
            let r = provision(&cloudtrail(source, es, name, params));
            assert_eq!((r.action, r.wait), (Action::Retire, false), "{name}");
        }
        let ignored = [
            (
                "ModifyDBInstance",
                json!({"dBInstanceIdentifier": "x", "dBInstanceClass": "db.r6g.large"}),
                "does not change the port",
            ),
            (
                "ModifyDBInstance",
                json!({"dBInstanceIdentifier": "x", "dBPortNumber": 6000, "newDBInstanceIdentifier": "y"}),
                "renames are not followed",
            ),
            (
                "ModifyDBInstance",
                json!({"dBInstanceIdentifier": "x", "newDBInstanceIdentifier": "x-old1"}),
                "renames are not followed",
            ),
        ];
        for (name, params, why) in ignored {
            match recognise(&cloudtrail("aws.rds", "rds.amazonaws.com", name, params)).unwrap() {
                Recognised::Ignored(reason) => assert!(reason.contains(why), "{reason}"),
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    #[test]
    fn master_password_calls_are_resets_and_take_overs() {
        use crate::model::request::Action;
        let action = |source: &str, es: &str, name: &str, params: Value| match recognise(
            &cloudtrail(source, es, name, params),
        )
        .unwrap()
        {
            Recognised::Provision(r) => Some(r.action),
            _ => None,
        };
        let rds = |params| action("aws.rds", "rds.amazonaws.com", "ModifyDBInstance", params);
        assert_eq!(
            rds(json!({"dBInstanceIdentifier": "a", "masterUserPassword": "****"})),
            Some(Action::ResetPassword)
        );
        assert_eq!(
            rds(json!({"dBInstanceIdentifier": "a", "manageMasterUserPassword": true})),
            Some(Action::TakeOver)
        );
        assert_eq!(
            rds(json!({"dBInstanceIdentifier": "a", "manageMasterUserPassword": false})),
            None
        );
        assert_eq!(
            rds(
                json!({"dBInstanceIdentifier": "a", "masterUserPassword": "****", "dBPortNumber": 5433})
            ),
            Some(Action::FollowConnection),
            "a port change too: followed as one (RDS-EVENT-0016 announces the reset)"
        );
        assert_eq!(
            rds(
                json!({"dBInstanceIdentifier": "a", "masterUserPassword": "****", "newDBInstanceIdentifier": "b"})
            ),
            None,
            "a rename is never followed"
        );
        let cluster = action(
            "aws.rds",
            "rds.amazonaws.com",
            "ModifyDBCluster",
            json!({"dBClusterIdentifier": "c", "manageMasterUserPassword": true}),
        );
        assert_eq!(cluster, Some(Action::TakeOver));
        let redshift = |params| {
            action(
                "aws.redshift",
                "redshift.amazonaws.com",
                "ModifyCluster",
                params,
            )
        };
        assert_eq!(
            redshift(json!({"clusterIdentifier": "r", "masterUserPassword": "****"})),
            Some(Action::ResetPassword)
        );
        assert_eq!(
            redshift(json!({"clusterIdentifier": "r", "manageMasterPassword": true})),
            Some(Action::TakeOver)
        );
        let namespace = |params| {
            action(
                "aws.redshift-serverless",
                "redshift-serverless.amazonaws.com",
                "UpdateNamespace",
                params,
            )
        };
        assert_eq!(
            namespace(json!({"namespaceName": "ns-1", "adminUserPassword": "****"})),
            Some(Action::ResetPassword)
        );
        assert_eq!(
            namespace(json!({"namespaceName": "ns-1", "manageAdminPassword": true})),
            Some(Action::TakeOver)
        );
        assert_eq!(
            namespace(json!({"namespaceName": "ns-1", "logExports": []})),
            None
        );
    }
}

//! Event builders: every envelope the tests send is made here.

use serde_json::{json, Value};

use super::{ACCOUNT, REGION};

/// An EventBridge envelope from this account and region.
pub fn envelope(source: impl Into<Value>, detail_type: impl Into<Value>, detail: Value) -> Value {
    json!({"version": "0", "id": "evt", "source": source.into(), "detail-type": detail_type.into(),
           "account": ACCOUNT, "region": REGION, "time": "2026-10-01T00:00:00Z", "resources": [],
           "detail": detail})
}

/// A native RDS event: `kind` is `instance` or `cluster`.
pub fn rds(kind: &str, id: &str, event_code: &str) -> Value {
    let (detail_type, source_type, arn_type) = match kind {
        "instance" => ("RDS DB Instance Event", "DB_INSTANCE", "db"),
        "cluster" => ("RDS DB Cluster Event", "CLUSTER", "cluster"),
        other => panic!("unknown kind {other}"),
    };
    let arn = format!("arn:aws:rds:{REGION}:{ACCOUNT}:{arn_type}:{id}");
    let mut e = envelope(
        "aws.rds",
        detail_type,
        json!({
            "EventCategories": ["creation"],
            "SourceType": source_type,
            "SourceArn": arn,
            "Date": "2026-09-27T22:36:43.292Z",
            "Message": "created",
            "SourceIdentifier": format!("rds:{id}"),
            "EventID": event_code
        }),
    );
    e["id"] = json!(format!("evt-{id}"));
    e["resources"] = json!([arn]);
    e
}

/// An RDS "DB instance created" event.
pub fn instance_created(id: &str) -> Value {
    rds("instance", id, "RDS-EVENT-0005")
}

/// A native RDS event with a hand-made `detail`.
pub fn rds_detail(detail_type: &str, detail: Value) -> Value {
    envelope("aws.rds", detail_type, detail)
}

/// An "AWS API Call via CloudTrail" event of a successful call.
pub fn cloudtrail(source: &str, event_source: &str, name: &str, params: Value) -> Value {
    envelope(
        source,
        "AWS API Call via CloudTrail",
        json!({"eventSource": event_source, "eventName": name, "awsRegion": REGION,
               "requestParameters": params, "eventType": "AwsApiCall"}),
    )
}

/// A CloudTrail event with a hand-made `detail` (source `aws.rds`).
pub fn cloudtrail_detail(detail: Value) -> Value {
    envelope("aws.rds", "AWS API Call via CloudTrail", detail)
}

/// CloudTrail `CreateDBInstance` for `id` with master user `admin`.
pub fn create_db_instance_call(id: &str) -> Value {
    cloudtrail(
        "aws.rds",
        "rds.amazonaws.com",
        "CreateDBInstance",
        json!({"dBInstanceIdentifier": id, "masterUsername": "admin", "masterUserPassword": "****"}),
    )
}

/// CloudTrail `ModifyDBInstance` changing `id`'s port.
pub fn modify_port_call(id: &str, port: i32) -> Value {
    cloudtrail(
        "aws.rds",
        "rds.amazonaws.com",
        "ModifyDBInstance",
        json!({"dBInstanceIdentifier": id, "dBPortNumber": port, "applyImmediately": true}),
    )
}

/// CloudTrail `DeleteDBInstance` of `id`.
pub fn delete_instance_call(id: &str) -> Value {
    cloudtrail(
        "aws.rds",
        "rds.amazonaws.com",
        "DeleteDBInstance",
        json!({"dBInstanceIdentifier": id, "skipFinalSnapshot": true}),
    )
}

/// A "Database User Created" event from the default user-event source.
pub fn user(detail: Value) -> Value {
    envelope("com.example.provisioning", "Database User Created", detail)
}

/// A Redshift Serverless service event.
pub fn serverless(detail: Value, resources: Value) -> Value {
    let mut e = envelope(
        "aws.redshift-serverless",
        "Redshift Serverless Management",
        detail,
    );
    e["resources"] = resources;
    e
}

/// The scheduled event that starts the reconcile sweep.
pub fn scheduled() -> Value {
    let mut e = envelope("aws.events", "Scheduled Event", json!({}));
    e["resources"] = json!([format!(
        "arn:aws:events:{REGION}:{ACCOUNT}:rule/db-secret-provisioner-reconcile"
    )]);
    e
}

/// A sample from `events/`.
pub fn sample(file: &str) -> Value {
    let path = format!("{}/events/{file}", crate::project_dir().display());
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// A native RDS "DB instance created" event from `account` and `region`.
pub fn instance_created_in(id: &str, account: &str, region: &str) -> Value {
    let mut e = instance_created(id);
    let arn = format!("arn:aws:rds:{region}:{account}:db:{id}");
    e["account"] = json!(account);
    e["region"] = json!(region);
    e["detail"]["SourceArn"] = json!(arn);
    e["resources"] = json!([arn]);
    e
}

/// A Redshift Serverless service event from `account` and `region`.
pub fn serverless_in(detail: Value, account: &str, region: &str) -> Value {
    let mut e = serverless(detail, json!([]));
    e["account"] = json!(account);
    e["region"] = json!(region);
    e
}

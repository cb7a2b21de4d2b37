//! Event recognition: which incoming events ask for a secret, and for which database.
//!
//! Pure logic: no AWS calls. Everything that is not a trigger we know is `Ignored` with a reason
//! (the invocation succeeds and touches nothing); an event that is one of ours but malformed is
//! an [`Error::InvalidEvent`].

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// What kind of database an event points at, with its identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An RDS DB instance (RDS engines, or a DocumentDB/Aurora cluster member).
    DbInstance(String),
    /// An RDS DB cluster (Aurora, Multi-AZ DB cluster, DocumentDB).
    DbCluster(String),
}

impl Target {
    pub fn identifier(&self) -> &str {
        match self {
            Target::DbInstance(id) | Target::DbCluster(id) => id,
        }
    }

    /// A human name for messages: "DB instance", "DB cluster".
    pub fn kind(&self) -> &'static str {
        match self {
            Target::DbInstance(_) => "DB instance",
            Target::DbCluster(_) => "DB cluster",
        }
    }
}

/// The trigger family an event belongs to (logged and reported).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    RdsInstanceCreated,
    RdsClusterCreated,
    RdsInstanceRestored,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::RdsInstanceCreated => "rds-instance-created",
            Trigger::RdsClusterCreated => "rds-cluster-created",
            Trigger::RdsInstanceRestored => "rds-instance-restored",
        }
    }
}

/// A recognised request to provision a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub trigger: Trigger,
    pub target: Target,
    /// The EventBridge event id, for logs.
    pub event_id: Option<String>,
    /// Region and account of the database, from its ARN or the envelope.
    pub region: Option<String>,
    pub account: Option<String>,
}

/// The result of looking at an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recognised {
    Provision(Request),
    Ignored(String),
}

/// The native RDS events that announce a new database: (detail-type, EventID, trigger).
/// DocumentDB uses the same events; only Describe tells the engine.
const RDS_NATIVE_TRIGGERS: &[(&str, &str, Trigger)] = &[
    (
        "RDS DB Instance Event",
        "RDS-EVENT-0005",
        Trigger::RdsInstanceCreated,
    ),
    (
        "RDS DB Instance Event",
        "RDS-EVENT-0043",
        Trigger::RdsInstanceRestored,
    ),
    (
        "RDS DB Instance Event",
        "RDS-EVENT-0019",
        Trigger::RdsInstanceRestored,
    ),
    (
        "RDS DB Cluster Event",
        "RDS-EVENT-0170",
        Trigger::RdsClusterCreated,
    ),
];

/// Looks at an incoming Lambda payload.
pub fn recognise(payload: &Value) -> Result<Recognised> {
    let Some(object) = payload.as_object() else {
        return Ok(Recognised::Ignored(format!(
            "not an EventBridge event (payload is {})",
            json_kind(payload)
        )));
    };
    if !object.contains_key("detail-type") || !object.contains_key("source") {
        return Ok(Recognised::Ignored(
            "not an EventBridge event (no detail-type or source)".into(),
        ));
    }
    let envelope: EventBridgeEvent<Value> = serde_json::from_value(payload.clone())
        .map_err(|e| Error::InvalidEvent(format!("malformed EventBridge envelope: {e}")))?;

    match envelope.source.as_str() {
        "aws.rds" => recognise_rds(&envelope),
        other => Ok(Recognised::Ignored(format!(
            "no trigger for source {:?} / detail-type {:?}",
            truncate(other),
            truncate(&envelope.detail_type)
        ))),
    }
}

fn recognise_rds(envelope: &EventBridgeEvent<Value>) -> Result<Recognised> {
    let detail_type = envelope.detail_type.as_str();
    if !RDS_NATIVE_TRIGGERS
        .iter()
        .any(|(dt, _, _)| *dt == detail_type)
    {
        return Ok(Recognised::Ignored(format!(
            "no trigger for aws.rds detail-type {:?}",
            truncate(detail_type)
        )));
    }
    let detail = detail_object(envelope)?;
    let event_code = string_field(detail, "EventID")?;
    let Some(&(_, _, trigger)) = RDS_NATIVE_TRIGGERS
        .iter()
        .find(|(dt, id, _)| *dt == detail_type && *id == event_code)
    else {
        return Ok(Recognised::Ignored(format!(
            "{detail_type} {:?} does not announce a new database",
            truncate(event_code)
        )));
    };
    let cluster = detail_type == "RDS DB Cluster Event";
    let resource_type = if cluster { "cluster" } else { "db" };

    let (identifier, region, account) = match detail.get("SourceArn") {
        Some(Value::String(arn)) if !arn.is_empty() => {
            let arn = parse_arn(arn)?;
            if arn.service != "rds" || arn.resource_type != resource_type {
                return Err(Error::InvalidEvent(format!(
                    "SourceArn {:?} is not an RDS {resource_type} ARN",
                    truncate(arn.text)
                )));
            }
            (
                arn.resource_id.to_string(),
                non_empty(arn.region),
                non_empty(arn.account),
            )
        }
        Some(v) if !v.is_null() && !v.is_string() => {
            return Err(Error::InvalidEvent(format!(
                "detail.SourceArn must be a string, found {}",
                json_kind(v)
            )))
        }
        _ => {
            let id = string_field(detail, "SourceIdentifier")?;
            (
                id.strip_prefix("rds:").unwrap_or(id).to_string(),
                None,
                None,
            )
        }
    };
    validate_rds_identifier(&identifier)?;

    let target = if cluster {
        Target::DbCluster(identifier)
    } else {
        Target::DbInstance(identifier)
    };
    Ok(Recognised::Provision(Request {
        trigger,
        target,
        event_id: envelope.id.clone(),
        region: region.or_else(|| envelope.region.clone()),
        account: account.or_else(|| envelope.account.clone()),
    }))
}

/// RDS identifiers: 1–63 letters, digits and hyphens (DocumentDB and Aurora alike).
fn validate_rds_identifier(id: &str) -> Result<()> {
    if id.is_empty() || id.len() > 63 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(Error::InvalidEvent(format!(
            "{:?} is not a valid RDS identifier (1-63 letters, digits and hyphens)",
            truncate(id)
        )));
    }
    Ok(())
}

struct Arn<'a> {
    text: &'a str,
    service: &'a str,
    region: &'a str,
    account: &'a str,
    resource_type: &'a str,
    resource_id: &'a str,
}

/// Parses `arn:partition:service:region:account:type:id` (the RDS form, with `:` separators).
fn parse_arn(text: &str) -> Result<Arn<'_>> {
    let parts: Vec<&str> = text.splitn(7, ':').collect();
    match parts.as_slice() {
        ["arn", partition, service, region, account, resource_type, resource_id]
            if partition.starts_with("aws") && !resource_id.is_empty() =>
        {
            Ok(Arn {
                text,
                service,
                region,
                account,
                resource_type,
                resource_id,
            })
        }
        _ => Err(Error::InvalidEvent(format!(
            "{:?} is not an AWS ARN of the form arn:aws:service:region:account:type:id",
            truncate(text)
        ))),
    }
}

fn detail_object(envelope: &EventBridgeEvent<Value>) -> Result<&Map<String, Value>> {
    envelope.detail.as_object().ok_or_else(|| {
        Error::InvalidEvent(format!(
            "detail must be an object, found {}",
            json_kind(&envelope.detail)
        ))
    })
}

fn string_field<'a>(detail: &'a Map<String, Value>, key: &str) -> Result<&'a str> {
    match detail.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(Value::String(_)) => Err(Error::InvalidEvent(format!("detail.{key} is empty"))),
        None | Some(Value::Null) => Err(Error::InvalidEvent(format!("detail.{key} is missing"))),
        Some(v) => Err(Error::InvalidEvent(format!(
            "detail.{key} must be a string, found {}",
            json_kind(v)
        ))),
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Keeps messages about hostile input short: at most 100 characters, control characters
/// escaped by `{:?}` at the call site.
fn truncate(s: &str) -> &str {
    match s.char_indices().nth(100) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rds_event(detail_type: &str, detail: Value) -> Value {
        json!({
            "version": "0",
            "id": "68f6e973-1a0c-d37b-f2f2-94a7f62ffd4e",
            "detail-type": detail_type,
            "source": "aws.rds",
            "account": "123456789012",
            "time": "2026-09-27T22:36:43Z",
            "region": "us-east-1",
            "resources": [],
            "detail": detail
        })
    }

    fn provision(v: &Value) -> Request {
        match recognise(v).unwrap() {
            Recognised::Provision(r) => r,
            other => panic!("expected a request, got {other:?}"),
        }
    }

    #[test]
    fn instance_created_takes_the_identifier_from_the_arn() {
        let r = provision(&rds_event(
            "RDS DB Instance Event",
            json!({"EventID": "RDS-EVENT-0005", "SourceArn": "arn:aws:rds:eu-west-1:111122223333:db:orders-db",
                   "SourceIdentifier": "rds:something-else"}),
        ));
        assert_eq!(r.target, Target::DbInstance("orders-db".into()));
        assert_eq!(r.trigger, Trigger::RdsInstanceCreated);
        assert_eq!(r.region.as_deref(), Some("eu-west-1"));
        assert_eq!(r.account.as_deref(), Some("111122223333"));
        assert_eq!(
            r.event_id.as_deref(),
            Some("68f6e973-1a0c-d37b-f2f2-94a7f62ffd4e")
        );
    }

    #[test]
    fn cluster_created() {
        let r = provision(&rds_event(
            "RDS DB Cluster Event",
            json!({"EventID": "RDS-EVENT-0170", "SourceArn": "arn:aws:rds:us-east-1:123456789012:cluster:aurora-1"}),
        ));
        assert_eq!(r.target, Target::DbCluster("aurora-1".into()));
        assert_eq!(r.trigger, Trigger::RdsClusterCreated);
    }

    #[test]
    fn restores_are_creations() {
        for code in ["RDS-EVENT-0043", "RDS-EVENT-0019"] {
            let r = provision(&rds_event(
                "RDS DB Instance Event",
                json!({"EventID": code, "SourceArn": "arn:aws:rds:us-east-1:123456789012:db:restored"}),
            ));
            assert_eq!(r.trigger, Trigger::RdsInstanceRestored);
        }
    }

    #[test]
    fn falls_back_to_source_identifier_without_the_rds_prefix() {
        for sid in ["rds:legacy-db", "legacy-db"] {
            let r = provision(&rds_event(
                "RDS DB Instance Event",
                json!({"EventID": "RDS-EVENT-0005", "SourceIdentifier": sid}),
            ));
            assert_eq!(r.target, Target::DbInstance("legacy-db".into()));
            assert_eq!(r.region.as_deref(), Some("us-east-1"), "from the envelope");
        }
    }

    #[test]
    fn other_events_are_ignored() {
        let ignored = [
            json!("a string"),
            json!([1, 2]),
            json!({"hello": "world"}),
            json!({"source": "aws.ec2", "detail-type": "EC2 Instance State-change Notification", "detail": {}}),
            rds_event(
                "RDS DB Instance Event",
                json!({"EventID": "RDS-EVENT-0016", "SourceArn": "arn:aws:rds:us-east-1:1:db:x"}),
            ),
            rds_event(
                "RDS DB Cluster Event",
                json!({"EventID": "RDS-EVENT-0005", "SourceArn": "arn:aws:rds:us-east-1:1:cluster:x"}),
            ),
            rds_event(
                "RDS DB Snapshot Event",
                json!({"EventID": "RDS-EVENT-0042"}),
            ),
        ];
        for e in ignored {
            match recognise(&e).unwrap() {
                Recognised::Ignored(reason) => assert!(!reason.is_empty()),
                other => panic!("{e}: expected ignored, got {other:?}"),
            }
        }
    }

    #[test]
    fn malformed_trigger_events_are_invalid() {
        let cases = [
            (
                rds_event("RDS DB Instance Event", json!("text")),
                "detail must be an object",
            ),
            (
                rds_event(
                    "RDS DB Instance Event",
                    json!({"SourceArn": "arn:aws:rds:us-east-1:1:db:x"}),
                ),
                "EventID is missing",
            ),
            (
                rds_event("RDS DB Instance Event", json!({"EventID": 5})),
                "EventID must be a string",
            ),
            (
                rds_event(
                    "RDS DB Instance Event",
                    json!({"EventID": "RDS-EVENT-0005"}),
                ),
                "SourceIdentifier is missing",
            ),
            (
                rds_event(
                    "RDS DB Instance Event",
                    json!({"EventID": "RDS-EVENT-0005", "SourceArn": "arn:aws:s3:::bucket"}),
                ),
                "not an AWS ARN",
            ),
            (
                rds_event(
                    "RDS DB Instance Event",
                    json!({"EventID": "RDS-EVENT-0005", "SourceArn": "arn:aws:rds:us-east-1:1:cluster:x"}),
                ),
                "not an RDS db ARN",
            ),
            (
                rds_event(
                    "RDS DB Instance Event",
                    json!({"EventID": "RDS-EVENT-0005", "SourceArn": "arn:aws:rds:us-east-1:1:db:bad/name"}),
                ),
                "not a valid RDS identifier",
            ),
            (
                rds_event(
                    "RDS DB Instance Event",
                    json!({"EventID": "RDS-EVENT-0005", "SourceArn": 7}),
                ),
                "SourceArn must be a string",
            ),
            (
                json!({"source": 1, "detail-type": "x", "detail": {}}),
                "malformed EventBridge envelope",
            ),
        ];
        for (event, needle) in cases {
            let err = recognise(&event).unwrap_err();
            assert_eq!(err.error_type(), "InvalidEvent");
            assert!(err.to_string().contains(needle), "{event}: {err}");
        }
    }

    #[test]
    fn other_partitions_are_accepted() {
        let r = provision(&rds_event(
            "RDS DB Instance Event",
            json!({"EventID": "RDS-EVENT-0005", "SourceArn": "arn:aws-cn:rds:cn-north-1:123456789012:db:cn-db"}),
        ));
        assert_eq!(r.region.as_deref(), Some("cn-north-1"));
    }
}

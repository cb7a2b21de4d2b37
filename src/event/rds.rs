//! Native RDS events (`source: aws.rds`), also sent for DocumentDB and Neptune: only Describe
//! tells those apart.

use serde_json::{Map, Value};

use super::fields::{json_kind, string_field, Envelope};
use super::{Action, Recognised, Request, Trigger, TriggerRow};
use crate::model::error::{Error, Result};
use crate::model::identifiers::{clip, Arn, RdsIdentifier};
use crate::model::Target;

const INSTANCE_EVENT: &str = "RDS DB Instance Event";
const CLUSTER_EVENT: &str = "RDS DB Cluster Event";

/// One native RDS event we act on.
struct RdsEvent {
    detail_type: &'static str,
    event_id: &'static str,
    trigger: Trigger,
    action: Action,
}

/// The native RDS events that announce a new or a deleted database, or a reset master password.
/// AWS's "event categories and event messages" tables: 0005 "DB instance created", 0043 / 0019
/// restored, 0170 "DB cluster created", 0003 "DB instance deleted", 0171 "DB cluster deleted",
/// and 0016 "Reset master credentials." (configuration change), in both the instance and the
/// cluster table. Renames (0172
/// cluster renamed) and Blue/Green events (0244–0261, e.g. 0247/0248 switchover) are not
/// triggers: a renamed database is a new identifier.
#[rustfmt::skip]
const TRIGGERS: &[RdsEvent] = &[
    RdsEvent { detail_type: INSTANCE_EVENT, event_id: "RDS-EVENT-0005", trigger: Trigger::RdsInstanceCreated,  action: Action::Provision },
    RdsEvent { detail_type: INSTANCE_EVENT, event_id: "RDS-EVENT-0043", trigger: Trigger::RdsInstanceRestored, action: Action::Provision },
    RdsEvent { detail_type: INSTANCE_EVENT, event_id: "RDS-EVENT-0019", trigger: Trigger::RdsInstanceRestored, action: Action::Provision },
    RdsEvent { detail_type: CLUSTER_EVENT,  event_id: "RDS-EVENT-0170", trigger: Trigger::RdsClusterCreated,   action: Action::Provision },
    RdsEvent { detail_type: INSTANCE_EVENT, event_id: "RDS-EVENT-0003", trigger: Trigger::RdsInstanceDeleted,  action: Action::Retire },
    RdsEvent { detail_type: CLUSTER_EVENT,  event_id: "RDS-EVENT-0171", trigger: Trigger::RdsClusterDeleted,   action: Action::Retire },
    RdsEvent { detail_type: INSTANCE_EVENT, event_id: "RDS-EVENT-0016", trigger: Trigger::RdsInstancePasswordReset, action: Action::ResetPassword },
    RdsEvent { detail_type: CLUSTER_EVENT,  event_id: "RDS-EVENT-0016", trigger: Trigger::RdsClusterPasswordReset,  action: Action::ResetPassword },
];

pub(super) fn rows() -> Vec<TriggerRow> {
    TRIGGERS
        .iter()
        .map(|e| TriggerRow {
            name: e.trigger.as_str(),
            source: Some("aws.rds"),
            detail_type: e.detail_type,
            detail: vec![("EventID", e.event_id)],
        })
        .collect()
}

/// The `detail` of an RDS event, as AWS documents it (the fields used here; `SourceIdentifier`
/// is read only when `SourceArn` is missing).
struct RdsDetail<'a> {
    event_id: &'a str,
    source_arn: Option<&'a str>,
}

impl<'a> RdsDetail<'a> {
    fn read(detail: &'a Map<String, Value>) -> Result<Self> {
        let source_arn = match detail.get("SourceArn") {
            Some(Value::String(arn)) if !arn.is_empty() => Some(arn.as_str()),
            Some(v) if !v.is_null() && !v.is_string() => {
                return Err(Error::InvalidEvent(format!(
                    "detail.SourceArn must be a string, found {}",
                    json_kind(v)
                )))
            }
            _ => None,
        };
        Ok(RdsDetail {
            event_id: string_field(detail, "EventID")?,
            source_arn,
        })
    }
}

pub(super) fn recognise(envelope: &Envelope<'_>) -> Result<Recognised> {
    let detail_type = envelope.detail_type.as_str();
    if !TRIGGERS.iter().any(|e| e.detail_type == detail_type) {
        return Ok(Recognised::Ignored(format!(
            "no trigger for aws.rds detail-type {:?}",
            clip(detail_type)
        )));
    }
    let detail = envelope.detail_object()?;
    let typed = RdsDetail::read(detail)?;
    let Some(event) = TRIGGERS
        .iter()
        .find(|e| e.detail_type == detail_type && e.event_id == typed.event_id)
    else {
        return Ok(Recognised::Ignored(format!(
            "{detail_type} {:?} announces neither a new nor a deleted database",
            clip(typed.event_id)
        )));
    };
    let cluster = detail_type == CLUSTER_EVENT;
    let resource_type = if cluster { "cluster" } else { "db" };

    let mut from_arn = (None, None);
    let identifier = match typed.source_arn {
        Some(text) => {
            let arn = Arn::parse(text)?;
            if arn.service != "rds" || arn.resource_type != resource_type {
                return Err(Error::InvalidEvent(format!(
                    "SourceArn {:?} is not an RDS {resource_type} ARN",
                    clip(arn.text)
                )));
            }
            from_arn = (Some(arn.account), Some(arn.region));
            arn.resource_id.to_string()
        }
        None => {
            let id = string_field(detail, "SourceIdentifier")?;
            id.strip_prefix("rds:").unwrap_or(id).to_string()
        }
    };
    let identifier = RdsIdentifier::parse(&identifier)?;

    let target = if cluster {
        Target::DbCluster(identifier)
    } else {
        Target::DbInstance(identifier)
    };
    let request = Request::new(event.trigger, event.action, target, envelope);
    request.claim("detail.SourceArn", from_arn.0, from_arn.1)?;
    Ok(Recognised::Provision(request))
}

#[cfg(test)]
mod tests {
    use super::super::{recognise, Recognised, Request, Trigger};
    use crate::model::Target;
    use serde_json::{json, Value};

    pub(crate) fn rds_event(detail_type: &str, detail: Value) -> Value {
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
        let mut e = rds_event(
            "RDS DB Instance Event",
            json!({"EventID": "RDS-EVENT-0005", "SourceArn": "arn:aws:rds:eu-west-1:111122223333:db:orders-db",
                   "SourceIdentifier": "rds:something-else"}),
        );
        e["account"] = json!("111122223333");
        e["region"] = json!("eu-west-1");
        let r = provision(&e);
        assert_eq!(r.target, Target::DbInstance("orders-db".into()));
        assert_eq!(r.trigger, Trigger::RdsInstanceCreated);
        assert_eq!(r.location.region.as_deref(), Some("eu-west-1"));
        assert_eq!(r.location.account.as_deref(), Some("111122223333"));
        assert_eq!(r.source, "aws.rds");
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
    fn a_password_reset_is_a_reset_for_instances_and_clusters() {
        use crate::model::request::Action;
        for (detail_type, arn, target, trigger) in [
            (
                "RDS DB Instance Event",
                "arn:aws:rds:us-east-1:123456789012:db:orders",
                Target::DbInstance("orders".into()),
                Trigger::RdsInstancePasswordReset,
            ),
            (
                "RDS DB Cluster Event",
                "arn:aws:rds:us-east-1:123456789012:cluster:aurora-1",
                Target::DbCluster("aurora-1".into()),
                Trigger::RdsClusterPasswordReset,
            ),
        ] {
            let r = provision(&rds_event(
                detail_type,
                json!({"EventID": "RDS-EVENT-0016", "SourceArn": arn, "Message": "Reset master credentials."}),
            ));
            assert_eq!(
                (r.target, r.trigger, r.action),
                (target, trigger, Action::ResetPassword)
            );
            assert!(r.time.is_some(), "the envelope's time is the reset's");
        }
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
            assert_eq!(
                r.location.region.as_deref(),
                Some("us-east-1"),
                "from the envelope"
            );
        }
    }

    #[test]
    fn other_partitions_are_accepted() {
        let mut e = rds_event(
            "RDS DB Instance Event",
            json!({"EventID": "RDS-EVENT-0005", "SourceArn": "arn:aws-cn:rds:cn-north-1:123456789012:db:cn-db"}),
        );
        e["region"] = json!("cn-north-1");
        assert_eq!(provision(&e).location.region.as_deref(), Some("cn-north-1"));
    }

    #[test]
    fn a_source_arn_of_another_account_or_region_is_untrusted() {
        for arn in [
            "arn:aws:rds:us-east-1:999999999999:db:orders-db",
            "arn:aws:rds:eu-west-1:123456789012:db:orders-db",
        ] {
            let e = recognise(&rds_event(
                "RDS DB Instance Event",
                json!({"EventID": "RDS-EVENT-0005", "SourceArn": arn}),
            ))
            .unwrap_err();
            assert_eq!(e.error_type(), "UntrustedEvent", "{arn}");
            assert!(e.to_string().contains("SourceArn"), "{e}");
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
}

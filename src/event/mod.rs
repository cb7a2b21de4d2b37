//! Event recognition (pure, no AWS calls): which incoming events ask for work, and for which
//! database. One file per trigger family: [`rds`] (native RDS events), [`cloudtrail`] (API
//! calls), [`serverless`] (Redshift Serverless), [`user`] ("Database User Created"),
//! [`schedule`] (the reconcile sweep).
//!
//! Everything that is not a trigger we know is `Ignored` with a reason (the invocation succeeds
//! and touches nothing); an event that is one of ours but malformed is an
//! [`Error::InvalidEvent`].

mod cloudtrail;
mod fields;
mod rds;
pub mod resolve;
mod schedule;
mod serverless;
mod user;

use serde_json::Value;

pub use crate::model::request::UserSpec;
pub use fields::json_kind;
use fields::Envelope;

use crate::model::error::{Error, Result};
use crate::model::identifiers::clip;
use crate::model::{Location, Target};

pub const CLOUDTRAIL_DETAIL_TYPE: &str = "AWS API Call via CloudTrail";
pub const USER_CREATED_DETAIL_TYPE: &str = "Database User Created";
pub const SCHEDULED_DETAIL_TYPE: &str = "Scheduled Event";
pub const SERVERLESS_WORKGROUP_CREATED: &str = "REDSHIFT-SERVERLESS-EVENT-1008";
pub const SERVERLESS_WORKGROUP_DELETED: &str = "REDSHIFT-SERVERLESS-EVENT-1009";

pub use crate::model::request::{Action, Request, Trigger};

impl Request {
    /// A request of `trigger`, asking for its table row's `action`.
    fn new(trigger: Trigger, action: Action, target: Target, envelope: &Envelope<'_>) -> Self {
        Request {
            trigger,
            action,
            target,
            source: envelope.source.clone(),
            location: envelope.location(),
            wait: false,
            master_username_hint: None,
            user: None,
            restore: None,
            port: None,
            time: envelope.time,
        }
    }
}

impl Request {
    /// Checks what `field` says of the database's account and region against the envelope's:
    /// a value that differs is an `UntrustedEvent` (an event speaks for one account and
    /// region). The envelope stays the authority: a field never fills in an account or region
    /// the envelope lacks.
    fn claim(&self, field: &str, account: Option<&str>, region: Option<&str>) -> Result<()> {
        for (what, claimed, known) in [
            ("account", account, &self.location.account),
            ("region", region, &self.location.region),
        ] {
            match (claimed.filter(|c| !c.is_empty()), known) {
                (Some(c), Some(k)) if c != k => {
                    return Err(Error::UntrustedEvent(format!(
                        "{field} names {what} {:?}, but the event comes from {what} {k:?}",
                        clip(c)
                    )))
                }
                (Some(c), None) => {
                    return Err(Error::UntrustedEvent(format!(
                        "{field} names {what} {:?}, but the event names none",
                        clip(c)
                    )))
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// The result of looking at an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recognised {
    Provision(Request),
    /// A scheduled event: run the reconcile sweep.
    Sweep(Location),
    /// A direct invocation settling a flagged secret.
    Resolve(resolve::Resolve),
    Ignored(String),
}

/// One row of the trigger table: how EventBridge recognises a trigger's events. The deployment
/// checks compare the template's and the CDK app's rules with these rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerRow {
    /// A trigger name, or `reconcile-sweep`.
    pub name: &'static str,
    /// The event `source`; `None` for the user events, whose source is configured.
    pub source: Option<&'static str>,
    pub detail_type: &'static str,
    /// The `detail` keys and values that single the trigger out.
    pub detail: Vec<(&'static str, &'static str)>,
}

/// Every trigger the code acts on, family by family.
pub fn trigger_table() -> Vec<TriggerRow> {
    let mut rows = rds::rows();
    rows.extend(cloudtrail::rows());
    rows.extend(serverless::rows());
    rows.extend(user::rows());
    rows.extend(schedule::rows());
    rows
}

/// Looks at an incoming Lambda payload.
pub fn recognise(payload: &Value) -> Result<Recognised> {
    let Some(object) = payload.as_object() else {
        return Ok(Recognised::Ignored(format!(
            "not an EventBridge event (payload is {})",
            json_kind(payload)
        )));
    };
    if object.contains_key("action") && !object.contains_key("source") {
        return resolve::recognise(object);
    }
    if !object.contains_key("detail-type") || !object.contains_key("source") {
        return Ok(Recognised::Ignored(
            "not an EventBridge event (no detail-type or source)".into(),
        ));
    }
    let envelope = Envelope::read(object)?;
    if envelope.detail_type == USER_CREATED_DETAIL_TYPE {
        return user::recognise(&envelope);
    }
    if envelope.detail_type == CLOUDTRAIL_DETAIL_TYPE {
        return cloudtrail::recognise(&envelope);
    }
    if let Some(sweep) = schedule::recognise(&envelope) {
        return Ok(sweep);
    }
    match envelope.source.as_str() {
        "aws.rds" => rds::recognise(&envelope),
        "aws.redshift-serverless" => serverless::recognise(&envelope),
        other => Ok(Recognised::Ignored(format!(
            "no trigger for source {:?} / detail-type {:?}",
            clip(other),
            clip(&envelope.detail_type)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rds_event(detail_type: &str, detail: Value) -> Value {
        json!({"id": "e", "detail-type": detail_type, "source": "aws.rds", "account": "123456789012",
               "region": "us-east-1", "resources": [], "detail": detail})
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
                json!({"EventID": "RDS-EVENT-0017", "SourceArn": "arn:aws:rds:us-east-1:1:db:x"}),
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
    fn scheduled_events_start_the_sweep_where_they_were_sent() {
        for source in ["aws.events", "aws.scheduler"] {
            let e = json!({"source": source, "detail-type": "Scheduled Event", "account": "123456789012",
                           "region": "eu-west-1", "detail": {}});
            assert_eq!(
                recognise(&e).unwrap(),
                Recognised::Sweep(Location {
                    account: Some("123456789012".into()),
                    region: Some("eu-west-1".into())
                })
            );
        }
        let forged =
            json!({"source": "com.example", "detail-type": "Scheduled Event", "detail": {}});
        assert!(matches!(
            recognise(&forged).unwrap(),
            Recognised::Ignored(_)
        ));
    }

    #[test]
    fn the_trigger_table_names_every_trigger_once() {
        let rows = trigger_table();
        for t in [
            Trigger::RdsInstanceCreated,
            Trigger::RdsClusterCreated,
            Trigger::RdsInstanceRestored,
            Trigger::CloudTrailCreateDbInstance,
            Trigger::CloudTrailCreateDbCluster,
            Trigger::CloudTrailCreateRedshiftCluster,
            Trigger::CloudTrailCreateWorkgroup,
            Trigger::ServerlessWorkgroupCreated,
            Trigger::DatabaseUserCreated,
            Trigger::RdsInstanceDeleted,
            Trigger::RdsClusterDeleted,
            Trigger::ServerlessWorkgroupDeleted,
            Trigger::CloudTrailModifyDbInstance,
            Trigger::CloudTrailModifyDbCluster,
            Trigger::CloudTrailModifyRedshiftCluster,
            Trigger::CloudTrailUpdateWorkgroup,
            Trigger::CloudTrailDeleteDbInstance,
            Trigger::CloudTrailDeleteDbCluster,
            Trigger::CloudTrailDeleteRedshiftCluster,
            Trigger::CloudTrailDeleteWorkgroup,
        ] {
            assert!(rows.iter().any(|r| r.name == t.as_str()), "{t:?}");
        }
        assert!(rows.iter().any(|r| r.name == "reconcile-sweep"));
    }

    #[test]
    fn deletion_events_ask_for_retirement() {
        let instance = rds_event(
            "RDS DB Instance Event",
            json!({"EventID": "RDS-EVENT-0003", "SourceArn": "arn:aws:rds:us-east-1:123456789012:db:orders"}),
        );
        let cluster = rds_event(
            "RDS DB Cluster Event",
            json!({"EventID": "RDS-EVENT-0171", "SourceArn": "arn:aws:rds:us-east-1:123456789012:cluster:orders"}),
        );
        let workgroup = json!({"id": "e", "source": "aws.redshift-serverless",
            "detail-type": "Redshift Serverless Management", "account": "123456789012",
            "region": "us-east-1", "resources": [],
            "detail": {"eventId": "REDSHIFT-SERVERLESS-EVENT-1009", "workgroupName": "bi-wg"}});
        for (e, trigger, target) in [
            (
                instance,
                Trigger::RdsInstanceDeleted,
                Target::DbInstance("orders".into()),
            ),
            (
                cluster,
                Trigger::RdsClusterDeleted,
                Target::DbCluster("orders".into()),
            ),
            (
                workgroup,
                Trigger::ServerlessWorkgroupDeleted,
                Target::Workgroup("bi-wg".into()),
            ),
        ] {
            match recognise(&e).unwrap() {
                Recognised::Provision(r) => {
                    assert_eq!(
                        (r.trigger, r.action, r.target),
                        (trigger, Action::Retire, target)
                    );
                    assert!(!r.wait);
                }
                other => panic!("{e}: {other:?}"),
            }
        }
        let by_arn_only = json!({"id": "e", "source": "aws.redshift-serverless",
            "detail-type": "Redshift Serverless Management", "account": "123456789012",
            "region": "us-east-1",
            "resources": ["arn:aws:redshift-serverless:us-east-1:123456789012:workgroup/0f8c2b1e"],
            "detail": {"eventId": "REDSHIFT-SERVERLESS-EVENT-1009"}});
        assert!(matches!(
            recognise(&by_arn_only).unwrap(),
            Recognised::Ignored(_)
        ));
    }
}

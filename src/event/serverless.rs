//! Redshift Serverless native events. REDSHIFT-SERVERLESS-EVENT-1008 ("workgroup … has been
//! created and is ready for use") and REDSHIFT-SERVERLESS-EVENT-1009 (workgroup deleted) are
//! triggers. Their `detail` is not publicly documented, so the
//! event id is looked for in any top-level detail value, and the workgroup is taken from (in
//! order) `detail.workgroupName` / `WorkgroupName` / `workgroup-name`, then a
//! `…:workgroup/<name or id>` ARN in `resources` or `detail.SourceArn`/`resourceArn`.

use serde_json::Value;

use super::fields::Envelope;
use super::{
    Action, Recognised, Request, Trigger, TriggerRow, SERVERLESS_WORKGROUP_CREATED,
    SERVERLESS_WORKGROUP_DELETED,
};
use crate::model::error::{Error, Result};
use crate::model::identifiers::{clip, Arn, WorkgroupName};
use crate::model::Target;

/// The detail-type EventBridge gives the service's own events.
pub const SERVERLESS_DETAIL_TYPE: &str = "Redshift Serverless Management";

/// One native event we act on.
struct ServerlessEvent {
    event_id: &'static str,
    trigger: Trigger,
    action: Action,
}

#[rustfmt::skip]
const EVENTS: &[ServerlessEvent] = &[
    ServerlessEvent { event_id: SERVERLESS_WORKGROUP_CREATED, trigger: Trigger::ServerlessWorkgroupCreated, action: Action::Provision },
    ServerlessEvent { event_id: SERVERLESS_WORKGROUP_DELETED, trigger: Trigger::ServerlessWorkgroupDeleted, action: Action::Retire },
];

pub(super) fn rows() -> Vec<TriggerRow> {
    EVENTS
        .iter()
        .map(|e| TriggerRow {
            name: e.trigger.as_str(),
            source: Some("aws.redshift-serverless"),
            detail_type: SERVERLESS_DETAIL_TYPE,
            detail: vec![("eventId", e.event_id)],
        })
        .collect()
}

pub(super) fn recognise(envelope: &Envelope<'_>) -> Result<Recognised> {
    let detail = envelope.detail_object()?;
    let Some(event) = EVENTS
        .iter()
        .find(|e| detail.values().any(|v| v.as_str() == Some(e.event_id)))
    else {
        return Ok(Recognised::Ignored(format!(
            "aws.redshift-serverless {:?} is neither {SERVERLESS_WORKGROUP_CREATED} (workgroup created) nor {SERVERLESS_WORKGROUP_DELETED} (deleted)",
            clip(&envelope.detail_type)
        )));
    };
    let by_name = ["workgroupName", "WorkgroupName", "workgroup-name"]
        .iter()
        .find_map(|k| detail.get(*k).and_then(Value::as_str))
        .filter(|n| !n.is_empty());
    let mut claimed = (None, None);
    let target = match by_name {
        Some(name) => Target::Workgroup(WorkgroupName::parse(name)?),
        None => {
            let in_detail = ["SourceArn", "resourceArn"]
                .iter()
                .filter_map(|k| detail.get(*k).and_then(Value::as_str));
            let arn = envelope
                .resources
                .iter()
                .map(String::as_str)
                .chain(in_detail)
                .find(|a| a.contains(":workgroup/"))
                .ok_or_else(|| {
                    Error::InvalidEvent(format!(
                        "{} event names no workgroup (no detail.workgroupName, no workgroup ARN in resources)",
                        event.event_id
                    ))
                })?;
            let parsed = Arn::parse(arn)?;
            if parsed.service != "redshift-serverless" || arn.len() > 2048 {
                return Err(Error::InvalidEvent(format!(
                    "{:?} is not a Redshift Serverless ARN",
                    clip(arn)
                )));
            }
            claimed = (Some(parsed.account), Some(parsed.region));
            if event.action == Action::Retire {
                // The ARN carries the workgroup's id, and a deleted workgroup can no longer be
                // looked up by it: its secrets (tagged by name) are left to the sweep.
                return Ok(Recognised::Ignored(format!(
                    "{} names the workgroup only by its ARN; the reconcile sweep retires its secrets",
                    event.event_id
                )));
            }
            Target::WorkgroupArn(arn.to_string())
        }
    };
    let request = Request::new(event.trigger, event.action, target, envelope);
    request.claim("the workgroup ARN", claimed.0, claimed.1)?;
    Ok(Recognised::Provision(request))
}

#[cfg(test)]
mod tests {
    use super::super::{recognise, Recognised};
    use crate::model::Target;
    use serde_json::{json, Value};

    fn envelope(detail_type: &str, detail: Value) -> Value {
        json!({"id": "e", "source": "aws.redshift-serverless", "detail-type": detail_type,
               "account": "123456789012", "region": "us-east-1", "resources": [], "detail": detail})
    }

    fn target(v: &Value) -> Target {
        match recognise(v).unwrap() {
            Recognised::Provision(r) => {
                assert!(!r.wait);
                r.target
            }
            other => panic!("expected a request, got {other:?}"),
        }
    }

    #[test]
    fn serverless_native_event_by_name_or_arn() {
        assert_eq!(
            target(&envelope(
                "Redshift Serverless Management",
                json!({"eventId": "REDSHIFT-SERVERLESS-EVENT-1008", "workgroupName": "bi-wg"}),
            )),
            Target::Workgroup("bi-wg".into())
        );
        let mut e = envelope(
            "Redshift Serverless Management",
            json!({"EventID": "REDSHIFT-SERVERLESS-EVENT-1008"}),
        );
        e["resources"] =
            json!(["arn:aws:redshift-serverless:us-east-1:123456789012:workgroup/0f8c2b1e-6a3d"]);
        assert_eq!(
            target(&e),
            Target::WorkgroupArn(
                "arn:aws:redshift-serverless:us-east-1:123456789012:workgroup/0f8c2b1e-6a3d".into()
            )
        );
        let other = envelope(
            "Redshift Serverless Monitoring",
            json!({"eventId": "REDSHIFT-SERVERLESS-EVENT-1003"}),
        );
        assert!(matches!(recognise(&other).unwrap(), Recognised::Ignored(_)));
        let nameless = envelope(
            "Redshift Serverless Management",
            json!({"eventId": "REDSHIFT-SERVERLESS-EVENT-1008"}),
        );
        assert_eq!(
            recognise(&nameless).unwrap_err().error_type(),
            "InvalidEvent"
        );
    }
}

//! The work queue's one message type (hub mode): "sweep this account-region", written by the
//! planner and read by the worker. Its body has exactly this schema:
//! `{"v":1,"account":"…","region":"…","planId":"…","plannedAt":"YYYY-MM-DDThh:mm:ssZ"}`;
//! anything else is not a place message.

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::model::error::{Error, Result};
use crate::model::identifiers::{is_account_id, is_region};
use crate::model::timestamp;

/// The schema version the planner writes and the worker accepts.
pub const VERSION: u8 = 1;
/// A message planned longer ago than this is dropped: a later plan covers its place (the
/// queue keeps a message 1 day).
pub const MAX_AGE: Duration = Duration::from_secs(24 * 3600);
/// How far ahead of the worker's clock `plannedAt` may be (clock skew); further is not ours.
pub const MAX_AHEAD: Duration = Duration::from_secs(5 * 60);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PlaceMessage {
    pub v: u8,
    pub account: String,
    pub region: String,
    /// The plan's id: the scheduled event's id (in STS session-name characters), which is also
    /// the member session's name, so the member's CloudTrail shows which plan acted.
    pub plan_id: String,
    pub planned_at: String,
}

/// A place message SQS did not enqueue (`SendMessageBatchResult.Failed`): its batch entry id,
/// AWS's error code, and whether "the error happened due to the caller of the batch API action"
/// (`SenderFault`, API_BatchResultErrorEntry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedEntry {
    pub id: String,
    pub code: String,
    pub sender_fault: bool,
}

/// What the worker makes of a message's age.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    Fresh,
    /// Older than [`MAX_AGE`]: dropped, the next plan takes the place up.
    Stale,
}

impl PlaceMessage {
    pub fn new(account: &str, region: &str, plan_id: &str, planned_at: SystemTime) -> Self {
        PlaceMessage {
            v: VERSION,
            account: account.to_string(),
            region: region.to_string(),
            plan_id: plan_id.to_string(),
            planned_at: timestamp::rfc3339(planned_at),
        }
    }

    pub fn to_body(&self) -> String {
        serde_json::to_string(self).expect("a place message serialises")
    }

    /// Reads a body of exactly the schema (no other key, each value well formed); anything
    /// else is `UntrustedEvent`. The error never quotes the body.
    pub fn parse(body: &str) -> Result<PlaceMessage> {
        let m: PlaceMessage = serde_json::from_str(body).map_err(|e| {
            Error::UntrustedEvent(format!(
                "the message body is not a place message ({}, line {} column {})",
                category(&e),
                e.line(),
                e.column()
            ))
        })?;
        let field = |name: &str, ok: bool| {
            if ok {
                Ok(())
            } else {
                Err(Error::UntrustedEvent(format!(
                    "the place message's {name} is not well formed"
                )))
            }
        };
        field("v", m.v == VERSION)?;
        field("account", is_account_id(&m.account))?;
        field("region", is_region(&m.region))?;
        field(
            "planId",
            (1..=64).contains(&m.plan_id.len())
                && m.plan_id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)),
        )?;
        field(
            "plannedAt",
            timestamp::parse(&m.planned_at).is_some() && m.planned_at.contains('T'),
        )?;
        Ok(m)
    }

    /// Whether the message is still worth sweeping at `now`; a `plannedAt` further ahead than
    /// [`MAX_AHEAD`] is `UntrustedEvent` (it would never go stale).
    pub fn freshness(&self, now: SystemTime) -> Result<Freshness> {
        let planned = timestamp::parse(&self.planned_at).ok_or_else(|| {
            Error::UntrustedEvent("the place message's plannedAt is not well formed".into())
        })?;
        match now.duration_since(planned) {
            Ok(age) if age > MAX_AGE => Ok(Freshness::Stale),
            Ok(_) => Ok(Freshness::Fresh),
            Err(ahead) if ahead.duration() <= MAX_AHEAD => Ok(Freshness::Fresh),
            Err(_) => Err(Error::UntrustedEvent(format!(
                "the place message's plannedAt {} is in the future",
                self.planned_at
            ))),
        }
    }
}

/// serde_json's error class, without its text (which may quote the input).
fn category(e: &serde_json::Error) -> &'static str {
    use serde_json::error::Category;
    match e.classify() {
        Category::Io => "unreadable",
        Category::Syntax | Category::Eof => "not JSON",
        Category::Data => "other keys or values",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> SystemTime {
        timestamp::parse(text).unwrap()
    }

    #[test]
    fn the_planner_writes_what_the_worker_reads() {
        let m = PlaceMessage::new(
            "111111111111",
            "eu-west-1",
            "6a7e8feb-b491",
            at("2026-12-04T05:00:00Z"),
        );
        let body = m.to_body();
        assert_eq!(
            body,
            r#"{"v":1,"account":"111111111111","region":"eu-west-1","planId":"6a7e8feb-b491","plannedAt":"2026-12-04T05:00:00Z"}"#
        );
        assert_eq!(PlaceMessage::parse(&body).unwrap(), m);
    }

    #[test]
    fn anything_but_the_exact_schema_is_untrusted() {
        let good = r#"{"v":1,"account":"111111111111","region":"eu-west-1","planId":"p1","plannedAt":"2026-12-04T05:00:00Z"}"#;
        assert!(PlaceMessage::parse(good).is_ok());
        for body in [
            "",
            "sweep",
            "[]",
            "{}",
            r#"{"version":"0","id":"e","detail-type":"RDS DB Instance Event","source":"aws.rds","account":"111111111111","region":"eu-west-1","detail":{}}"#,
            &good.replace(r#""v":1"#, r#""v":2"#),
            &good.replace(r#""v":1"#, r#""v":"1""#),
            &good.replace("111111111111", "11111111111"),
            &good.replace("eu-west-1", "eu west 1"),
            &good.replace(r#""p1""#, r#""p/1""#),
            &good.replace(r#""p1""#, r#""""#),
            &good.replace("2026-12-04T05:00:00Z", "2026-12-04"),
            &good.replace("2026-12-04T05:00:00Z", "yesterday"),
            &good.replace('}', r#","extra":true}"#),
            &good.replace(r#","planId":"p1""#, ""),
            &good.replace('}', r#","account":"222222222222"}"#),
        ] {
            let e = PlaceMessage::parse(body).unwrap_err();
            assert_eq!(e.error_type(), "UntrustedEvent", "{body}");
            assert!(!body.is_empty() || e.to_string().contains("not JSON"));
            if body.len() > 4 {
                assert!(!e.to_string().contains(&body[..body.len().min(40)]), "{e}");
            }
        }
    }

    #[test]
    fn a_day_old_plan_is_stale_and_a_future_one_untrusted() {
        let m = PlaceMessage::new("111111111111", "eu-west-1", "p", at("2026-12-04T05:00:00Z"));
        assert_eq!(
            m.freshness(at("2026-12-04T05:00:00Z")).unwrap(),
            Freshness::Fresh
        );
        assert_eq!(
            m.freshness(at("2026-12-05T05:00:00Z")).unwrap(),
            Freshness::Fresh
        );
        assert_eq!(
            m.freshness(at("2026-12-05T05:00:01Z")).unwrap(),
            Freshness::Stale
        );
        assert_eq!(
            m.freshness(at("2026-12-04T04:56:00Z")).unwrap(),
            Freshness::Fresh
        );
        assert_eq!(
            m.freshness(at("2026-12-04T04:50:00Z"))
                .unwrap_err()
                .error_type(),
            "UntrustedEvent"
        );
    }
}

//! A restore call recorded by CloudTrail (`RestoreDBInstanceFromDBSnapshot`,
//! `…ToPointInTime`, `RestoreDBClusterFromSnapshot`, `…ToPointInTime`, Redshift
//! `RestoreFromClusterSnapshot`, Serverless `RestoreFromSnapshot`). The restored database
//! does not exist yet, and nothing waits for it: each of the function's secrets for the
//! database's name is tagged with a restore hint (when, and what it restores from), which the
//! availability event or the sweep reads. A hint only ever makes the function keep a value or
//! flag it, never write a password. A Serverless restore goes into a live namespace: its live
//! secrets now hold a password the namespace may no longer have, so they are tagged stale and
//! flagged at once.

use std::time::SystemTime;

use futures_util::future::try_join_all;
use tracing::warn;

use super::create::remedy;
use super::Job;
use crate::aws::secrets;
use crate::event::Request;
use crate::model::database_tag::DatabaseTag;
use crate::model::error::Result;
use crate::model::outcome::{Outcome, OutcomeKind};
use crate::model::restore_hint::{RestoreHint, RestorePoint};
use crate::model::secret::SecretState;
use crate::model::tags;
use crate::model::timestamp;
use crate::model::Target;

impl Job {
    /// Tags the restore hint on the database's secrets (or, for a Serverless restore, tags
    /// its live secrets stale).
    pub async fn hint_restore(&self, request: &Request) -> Result<Outcome> {
        let region = Some(self.place.region.as_str());
        let candidates = DatabaseTag::candidates(&request.target);
        let found = try_join_all(candidates.iter().map(|t| {
            let key = t.to_string();
            async move { secrets::list_owned(&self.clients.secrets, Some(&key)).await }
        }))
        .await?;
        let mine: Vec<SecretState> = found
            .into_iter()
            .flatten()
            .filter(|s| self.is_ours_here(s, region))
            .collect();
        let service = candidates.first().map_or("", |t| t.service.as_str());
        let identifier = request.target.identifier();
        let about = |kind| Outcome::about_named(kind, service, identifier, &self.place);
        if mine.is_empty() {
            return Ok(about(OutcomeKind::Unchanged).with_reason(format!(
                "{} is being restored; the function has no secret for it yet (the availability event or the sweep provisions it)",
                request.target
            )));
        }
        let now = SystemTime::now();
        let in_place = matches!(
            request.target,
            Target::Workgroup(_) | Target::WorkgroupArn(_)
        );
        let (live, hinted): (Vec<&SecretState>, Vec<&SecretState>) =
            mine.iter().partition(|s| in_place && !s.is_retired());
        let hint = RestoreHint {
            seen: now,
            point: request.restore.clone().unwrap_or(RestorePoint::Unknown),
        }
        .tag_value();
        let stale = timestamp::rfc3339(now);
        let hint_tag = [(tags::RESTORE_HINT_TAG_KEY, hint.as_str())];
        let stale_tag = [(tags::STALE_TAG_KEY, stale.as_str())];
        let s = &self.clients.secrets;
        try_join_all(
            hinted
                .iter()
                .map(|x| secrets::tag(s, &x.arn, &hint_tag))
                .chain(live.iter().map(|x| secrets::tag(s, &x.arn, &stale_tag))),
        )
        .await?;
        let names: Vec<String> = mine.iter().map(|s| s.name.clone()).collect();
        if let Some(first) = live.first() {
            let reason = format!(
                "{} was restored in place from a snapshot: the namespace's password is the snapshot's, which the {} live secret(s) may not hold; nothing was written and they are tagged {}; {}",
                request.target,
                live.len(),
                tags::STALE_TAG_KEY,
                remedy(&first.name)
            );
            for l in &live {
                warn!(secret_name = %l.name, reason = %reason, "secret flagged");
            }
            return Ok(about(OutcomeKind::Flagged)
                .with_secret(&first.name, Some(first.arn.clone()))
                .with_secrets(names)
                .with_reason(reason));
        }
        Ok(about(OutcomeKind::Updated)
            .with_secrets(names)
            .with_reason(format!(
                "{} is being restored: its secrets are tagged {} (what it restores from); the availability event or the sweep decides whether their values are kept",
                request.target,
                tags::RESTORE_HINT_TAG_KEY
            )))
    }
}

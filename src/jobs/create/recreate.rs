//! A password goes into a secret that already exists for a database's name (retired, or live
//! with another database's id) only when it provably belongs there. In this order:
//! DescribeSecret (the caller's) → the seal (VerifyMac) → the key (DescribeKey) and the
//! resource policy (GetResourcePolicy) → RestoreSecret → read (the current value, the restore
//! evidence) → decide ([`crate::rules::recreation`]) → write or keep → tags and a new seal. A
//! seal that does not verify, another key or a foreign policy stops before RestoreSecret; a
//! secret with no seal never receives a password.

use std::time::{Duration, SystemTime};

use secrecy::ExposeSecret;
use serde_json::Value;

use super::names::Names;
use crate::aws::database::restores;
use crate::aws::secrets;
use crate::aws::{kms, parameters::Password};
use crate::jobs::Job;
use crate::model::error::{Error, Result};
use crate::model::outcome::ReplicaStatus;
use crate::model::restore_hint::{snapshot_of_message, RestoreHint, RestorePoint};
use crate::model::seal::SealCheck;
use crate::model::secret::SecretState;
use crate::model::tags::{self, Owner};
use crate::model::timestamp;
use crate::model::{Database, Resource};
use crate::rules::recreation::{self, Facts, Restore, Verdict};
use crate::rules::secret_value::SecretValue;

/// How far back RDS keeps events (DescribeEvents: "events for the past 14 days").
const EVENTS_KEPT: Duration = Duration::from_secs(14 * 24 * 3600);

/// What became of the existing secret.
#[derive(Debug)]
pub(super) enum Recreated {
    /// The new initial password was written: it is the new database's secret (why, in words).
    Written(String),
    /// Its value was kept and it is live again (why, in words).
    Kept(String),
    /// Nothing was written: the reason, with the remedy.
    Flagged(String),
}

/// The password a recreation may write: the shaped value and its parameter's age.
pub(super) struct Offered<'a> {
    pub value: &'a SecretValue,
    pub password: &'a Password,
}

impl Job {
    /// Applies the rule to `state`, the existing secret for `names` (the caller checked its
    /// ownership tags). `offered` is `None` when there is no initial-password parameter.
    pub(super) async fn recreate(
        &self,
        db: &Database,
        names: &Names,
        state: &SecretState,
        offered: Option<Offered<'_>>,
        endpoint: Option<&str>,
        admin: bool,
    ) -> Result<Recreated> {
        let secrets = &self.clients.secrets;
        let name = state.name.as_str();
        let conflict = |reason: String| Error::SecretConflict {
            name: name.to_string(),
            expected: names.owner.to_string(),
            reason,
        };
        match self.seal_check(state).await? {
            SealCheck::Valid => {}
            SealCheck::Absent => {
                return Ok(Recreated::Flagged(format!(
                    "{name} exists for a database created again, but carries no seal (made before sealing, or not by this function): no password was written; {}",
                    remedy(name)
                )))
            }
            SealCheck::Invalid => return Err(conflict(
                "its seal does not verify (copied from another secret, forged, or its tags were changed); nothing was restored or written".into(),
            )),
        }
        let (key, policy) =
            tokio::join!(self.same_key(state), secrets::policy(secrets, &state.arn));
        if !key? {
            return Err(conflict(
                "it is encrypted with another KMS key than KMS_KEY_ID names; nothing was restored or written".into(),
            ));
        }
        let policy = match policy {
            Ok(p) => Some(p),
            // Secrets Manager may refuse to read a policy while the deletion is scheduled
            // ("the secret is scheduled for deletion"): read it once restored, below.
            Err(_) if state.scheduled_for_deletion => None,
            Err(e) => return Err(e),
        };
        if let Some(p) = &policy {
            if !self.policy_is_ours(p.as_deref()) {
                return Err(conflict(
                    "its resource policy is not the one RESOURCE_POLICY sets; nothing was restored or written".into(),
                ));
            }
        }
        // A live secret whose name now belongs to another database id: a Blue/Green switchover
        // keeps the value and re-stamps the id ([`super::switchover`]).
        if let Some(kept) = self
            .keep_on_switchover(db, names, state, endpoint, admin)
            .await?
        {
            return Ok(kept);
        }
        if state.scheduled_for_deletion {
            secrets::restore(secrets, &state.arn).await?;
        }
        if policy.is_none() {
            let p = secrets::policy(secrets, &state.arn).await?;
            if !self.policy_is_ours(p.as_deref()) {
                return Err(conflict(
                    "its resource policy is not the one RESOURCE_POLICY sets (read once its deletion was cancelled); nothing was written".into(),
                ));
            }
        }
        let (current, restore) = tokio::join!(
            secrets::current(secrets, &state.arn, name),
            self.restore_evidence(db, state)
        );
        let (current, restore) = (current?, restore?);
        let same_password = offered.as_ref().is_some_and(|o| {
            current.value.get("password").and_then(Value::as_str)
                == Some(o.value.fields.password.expose_secret())
        });
        let facts = Facts {
            same_password,
            parameter: offered.is_some(),
            parameter_modified: offered.as_ref().and_then(|o| o.password.modified),
            secret_changed: state.last_changed_at,
            retired_at: state.retired_at(),
            current_created: current.created,
            restore: restore.clone(),
        };
        match recreation::decide(&facts) {
            Verdict::Write => {
                let offered = offered.expect("a write needs a parameter");
                self.check_rotation_of(state).await?;
                self.write_over(db, state, &current, offered.value).await?;
                self.stamp(state, names, endpoint).await?;
                let mut reason = format!(
                    "the database was created again: its existing secret{} got a new version with the new initial password",
                    if state.scheduled_for_deletion { " was restored and" } else { "" }
                );
                if admin {
                    let retired = self.retire_earlier_users(db, names).await?;
                    if retired > 0 {
                        reason.push_str(&format!(
                            "; {retired} user secret(s) of the earlier database retired"
                        ));
                    }
                }
                Ok(Recreated::Written(reason))
            }
            Verdict::Keep { reason, restored } => {
                self.stamp(state, names, endpoint).await?;
                let mut reason = format!("{reason}; the secret is live again");
                if let (true, true, Some(point)) = (admin, restored, restore.and_then(|r| r.point))
                {
                    let back = self.unretire_users(db, names, point).await?;
                    if back > 0 {
                        reason.push_str(&format!("; {back} user secret(s) live again"));
                    }
                }
                Ok(Recreated::Kept(reason))
            }
            Verdict::Flag(reason) => {
                let now = timestamp::rfc3339(SystemTime::now());
                secrets::tag(secrets, &state.arn, &[(tags::STALE_TAG_KEY, &now)]).await?;
                Ok(Recreated::Flagged(format!(
                    "{reason}; nothing was written and {name} is tagged {}; {}",
                    tags::STALE_TAG_KEY,
                    remedy(name)
                )))
            }
        }
    }

    /// The key check: the secret's `KmsKeyId` and `KMS_KEY_ID` name the same key, resolved
    /// (DescribeKey, in the secret's account and region) to key ARNs where they are not key
    /// ARNs already. A secret's key that cannot be resolved (another account's, or one the
    /// role may not describe) is not the configured key.
    pub(super) async fn same_key(&self, state: &SecretState) -> Result<bool> {
        let configured = self.config.options.kms_key_id.as_deref();
        match recreation::keys_match(state.kms_key_id.as_deref(), configured) {
            Ok(same) => Ok(same),
            Err((theirs, ours)) => {
                let kms = &self.clients.kms_here;
                let ours = match is_key_arn(ours) {
                    true => ours.to_string(),
                    false => kms::key_arn(kms, ours).await?,
                };
                Ok(match is_key_arn(theirs) {
                    true => theirs == ours,
                    false => kms::key_arn(kms, theirs).await.is_ok_and(|t| t == ours),
                })
            }
        }
    }

    /// The policy check: none, or `RESOURCE_POLICY`'s.
    pub(super) fn policy_is_ours(&self, found: Option<&str>) -> bool {
        let configured = self
            .config
            .options
            .resource_policy
            .as_deref()
            .and_then(|p| serde_json::from_str::<Value>(p).ok());
        recreation::policy_matches(found, configured.as_ref())
    }

    /// Restore evidence: a current restore hint on the secret, else (instances) an RDS
    /// "restoration" event since the retirement; with its restore point when it can be read.
    pub(crate) async fn restore_evidence(
        &self,
        db: &Database,
        state: &SecretState,
    ) -> Result<Option<Restore>> {
        let now = SystemTime::now();
        let hint = tags::value(&state.tags, tags::RESTORE_HINT_TAG_KEY)
            .and_then(RestoreHint::parse)
            .filter(|h| h.is_current(now));
        let (evidence, point) = match hint {
            Some(h) => (
                format!(
                    "a restore call recorded by CloudTrail at {}",
                    timestamp::rfc3339(h.seen)
                ),
                h.point,
            ),
            None if db.resource == Resource::DbInstance => {
                let since = state
                    .retired_at()
                    .or(state.last_changed_at)
                    .unwrap_or(now - EVENTS_KEPT)
                    .max(now - EVENTS_KEPT);
                let messages =
                    restores::restoration_messages(&self.clients, &db.identifier, since).await?;
                match messages.last() {
                    Some(m) => (
                        "an RDS restoration event".to_string(),
                        snapshot_of_message(m),
                    ),
                    None => return Ok(None),
                }
            }
            None => return Ok(None),
        };
        let point = match point {
            RestorePoint::Snapshot(id) => {
                restores::snapshot_time(&self.clients, db.resource, &id).await?
            }
            RestorePoint::Time(t) => Some(t),
            RestorePoint::Unknown => None,
        };
        Ok(Some(Restore { evidence, point }))
    }

    /// The secret is `names`' database's again: the deleted, stale and hint tags go (and an
    /// earlier database's id when Describe gives none), the endpoint and database id are
    /// stamped, and a new seal covers them.
    pub(super) async fn stamp(
        &self,
        state: &SecretState,
        names: &Names,
        endpoint: Option<&str>,
    ) -> Result<()> {
        self.stamp_as(state, &names.owner, names.database_id.as_deref(), endpoint)
            .await
    }

    /// [`Job::stamp`] for `owner`'s secret.
    pub(crate) async fn stamp_as(
        &self,
        state: &SecretState,
        owner: &Owner,
        database_id: Option<&str>,
        endpoint: Option<&str>,
    ) -> Result<()> {
        let secrets = &self.clients.secrets;
        let mut gone: Vec<&str> = [
            tags::DELETED_TAG_KEY,
            tags::STALE_TAG_KEY,
            tags::RESTORE_HINT_TAG_KEY,
        ]
        .into_iter()
        .filter(|k| tags::value(&state.tags, k).is_some())
        .collect();
        if database_id.is_none() && tags::value(&state.tags, tags::DATABASE_ID_TAG_KEY).is_some() {
            gone.push(tags::DATABASE_ID_TAG_KEY);
        }
        if !gone.is_empty() {
            secrets::untag(secrets, &state.arn, &gone).await?;
        }
        let mut stamp = Vec::new();
        if let Some(e) = endpoint {
            stamp.push((tags::ENDPOINT_TAG_KEY, e));
        }
        if let Some(id) = database_id {
            stamp.push((tags::DATABASE_ID_TAG_KEY, id));
        }
        if !stamp.is_empty() {
            secrets::tag(secrets, &state.arn, &stamp).await?;
        }
        self.seal_as(&state.arn, owner, database_id).await?;
        Ok(())
    }
}

impl Job {
    /// The configured replica regions `state` lacks, replicated again (a retirement with
    /// `schedule-deletion` removed them); the replica statuses afterwards.
    pub(super) async fn put_replicas_back(
        &self,
        state: &SecretState,
    ) -> Result<Vec<ReplicaStatus>> {
        let missing: Vec<_> = self
            .config
            .options
            .replicas
            .iter()
            .filter(|r| !state.replicas.iter().any(|s| s.region == r.region))
            .cloned()
            .collect();
        if missing.is_empty() {
            return Ok(state.replicas.clone());
        }
        secrets::replicate(
            &self.clients.secrets,
            &state.arn,
            &missing,
            self.config.options.force_overwrite_replica,
        )
        .await
    }
}

/// `arn:…:kms:…:key/…`: a key ARN, which names its key without DescribeKey.
fn is_key_arn(key: &str) -> bool {
    key.starts_with("arn:") && key.contains(":key/")
}

/// The operator's way out of `flagged`.
pub(crate) fn remedy(name: &str) -> String {
    format!(
        "once you know which password the database has, invoke the function with {{\"action\": \"resolve\", \"secret\": \"{name}\", \"use\": \"parameter\"}} (the initial-password parameter's) or \"use\": \"current\" (the secret's), see docs/outcomes.md"
    )
}

//! Secrets retire with their database: a deletion event (or the sweep, for a secret whose
//! database no listing shows) retires each of the database's live secrets as
//! `ON_DATABASE_DELETED` says, only once Describe confirms the database is gone.

use std::time::SystemTime;

use futures_util::future::try_join_all;

use super::Job;
use crate::aws::database;
use crate::aws::secrets;
use crate::config::OnDeleted;
use crate::event::Request;
use crate::model::database_tag::DatabaseTag;
use crate::model::error::{Error, Result};
use crate::model::outcome::{Outcome, OutcomeKind};
use crate::model::secret::SecretState;
use crate::model::tags;
use crate::model::timestamp;
use crate::rules::drift::database_key;

impl Job {
    /// A deletion event: act only when Describe confirms the database is gone or being
    /// deleted; then retire each of its live secrets.
    pub async fn retire_database(&self, request: &Request) -> Result<Outcome> {
        let mode = self.config.lifecycle.on_deleted;
        if mode == OnDeleted::Ignore {
            return Ok(Outcome::ignored(format!(
                "{}: deletions leave the secrets as they are (ON_DATABASE_DELETED=ignore)",
                request.target
            )));
        }
        let keys = match database::describe(&self.clients, &request.target).await {
            Ok(db) if db.is_gone() => vec![database_key(&db)],
            Ok(db) => {
                return Ok(
                    Outcome::about(OutcomeKind::Unchanged, &db, &self.place).with_reason(format!(
                        "{db} exists (status {:?}): nothing retired",
                        db.status
                    )),
                )
            }
            Err(Error::DatabaseNotFound { .. }) => DatabaseTag::candidates(&request.target)
                .iter()
                .map(DatabaseTag::to_string)
                .collect(),
            Err(e) => return Err(e),
        };
        let found = try_join_all(keys.iter().map(|k| self.secrets_of(k))).await?;
        let secrets: Vec<SecretState> = found.into_iter().flatten().collect();
        let service = DatabaseTag::parse(&keys[0]).map_or("", |t| t.service.as_str());
        let identifier = request.target.identifier();
        if secrets.is_empty() {
            return Ok(Outcome::about_named(
                OutcomeKind::Unchanged,
                service,
                identifier,
                &self.place,
            )
            .with_reason(format!(
                "{} is gone and has no live secret of the function",
                request.target
            )));
        }
        try_join_all(secrets.iter().map(|s| self.retire(s))).await?;
        Ok(
            Outcome::about_named(OutcomeKind::Retired, service, identifier, &self.place)
                .with_reason(retire_reason(mode))
                .with_secrets(secrets.into_iter().map(|s| s.name).collect()),
        )
    }

    /// Retires one secret: the deleted tag, then with `schedule-deletion` the replicas removed
    /// (DeleteSecret refuses a secret that still has replicas; removing them deletes them at
    /// once) and the deletion scheduled with the recovery window.
    /// An already retired secret (deleted tag or `DeletedDate`) is left as it is; a superseded
    /// one (take-over) only gets the deleted tag.
    pub(crate) async fn retire(&self, state: &SecretState) -> Result<()> {
        if state.is_retired() {
            return Ok(());
        }
        let secrets = &self.clients.secrets;
        let now = timestamp::rfc3339(SystemTime::now());
        // Two workers may retire one orphan at once (a standard queue delivers a message twice):
        // the one that finds it scheduled for deletion already has nothing left to do.
        match secrets::tag(secrets, &state.arn, &[(tags::DELETED_TAG_KEY, &now)]).await {
            Err(e) if marked_for_deletion(&e) => return Ok(()),
            other => other?,
        }
        // Superseded by a managed secret (a take-over): an operator decides what becomes of
        // it; it is never scheduled for deletion and keeps its replicas.
        if tags::value(&state.tags, tags::SUPERSEDED_TAG_KEY).is_some() {
            return Ok(());
        }
        if let OnDeleted::ScheduleDeletion {
            recovery_window_days,
        } = self.config.lifecycle.on_deleted
        {
            // Read fresh: a concurrent retirement may have scheduled it already.
            let replicas = match secrets::describe(secrets, &state.arn).await? {
                Some(d) if d.scheduled_for_deletion => return Ok(()),
                Some(d) => d.replicas.into_iter().map(|r| r.region).collect(),
                None => Vec::new(),
            };
            if !replicas.is_empty() {
                if let Err(e) = secrets::remove_regions(secrets, &state.arn, &replicas).await {
                    // Removed, or the deletion scheduled, by a concurrent retirement first.
                    match secrets::describe(secrets, &state.arn).await? {
                        Some(d) if d.scheduled_for_deletion => return Ok(()),
                        Some(d) if d.replicas.iter().all(|r| !replicas.contains(&r.region)) => {}
                        _ => return Err(e),
                    }
                }
            }
            secrets::schedule_deletion(secrets, &state.arn, recovery_window_days).await?;
        }
        Ok(())
    }

    /// A secret whose database no listing shows: retired only when Describe confirms the
    /// database is gone or being deleted (`false`: it exists after all).
    pub(crate) async fn retire_orphan(&self, state: &SecretState) -> Result<bool> {
        let Some(target) = tags::value(&state.tags, tags::DATABASE_TAG_KEY)
            .and_then(DatabaseTag::parse)
            .and_then(|t| t.target())
        else {
            return Ok(false);
        };
        match database::describe(&self.clients, &target).await {
            Ok(db) if !db.is_gone() => return Ok(false),
            Ok(_) | Err(Error::DatabaseNotFound { .. }) => {}
            Err(e) => return Err(e),
        }
        self.retire(state).await?;
        Ok(true)
    }
}

/// Secrets Manager's refusal of an operation on a secret scheduled for deletion
/// (`InvalidRequestException`, "You can't perform this operation on the secret because it was
/// marked for deletion."): for a retirement, the secret is retired already.
fn marked_for_deletion(e: &Error) -> bool {
    matches!(e, Error::AwsService { code: Some(c), message, .. }
        if c == "InvalidRequestException" && message.contains("marked for deletion"))
}

/// The outcome's reason for a retirement.
pub(crate) fn retire_reason(mode: OnDeleted) -> String {
    match mode {
        OnDeleted::ScheduleDeletion {
            recovery_window_days,
        } => format!(
            "the database is gone: tagged {} and scheduled for deletion in {recovery_window_days} days (replicas removed first)",
            tags::DELETED_TAG_KEY
        ),
        _ => format!("the database is gone: tagged {}", tags::DELETED_TAG_KEY),
    }
}

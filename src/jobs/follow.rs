//! Secrets follow their database: a port or endpoint change reaches every secret the function
//! manages for the database (the master user's and every application user's, found by the
//! database tag), and a deleted database's secrets are retired as `ON_DATABASE_DELETED` says.

use std::time::Duration;

use futures_util::future::try_join_all;

use super::{Job, DEADLINE_MARGIN};
use crate::aws::database;
use crate::aws::secrets;
use crate::event::Request;
use crate::model::error::{Error, Result};
use crate::model::outcome::{Outcome, OutcomeKind};
use crate::model::Database;
use crate::rules::drift::{database_key, is_admin_secret, tag_changes, wanted_tags, Connection};
use crate::rules::existing_secret::{self, SecretState};

impl Job {
    /// The function's live secrets for the database tagged `database` (`{service}/{kind}/{id}`):
    /// primary in this region, inside the secret name prefix, not retired.
    pub(crate) async fn secrets_of(&self, database: &str) -> Result<Vec<SecretState>> {
        let region = Some(self.place.region.as_str());
        Ok(secrets::list_owned(&self.clients.secrets, Some(database))
            .await?
            .into_iter()
            .filter(|s| self.is_ours_here(s, region) && !s.is_retired())
            .collect())
    }

    /// `db` with its copies in other regions looked up ([`database::copies::find`]); while a
    /// region's Describe fails they stay unknown, and its secrets' regional keys stay as they
    /// are (the sweep tries again).
    pub(crate) async fn with_copies(&self, mut db: Database) -> Database {
        let enabled = self.config.lifecycle.regional_connection_keys;
        let failed = database::copies::find(
            &self.clients,
            &self.place.region,
            std::slice::from_mut(&mut db),
            enabled,
        )
        .await;
        for (region, e) in failed {
            tracing::warn!(
                database = %db,
                region = %region,
                error_type = e.error_type(),
                error = %e,
                "the database's copies in another region could not be described; its regional keys stay as they are"
            );
        }
        db
    }

    /// Sets and removes tags of `state` so that they say `wanted` (`None`: absent): one
    /// TagResource and one UntagResource at most, none when they already do.
    pub(crate) async fn put_tags(
        &self,
        state: &SecretState,
        wanted: Vec<(&'static str, Option<String>)>,
    ) -> Result<()> {
        let (set, unset) = tag_changes(&state.tags, wanted);
        let secrets = &self.clients.secrets;
        if !set.is_empty() {
            let set: Vec<(&str, &str)> = set.iter().map(|(k, v)| (*k, v.as_str())).collect();
            secrets::tag(secrets, &state.arn, &set).await?;
        }
        if !unset.is_empty() {
            secrets::untag(secrets, &state.arn, &unset).await?;
        }
        Ok(())
    }

    /// Primary in `region` and inside the secret name prefix.
    pub(crate) fn is_ours_here(&self, s: &SecretState, region: Option<&str>) -> bool {
        s.is_primary_in(region) && s.name.starts_with(&self.config.secret_prefix)
    }

    /// A port change (CloudTrail Modify/Update call): Describe, waiting while the database
    /// restarts and until it shows the requested port, then bring each of its secrets up to
    /// date.
    pub async fn follow(&self, request: &Request, remaining: Option<Duration>) -> Result<Outcome> {
        let max_wait = self.max_wait(request, remaining);
        if !self.config.lifecycle.follow_connection_changes {
            return Ok(Outcome::ignored(format!(
                "{}: connection changes are not followed (FOLLOW_CONNECTION_CHANGES=false)",
                request.target
            )));
        }
        let mut db = database::describe(&self.clients, &request.target).await?;
        if !db.is_available() {
            db = database::wait_available(&self.clients, &request.target, &db, max_wait).await?;
        }
        if !db.is_available() {
            return Err(Error::DatabaseNotReady {
                resource: db.resource,
                identifier: db.identifier.clone(),
                detail: format!(
                    "status {:?}; its secrets follow once it is available",
                    db.status
                ),
            });
        }
        let db = self.wait_for_port(request, db, remaining).await?;
        let db = self.with_copies(db).await;
        let Some(connection) = Connection::of(&db) else {
            return Ok(
                Outcome::about(OutcomeKind::Skipped, &db, &self.place).with_reason(format!(
                    "{db} has no endpoint, or an engine without a secret format"
                )),
            );
        };
        let secrets = self.secrets_of(&database_key(&db)).await?;
        // Nothing is written while any of them is being rotated (read fresh, per secret).
        try_join_all(secrets.iter().map(|s| self.check_rotation(s))).await?;
        let repaired =
            try_join_all(secrets.iter().map(|s| self.repair(&db, &connection, s))).await?;
        let mut names = Vec::new();
        let mut keys: Vec<String> = Vec::new();
        for (s, changed) in secrets.iter().zip(repaired) {
            if let Some(changed) = changed {
                names.push(s.name.clone());
                keys.extend(changed);
            }
        }
        keys.sort();
        keys.dedup();
        Ok(if names.is_empty() {
            Outcome::about(OutcomeKind::Unchanged, &db, &self.place).with_reason(format!(
                "{} secret(s) of {db} already name {}",
                secrets.len(),
                connection.endpoint()
            ))
        } else {
            Outcome::about(OutcomeKind::Updated, &db, &self.place)
                .with_reason(format!(
                    "{} changed to {} (password and every other key kept)",
                    keys.join(", "),
                    connection.endpoint()
                ))
                .with_secrets(names)
        })
    }

    /// The port the change asks for (the call's, else an instance's pending port), once
    /// Describe shows it applied: `Endpoint.Port` equal to it and no port pending. A Describe
    /// made before RDS starts applying the change still shows `available` with the old port.
    /// Polled with backoff (1 s, doubling, at most 15 s apart) for up to
    /// `PORT_CHANGE_WAIT_SECONDS`, never past the deadline; then `DatabaseNotReady`, which
    /// Lambda retries and the sweep finishes.
    async fn wait_for_port(
        &self,
        request: &Request,
        mut db: Database,
        remaining: Option<Duration>,
    ) -> Result<Database> {
        let Some(target) = request.port.or(db.pending_port) else {
            return Ok(db);
        };
        let budget = remaining
            .map(|r| r.saturating_sub(DEADLINE_MARGIN))
            .map_or(self.config.lifecycle.port_change_wait, |b| {
                b.min(self.config.lifecycle.port_change_wait)
            });
        let started = std::time::Instant::now();
        let mut pause = Duration::from_secs(1);
        while !port_applied(&db, target) {
            let left = budget.saturating_sub(started.elapsed());
            if left.is_zero() {
                // Counted apart (metric PortChangesLeftToSweep): after Lambda's two retries the
                // event lands in the failure queue, but the sweep finishes the job.
                tracing::info!(
                    database = %db,
                    port = target,
                    "port change left to the sweep"
                );
                return Err(Error::DatabaseNotReady {
                    resource: db.resource,
                    identifier: db.identifier.clone(),
                    detail: format!(
                        "port {target} is not applied yet after {}s (Describe shows {:?}, pending {:?}); the reconcile sweep follows it once it is",
                        budget.as_secs(),
                        db.port,
                        db.pending_port
                    ),
                });
            }
            tokio::time::sleep(pause.min(left)).await;
            pause = (pause * 2).min(Duration::from_secs(15));
            db = database::describe(&self.clients, &request.target).await?;
        }
        Ok(db)
    }

    /// Brings one secret up to `connection`: a new version with the changed keys, carrying the
    /// current password and every other key, unless nothing differs; then the endpoint tag.
    /// `Some(changed keys)` when a version was written. The caller runs the rotation guard
    /// first ([`Job::check_rotation`]).
    pub(crate) async fn repair(
        &self,
        db: &Database,
        connection: &Connection,
        state: &SecretState,
    ) -> Result<Option<Vec<String>>> {
        let secrets = &self.clients.secrets;
        let secrets::Current {
            version_id: version,
            value: current,
            ..
        } = secrets::current(secrets, &state.arn, &state.name).await?;
        let keys = connection.keys(is_admin_secret(db, state));
        let drop = connection.stale(&current);
        let changed = match existing_secret::merge(&state.arn, &version, current, keys, &drop) {
            Some(r) => {
                let merged =
                    secrecy::SecretString::from(serde_json::Value::Object(r.merged).to_string());
                secrets::put_value(secrets, &state.arn, Some(&r.token), &merged).await?;
                Some(r.changed)
            }
            None => None,
        };
        self.put_tags(state, wanted_tags(state, connection)).await?;
        Ok(changed)
    }
}

/// Describe shows `target` as the endpoint's port, with no port change pending.
fn port_applied(db: &Database, target: i32) -> bool {
    db.port == Some(target) && db.pending_port.is_none()
}

//! Secrets follow their database: a port or endpoint change reaches every secret the function
//! manages for the database (the master user's and every application user's, found by the
//! database tag), and a deleted database's secrets are retired as `ON_DATABASE_DELETED` says.

use std::time::{Duration, SystemTime};

use futures_util::future::try_join_all;

use super::Provisioner;
use crate::aws::database;
use crate::aws::secrets;
use crate::config::OnDeleted;
use crate::event::Request;
use crate::model::error::{Error, Result};
use crate::model::outcome::{Kind, Outcome};
use crate::model::tags;
use crate::model::{Database, Target};
use crate::rules::drift::{self, database_key, drifted, is_admin_secret, Connection};
use crate::rules::existing_secret::{self, SecretState};

impl Provisioner {
    /// The function's live secrets for the database tagged `database` (`{service}/{kind}/{id}`):
    /// primary in this region, inside the secret name prefix, not retired.
    pub(crate) async fn secrets_of(&self, database: &str) -> Result<Vec<SecretState>> {
        let region = self.region.as_deref();
        Ok(secrets::list_owned(&self.clients.secrets, Some(database))
            .await?
            .into_iter()
            .filter(|s| self.is_ours_here(s, region) && !s.is_retired())
            .collect())
    }

    /// Primary in `region` and inside the secret name prefix.
    pub(crate) fn is_ours_here(&self, s: &SecretState, region: Option<&str>) -> bool {
        let primary_here = match (s.primary_region.as_deref(), region) {
            (Some(p), Some(r)) => p == r,
            _ => true,
        };
        primary_here && s.name.starts_with(&self.config.secret_prefix)
    }

    /// A port change (CloudTrail Modify/Update call): Describe, waiting while the database
    /// restarts, then bring each of its secrets up to date.
    pub(super) async fn follow(&self, request: &Request, max_wait: Duration) -> Result<Outcome> {
        if !self.config.lifecycle.follow_connection_changes {
            return Ok(Outcome::ignored(format!(
                "{}: connection changes are not followed (FOLLOW_CONNECTION_CHANGES=false)",
                request.target
            )));
        }
        let mut db = database::describe(&self.clients, &request.target).await?;
        if !is_available(&db) {
            db = database::wait_available(&self.clients, &request.target, &db, max_wait).await?;
        }
        if !is_available(&db) {
            return Err(Error::DatabaseNotReady {
                resource: db.resource,
                identifier: db.identifier.clone(),
                detail: format!(
                    "status {:?}; its secrets follow once it is available",
                    db.status
                ),
            });
        }
        let Some(connection) = Connection::of(&db) else {
            return Ok(Outcome::about(Kind::Skipped, &db).with_reason(format!(
                "{db} has no endpoint, or an engine without a secret format"
            )));
        };
        let secrets = self.secrets_of(&database_key(&db)).await?;
        // Nothing is written while any of them is being rotated.
        for s in &secrets {
            s.check_writable()?;
        }
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
            Outcome::about(Kind::Unchanged, &db).with_reason(format!(
                "{} secret(s) of {db} already name {}",
                secrets.len(),
                connection.endpoint()
            ))
        } else {
            Outcome::about(Kind::Updated, &db)
                .with_reason(format!(
                    "{} changed to {} (password and every other key kept)",
                    keys.join(", "),
                    connection.endpoint()
                ))
                .with_secrets(names)
        })
    }

    /// Brings one secret up to `connection`: a new version with the changed keys, carrying the
    /// current password and every other key, unless nothing differs; then the endpoint tag.
    /// `Some(changed keys)` when a version was written. `RotationInProgress` while a rotation
    /// is under way.
    pub(crate) async fn repair(
        &self,
        db: &Database,
        connection: &Connection,
        state: &SecretState,
    ) -> Result<Option<Vec<String>>> {
        state.check_writable()?;
        let secrets = &self.clients.secrets;
        let (version, current) = secrets::current_value(secrets, &state.arn).await?;
        let keys = connection.keys(is_admin_secret(db, state));
        let changed = match existing_secret::merge(&state.arn, &version, current, keys) {
            Some(r) => {
                let merged =
                    secrecy::SecretString::from(serde_json::Value::Object(r.merged).to_string());
                secrets::put_value(secrets, &state.arn, Some(&r.token), &merged).await?;
                Some(r.changed)
            }
            None => None,
        };
        if drifted(state, connection) {
            let endpoint = connection.endpoint();
            secrets::tag(secrets, &state.arn, &[(tags::ENDPOINT_TAG_KEY, &endpoint)]).await?;
        }
        Ok(changed)
    }

    /// A deletion event: act only when Describe confirms the database is gone or being
    /// deleted; then retire each of its live secrets.
    pub(super) async fn retire_database(&self, request: &Request) -> Result<Outcome> {
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
                return Ok(Outcome::about(Kind::Unchanged, &db).with_reason(format!(
                    "{db} exists (status {:?}): nothing retired",
                    db.status
                )))
            }
            Err(Error::DatabaseNotFound { .. }) => keys_of(&request.target),
            Err(e) => return Err(e),
        };
        let found = try_join_all(keys.iter().map(|k| self.secrets_of(k))).await?;
        let secrets: Vec<SecretState> = found.into_iter().flatten().collect();
        let service = keys[0].split('/').next().unwrap_or_default();
        let identifier = request.target.identifier();
        if secrets.is_empty() {
            return Ok(
                Outcome::about_named(Kind::Unchanged, service, identifier).with_reason(format!(
                    "{} is gone and has no live secret of the function",
                    request.target
                )),
            );
        }
        try_join_all(secrets.iter().map(|s| self.retire(s))).await?;
        Ok(Outcome::about_named(Kind::Retired, service, identifier)
            .with_reason(retire_reason(mode))
            .with_secrets(secrets.into_iter().map(|s| s.name).collect()))
    }

    /// Retires one secret: the deleted tag, then with `schedule-deletion` the replicas removed
    /// (DeleteSecret refuses a secret that still has replicas; removing them deletes them at
    /// once) and the deletion scheduled with the recovery window.
    pub(crate) async fn retire(&self, state: &SecretState) -> Result<()> {
        let secrets = &self.clients.secrets;
        let today = drift::date(SystemTime::now());
        secrets::tag(secrets, &state.arn, &[(tags::DELETED_TAG_KEY, &today)]).await?;
        if let OnDeleted::ScheduleDeletion {
            recovery_window_days,
        } = self.config.lifecycle.on_deleted
        {
            let replicas = match secrets::describe(secrets, &state.arn).await? {
                Some(d) => d.replicas.into_iter().map(|r| r.region).collect(),
                None => Vec::new(),
            };
            if !replicas.is_empty() {
                secrets::remove_regions(secrets, &state.arn, &replicas).await?;
            }
            secrets::schedule_deletion(secrets, &state.arn, recovery_window_days).await?;
        }
        Ok(())
    }
}

impl Provisioner {
    /// A secret whose database no listing shows: retired only when Describe confirms the
    /// database is gone or being deleted (`false`: it exists after all).
    pub(crate) async fn retire_orphan(&self, state: &SecretState) -> Result<bool> {
        let Some(target) = tags::value(&state.tags, tags::DATABASE_TAG_KEY).and_then(target_of)
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

    /// A replica missing from its region: re-created when the primary reports the region as
    /// failed (removed from replication first) or not at all; left alone while AWS reports it
    /// in progress or in sync. `true` when ReplicateSecretToRegions was called.
    pub(crate) async fn repair_replica(&self, state: &SecretState, region: &str) -> Result<bool> {
        let secrets = &self.clients.secrets;
        let options = &self.config.options;
        let Some(current) = secrets::describe(secrets, &state.arn).await? else {
            return Ok(false);
        };
        match current.replicas.iter().find(|r| r.region == region) {
            // Replication is asynchronous: in progress, or in sync after the listing was made.
            Some(r) if !r.status.eq_ignore_ascii_case("Failed") => return Ok(false),
            Some(_) => secrets::remove_regions(secrets, &state.arn, &[region.to_string()]).await?,
            None => {}
        }
        let replica: Vec<_> = options
            .replicas
            .iter()
            .filter(|r| r.region == region)
            .cloned()
            .collect();
        secrets::replicate(
            secrets,
            &state.arn,
            &replica,
            options.force_overwrite_replica,
        )
        .await?;
        Ok(true)
    }
}

/// The target a database tag (`{service}/{kind}/{identifier}`) names.
fn target_of(database: &str) -> Option<Target> {
    let mut parts = database.splitn(3, '/');
    let (service, kind, id) = (parts.next()?, parts.next()?, parts.next()?.to_string());
    Some(match (service, kind) {
        ("rds", "instance") => Target::DbInstance(id),
        ("rds" | "docdb", "cluster") => Target::DbCluster(id),
        ("redshift", "cluster") => Target::RedshiftCluster(id),
        ("redshift-serverless", "workgroup") => Target::Workgroup(id),
        _ => return None,
    })
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

fn is_available(db: &Database) -> bool {
    db.status.eq_ignore_ascii_case("available")
}

/// The database tags a deleted target's secrets may carry: an RDS cluster may have been
/// DocumentDB, which only Describe (no longer possible) would tell.
pub(crate) fn keys_of(target: &Target) -> Vec<String> {
    let id = target.identifier();
    match target {
        Target::DbInstance(_) => vec![format!("rds/instance/{id}")],
        Target::DbCluster(_) => vec![format!("rds/cluster/{id}"), format!("docdb/cluster/{id}")],
        Target::RedshiftCluster(_) => vec![format!("redshift/cluster/{id}")],
        Target::Workgroup(_) | Target::WorkgroupArn(_) => {
            vec![format!("redshift-serverless/workgroup/{id}")]
        }
    }
}

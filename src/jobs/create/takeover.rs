//! A managed-password take-over: `ManageMasterUserPassword: true` (RDS), `ManageMasterPassword`
//! (Redshift), or a sweep that finds `MasterUserSecret` on a database whose admin secret the
//! function made. RDS (or Redshift) now keeps the master password in a secret of its own, and
//! the function's admin secret holds one the database no longer has. The admin secret is tagged
//! `db-secret-provisioner:superseded-by=<managed secret ARN>` (never scheduled for deletion,
//! its replicas never removed: an operator decides), and each user secret whose `masterarn`
//! names it gets the managed secret's ARN instead, which AWS's multi-user rotators accept (they
//! read the database's endpoint from Describe through the managed secret's
//! `aws:rds:primarydbinstancearn` / `…clusterarn` tag). The rotators' role then needs
//! `kms:Decrypt` on the managed secret's key (docs/triggers.md).

use futures_util::future::try_join_all;
use serde_json::{Map, Value};

use crate::aws::database;
use crate::aws::secrets;
use crate::event::Request;
use crate::jobs::Job;
use crate::model::error::{Error, Result};
use crate::model::outcome::{Outcome, OutcomeKind};
use crate::model::secret::SecretState;
use crate::model::tags;
use crate::model::Database;
use crate::rules::drift::{database_key, is_admin_secret};
use crate::rules::existing_secret;

impl Job {
    /// A Modify call that hands the master password to a managed secret.
    pub async fn take_over_request(&self, request: &Request) -> Result<Outcome> {
        let db = database::describe(&self.clients, &request.target).await?;
        match db.managed_secret_arn.clone() {
            Some(managed) => self.take_over(&db, &managed).await,
            None => Err(Error::DatabaseNotReady {
                resource: db.resource,
                identifier: db.identifier.clone(),
                detail: "Describe shows no managed master secret yet; a retry (or the sweep) finishes the take-over".into(),
            }),
        }
    }

    /// Supersedes the admin secret of `db` by `managed`, and points its user secrets at it.
    pub(crate) async fn take_over(&self, db: &Database, managed: &str) -> Result<Outcome> {
        let owned = self.secrets_of(&database_key(db)).await?;
        let about = |kind| Outcome::about(kind, db, &self.place);
        let Some(admin) = owned.iter().find(|s| is_admin_secret(db, s)) else {
            return Ok(about(OutcomeKind::Skipped).with_reason(format!(
                "AWS manages the master password of {db} ({managed}); the function has no secret for its master user"
            )));
        };
        let mut changed = Vec::new();
        if tags::value(&admin.tags, tags::SUPERSEDED_TAG_KEY) != Some(managed) {
            secrets::tag(
                &self.clients.secrets,
                &admin.arn,
                &[(tags::SUPERSEDED_TAG_KEY, managed)],
            )
            .await?;
            changed.push(admin.name.clone());
        }
        let users = owned.iter().filter(|s| s.arn != admin.arn);
        let repointed = try_join_all(users.map(|u| self.repoint(u, admin, managed))).await?;
        changed.extend(repointed.into_iter().flatten());
        let kind = if changed.is_empty() {
            OutcomeKind::Unchanged
        } else {
            OutcomeKind::Updated
        };
        Ok(about(kind)
            .with_secret(&admin.name, Some(admin.arn.clone()))
            .with_secrets(changed)
            .with_reason(format!(
                "AWS manages the master password of {db} now ({managed}): {} is tagged {} and kept (never scheduled for deletion); user secrets whose masterarn named it name the managed secret",
                admin.name,
                tags::SUPERSEDED_TAG_KEY
            )))
    }

    /// Points `user`'s `masterarn` at `managed` when it names `admin`; its name when written.
    async fn repoint(
        &self,
        user: &SecretState,
        admin: &SecretState,
        managed: &str,
    ) -> Result<Option<String>> {
        let secrets = &self.clients.secrets;
        let current = secrets::current(secrets, &user.arn, &user.name).await?;
        let names_admin = current
            .value
            .get("masterarn")
            .and_then(Value::as_str)
            .is_some_and(|m| m == admin.arn || m == admin.name);
        if !names_admin {
            return Ok(None);
        }
        self.check_rotation(user).await?;
        let mut keys = Map::new();
        keys.insert("masterarn".into(), Value::String(managed.to_string()));
        let Some(r) =
            existing_secret::merge(&user.arn, &current.version_id, current.value, keys, &[])
        else {
            return Ok(None);
        };
        let merged = secrecy::SecretString::from(Value::Object(r.merged).to_string());
        secrets::put_value(secrets, &user.arn, Some(&r.token), &merged).await?;
        Ok(Some(user.name.clone()))
    }
}

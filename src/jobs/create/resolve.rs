//! The way out of `flagged`: the operator says which password the database has
//! ([`crate::event::resolve`]). The secret must be the function's, primary here, and the one
//! the templates name for its database and user; its key and resource policy must pass the
//! same checks as a recreation. Then its deletion is cancelled, the chosen password is written
//! (`parameter`, merged over the current value) or kept (`current`), and it is stamped with
//! the database's endpoint and id, sealed, and its deleted, stale and hint tags removed.

use crate::aws::{database, secrets};
use crate::event::resolve::{Resolve, Use};
use crate::event::UserSpec;
use crate::jobs::Job;
use crate::model::database_tag::DatabaseTag;
use crate::model::error::{Error, Result};
use crate::model::identifiers::Username;
use crate::model::outcome::{Outcome, OutcomeKind};
use crate::model::tags;
use crate::rules::eligibility::{assess, Assessment};
use crate::rules::secret_value;

impl Job {
    /// Settles `request.secret` with the password `request.use_` names.
    pub async fn resolve(&self, request: &Resolve) -> Result<Outcome> {
        let name = request.secret.as_str();
        let secrets = &self.clients.secrets;
        let here = Some(self.place.region.as_str());
        let not_ours = |reason: String| Error::SecretConflict {
            name: name.to_string(),
            expected: "a secret of the function".into(),
            reason,
        };
        if !name.starts_with(&self.config.secret_prefix) {
            return Err(Error::InvalidSecretName {
                name: name.to_string(),
                reason: format!("it is outside the prefix {:?}", self.config.secret_prefix),
            });
        }
        let state = secrets::describe(secrets, name)
            .await?
            .ok_or_else(|| Error::InvalidEvent(format!("there is no secret {name:?}")))?;
        let owner = tags::owner_of(&state.tags)
            .ok_or_else(|| not_ours("it lacks the function's ownership tags".into()))?;
        if !state.is_primary_in(here) {
            return Err(not_ours("it is a replica; resolve its primary".into()));
        }
        let target = DatabaseTag::parse(&owner.database)
            .and_then(|t| t.target())
            .ok_or_else(|| {
                not_ours(format!(
                    "its database tag {:?} names no database",
                    owner.database
                ))
            })?;
        let db = database::describe(&self.clients, &target).await?;
        let mut db = self.with_copies(db).await;
        if db.is_gone() {
            return Err(Error::InvalidEvent(format!(
                "{db} is being deleted: there is nothing to resolve"
            )));
        }
        let user = match db.master_username.as_deref() == Some(owner.username.as_str()) {
            true => None,
            false => Some(UserSpec::new(Username::parse(&owner.username).ok_or_else(
                || {
                    not_ours(format!(
                        "its username tag {:?} is not a username",
                        owner.username
                    ))
                },
            )?)),
        };
        let (rule, host, username) = match assess(&db, user.as_ref())? {
            Assessment::Provision {
                rule,
                host,
                username,
            } => (rule, host, username),
            Assessment::Skip(reason) => {
                return Err(Error::InvalidEvent(format!(
                    "{db} gets no secret from the function: {reason}"
                )))
            }
        };
        let names = self.names(&db, rule, &username)?;
        if names.secret.as_str() != name {
            return Err(not_ours(format!(
                "the templates name {} for {db} user {username}",
                names.secret
            )));
        }
        if !self.same_key(&state).await? {
            return Err(not_ours(
                "it is encrypted with another KMS key than KMS_KEY_ID names".into(),
            ));
        }
        if !state.scheduled_for_deletion {
            let policy = secrets::policy(secrets, &state.arn).await?;
            if !self.policy_is_ours(policy.as_deref()) {
                return Err(not_ours(
                    "its resource policy is not the one RESOURCE_POLICY sets".into(),
                ));
            }
        }
        self.check_rotation_of(&state).await?;
        // The chosen password is read before anything changes.
        let offered = match request.use_ {
            Use::Parameter => Some(self.password(&db, &names, None).await?),
            Use::Current => None,
        };
        if state.scheduled_for_deletion {
            secrets::restore(secrets, &state.arn).await?;
            let policy = secrets::policy(secrets, &state.arn).await?;
            if !self.policy_is_ours(policy.as_deref()) {
                return Err(not_ours("its resource policy is not the one RESOURCE_POLICY sets (read once its deletion was cancelled); nothing was written".into()));
            }
        }
        let current = secrets::current(secrets, &state.arn, name).await?;
        let (endpoint, what) = match &offered {
            Some(password) => {
                if let Some(dbname) = user.as_ref().and_then(|u| u.dbname.as_ref()) {
                    db.dbname = Some(dbname.to_string());
                }
                let value =
                    secret_value::shape(&db, rule, &host, &username, &password.value, None)?;
                self.write_over(&db, &state, &current, &value).await?;
                (
                    tags::endpoint(&value.fields.host, value.fields.port),
                    "the initial-password parameter's password was written",
                )
            }
            None => (
                tags::endpoint(&host, db.port.unwrap_or(rule.default_port)),
                "the secret's current password was kept",
            ),
        };
        self.stamp(&state, &names, Some(&endpoint)).await?;
        let replicas = self.put_replicas_back(&state).await?;
        Ok(Outcome::about(OutcomeKind::Updated, &db, &self.place)
            .with_secret(name, Some(state.arn))
            .with_replicas(replicas)
            .with_reason(format!(
                "resolved: {what}; the secret is live, stamped with the database's id and sealed"
            )))
    }
}

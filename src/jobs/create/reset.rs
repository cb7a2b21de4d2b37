//! A reset master password (`RDS-EVENT-0016` "Reset master credentials.", or a Modify call
//! with `masterUserPassword`, which CloudTrail records masked: only a hint). The admin secret
//! now holds a password the database no longer has. The initial-password parameter's password
//! is written into it only when it provably is the new one: the parameter was written after
//! the secret last changed and before the reset, and the secret's seal verifies (with its key
//! and resource policy, as for a recreation). Otherwise the secret is tagged stale and the
//! answer is `flagged`. A database whose password RDS now manages is a take-over
//! ([`super::takeover`]).

use std::time::SystemTime;

use secrecy::ExposeSecret;
use serde_json::Value;

use crate::aws::database;
use crate::aws::secrets;
use crate::event::Request;
use crate::jobs::Job;
use crate::model::error::{Error, Result};
use crate::model::outcome::{Outcome, OutcomeKind};
use crate::model::seal::SealCheck;
use crate::model::tags;
use crate::model::timestamp;
use crate::rules::drift::{database_key, is_admin_secret};
use crate::rules::eligibility::{assess, Assessment};
use crate::rules::recreation::reset_is_fresh;
use crate::rules::secret_value;

use super::remedy;

impl Job {
    /// The master password was reset (or a call asked for it).
    pub async fn reset_password(&self, request: &Request) -> Result<Outcome> {
        let db = database::describe(&self.clients, &request.target).await?;
        let db = self.with_copies(db).await;
        if let Some(managed) = db.managed_secret_arn.clone() {
            return self.take_over(&db, &managed).await;
        }
        let about = |kind| Outcome::about(kind, &db, &self.place);
        let (rule, host, username) = match assess(&db, None)? {
            Assessment::Provision {
                rule,
                host,
                username,
            } => (rule, host, username),
            Assessment::Skip(reason) => return Ok(about(OutcomeKind::Skipped).with_reason(reason)),
        };
        let names = self.names(&db, rule, &username)?;
        let owned = self.secrets_of(&database_key(&db)).await?;
        let Some(state) = owned
            .iter()
            .find(|s| is_admin_secret(&db, s) && s.name == names.secret.as_str())
        else {
            return Ok(about(OutcomeKind::Unchanged).with_reason(format!(
                "the master password of {db} was reset; the function has no live secret for its master user"
            )));
        };
        let name = state.name.as_str();
        let db = &db;
        let about = |kind| Outcome::about(kind, db, &self.place);
        let flag = |why: String| async move {
            let now = timestamp::rfc3339(SystemTime::now());
            secrets::tag(
                &self.clients.secrets,
                &state.arn,
                &[(tags::STALE_TAG_KEY, &now)],
            )
            .await?;
            Ok::<_, Error>(
                about(OutcomeKind::Flagged)
                    .with_secret(name, Some(state.arn.clone()))
                    .with_reason(format!(
                        "the master password of {db} was reset: {why}; nothing was written and {name} is tagged {}; {}",
                        tags::STALE_TAG_KEY,
                        remedy(name)
                    )),
            )
        };
        let conflict = |reason: &str| Error::SecretConflict {
            name: name.to_string(),
            expected: names.owner.to_string(),
            reason: format!("{reason}; nothing was written"),
        };
        match self.seal_check(state).await? {
            SealCheck::Valid => {}
            SealCheck::Absent => return flag("the secret carries no seal".into()).await,
            SealCheck::Invalid => return Err(conflict(
                "its seal does not verify (copied from another secret, forged, or its tags were changed)",
            )),
        }
        let password = match self.password(db, &names, None).await {
            Ok(p) => Some(p),
            Err(Error::PasswordParameterNotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        let reset_at = request.time.unwrap_or_else(SystemTime::now);
        let modified = password.as_ref().and_then(|p| p.modified);
        if let Err(why) = reset_is_fresh(modified, state.last_changed_at, reset_at) {
            return flag(why).await;
        }
        let password = password.expect("fresh means present");

        // The key and policy checks of a recreation, concurrently; then the guard, fresh.
        let (key, policy) = tokio::join!(
            self.same_key(state),
            secrets::policy(&self.clients.secrets, &state.arn)
        );
        if !key? {
            return Err(conflict(
                "it is encrypted with another KMS key than KMS_KEY_ID names",
            ));
        }
        if !self.policy_is_ours(policy?.as_deref()) {
            return Err(conflict(
                "its resource policy is not the one RESOURCE_POLICY sets",
            ));
        }
        self.check_rotation(state).await?;
        let current = secrets::current(&self.clients.secrets, &state.arn, name).await?;
        if current.value.get("password").and_then(Value::as_str)
            == Some(password.value.expose_secret())
        {
            return flag("the initial-password parameter holds the secret's current password, so the new one is not known".into()).await;
        }
        let masterarn = current.value.get("masterarn").and_then(Value::as_str);
        let value = secret_value::shape(db, rule, &host, &username, &password.value, masterarn)?;
        self.write_over(db, state, &current, &value).await?;
        let endpoint = tags::endpoint(&host, db.port.unwrap_or(rule.default_port));
        self.stamp(state, &names, Some(&endpoint)).await?;
        Ok(about(OutcomeKind::Updated)
            .with_secret(name, Some(state.arn.clone()))
            .with_reason(format!(
                "the master password of {db} was reset: the initial-password parameter, written after the secret's last change and before the reset, holds the new password, which the secret now has"
            )))
    }
}

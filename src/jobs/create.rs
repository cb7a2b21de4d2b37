//! The pipeline of one provisioning job, step by step: describe (∥ early password read) →
//! assess → names → password → shape → store → after-effects. Shared by the event path and the
//! reconcile sweep; each step is a named function: the names in [`names`], the storing steps
//! in [`store`]. Port changes reach a database's secrets in [`super::follow`], deletions in
//! [`super::retire`].

mod names;
mod promoted;
mod recreate;
mod reset;
mod resolve;
pub(crate) use recreate::remedy;
mod seal;
mod store;
mod switchover;
mod takeover;
mod users;
mod write;

use std::time::Duration;

use secrecy::ExposeSecret;

use super::{Job, DEADLINE_MARGIN};
use crate::aws::database;
use crate::aws::parameters::{self, Early, Password, Plan};
use crate::aws::secrets;
use crate::config::MissingParameter;
use crate::event::{Request, UserSpec};
use crate::model::engine::EngineRule;
use crate::model::error::{Error, Result};
use crate::model::outcome::{Outcome, OutcomeKind};
use crate::model::tags;
use crate::model::template::{Facts, Field};
use crate::model::Database;
use crate::rules::eligibility::{assess, is_admin, Assessment};
use crate::rules::existing_secret;
use crate::rules::secret_value;

use names::Names;

/// The rotation function a secret gets, or why it gets none.
#[derive(Debug, Default)]
struct Rotator {
    lambda: Option<String>,
    note: Option<String>,
}

impl Job {
    /// An event's job: Describe and the password read run concurrently whenever the
    /// parameter's name (or, for a template ending in `/{username}`, its parent path) can be
    /// rendered from the event alone. The first Describe decides: a database that gets no
    /// secret is skipped at once; only one that will get a secret but has no endpoint yet is
    /// waited on (CloudTrail create calls), within `remaining`.
    pub async fn run(&self, request: &Request, remaining: Option<Duration>) -> Result<Outcome> {
        let user = request.user.as_deref();
        let max_wait = self.max_wait(request, remaining);
        // DocumentDB arrives on the same RDS events: a guess that Describe corrects.
        let username = user
            .map(|u| u.username.as_str())
            .or(request.master_username_hint.as_deref());
        let facts = Facts::of(
            request.target.service_guess(),
            request.target.identifier(),
            username,
            None,
            &self.place,
        );
        let lookup = database::describe(&self.clients, &request.target);
        let plan = self.early_plan(&facts);
        let early = async {
            match plan {
                Some(plan) => Some(plan.run(&self.clients.ssm).await),
                None => None,
            }
        };
        let (db, early) = tokio::join!(lookup, early);
        let mut db = db?;
        if matches!(assess(&db, user), Err(Error::DatabaseNotReady { .. })) {
            db = database::wait_available(&self.clients, &request.target, &db, max_wait).await?;
        }
        let db = self.with_copies(db).await;
        self.provision(db, user, early).await
    }

    /// How long the job may wait for its database to become available: `WAIT_FOR_AVAILABLE`,
    /// within the invocation's time left less [`DEADLINE_MARGIN`]; nothing for events whose
    /// database is not expected to be changing.
    pub fn max_wait(&self, request: &Request, remaining: Option<Duration>) -> Duration {
        if !request.wait {
            return Duration::ZERO;
        }
        let budget = remaining.map(|r| r.saturating_sub(DEADLINE_MARGIN));
        budget.map_or(self.config.wait_for_available, |b| {
            b.min(self.config.wait_for_available)
        })
    }

    /// What can be read before Describe: the exact parameter, or the parameters under its
    /// parent path when only the master username (a trailing `/{username}`) is unknown. Both
    /// are under the parameter prefix and name the event's own database.
    fn early_plan(&self, facts: &Facts) -> Option<Plan> {
        let within = |name: &str| name.starts_with(&self.config.parameter_prefix);
        if let Some(name) = self.config.password_parameter.render(facts) {
            return within(&name).then_some(Plan::Exact(name));
        }
        let path = self
            .config
            .password_parameter
            .parent_of_last(Field::Username)?
            .render(facts)?;
        (path.starts_with('/') && path.len() > 1 && within(&format!("{path}/")))
            .then_some(Plan::Listed(path))
    }

    /// Everything after Describe: assess, names, password (unless `early` already read it),
    /// shape, store, after-effects.
    pub async fn provision(
        &self,
        mut db: Database,
        user: Option<&UserSpec>,
        early: Option<Early>,
    ) -> Result<Outcome> {
        let (rule, host, username) = match assess(&db, user)? {
            Assessment::Skip(reason) => {
                return Ok(
                    Outcome::about(OutcomeKind::Skipped, &db, &self.place).with_reason(reason)
                )
            }
            Assessment::Provision {
                rule,
                host,
                username,
            } => (rule, host, username),
        };
        let names = self.names(&db, rule, &username)?;
        let masterarn = match user {
            Some(u) if u.master_secret_arn.is_some() && is_admin(&db, user) => {
                return Err(Error::InvalidEvent(format!(
                    "detail.masterSecretArn is for users other than the master user {username} of {db}"
                )))
            }
            Some(u) => self.master_secret_arn(&db, rule, u).await?,
            None => None,
        };
        let (password, promoted_from) = match self.password(&db, &names, early).await {
            Ok(p) => (p, None),
            // No parameter: a promoted read replica's password is its source's.
            Err(e @ Error::PasswordParameterNotFound { .. }) if user.is_none() => {
                match self.promoted_password(&db, &names, &username).await? {
                    Some((p, from)) => {
                        self.check_not_in_tags(&db, &names, &p)
                            .map_err(|e| match e {
                                Error::PasswordParameterInvalid { reason, .. } => {
                                    Error::PasswordParameterInvalid {
                                        name: format!("(none: the password of {from})"),
                                        reason,
                                    }
                                }
                                other => other,
                            })?;
                        (p, Some(from))
                    }
                    None => return self.password_missing(&db, &names, user, &host, e).await,
                }
            }
            Err(e) => return self.password_missing(&db, &names, user, &host, e).await,
        };
        if let Some(dbname) = user.and_then(|u| u.dbname.as_ref()) {
            db.dbname = Some(dbname.to_string());
        }
        let value = secret_value::shape(
            &db,
            rule,
            &host,
            &username,
            &password.value,
            masterarn.as_deref(),
        )?;
        let rotation = self.rotation(rule, masterarn.is_some());
        let admin = is_admin(&db, user);
        let stored = self
            .store(&db, &names, &value, &password, &rotation, admin)
            .await?;
        // A promoted database's secret was not made from its parameter: nothing to delete.
        let from_parameter = promoted_from.is_none();
        let note = match (promoted_from, &stored) {
            (Some(from), store::Stored::Created { arn, .. }) => {
                let tag = [(tags::PROMOTED_FROM_TAG_KEY, from.as_str())];
                secrets::tag(&self.clients.secrets, arn, &tag).await?;
                Some(store::joined(
                    format!("a promoted read replica: its password is its source's, read from the local replica of {from}"),
                    rotation.note,
                ))
            }
            _ => rotation.note,
        };
        self.after_effects(&db, &names, stored, note, from_parameter)
            .await
    }

    /// The rotation function the secret gets: AWS's rotation functions each accept one engine
    /// family and one strategy (alternating users for a secret with `masterarn`). When rotation
    /// is configured but none applies, the outcome's reason says why.
    fn rotation(&self, rule: &EngineRule, masterarn: bool) -> Rotator {
        match self
            .config
            .options
            .rotation
            .as_ref()
            .map(|r| r.lambda_for(rule, masterarn))
        {
            None => Rotator::default(),
            Some(Ok(lambda)) => Rotator {
                lambda: Some(lambda.to_string()),
                note: None,
            },
            Some(Err(note)) => Rotator {
                lambda: None,
                note: Some(note),
            },
        }
    }

    /// The initial password: from the early read when it covers this name, else GetParameter.
    /// A tag value equal to the password is refused (tags are not encrypted): the operator's
    /// tags are a `ConfigurationError`, the ownership tags (a username or identifier equal to
    /// the password) make the password unusable.
    async fn password(
        &self,
        db: &Database,
        names: &Names,
        early: Option<Early>,
    ) -> Result<Password> {
        let ssm = &self.clients.ssm;
        let password = match early {
            Some(early) => early.take(ssm, names.parameter.as_str()).await?,
            None => parameters::read(ssm, names.parameter.as_str()).await?,
        };
        self.check_not_in_tags(db, names, &password)?;
        Ok(password)
    }

    /// A password equal to a tag value is refused (tags are not encrypted): one of the
    /// operator's `SECRET_TAGS` is a `ConfigurationError`, an ownership tag (a username or
    /// identifier equal to the password) makes the password unusable.
    fn check_not_in_tags(&self, db: &Database, names: &Names, password: &Password) -> Result<()> {
        if let Some((key, _)) = self
            .config
            .options
            .tags
            .iter()
            .find(|(_, v)| v == password.value.expose_secret())
        {
            return Err(Error::config(
                "SECRET_TAGS",
                format!(
                    "the value of tag {key:?} equals the password of {db}; tags are not encrypted"
                ),
            ));
        }
        if names
            .owner
            .tags()
            .iter()
            .any(|(_, v)| v == password.value.expose_secret())
        {
            return Err(Error::PasswordParameterInvalid {
                name: names.parameter.to_string(),
                reason: "the password equals the database identifier or username, which the secret's tags carry unencrypted".into(),
            });
        }
        Ok(())
    }

    /// No initial-password parameter. If the function's own live secret for this database and
    /// user exists, that wins: `unchanged` (a replay after `DELETE_PASSWORD_PARAMETER`, or a
    /// secret made before). A retired one (or one of an earlier database) goes through the
    /// recreation rule with nothing to write: kept on restore evidence, else `flagged`; it is
    /// never hidden behind `skipped`. Otherwise a user event fails (it claims the parameter
    /// exists), and any other trigger answers as `MISSING_PASSWORD_PARAMETER` says: `skipped`
    /// (the database was made by other means) or the error.
    async fn password_missing(
        &self,
        db: &Database,
        names: &Names,
        user: Option<&UserSpec>,
        host: &str,
        err: Error,
    ) -> Result<Outcome> {
        if !matches!(err, Error::PasswordParameterNotFound { .. }) {
            return Err(err);
        }
        if let Some(state) = secrets::describe(&self.clients.secrets, names.secret.as_str()).await?
        {
            let here = Some(self.place.region.as_str());
            let earlier = state.is_retired()
                || existing_secret::of_another_database(&state, names.database_id.as_deref());
            if state.is_owned_by(&names.owner, here) && !earlier {
                return Ok(Outcome::about(OutcomeKind::Unchanged, db, &self.place)
                    .with_secret(names.secret.as_str(), Some(state.arn))
                    .with_reason(
                        "the secret already exists; its initial-password parameter is gone",
                    ));
            }
            if state.is_owned_by(&names.owner, here) {
                let endpoint = db.port.map(|p| tags::endpoint(host, p));
                let admin = is_admin(db, user);
                let recreated = self
                    .recreate(db, names, &state, None, endpoint.as_deref(), admin)
                    .await?;
                let stored = match recreated {
                    recreate::Recreated::Flagged(reason) => store::Stored::Flagged {
                        arn: state.arn,
                        reason,
                    },
                    recreate::Recreated::Kept(what) | recreate::Recreated::Written(what) => {
                        // Live again: the replicas a retirement removed are put back.
                        let replicas = self.put_replicas_back(&state).await?;
                        store::Stored::Updated {
                            arn: state.arn,
                            replicas,
                            what,
                        }
                    }
                };
                return self.after_effects(db, names, stored, None, false).await;
            }
        }
        match (user, self.config.missing_parameter) {
            (None, MissingParameter::Skip) => Ok(Outcome::about(OutcomeKind::Skipped, db, &self.place).with_reason(
                format!(
                    "no initial-password parameter {}: {db} was not made for this function (MISSING_PASSWORD_PARAMETER=skip)",
                    names.parameter
                ),
            )),
            _ => Err(err),
        }
    }
}

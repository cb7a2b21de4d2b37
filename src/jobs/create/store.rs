//! The storing steps: CreateSecret, the changes an existing secret of ours gets, and the
//! after-effects (parameter deletion, replica warnings, the outcome).

use secrecy::SecretString;
use tracing::warn;

use super::recreate::{Offered, Recreated};
use super::{Names, Rotator};
use crate::aws::parameters::{self, Password};
use crate::aws::secrets::{self, Created};
use crate::jobs::Job;
use crate::model::error::{Error, Result};
use crate::model::outcome::{Outcome, OutcomeKind, ReplicaStatus};
use crate::model::tags;
use crate::model::Database;
use crate::rules::drift::written_tags;
use crate::rules::existing_secret::SecretState;
use crate::rules::existing_secret::{self, Changes};
use crate::rules::secret_value::SecretValue;

/// `reason; note`, or `reason` alone.
pub(super) fn joined(reason: String, note: Option<String>) -> String {
    match note {
        Some(note) => format!("{reason}; {note}"),
        None => reason,
    }
}

/// What storing did.
#[derive(Debug)]
pub(super) enum Stored {
    Created {
        arn: String,
        name: String,
        replicas: Vec<ReplicaStatus>,
        /// The database was created again: its retired secret was restored (why, in words).
        recreated: Option<String>,
    },
    Updated {
        arn: String,
        replicas: Vec<ReplicaStatus>,
        what: String,
    },
    Unchanged {
        arn: String,
        reason: String,
    },
    /// Nothing was written: the secret cannot be proven to be the function's (why, in words).
    Flagged {
        arn: String,
        reason: String,
    },
}

impl Job {
    /// CreateSecret with the operator's tags and the ownership tags; if the secret exists,
    /// DescribeSecret decides what (if anything) changes: only the function's own secret for
    /// the same database and user is ever changed, anything else is `SecretConflict`. An
    /// existing secret's password is never overwritten: a replayed event must not replace a
    /// password that was rotated since.
    pub(super) async fn store(
        &self,
        db: &Database,
        names: &Names,
        value: &SecretValue,
        password: &Password,
        rotation: &Rotator,
        admin: bool,
    ) -> Result<Stored> {
        let secrets = &self.clients.secrets;
        let options = &self.config.options;
        let mut tags = options.tags.clone();
        tags.extend(names.owner.tags());
        let endpoint = tags::endpoint(&value.fields.host, value.fields.port);
        tags.push((tags::ENDPOINT_TAG_KEY.into(), endpoint.clone()));
        for (key, v) in written_tags(db, &value.fields.extra) {
            // A new secret: nothing to recheck until its copies are known.
            if let Some(v) = v.filter(|v| v != tags::CONNECTION_RECHECK) {
                tags.push((key.into(), v));
            }
        }
        if let Some(id) = &names.database_id {
            tags.push((tags::DATABASE_ID_TAG_KEY.into(), id.clone()));
        }
        let created = secrets::create(
            secrets,
            options,
            &names.secret,
            &names.description,
            value,
            &tags,
        )
        .await?;
        match created {
            Created::New {
                arn,
                name,
                replicas,
            } => {
                self.seal(&arn, names).await?;
                secrets::configure_new(secrets, options, &arn, rotation.lambda.as_deref()).await?;
                Ok(Stored::Created {
                    arn,
                    name,
                    replicas,
                    recreated: None,
                })
            }
            Created::Exists | Created::ScheduledForDeletion => {
                let name = names.secret.as_str();
                let state =
                    secrets::describe(secrets, name)
                        .await?
                        .ok_or_else(|| Error::AwsService {
                            code: None,
                            service: "Secrets Manager",
                            operation: "DescribeSecret",
                            message: format!(
                                "secret {name:?} was reported to exist but cannot be found"
                            ),
                        })?;
                let mut changes = existing_secret::decide(
                    name,
                    &state,
                    &names.owner,
                    Some(&self.place.region),
                    options,
                    rotation.lambda.is_some(),
                )?;
                changes.recreate |=
                    existing_secret::of_another_database(&state, names.database_id.as_deref());
                let recreated = if changes.recreate {
                    let offered = Offered { value, password };
                    match self
                        .recreate(db, names, &state, Some(offered), Some(&endpoint), admin)
                        .await?
                    {
                        Recreated::Flagged(reason) => {
                            return Ok(Stored::Flagged {
                                arn: state.arn,
                                reason,
                            })
                        }
                        other => Some(other),
                    }
                } else {
                    None
                };
                self.change(db, state, changes, value, rotation, recreated)
                    .await
            }
        }
    }

    /// Applies the changes an existing secret of ours needs.
    async fn change(
        &self,
        db: &Database,
        state: SecretState,
        changes: Changes,
        value: &SecretValue,
        rotation: &Rotator,
        recreated: Option<Recreated>,
    ) -> Result<Stored> {
        let secrets = &self.clients.secrets;
        let options = &self.config.options;
        let arn = state.arn.clone();
        let mut replicas = state.replicas.clone();
        let mut what: Vec<String> = Vec::new();
        let endpoint = tags::endpoint(&value.fields.host, value.fields.port);
        if !changes.missing_replicas.is_empty() {
            replicas = secrets::replicate(
                secrets,
                &arn,
                &changes.missing_replicas,
                options.force_overwrite_replica,
            )
            .await?;
            let regions: Vec<&str> = changes
                .missing_replicas
                .iter()
                .map(|r| r.region.as_str())
                .collect();
            what.push(format!("replicated to {}", regions.join(", ")));
        }
        if changes.refresh_connection && !changes.recreate {
            let secrets::Current {
                version_id: version,
                value: current,
                ..
            } = secrets::current(secrets, &arn, &state.name).await?;
            let known = db.copies.is_some();
            if let Some(r) = existing_secret::refresh(&arn, &version, current, &value.fields, known)
            {
                self.check_rotation_of(&state).await?;
                let merged = SecretString::from(serde_json::Value::Object(r.merged).to_string());
                secrets::put_value(secrets, &arn, Some(&r.token), &merged).await?;
                what.push("connection details refreshed (username and password kept)".into());
            }
            let mut wanted = vec![(tags::ENDPOINT_TAG_KEY, Some(endpoint.clone()))];
            // The value now holds exactly these extra keys, where the copies are known.
            if known {
                wanted.extend(written_tags(db, &value.fields.extra));
            }
            self.put_tags(&state, wanted).await?;
        }
        if let (true, Some(lambda), Some(r)) = (
            changes.turn_on_rotation,
            rotation.lambda.as_deref(),
            &options.rotation,
        ) {
            secrets::start_rotation(secrets, lambda, &r.schedule, &arn).await?;
            what.push("rotation turned on".into());
        }
        if changes.put_policy {
            secrets::put_policy(secrets, options, &arn).await?;
        }
        let with = |reason: String| match what.is_empty() {
            true => reason,
            false => format!("{reason}; {}", what.join("; ")),
        };
        match recreated {
            Some(Recreated::Written(reason)) => {
                return Ok(Stored::Created {
                    arn,
                    name: state.name,
                    replicas,
                    recreated: Some(with(reason)),
                })
            }
            Some(Recreated::Kept(reason)) => {
                return Ok(Stored::Updated {
                    arn,
                    replicas,
                    what: with(reason),
                })
            }
            _ => {}
        }
        Ok(if what.is_empty() {
            Stored::Unchanged {
                arn,
                reason: "the secret already exists; it was left as it is".into(),
            }
        } else {
            Stored::Updated {
                arn,
                replicas,
                what: what.join("; "),
            }
        })
    }

    /// After storing: delete the templated initial-password parameter when configured, only
    /// right after this invocation created the secret from it (never on a replay, an update or
    /// an error); warn about failed replicas; answer, with `note` (why the secret gets no
    /// rotation) in the reason.
    pub(super) async fn after_effects(
        &self,
        db: &Database,
        names: &Names,
        stored: Stored,
        note: Option<String>,
        from_parameter: bool,
    ) -> Result<Outcome> {
        if from_parameter
            && self.config.options.delete_password_parameter
            && matches!(stored, Stored::Created { .. })
        {
            parameters::delete(&self.clients.ssm, names.parameter.as_str()).await?;
        }
        let name = names.secret.as_str();
        let outcome = match stored {
            Stored::Created {
                arn,
                name,
                replicas,
                recreated,
            } => {
                let o = Outcome::about(OutcomeKind::Created, db, &self.place)
                    .with_secret(&name, Some(arn))
                    .with_replicas(replicas);
                match (recreated, note) {
                    (Some(r), note) => o.with_reason(joined(r, note)),
                    (None, Some(note)) => o.with_reason(note),
                    (None, None) => o,
                }
            }
            Stored::Updated {
                arn,
                replicas,
                what,
            } => Outcome::about(OutcomeKind::Updated, db, &self.place)
                .with_secret(name, Some(arn))
                .with_replicas(replicas)
                .with_reason(joined(what, note)),
            Stored::Unchanged { arn, reason } => {
                Outcome::about(OutcomeKind::Unchanged, db, &self.place)
                    .with_secret(name, Some(arn))
                    .with_reason(joined(reason, note))
            }
            Stored::Flagged { arn, reason } => {
                warn!(secret_name = name, reason = %reason, "secret flagged");
                Outcome::about(OutcomeKind::Flagged, db, &self.place)
                    .with_secret(name, Some(arn))
                    .with_reason(reason)
            }
        };
        for r in outcome
            .replicas
            .iter()
            .filter(|r| r.status.eq_ignore_ascii_case("failed"))
        {
            warn!(
                secret_name = name,
                region = %r.region,
                message = r.message.as_deref().unwrap_or(""),
                "replica failed"
            );
        }
        Ok(outcome)
    }
}

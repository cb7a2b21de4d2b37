//! The storing steps: CreateSecret, the changes an existing secret of ours gets, and the
//! after-effects (parameter deletion, replica warnings, the outcome).

use secrecy::SecretString;
use tracing::warn;

use super::{Names, Provisioner, Rotator};
use crate::error::{Error, Result};
use crate::existing::{self, Changes};
use crate::model::{Database, Location};
use crate::outcome::{Kind, Outcome, ReplicaStatus};
use crate::password;
use crate::secret::SecretValue;
use crate::store::{self, Created};

/// `reason; note`, or `reason` alone.
fn joined(reason: String, note: Option<String>) -> String {
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
}

impl Provisioner {
    /// CreateSecret with the operator's tags and the ownership tags; if the secret exists,
    /// DescribeSecret decides what (if anything) changes: only the function's own secret for
    /// the same database and user is ever changed, anything else is `SecretConflict`. An
    /// existing secret's password is never overwritten: a replayed event must not replace a
    /// password that was rotated since.
    pub(super) async fn store(
        &self,
        names: &Names,
        value: &SecretValue,
        location: &Location,
        rotation: &Rotator,
    ) -> Result<Stored> {
        let secrets = &self.clients.secrets;
        let options = &self.config.options;
        let mut tags = options.tags.clone();
        tags.extend(names.owner.tags());
        let created = store::create(
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
                store::configure_new(secrets, options, &arn, rotation.lambda.as_deref()).await?;
                Ok(Stored::Created {
                    arn,
                    name,
                    replicas,
                })
            }
            Created::Exists => {
                let name = names.secret.as_str();
                let state =
                    store::describe(secrets, name)
                        .await?
                        .ok_or_else(|| Error::AwsService {
                            service: "Secrets Manager",
                            operation: "DescribeSecret",
                            message: format!(
                                "secret {name:?} was reported to exist but cannot be found"
                            ),
                        })?;
                let changes = existing::decide(
                    name,
                    &state,
                    &names.owner,
                    location.region.as_deref(),
                    options,
                    rotation.lambda.is_some(),
                )?;
                self.change(state.arn, state.replicas, changes, value, rotation)
                    .await
            }
        }
    }

    /// Applies the changes an existing secret of ours needs.
    async fn change(
        &self,
        arn: String,
        mut replicas: Vec<ReplicaStatus>,
        changes: Changes,
        value: &SecretValue,
        rotation: &Rotator,
    ) -> Result<Stored> {
        let secrets = &self.clients.secrets;
        let options = &self.config.options;
        let mut what: Vec<String> = Vec::new();
        if !changes.missing_replicas.is_empty() {
            replicas = store::replicate(
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
        if changes.refresh_connection {
            let (version, current) = store::current_value(secrets, &arn).await?;
            if let Some(r) = existing::refresh(&arn, &version, current, &value.fields) {
                let merged = SecretString::from(serde_json::Value::Object(r.merged).to_string());
                store::put_value(secrets, &arn, &r.token, &merged).await?;
                what.push("connection details refreshed (username and password kept)".into());
            }
        }
        if let (true, Some(lambda), Some(r)) = (
            changes.turn_on_rotation,
            rotation.lambda.as_deref(),
            &options.rotation,
        ) {
            store::start_rotation(secrets, lambda, &r.schedule, &arn).await?;
            what.push("rotation turned on".into());
        }
        if changes.put_policy {
            store::put_policy(secrets, options, &arn).await?;
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
    ) -> Result<Outcome> {
        if self.config.options.delete_password_parameter && matches!(stored, Stored::Created { .. })
        {
            password::delete(&self.clients.ssm, names.parameter.as_str()).await?;
        }
        let name = names.secret.as_str();
        let outcome = match stored {
            Stored::Created {
                arn,
                name,
                replicas,
            } => {
                let o = Outcome::about(Kind::Created, db)
                    .with_secret(&name, Some(arn))
                    .with_replicas(replicas);
                match note {
                    Some(note) => o.with_reason(note),
                    None => o,
                }
            }
            Stored::Updated {
                arn,
                replicas,
                what,
            } => Outcome::about(Kind::Updated, db)
                .with_secret(name, Some(arn))
                .with_replicas(replicas)
                .with_reason(joined(what, note)),
            Stored::Unchanged { arn, reason } => Outcome::about(Kind::Unchanged, db)
                .with_secret(name, Some(arn))
                .with_reason(joined(reason, note)),
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

//! The storing steps: CreateSecret, the changes an existing secret of ours gets, and the
//! after-effects (parameter deletion, replica warnings, the outcome).

use secrecy::SecretString;
use tracing::warn;

use super::{Names, Provisioner};
use crate::error::{Error, Result};
use crate::existing::{self, Changes};
use crate::model::{Database, Location};
use crate::outcome::{Kind, Outcome, ReplicaStatus};
use crate::password;
use crate::secret::SecretValue;
use crate::store::{self, Created};

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
                store::configure_new(secrets, options, &arn).await?;
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
                )?;
                self.change(state.arn, state.replicas, changes, value).await
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
        if changes.turn_on_rotation {
            store::start_rotation(secrets, options, &arn).await?;
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
    /// an error); warn about failed replicas; answer.
    pub(super) async fn after_effects(
        &self,
        db: &Database,
        names: &Names,
        stored: Stored,
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
            } => Outcome::about(Kind::Created, db)
                .with_secret(&name, Some(arn))
                .with_replicas(replicas),
            Stored::Updated {
                arn,
                replicas,
                what,
            } => Outcome::about(Kind::Updated, db)
                .with_secret(name, Some(arn))
                .with_replicas(replicas)
                .with_reason(what),
            Stored::Unchanged { arn, reason } => Outcome::about(Kind::Unchanged, db)
                .with_secret(name, Some(arn))
                .with_reason(reason),
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

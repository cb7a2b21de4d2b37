//! The names step: the secret name, the parameter name and the description, rendered from the
//! operator's templates for (service, identifier, username) and checked against their prefixes
//! before any AWS call; and the `masterSecretArn` of a user event, accepted only when it is the
//! database's own master secret.

use crate::aws::secrets;
use crate::event::UserSpec;
use crate::jobs::Job;
use crate::model::engine::EngineRule;
use crate::model::error::{Error, Result};
use crate::model::identifiers::{clip, Arn, ParameterName, SecretName};
use crate::model::tags::Owner;
use crate::model::template::Facts;
use crate::model::Database;

/// The names one job uses.
pub(super) struct Names {
    pub secret: SecretName,
    pub parameter: ParameterName,
    pub description: String,
    /// The database and user the secret belongs to (its ownership tags).
    pub owner: Owner,
    /// The database's immutable resource id (the database-id tag), when Describe gives one.
    pub database_id: Option<String>,
}

impl Job {
    /// The names of `username`'s secret and parameter for `db`.
    pub(super) fn names(&self, db: &Database, rule: &EngineRule, username: &str) -> Result<Names> {
        let facts = Facts::of(
            db.service,
            &db.identifier,
            Some(username),
            Some(rule.secret_engine),
            &self.place,
        );
        let missing = |variable: &str| {
            Error::InvalidEvent(format!(
                "{variable} needs {{region}} or {{account}}, which the event for {db} does not carry"
            ))
        };
        let secret = self
            .config
            .secret_name
            .render(&facts)
            .ok_or_else(|| missing("SECRET_NAME_TEMPLATE"))?;
        let secret = SecretName::parse(&secret)?;
        if !secret.as_str().starts_with(&self.config.secret_prefix) {
            return Err(Error::InvalidSecretName {
                name: secret.to_string(),
                reason: format!("it is outside the prefix {:?}", self.config.secret_prefix),
            });
        }
        let parameter = self
            .config
            .password_parameter
            .render(&facts)
            .ok_or_else(|| missing("PASSWORD_PARAMETER_TEMPLATE"))?;
        let parameter = ParameterName::parse(&parameter)?;
        if !parameter
            .as_str()
            .starts_with(&self.config.parameter_prefix)
        {
            return Err(Error::InvalidEvent(format!(
                "parameter {parameter} is outside the prefix {:?}",
                self.config.parameter_prefix
            )));
        }
        let description = self
            .config
            .description
            .render(&facts)
            .ok_or_else(|| missing("SECRET_DESCRIPTION_TEMPLATE"))?;
        Ok(Names {
            secret,
            parameter,
            description,
            owner: Owner::new(db.service, db.resource.kind(), &db.identifier, username),
            database_id: db.resource_id.clone(),
        })
    }

    /// The user event's `masterSecretArn`, if it names one of the database's two master
    /// secrets: its AWS-managed master secret (from Describe), or this function's secret for
    /// its master user (same account and region, the templated name, the ownership tags).
    /// Anything else is `InvalidEvent` naming `masterSecretArn`.
    pub(super) async fn master_secret_arn(
        &self,
        db: &Database,
        rule: &EngineRule,
        user: &UserSpec,
    ) -> Result<Option<String>> {
        let Some(arn) = user.master_secret_arn.as_deref() else {
            return Ok(None);
        };
        let invalid = |why: String| {
            Error::InvalidEvent(format!("detail.masterSecretArn {:?} {why}", clip(arn)))
        };
        let parsed = Arn::parse(arn).map_err(|_| invalid("is not an ARN".into()))?;
        if self.place.account != parsed.account || self.place.region != parsed.region {
            return Err(invalid(format!(
                "is in account {} region {}, not the database's",
                clip(parsed.account),
                clip(parsed.region)
            )));
        }
        if db.managed_secret_arn.as_deref() == Some(arn) {
            return Ok(Some(arn.to_string()));
        }
        let master = db.master_username.as_deref().unwrap_or_default();
        let expected = self.names(db, rule, master)?;
        // A secret ARN ends with the name, `-` and six characters AWS adds.
        let name = parsed
            .resource_id
            .len()
            .checked_sub(7)
            .map(|n| &parsed.resource_id[..n]);
        let not_master = || {
            invalid(format!(
                "is neither the AWS-managed master secret of {db} nor this function's secret {} for its master user",
                expected.secret
            ))
        };
        if name != Some(expected.secret.as_str()) {
            return Err(not_master());
        }
        match secrets::describe(&self.clients.secrets, arn).await? {
            Some(state)
                if state.arn == arn && state.is_owned_by(&expected.owner, Some(parsed.region)) =>
            {
                Ok(Some(arn.to_string()))
            }
            Some(_) => Err(not_master()),
            None => Err(invalid("is not a secret".into())),
        }
    }
}

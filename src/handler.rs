//! The flow of one invocation: recognise the event, look up the database and read the
//! password (concurrently where the names allow), shape the secret, store it, answer.

use std::time::Instant;

use lambda_runtime::LambdaEvent;
use secrecy::SecretString;
use serde_json::Value;
use tracing::{field, info, warn, Instrument};

use crate::aws::Clients;
use crate::config::Config;
use crate::database::{self, Database, Service};
use crate::error::{Error, Result};
use crate::event::{self, Recognised, Request};
use crate::outcome::{DatabaseRef, Kind, Outcome};
use crate::password;
use crate::secret::{self, EngineRule};
use crate::store::{self, Stored};
use crate::template::{Facts, Template};

/// Shared by every invocation of an execution environment.
#[derive(Debug, Clone)]
pub struct Handler {
    config: Config,
    clients: Clients,
}

/// What to do with a described database.
#[derive(Debug, PartialEq, Eq)]
pub enum Assessment {
    Skip(String),
    Provision {
        rule: &'static EngineRule,
        host: String,
        username: String,
    },
}

/// Decides, from Describe alone, whether the database gets a secret (pure logic).
pub fn assess(db: &Database) -> Result<Assessment> {
    let what = format!("{} {}", db.kind, db.identifier);
    if matches!(db.status.as_str(), "deleting" | "deleted") {
        return Ok(Assessment::Skip(format!("{what} is {}", db.status)));
    }
    let Some(rule) = secret::engine_rule(&db.engine) else {
        return Ok(Assessment::Skip(format!(
            "{what} runs engine {:?}, which has no database secret format",
            db.engine
        )));
    };
    if let Some(cluster) = &db.cluster {
        return Ok(Assessment::Skip(format!(
            "{what} is a member of DB cluster {cluster}; the cluster's secret covers it"
        )));
    }
    if let Some(arn) = &db.managed_secret_arn {
        return Ok(Assessment::Skip(format!(
            "the master password of {what} is managed by AWS in secret {arn}"
        )));
    }
    let not_ready = |detail: String| Error::DatabaseNotReady {
        kind: db.kind,
        identifier: db.identifier.clone(),
        detail,
    };
    let host = db
        .host
        .clone()
        .ok_or_else(|| not_ready(format!("status {:?}, no endpoint yet", db.status)))?;
    let username = db
        .master_username
        .clone()
        .filter(|u| !u.is_empty())
        .ok_or_else(|| not_ready("Describe reports no master username".into()))?;
    Ok(Assessment::Provision {
        rule,
        host,
        username,
    })
}

impl Handler {
    pub fn new(config: Config, clients: Clients) -> Self {
        Handler { config, clients }
    }

    /// The Lambda entry point: runs [`Handler::handle`] and writes one log line about it.
    pub async fn invoke(&self, event: LambdaEvent<Value>) -> Result<Outcome> {
        let started = Instant::now();
        let event_id = event
            .payload
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("");
        let span = tracing::info_span!(
            "invocation",
            request_id = %event.context.request_id,
            event_id = %event_id,
            trigger = field::Empty,
            database = field::Empty,
        );
        let result = self.handle(&event.payload).instrument(span.clone()).await;
        let _entered = span.enter();
        let duration_ms = started.elapsed().as_millis() as u64;
        match &result {
            Ok(o) => info!(
                outcome = ?o.outcome,
                secret_name = o.secret_name.as_deref().unwrap_or(""),
                secret_arn = o.secret_arn.as_deref().unwrap_or(""),
                reason = o.reason.as_deref().unwrap_or(""),
                duration_ms,
                "invocation finished"
            ),
            Err(e) => warn!(
                error_type = e.error_type(),
                error = %e,
                duration_ms,
                "invocation failed"
            ),
        }
        result
    }

    /// Handles one event payload.
    pub async fn handle(&self, payload: &Value) -> Result<Outcome> {
        let request = match event::recognise(payload)? {
            Recognised::Ignored(reason) => return Ok(Outcome::ignored(reason)),
            Recognised::Provision(r) => r,
        };
        let span = tracing::Span::current();
        span.record("trigger", request.trigger.as_str());
        span.record(
            "database",
            format!("{} {}", request.target.kind(), request.target.identifier()),
        );

        let mut facts = Facts {
            // DocumentDB arrives on the same RDS events: guess `rds`, Describe corrects it.
            service: Some(Service::Rds.as_str().into()),
            identifier: Some(request.target.identifier().to_string()),
            username: None,
            engine: None,
            region: request
                .region
                .clone()
                .or_else(|| self.config.region.clone()),
            account: request.account.clone(),
        };

        // Describe and GetParameter are independent whenever the parameter name can be
        // rendered from the event alone: then they run concurrently.
        let (db, early) = match self.config.password_parameter.render(&facts) {
            Some(name) => {
                let (db, pw) = tokio::join!(
                    database::describe(&self.clients, &request.target),
                    password::read(&self.clients.ssm, &name)
                );
                (db?, Some((name, pw)))
            }
            None => (
                database::describe(&self.clients, &request.target).await?,
                None,
            ),
        };

        let (rule, host, username) = match assess(&db)? {
            Assessment::Skip(reason) => {
                return Ok(self.outcome(Kind::Skipped, &db, None, Some(reason)))
            }
            Assessment::Provision {
                rule,
                host,
                username,
            } => (rule, host, username),
        };
        facts.service = Some(db.service.as_str().into());
        facts.identifier = Some(db.identifier.clone());
        facts.username = Some(username.clone());
        facts.engine = Some(rule.secret_engine.into());

        let secret_name = render(
            &self.config.secret_name,
            &facts,
            "SECRET_NAME_TEMPLATE",
            &request,
        )?;
        store::validate_name(&secret_name)?;
        let parameter = render(
            &self.config.password_parameter,
            &facts,
            "PASSWORD_PARAMETER_TEMPLATE",
            &request,
        )?;
        let password: SecretString = match early {
            Some((name, result)) if name == parameter => result?,
            _ => password::read(&self.clients.ssm, &parameter).await?,
        };
        let description = render(
            &self.config.description,
            &facts,
            "SECRET_DESCRIPTION_TEMPLATE",
            &request,
        )?;
        let value = secret::shape(&db, rule, &host, &username, &password, None)?;

        match store::create(&self.clients.secrets, &secret_name, &description, &value).await? {
            Stored::Created { arn, name } => {
                let mut o = self.outcome(Kind::Created, &db, Some(name), None);
                o.secret_arn = Some(arn);
                Ok(o)
            }
            Stored::AlreadyExists => Ok(self.outcome(
                Kind::Unchanged,
                &db,
                Some(secret_name),
                Some("the secret already exists; it was left as it is".into()),
            )),
        }
    }

    fn outcome(
        &self,
        kind: Kind,
        db: &Database,
        secret_name: Option<String>,
        reason: Option<String>,
    ) -> Outcome {
        Outcome {
            secret_name,
            reason,
            database: Some(DatabaseRef {
                service: db.service.as_str().into(),
                identifier: db.identifier.clone(),
                engine: db.engine.clone(),
            }),
            ..Outcome::new(kind)
        }
    }
}

/// Renders a template with everything known about the database. Only `{region}` and
/// `{account}` can still be missing, when a hand-made event carries neither.
fn render(template: &Template, facts: &Facts, variable: &str, request: &Request) -> Result<String> {
    template.render(facts).ok_or_else(|| {
        Error::InvalidEvent(format!(
            "{variable} needs {{region}} or {{account}}, which the event for {} {} does not carry",
            request.target.kind(),
            request.target.identifier()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::database::IdentifierKey;

    fn db() -> Database {
        Database {
            service: Service::Rds,
            kind: "DB instance",
            identifier: "orders".into(),
            identifier_key: IdentifierKey::DbInstance,
            engine: "mysql".into(),
            status: "available".into(),
            host: Some("orders.x.rds.amazonaws.com".into()),
            port: Some(3306),
            dbname: None,
            master_username: Some("admin".into()),
            cluster: None,
            managed_secret_arn: None,
        }
    }

    fn skip_reason(d: &Database) -> String {
        match assess(d).unwrap() {
            Assessment::Skip(r) => r,
            other => panic!("expected skip, got {other:?}"),
        }
    }

    #[test]
    fn provisions_an_available_database() {
        match assess(&db()).unwrap() {
            Assessment::Provision {
                rule,
                host,
                username,
            } => {
                assert_eq!(rule.secret_engine, "mysql");
                assert_eq!(host, "orders.x.rds.amazonaws.com");
                assert_eq!(username, "admin");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn skips() {
        let mut d = db();
        d.cluster = Some("aurora-1".into());
        assert!(skip_reason(&d).contains("member of DB cluster aurora-1"));
        let mut d = db();
        d.managed_secret_arn = Some("arn:aws:secretsmanager:us-east-1:1:secret:rds!db-1".into());
        assert!(skip_reason(&d).contains("rds!db-1"));
        let mut d = db();
        d.engine = "neptune".into();
        assert!(skip_reason(&d).contains("neptune"));
        let mut d = db();
        d.status = "deleting".into();
        d.host = None;
        assert!(skip_reason(&d).contains("deleting"));
    }

    #[test]
    fn no_endpoint_is_not_ready() {
        let mut d = db();
        d.status = "creating".into();
        d.host = None;
        let e = assess(&d).unwrap_err();
        assert_eq!(e.error_type(), "DatabaseNotReady");
        assert!(e.to_string().contains("orders") && e.to_string().contains("creating"));
    }
}

//! The flow of one invocation: recognise the event, look up the database and read the
//! password (concurrently where the names allow), shape the secret, store it, answer.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lambda_runtime::LambdaEvent;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tracing::{field, info, warn, Instrument};

use crate::aws::Clients;
use crate::config::{is_parameter_name_char, Config};
use crate::database::{self, Database};
use crate::error::{Error, Result};
use crate::event::{self, Recognised, Request, UserSpec};
use crate::outcome::{DatabaseRef, Kind, Outcome};
use crate::password::{self, Early, Plan};
use crate::secret::{self, EngineRule};
use crate::store::{self, validate_name, Stored};
use crate::template::{Facts, Field};

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

/// Decides, from Describe alone, whether the database gets a secret (pure logic). `user` is
/// set for an application user's secret: then the master user's managed password and cluster
/// membership do not matter, only that the database can be reached.
pub fn assess(db: &Database, user: Option<&UserSpec>) -> Result<Assessment> {
    let what = format!("{} {}", db.kind, db.identifier);
    if database::is_gone(&db.status) {
        return Ok(Assessment::Skip(format!("{what} is {}", db.status)));
    }
    let Some(rule) = secret::engine_rule(&db.engine) else {
        return Ok(Assessment::Skip(format!(
            "{what} runs engine {:?}, which has no database secret format",
            db.engine
        )));
    };
    if user.is_none() {
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
    let username = match user {
        Some(u) => u.username.clone(),
        None => db
            .master_username
            .clone()
            .filter(|u| !u.is_empty())
            .ok_or_else(|| not_ready("Describe reports no master username".into()))?,
    };
    Ok(Assessment::Provision {
        rule,
        host,
        username,
    })
}

/// Time kept back from the invocation's deadline when waiting for a database: enough for
/// GetParameter and CreateSecret after the wait.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(15);

impl Handler {
    pub fn new(config: Config, clients: Clients) -> Self {
        Handler { config, clients }
    }

    pub fn clients(&self) -> &Clients {
        &self.clients
    }

    /// The Lambda entry point: runs [`Handler::handle`] and writes one log line about it.
    pub async fn invoke(&self, event: LambdaEvent<Value>) -> Result<Outcome> {
        let started = Instant::now();
        let remaining = Duration::from_millis(event.context.deadline).checked_sub(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default(),
        );
        // An event id is a UUID; a hostile one is cut short rather than logged whole.
        let event_id: String = event
            .payload
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .chars()
            .take(64)
            .collect();
        let span = tracing::info_span!(
            "invocation",
            request_id = %event.context.request_id,
            event_id = %event_id,
            trigger = field::Empty,
            database = field::Empty,
        );
        // Boxed: the flow's future (SDK calls, waiters) is too deep to nest in the runtime's.
        let result = Box::pin(self.handle(&event.payload, remaining))
            .instrument(span.clone())
            .await;
        let _entered = span.enter();
        let duration_ms = started.elapsed().as_millis() as u64;
        match &result {
            Ok(o) => {
                let replicas: Vec<String> = o
                    .replicas
                    .iter()
                    .map(|r| format!("{}:{}", r.region, r.status))
                    .collect();
                info!(
                    outcome = o.outcome.as_str(),
                    secret_name = o.secret_name.as_deref().unwrap_or(""),
                    secret_arn = o.secret_arn.as_deref().unwrap_or(""),
                    replicas = replicas.join(","),
                    reason = o.reason.as_deref().unwrap_or(""),
                    duration_ms,
                    "invocation finished"
                )
            }
            Err(e) => warn!(
                error_type = e.error_type(),
                error = %e,
                duration_ms,
                "invocation failed"
            ),
        }
        result
    }

    /// Handles one event payload. `remaining` is the invocation's time left, which bounds the
    /// wait for a database that is still being created and the reconcile sweep.
    pub async fn handle(&self, payload: &Value, remaining: Option<Duration>) -> Result<Outcome> {
        match event::recognise(payload)? {
            Recognised::Ignored(reason) => Ok(Outcome::ignored(reason)),
            Recognised::Sweep { region, account } => {
                tracing::Span::current().record("trigger", "reconcile-sweep");
                let facts = Facts {
                    region: region.or_else(|| self.config.region.clone()),
                    account,
                    ..Facts::default()
                };
                crate::sweep::run(self, facts, remaining).await
            }
            Recognised::Provision(request) => self.handle_request(&request, remaining).await,
        }
    }

    async fn handle_request(
        &self,
        request: &Request,
        remaining: Option<Duration>,
    ) -> Result<Outcome> {
        let span = tracing::Span::current();
        span.record("trigger", request.trigger.as_str());
        span.record(
            "database",
            format!("{} {}", request.target.kind(), request.target.identifier()),
        );
        let user = request.user.as_deref();
        let facts = Facts {
            // DocumentDB arrives on the same RDS events: a guess that Describe corrects.
            service: Some(request.target.service_guess().into()),
            identifier: Some(request.target.identifier().to_string()),
            username: user
                .map(|u| u.username.clone())
                .or_else(|| request.master_username_hint.clone()),
            engine: None,
            region: request
                .region
                .clone()
                .or_else(|| self.config.region.clone()),
            account: request.account.clone(),
        };

        let max_wait = if request.wait {
            let budget = remaining.map(|r| r.saturating_sub(DEADLINE_MARGIN));
            budget.map_or(self.config.wait_for_available, |b| {
                b.min(self.config.wait_for_available)
            })
        } else {
            Duration::ZERO
        };
        let lookup = database::describe_available(&self.clients, &request.target, max_wait);
        // Describe and the parameter read are independent whenever the parameter's name (or,
        // for a template ending in `/{username}`, its parent path) can be rendered from the
        // event alone: then they run concurrently.
        let plan = self.early_plan(user, &facts);
        let early = async {
            match plan {
                Some(plan) => Some(plan.run(&self.clients.ssm).await),
                None => None,
            }
        };
        let (db, early) = tokio::join!(lookup, early);
        let db = db?;
        self.provision(db, user, facts, early).await
    }

    /// What can be read before Describe: the exact parameter, or the parameters under its
    /// parent path when only the master username (a trailing `/{username}`) is unknown.
    fn early_plan(&self, user: Option<&UserSpec>, facts: &Facts) -> Option<Plan> {
        if let Some(name) = self.parameter_name(user, facts) {
            return Some(Plan::Exact(name));
        }
        let path = self
            .config
            .password_parameter
            .parent_of_last(Field::Username)?
            .render(facts)?;
        (path.starts_with('/') && path.len() > 1).then_some(Plan::Listed(path))
    }

    /// The password parameter's name: the user event's own, or the template's (`None` while a
    /// fact it needs is unknown).
    fn parameter_name(&self, user: Option<&UserSpec>, facts: &Facts) -> Option<String> {
        match user.and_then(|u| u.password_parameter.clone()) {
            Some(fixed) => Some(fixed),
            None => self.config.password_parameter.render(facts),
        }
    }

    /// Everything after Describe: assess, read the password (unless `early` already did, for
    /// the same name), shape, store. Shared by the event path and the reconcile sweep.
    pub(crate) async fn provision(
        &self,
        mut db: Database,
        user: Option<&UserSpec>,
        mut facts: Facts,
        early: Option<Early>,
    ) -> Result<Outcome> {
        let (rule, host, username) = match assess(&db, user)? {
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
        let missing = |variable: &str| {
            Error::InvalidEvent(format!(
                "{variable} needs {{region}} or {{account}}, which the event for {} {} does not carry",
                db.kind, db.identifier
            ))
        };

        let secret_name = match user.and_then(|u| u.secret_name.clone()) {
            Some(name) => name,
            None => self
                .config
                .secret_name
                .render(&facts)
                .ok_or_else(|| missing("SECRET_NAME_TEMPLATE"))?,
        };
        validate_name(&secret_name)?;
        let parameter = self
            .parameter_name(user, &facts)
            .ok_or_else(|| missing("PASSWORD_PARAMETER_TEMPLATE"))?;
        validate_parameter_name(&parameter)?;
        let description = self
            .config
            .description
            .render(&facts)
            .ok_or_else(|| missing("SECRET_DESCRIPTION_TEMPLATE"))?;
        let options = &self.config.options;

        let read = match early {
            Some(early) => early.take(&self.clients.ssm, &parameter).await,
            None => password::read(&self.clients.ssm, &parameter).await,
        };
        let password: SecretString = match read {
            Ok(p) => p,
            // With DELETE_PASSWORD_PARAMETER, a replay finds the parameter gone once the secret
            // was stored: that is success, not a missing password.
            Err(Error::PasswordParameterNotFound { .. }) if options.delete_password_parameter => {
                if let Some(d) = store::describe(&self.clients.secrets, &secret_name).await? {
                    if store::is_ours(&d) && d.deleted_date().is_none() {
                        let mut o = self.outcome(
                            Kind::Unchanged,
                            &db,
                            Some(secret_name),
                            Some("the secret already exists and its initial-password parameter was deleted".into()),
                        );
                        o.secret_arn = d.arn().map(str::to_string);
                        return Ok(o);
                    }
                }
                return Err(Error::PasswordParameterNotFound { name: parameter });
            }
            Err(e) => return Err(e),
        };
        // Tags are not encrypted: a tag that carries the password is refused.
        if let Some((key, _)) = options
            .tags
            .iter()
            .find(|(_, v)| v == password.expose_secret())
        {
            return Err(Error::config(
                "SECRET_TAGS",
                format!(
                    "the value of tag {key:?} equals the password of {} {}; tags are not encrypted",
                    db.kind, db.identifier
                ),
            ));
        }
        if let Some(dbname) = user.and_then(|u| u.dbname.clone()) {
            db.dbname = Some(dbname);
        }
        let masterarn = user.and_then(|u| u.master_secret_arn.as_deref());
        let value = secret::shape(&db, rule, &host, &username, &password, masterarn)?;

        let stored = store::store(
            &self.clients.secrets,
            options,
            &secret_name,
            &description,
            &value,
        )
        .await?;
        let ours = !matches!(stored, Stored::Unchanged { ours: false, .. });
        if options.delete_password_parameter && ours {
            password::delete(&self.clients.ssm, &parameter).await?;
        }
        let outcome = match stored {
            Stored::Created {
                arn,
                name,
                replicas,
            } => Outcome {
                secret_arn: Some(arn),
                replicas,
                ..self.outcome(Kind::Created, &db, Some(name), None)
            },
            Stored::Updated {
                arn,
                name,
                replicas,
                what,
            } => Outcome {
                secret_arn: Some(arn),
                replicas,
                ..self.outcome(Kind::Updated, &db, Some(name), Some(what))
            },
            Stored::Unchanged {
                arn, name, reason, ..
            } => Outcome {
                secret_arn: arn,
                ..self.outcome(Kind::Unchanged, &db, Some(name), Some(reason))
            },
        };
        for r in outcome
            .replicas
            .iter()
            .filter(|r| r.status.eq_ignore_ascii_case("failed"))
        {
            warn!(
                secret_name = outcome.secret_name.as_deref().unwrap_or(""),
                region = %r.region,
                message = r.message.as_deref().unwrap_or(""),
                "replica failed"
            );
        }
        Ok(outcome)
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

/// SSM parameter names: 1–2048 of `A-Za-z0-9_.-/`. Checked before the call so that an
/// identifier or username that cannot form a name is named in the error.
fn validate_parameter_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > 2048 || !name.chars().all(is_parameter_name_char) {
        return Err(Error::InvalidEvent(format!(
            "{:?} is not a valid SSM parameter name (A-Z a-z 0-9 _ . - /)",
            name.chars().take(200).collect::<String>()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::database::{IdentifierKey, Service};

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
        match assess(d, None).unwrap() {
            Assessment::Skip(r) => r,
            other => panic!("expected skip, got {other:?}"),
        }
    }

    #[test]
    fn provisions_an_available_database() {
        match assess(&db(), None).unwrap() {
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
    fn a_user_secret_ignores_the_master_users_managed_password_and_membership() {
        let mut d = db();
        d.managed_secret_arn = Some("arn:aws:secretsmanager:us-east-1:1:secret:rds!db-1".into());
        d.cluster = Some("aurora-1".into());
        let user = UserSpec {
            username: "app_user".into(),
            ..Default::default()
        };
        match assess(&d, Some(&user)).unwrap() {
            Assessment::Provision { username, .. } => assert_eq!(username, "app_user"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn no_endpoint_is_not_ready() {
        let mut d = db();
        d.status = "creating".into();
        d.host = None;
        let e = assess(&d, None).unwrap_err();
        assert_eq!(e.error_type(), "DatabaseNotReady");
        assert!(e.to_string().contains("orders") && e.to_string().contains("creating"));
    }
}

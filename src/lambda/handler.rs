//! The Lambda entry: one log line per invocation, the trust check, and the one dispatch of a
//! recognised event to the job its trigger names ([`crate::jobs`]: create, follow, retire, or
//! a sweep).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;
use tracing::{field, info, warn, Instrument};

use crate::aws::accounts::{session_name, Accounts};
use crate::aws::queue::WorkQueue;
use crate::aws::Clients;
use crate::config::Config;
use crate::event::{self, Action, Recognised};
use crate::jobs::{organization, plan, sweep, Job};
use crate::model::error::{Error, Result};
use crate::model::outcome::{Outcome, OutcomeKind, Sweep};
use crate::model::Place;
use crate::rules::trust;

/// What the runtime says about one invocation: the function's own place (account and region,
/// from the invoked function ARN) and the time left.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub own: Place,
    pub remaining: Option<Duration>,
}

impl Invocation {
    pub fn from_context(context: &Context) -> Result<Invocation> {
        Ok(Invocation {
            own: Place::from_function_arn(&context.invoked_function_arn)?,
            remaining: context.deadline().duration_since(SystemTime::now()).ok(),
        })
    }

    /// An invocation of a function in `account` and `region` with no deadline (tests, tools).
    pub fn new(account: &str, region: &str) -> Invocation {
        Invocation {
            own: Place::own(account, region),
            remaining: None,
        }
    }

    pub fn with_remaining(mut self, remaining: Duration) -> Invocation {
        self.remaining = Some(remaining);
        self
    }
}

/// Shared by every invocation of an execution environment.
#[derive(Debug, Clone)]
pub struct Handler {
    config: Arc<Config>,
    accounts: Accounts,
    /// Hub mode: the work queue the scheduled sweep plans into (`WORK_QUEUE_URL`).
    queue: Option<WorkQueue>,
}

impl Handler {
    pub fn new(config: Config, clients: Clients) -> Self {
        let accounts = Accounts::new(clients.clone(), &config.organization);
        let queue = match (config.work.plan_to(), clients.sdk.as_ref()) {
            (Some(url), Some(sdk)) => Some(WorkQueue::new(sdk, url)),
            _ => None,
        };
        Handler {
            config: Arc::new(config),
            accounts,
            queue,
        }
    }

    /// The job context at `place`, with its clients, in the member session `session`.
    async fn at(&self, place: &Place, session: &str) -> Result<Job> {
        let clients = self.accounts.clients_for(place, session).await?;
        Ok(Job::new(&self.config, clients, place))
    }

    /// The Lambda entry point: runs [`Handler::handle`] and writes one log line about it.
    pub async fn invoke(&self, event: LambdaEvent<Value>) -> Result<Outcome> {
        let started = Instant::now();
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
        let result = match Invocation::from_context(&event.context) {
            Ok(invocation) => {
                Box::pin(self.handle(&event.payload, &invocation))
                    .instrument(span.clone())
                    .await
            }
            Err(e) => Err(e),
        };
        // Hub mode: what no retry can fix is answered, not thrown (Lambda retries a thrown
        // error of an asynchronous invocation twice). Only for events: an operator's direct
        // `resolve` (no `source`) keeps its error.
        let from_eventbridge = event.payload.get("source").is_some();
        let user_event = event
            .payload
            .get("detail-type")
            .and_then(Value::as_str)
            .is_some_and(|t| t == crate::event::USER_CREATED_DETAIL_TYPE);
        let result = match result {
            Err(e)
                if self.config.organization.is_hub()
                    && from_eventbridge
                    && e.is_refusal(user_event) =>
            {
                Ok(Outcome::refused(&e))
            }
            other => other,
        };
        let _entered = span.enter();
        let duration_ms = started.elapsed().as_millis() as u64;
        match &result {
            // A refusal (hub mode) is logged at the level of the error it answers, so that
            // LogLevel=WARN keeps it and the errorType alarms still count it.
            Ok(o) if o.outcome == OutcomeKind::Refused => warn!(
                outcome = o.outcome.as_str(),
                error_type = o.error_type.as_deref().unwrap_or(""),
                reason = o.reason.as_deref().unwrap_or(""),
                duration_ms,
                "invocation finished"
            ),
            Ok(o) => {
                let replicas: Vec<String> = o
                    .replicas
                    .iter()
                    .map(|r| format!("{}:{}", r.region, r.status))
                    .collect();
                let (account, region) = o
                    .database
                    .as_ref()
                    .map(|d| (d.account.as_str(), d.region.as_str()))
                    .unwrap_or_default();
                info!(
                    outcome = o.outcome.as_str(),
                    account,
                    region,
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

    /// Handles one event payload: recognise, admit (source, account, region; before any AWS
    /// call), dispatch. The invocation's time left bounds the wait for a database that is still
    /// being created and the reconcile sweep.
    pub async fn handle(&self, payload: &Value, invocation: &Invocation) -> Result<Outcome> {
        let span = tracing::Span::current();
        let config = &self.config;
        let remaining = invocation.remaining;
        let session = &session_name(payload.get("id").and_then(Value::as_str).unwrap_or(""));
        match event::recognise(payload)? {
            Recognised::Ignored(reason) => Ok(Outcome::ignored(reason)),
            Recognised::Sweep(location) => {
                span.record("trigger", "reconcile-sweep");
                trust::admit_location(&location, &invocation.own)?;
                let sweep = if config.organization.is_hub() {
                    let queue = self.queue.as_ref().ok_or_else(|| {
                        Error::config(
                            "WORK_QUEUE_URL",
                            "hub mode plans its sweep into the work queue, which needs the SDK configuration the function loads at init",
                        )
                    })?;
                    Sweep::Plan(
                        plan::run(
                            config,
                            &self.accounts,
                            queue,
                            &invocation.own,
                            session,
                            invocation.remaining,
                        )
                        .await?,
                    )
                } else if config.organization.sweeps_organization() {
                    Sweep::Organization(
                        organization::run(
                            config,
                            &self.accounts,
                            &invocation.own,
                            session,
                            remaining,
                        )
                        .await?,
                    )
                } else {
                    let job = self.at(&invocation.own, session).await?;
                    let report = sweep::run(&job, remaining).await?;
                    sweep::log_summary(&report);
                    Sweep::Single(Box::new(report))
                };
                Ok(Outcome {
                    sweep: Some(sweep),
                    ..Outcome::new(OutcomeKind::Reconciled)
                })
            }
            Recognised::Resolve(request) => {
                span.record("trigger", "resolve");
                span.record("database", request.secret.as_str());
                let job = self.at(&invocation.own, session).await?;
                job.resolve(&request).await
            }
            Recognised::Provision(request) => {
                span.record("trigger", request.trigger.as_str());
                span.record("database", request.target.to_string());
                let place = trust::admit(&request, &invocation.own, config)?;
                let job = self.at(&place, session).await?;
                // The one dispatch on what the trigger asks for.
                match request.action {
                    Action::Provision => job.run(&request, remaining).await,
                    Action::FollowConnection => job.follow(&request, remaining).await,
                    Action::Retire => job.retire_database(&request).await,
                    Action::HintRestore => job.hint_restore(&request).await,
                    Action::ResetPassword => job.reset_password(&request).await,
                    Action::TakeOver => job.take_over_request(&request).await,
                }
            }
        }
    }
}

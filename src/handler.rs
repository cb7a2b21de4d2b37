//! The Lambda entry: one log line per invocation, and the dispatch of a recognised event to the
//! pipeline ([`crate::provision`]) or the sweep ([`crate::sweep`]).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use lambda_runtime::LambdaEvent;
use serde_json::Value;
use tracing::{field, info, warn, Instrument};

use crate::aws::Clients;
use crate::config::Config;
use crate::error::Result;
use crate::event::{self, Recognised};
use crate::outcome::Outcome;
use crate::provision::Provisioner;
use crate::sweep;

/// Shared by every invocation of an execution environment.
#[derive(Debug, Clone)]
pub struct Handler {
    provisioner: Provisioner,
}

impl Handler {
    pub fn new(config: Config, clients: Clients) -> Self {
        Handler {
            provisioner: Provisioner::new(Arc::new(config), clients),
        }
    }

    pub fn clients(&self) -> &Clients {
        self.provisioner.clients()
    }

    /// The Lambda entry point: runs [`Handler::handle`] and writes one log line about it.
    pub async fn invoke(&self, event: LambdaEvent<Value>) -> Result<Outcome> {
        let started = Instant::now();
        let remaining = event
            .context
            .deadline()
            .duration_since(SystemTime::now())
            .ok();
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
        let span = tracing::Span::current();
        match event::recognise(payload)? {
            Recognised::Ignored(reason) => Ok(Outcome::ignored(reason)),
            Recognised::Sweep(location) => {
                span.record("trigger", "reconcile-sweep");
                let location = self.provisioner.location(&location);
                sweep::run(&self.provisioner, &location, remaining).await
            }
            Recognised::Provision(request) => {
                span.record("trigger", request.trigger.as_str());
                span.record("database", request.target.to_string());
                self.provisioner.run(&request, remaining).await
            }
        }
    }
}

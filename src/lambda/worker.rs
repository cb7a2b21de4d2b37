//! The worker's entry (`HANDLER_MODE=worker`, hub mode): SQS batches from the work queue,
//! through Lambda's event source mapping (batch size 1, `ReportBatchItemFailures`). Each record
//! must come from `WORK_QUEUE_ARN` and carry a place message of the exact schema
//! ([`crate::model::place_message`]) naming a place the sweep covers; the worker then runs the
//! single-place sweep ([`crate::jobs::sweep`]) there, bounded by the invocation's time left, and
//! writes the place's report as the record's one log line.
//!
//! The answer is Lambda's partial batch response, exactly as documented: a record that failed
//! in a way a retry may fix (`MemberAccessDenied`, throttling, anything unexpected, and a place
//! swept with a listing that failed that way) is listed by its `messageId` in
//! `batchItemFailures`, so SQS delivers it again and, after
//! `maxReceiveCount` receives, moves it to the DLQ. A record no retry can fix (not a place
//! message, an untrusted place) is answered, so that its message is deleted, and logged as
//! `UntrustedEvent` at WARN. A failed record without a `messageId` cannot be named: the
//! invocation then fails, which fails the whole batch ("If your function throws an exception,
//! the entire batch is considered a complete failure").

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_runtime::LambdaEvent;
use serde_json::Value;
use tracing::{info, warn, Instrument};

use super::handler::Invocation;
use crate::aws::accounts::{session_name, Accounts};
use crate::aws::Clients;
use crate::config::{Config, Work};
use crate::jobs::{sweep, Job};
use crate::model::error::{Error, Result};
use crate::model::outcome::SweepReport;
use crate::model::place_message::{Freshness, PlaceMessage};
use crate::rules::trust;

/// The event source every record must name (Lambda's SQS records: `"eventSource": "aws:sqs"`).
const EVENT_SOURCE: &str = "aws:sqs";
/// Kept back from the time the place's sweep is given, past its own 15 s margin: it starts no
/// task in the last 25 s of the invocation, so that a task started before (one SDK operation is
/// bounded by 20 s) ends in time.
const SWEEP_MARGIN: Duration = Duration::from_secs(10);
/// The last resort: a sweep still running this close to the deadline is cut off (a job may then
/// be left half done, as a Lambda timeout would leave it), so that the answer and the place's
/// line are still written and the message is not redelivered for nothing.
const CUT_OFF_MARGIN: Duration = Duration::from_secs(3);

/// How one record ended.
#[derive(Debug)]
enum Ended {
    Swept(Box<SweepReport>),
    /// Swept, but a listing failed in a way a retry may fix (throttling after the SDK's
    /// retries, a 5xx, a timeout): the databases it would have shown were not swept, so the
    /// record is listed in `batchItemFailures` and SQS delivers it again. A listing refused
    /// for good (AccessDenied) stays in the report of a place that succeeds.
    Incomplete(Box<SweepReport>),
    /// The sweep was cut off at the deadline: it succeeds; the next plan takes the place up.
    CutOff,
    /// Older than a day: dropped.
    Stale,
    /// No retry can fix it: answered, so the message is deleted.
    Refused(Error),
    /// A retry may fix it: listed in `batchItemFailures`.
    Failed(Error),
}

/// Shared by every invocation of a worker's execution environment.
#[derive(Debug, Clone)]
pub struct Worker {
    config: Arc<Config>,
    accounts: Accounts,
    queue_arn: String,
}

impl Worker {
    pub fn new(config: Config, clients: Clients) -> Self {
        let accounts = Accounts::new(clients, &config.organization);
        let queue_arn = match &config.work {
            Work::Worker { queue_arn } => queue_arn.clone(),
            // Init refuses a worker without WORK_QUEUE_ARN; an events configuration accepts
            // no record.
            Work::Events { .. } => String::new(),
        };
        Worker {
            config: Arc::new(config),
            accounts,
            queue_arn,
        }
    }

    /// The Lambda entry point of the worker.
    pub async fn invoke(&self, event: LambdaEvent<Value>) -> Result<SqsBatchResponse> {
        let span = tracing::info_span!("invocation", request_id = %event.context.request_id);
        let result = async {
            let invocation = Invocation::from_context(&event.context)?;
            Box::pin(self.handle(event.payload, &invocation)).await
        }
        .instrument(span.clone())
        .await;
        if let Err(e) = &result {
            let _entered = span.enter();
            warn!(
                error_type = e.error_type(),
                error = %e,
                "invocation failed"
            );
        }
        result
    }

    /// Handles one SQS event: each record in turn, within the invocation's time.
    pub async fn handle(
        &self,
        payload: Value,
        invocation: &Invocation,
    ) -> Result<SqsBatchResponse> {
        let started = Instant::now();
        let event: SqsEvent = match payload.get("Records") {
            Some(Value::Array(_)) => serde_json::from_value(payload).map_err(|e| {
                Error::UntrustedEvent(format!(
                    "the worker takes SQS batches of the work queue only; this payload's records are not SQS records (line {} column {})",
                    e.line(),
                    e.column()
                ))
            })?,
            _ => {
                return Err(Error::UntrustedEvent(format!(
                    "the worker takes SQS batches of the work queue only; this payload is {}",
                    describe_payload(&payload)
                )))
            }
        };
        let mut response = SqsBatchResponse::default();
        for record in &event.records {
            let record_started = Instant::now();
            let remaining = invocation
                .remaining
                .map(|r| r.saturating_sub(started.elapsed()));
            let (message, ended) = self.record(record, invocation, remaining).await;
            log(record, message.as_ref(), &ended, record_started.elapsed());
            let failed = match ended {
                Ended::Failed(e) => e,
                Ended::Incomplete(report) => incomplete_error(&report),
                _ => continue,
            };
            match record.message_id.as_deref().filter(|id| !id.is_empty()) {
                Some(id) => {
                    let mut failure = BatchItemFailure::default();
                    failure.item_identifier = id.to_string();
                    response.batch_item_failures.push(failure);
                }
                // Lambda: "An empty string itemIdentifier / A null itemIdentifier" fails the
                // batch; so does a thrown error, which says why.
                None => return Err(failed),
            }
        }
        Ok(response)
    }

    /// One record: admitted, then swept.
    async fn record(
        &self,
        record: &SqsMessage,
        invocation: &Invocation,
        remaining: Option<Duration>,
    ) -> (Option<PlaceMessage>, Ended) {
        let message = match self.admit(record) {
            Ok(m) => m,
            Err(e) => return (None, Ended::Refused(e)),
        };
        match message.freshness(SystemTime::now()) {
            Ok(Freshness::Fresh) => {}
            Ok(Freshness::Stale) => return (Some(message), Ended::Stale),
            Err(e) => return (Some(message), Ended::Refused(e)),
        }
        let place = match trust::admit_place(
            &message.account,
            &message.region,
            &invocation.own,
            &self.config,
        ) {
            Ok(p) => p,
            Err(e) => return (Some(message), Ended::Refused(e)),
        };
        let session = session_name(&message.plan_id);
        let sweep = async {
            let clients = self.accounts.clients_for(&place, &session).await?;
            let given = remaining.map(|r| r.saturating_sub(SWEEP_MARGIN));
            sweep::run(&Job::new(&self.config, clients, &place), given).await
        };
        let result = match remaining {
            Some(r) => match tokio::time::timeout(r.saturating_sub(CUT_OFF_MARGIN), sweep).await {
                Ok(result) => result,
                Err(_) => return (Some(message), Ended::CutOff),
            },
            None => sweep.await,
        };
        let ended = match result {
            Ok(report) if report.failed_listings.iter().any(|l| l.transient) => {
                Ended::Incomplete(Box::new(report))
            }
            Ok(report) => Ended::Swept(Box::new(report)),
            // Not a place this hub may act in (e.g. not in ORGANIZATION_ID): no retry helps.
            Err(e @ (Error::UntrustedEvent(_) | Error::InvalidEvent(_))) => Ended::Refused(e),
            Err(e) => Ended::Failed(e),
        };
        (Some(message), ended)
    }

    /// The record's source and body: the work queue's, and a place message.
    fn admit(&self, record: &SqsMessage) -> Result<PlaceMessage> {
        if record.event_source.as_deref() != Some(EVENT_SOURCE) {
            return Err(Error::UntrustedEvent(format!(
                "the record's eventSource is {:?}, not {EVENT_SOURCE}",
                crate::model::identifiers::clip(record.event_source.as_deref().unwrap_or(""))
            )));
        }
        let arn = record.event_source_arn.as_deref().unwrap_or("");
        if self.queue_arn.is_empty() || arn != self.queue_arn {
            return Err(Error::UntrustedEvent(format!(
                "the record comes from queue {:?}, not the work queue (WORK_QUEUE_ARN)",
                crate::model::identifiers::clip(arn)
            )));
        }
        PlaceMessage::parse(record.body.as_deref().unwrap_or(""))
    }
}

/// The error a place swept with a listing that may succeed on another try stands for: its
/// first such listing's.
fn incomplete_error(report: &SweepReport) -> Error {
    let listing = report.failed_listings.iter().find(|l| l.transient);
    Error::AwsService {
        service: "sweep",
        operation: "listing",
        message: listing.map_or_else(String::new, |l| format!("{}: {}", l.listing, l.message)),
        code: None,
    }
}

/// What a payload that is not an SQS batch looks like, in our words (never its content).
fn describe_payload(payload: &Value) -> String {
    match payload {
        Value::Object(o) if o.contains_key("detail-type") => "an EventBridge event".to_string(),
        Value::Object(_) => "a JSON object without SQS records".to_string(),
        other => format!("a JSON {}", crate::event::json_kind(other)),
    }
}

/// The record's one log line: the place and its report, or why it was not swept.
fn log(record: &SqsMessage, message: Option<&PlaceMessage>, ended: &Ended, took: Duration) {
    let message_id = record.message_id.as_deref().unwrap_or("");
    let (account, region, plan_id) = message
        .map(|m| (m.account.as_str(), m.region.as_str(), m.plan_id.as_str()))
        .unwrap_or_default();
    let duration_ms = took.as_millis() as u64;
    match ended {
        Ended::Swept(report) => info!(
            outcome = "reconciled",
            trigger = "place-message",
            message_id,
            account,
            region,
            plan_id,
            report = %serde_json::to_string(report).unwrap_or_default(),
            duration_ms,
            "place swept"
        ),
        Ended::Incomplete(report) => warn!(
            outcome = "failed",
            trigger = "place-message",
            message_id,
            account,
            region,
            plan_id,
            error_type = "AwsServiceError",
            report = %serde_json::to_string(report).unwrap_or_default(),
            duration_ms,
            "place failed: swept, but a listing failed and may succeed on another try; SQS delivers it again"
        ),
        Ended::CutOff => warn!(
            outcome = "reconciled",
            trigger = "place-message",
            message_id,
            account,
            region,
            plan_id,
            cut_off = true,
            duration_ms,
            "place swept: cut off at the deadline; the next plan takes the place up"
        ),
        Ended::Stale => info!(
            outcome = "ignored",
            trigger = "place-message",
            message_id,
            account,
            region,
            plan_id,
            reason = "planned more than 24 hours ago; a later plan covers the place",
            duration_ms,
            "place dropped"
        ),
        Ended::Refused(e) => warn!(
            outcome = "refused",
            trigger = "place-message",
            message_id,
            account,
            region,
            plan_id,
            error_type = e.error_type(),
            reason = %e,
            duration_ms,
            "place refused"
        ),
        Ended::Failed(e) => warn!(
            outcome = "failed",
            trigger = "place-message",
            message_id,
            account,
            region,
            plan_id,
            error_type = e.error_type(),
            error = %e,
            duration_ms,
            "place failed; SQS delivers it again"
        ),
    }
}

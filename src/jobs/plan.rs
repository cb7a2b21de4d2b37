//! The hub's scheduled sweep, as a plan: it lists the places the sweep covers (the trusted
//! accounts × `SWEEP_REGIONS`, [`super::organization::places`]) and sends one place message per
//! account-region to the work queue, 10 per `SendMessageBatch`, a few calls at once. Each
//! message's `MessageGroupId` is its account, so that SQS treats each account as a tenant (a
//! fair queue). Workers ([`crate::lambda::worker`]) sweep the places. The planner itself never
//! acts in a member account.

use std::time::{Duration, Instant, SystemTime};

use futures_util::{stream, StreamExt as _};
use tracing::{info, warn};

use super::organization;
use crate::aws::accounts::Accounts;
use crate::aws::queue::{Entry, WorkQueue};
use crate::config::Config;
use crate::model::error::{Error, Result};
use crate::model::outcome::PlanReport;
use crate::model::place_message::PlaceMessage;
use crate::model::Place;
use crate::rules::plan::{self, Settled};

/// `SendMessageBatch` calls in flight at once.
pub const CALLS_AT_ONCE: usize = 16;
/// The pause before a retry of refused entries, times the attempt.
const RETRY_PAUSE: Duration = Duration::from_millis(200);
/// No batch starts this close to the invocation's deadline: one call is bounded by 20 s with
/// the SDK's retries, and a refused entry's two retries add well under a second. A plan that
/// reaches it counts its unsent places in `planFailed` (code `PlanOutOfTime`) and still
/// answers, so that Lambda does not run it again (a timed-out plan would be tried twice more
/// and queue its places again); the next plan covers them.
pub const PLAN_MARGIN: Duration = Duration::from_secs(30);
/// The code a place not sent for lack of time is logged with.
const OUT_OF_TIME: &str = "PlanOutOfTime";

/// Plans the sweep from the function's own place `own`: plan id `plan_id` (the scheduled
/// event's id, in session-name characters). Fails only when no place could be queued (or the
/// organization listing failed in a way a retry may fix); otherwise each place that could not
/// be queued is logged and counted in `planFailed`, and the next plan covers it. `remaining`,
/// the invocation's time left: no batch starts in its last [`PLAN_MARGIN`].
pub async fn run(
    config: &Config,
    accounts: &Accounts,
    queue: &WorkQueue,
    own: &Place,
    plan_id: &str,
    remaining: Option<Duration>,
) -> Result<PlanReport> {
    let stop_at = remaining.map(|r| Instant::now() + r.saturating_sub(PLAN_MARGIN));
    let places = organization::places(config, accounts, own).await?;
    let planned_at = SystemTime::now();
    let messages: Vec<PlaceMessage> = places
        .accounts
        .iter()
        .flat_map(|account| {
            places
                .regions
                .iter()
                .map(move |region| PlaceMessage::new(account, region, plan_id, planned_at))
        })
        .collect();
    let mut report = PlanReport {
        plan_id: plan_id.to_string(),
        accounts: places.accounts.len(),
        regions: places.regions.len(),
        failed_listings: places.failed_listings,
        skipped_accounts: places.skipped_accounts,
        ..PlanReport::default()
    };
    let batches: Vec<Vec<(Entry, &PlaceMessage)>> = plan::batches(&messages)
        .into_iter()
        .map(|batch| {
            batch
                .into_iter()
                .map(|(id, m)| {
                    (
                        Entry {
                            id,
                            group: m.account.clone(),
                            body: m.to_body(),
                        },
                        m,
                    )
                })
                .collect()
        })
        .collect();
    let results: Vec<Sent> = stream::iter(batches)
        .map(|batch| async move {
            if stop_at.is_some_and(|at| Instant::now() >= at) {
                let unsent = batch.into_iter().map(|(_, m)| (m, OUT_OF_TIME.to_string()));
                return (0, unsent.collect(), None);
            }
            send_batch(queue, batch).await
        })
        .buffer_unordered(CALLS_AT_ONCE)
        .collect()
        .await;
    let mut first_error = None;
    for (accepted, failed, error) in results {
        report.planned += accepted;
        report.plan_failed += failed.len();
        for (m, code) in failed {
            warn!(
                account = %m.account,
                region = %m.region,
                code = %code,
                "plan: the place could not be queued; the next plan covers it"
            );
        }
        if first_error.is_none() {
            first_error = error;
        }
    }
    info!(
        plan_id,
        accounts = report.accounts,
        regions = report.regions,
        planned = report.planned,
        plan_failed = report.plan_failed,
        skipped_accounts = report.skipped_accounts.len(),
        failed_listings = report.failed_listings.len(),
        "sweep planned"
    );
    if report.planned == 0 && report.plan_failed > 0 {
        return Err(first_error.unwrap_or_else(|| Error::AwsService {
            service: "SQS",
            operation: "SendMessageBatch",
            message: format!(
                "none of the plan's {} places was queued (the work queue refused them, or the plan ran out of time)",
                report.plan_failed
            ),
            code: None,
        }));
    }
    Ok(report)
}

/// One batch's result: queued, not queued (with the last error code), the call's error.
type Sent<'a> = (usize, Vec<(&'a PlaceMessage, String)>, Option<Error>);

/// Sends one batch, retrying refused entries as [`plan::settle`] says. Returns how many were
/// queued, those that were not (with the last error code), and the call's error if the whole
/// call failed (the SDK has retried it already).
async fn send_batch<'a>(queue: &WorkQueue, batch: Vec<(Entry, &'a PlaceMessage)>) -> Sent<'a> {
    let mut pending = batch;
    let mut accepted = 0;
    let mut failed = Vec::new();
    for attempt in 0.. {
        let entries: Vec<Entry> = pending.iter().map(|(e, _)| e.clone()).collect();
        match queue.send(&entries).await {
            Ok(refused) => {
                let Settled { retry, give_up } = plan::settle(&refused, attempt);
                let mut next = Vec::new();
                for (entry, m) in pending {
                    if retry.contains(&entry.id) {
                        next.push((entry, m));
                    } else if let Some(code) = give_up.get(&entry.id) {
                        failed.push((m, code.clone()));
                    } else {
                        accepted += 1;
                    }
                }
                if next.is_empty() {
                    return (accepted, failed, None);
                }
                pending = next;
                tokio::time::sleep(RETRY_PAUSE * (attempt + 1)).await;
            }
            Err(e) => {
                let code = match &e {
                    Error::AwsService { code: Some(c), .. } => c.clone(),
                    other => other.error_type().to_string(),
                };
                failed.extend(pending.into_iter().map(|(_, m)| (m, code.clone())));
                return (accepted, failed, Some(e));
            }
        }
    }
    unreachable!("the loop returns")
}

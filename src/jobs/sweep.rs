//! The reconcile sweep, built on bulk listings. RDS events are delivered "on a best effort
//! basis", ports change in maintenance windows, replicas fail, databases go: on a schedule the
//! sweep lists every database (four listings) and the function's secrets (one ListSecrets, and
//! one per replica region), joins them in memory ([`crate::rules::drift::plan_sweep`]), and then
//! only acts where something is wrong: it provisions databases without a secret (the only
//! initial-password reads), repairs drifted connection keys, retires orphans and re-creates
//! missing replicas. Each listing fails on its own and is reported in `failedListings`; a
//! secret is never retired on the word of a failed listing. In hub mode [`organization`] runs
//! this sweep in every account and region it covers.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use futures_util::stream::FuturesUnordered;
use futures_util::StreamExt as _;
use tracing::{info, warn};

use crate::aws::database::{self, Listing};
use crate::aws::secrets;
use crate::jobs::{Job, DEADLINE_MARGIN};
use crate::model::error::{Error, Result};
use crate::model::outcome::{
    FailedListing, OutcomeKind, StuckJob, SweepFailure, SweepReport, RETIRE_GUARD_EMPTY_LISTING,
};
use crate::model::{timestamp, DbKind, Service};
use crate::rules::drift::{cap_rewrites, plan_sweep};
use crate::rules::existing_secret::SecretState;
use crate::rules::sweep_budget::{self, Ended, Hold, Kind, KindRun};

mod task;

use task::{run_task, Done, Task};

/// Tasks run at once: bounded, to stay under the API rate limits.
pub const SWEEP_CONCURRENCY: usize = 4;

/// The listing of the function's secrets, reported as `secrets` (and `secrets:<region>` for a
/// replica region) when it fails.
const SECRETS_LISTING: &str = "secrets";

/// The Describe of databases' copies in another region, reported as `copies:<region>` when it
/// fails (their secrets' regional keys stay as they are).
const COPIES_LISTING: &str = "copies";

/// Sweeps the job's place (one account and region) and returns its report. Stops starting new
/// tasks when less than [`DEADLINE_MARGIN`] of the invocation is left, and reports those
/// databases as `left`.
pub async fn run(job: &Job, remaining: Option<Duration>) -> Result<SweepReport> {
    let started = Instant::now();
    let stop_at = remaining.map(|r| started + r.saturating_sub(DEADLINE_MARGIN));
    let clients = job.clients();
    let config = job.config();
    let region = Some(job.place.region.as_str());
    let replica_regions: Vec<String> = config
        .options
        .replicas
        .iter()
        .map(|r| r.region.clone())
        .collect();
    let replica_listings = join_all(
        replica_regions
            .iter()
            .map(|r| secrets::list_owned_in(clients, r)),
    );
    let listed = async {
        let mut listed = database::list_all(clients).await;
        let failed = database::copies::find(
            clients,
            &job.place.region,
            &mut listed.databases,
            config.lifecycle.regional_connection_keys,
        )
        .await;
        (listed, failed)
    };
    let ((listed, copies_failed), secrets, replica_listings) = tokio::join!(
        listed,
        secrets::list_owned(&clients.secrets, None),
        replica_listings
    );
    let mut report = SweepReport {
        databases: listed.databases.len(),
        failed_listings: listed
            .failed
            .iter()
            .map(|(listing, e)| failed_listing(listing.as_str(), e))
            .chain(
                copies_failed
                    .iter()
                    .map(|(r, e)| failed_listing(&format!("{COPIES_LISTING}:{r}"), e)),
            )
            .collect(),
        ..SweepReport::default()
    };
    let secrets: Vec<SecretState> = match secrets {
        Ok(s) => s
            .into_iter()
            .filter(|s| job.is_ours_here(s, region))
            .collect(),
        Err(e) => {
            // Without the secrets, every database is looked at one by one, as an event would
            // be (reading its parameter); nothing is repaired or retired.
            report
                .failed_listings
                .push(failed_listing(SECRETS_LISTING, &e));
            return finish(
                job,
                report,
                listed.databases.iter().map(Task::Provision).collect(),
                stop_at,
            )
            .await;
        }
    };
    let mut replica_names = Vec::new();
    for (region, listing) in replica_regions.into_iter().zip(replica_listings) {
        match listing {
            Ok(found) => {
                let names: HashSet<String> = found.into_iter().map(|s| s.name).collect();
                replica_names.push((region, Some(names)));
            }
            Err(e) => {
                report
                    .failed_listings
                    .push(failed_listing(&format!("{SECRETS_LISTING}:{region}"), &e));
                replica_names.push((region, None));
            }
        }
    }
    let failed: Vec<Listing> = listed.failed.iter().map(|(l, _)| *l).collect();
    let listed_ok = |service: Service, kind: DbKind| {
        listing_of(service, kind).is_some_and(|l| !failed.contains(&l))
    };
    let plan = plan_sweep(
        &listed.databases,
        &secrets,
        region,
        &replica_names,
        &listed_ok,
        &config.lifecycle,
    );
    report.already_present = plan.present;
    report.managed = plan.managed;
    if !plan.retire_guarded.is_empty() {
        warn!(
            listings = plan.retire_guarded.join(","),
            "sweep: a listing shows none of the databases of 2 or more managed secrets; nothing of it is retired"
        );
        report.retire_guard = Some(RETIRE_GUARD_EMPTY_LISTING.to_string());
        report.retire_guarded = plan.retire_guarded.clone();
    }
    // Orphans in an order no name can choose: shuffled with a seed from the date and place.
    let mut orphans = plan.retire;
    let day = config
        .lifecycle
        .sweep_seed
        .clone()
        .unwrap_or_else(|| timestamp::utc_date(std::time::SystemTime::now()));
    let seed = sweep_budget::seed(&day, &job.place.account, &job.place.region);
    sweep_budget::shuffle(&mut orphans, &seed, |s| s.name.as_str());
    let mut tasks: Vec<Task> = plan.provision.into_iter().map(Task::Provision).collect();
    let (drift, deferred) = cap_rewrites(plan.drift, config.lifecycle.max_rewrites_per_run);
    report.rewrite_deferred = deferred;
    tasks.extend(drift.into_iter().map(|(db, s)| Task::Repair(db, s)));
    tasks.extend(orphans.into_iter().map(Task::Retire));
    tasks.extend(
        plan.replicas_missing
            .into_iter()
            .map(|(s, r)| Task::Replica(s, r)),
    );
    tasks.extend(plan.take_over.into_iter().map(Task::TakeOver));
    tasks.extend(
        plan.backfill
            .into_iter()
            .map(|(s, id)| Task::Backfill(s, id)),
    );
    finish(job, report, tasks, stop_at).await
}

/// Runs the tasks kind by kind, a few at a time, each kind within its share of the time and
/// its failure limit ([`sweep_budget`]), and completes the report.
async fn finish(
    job: &Job,
    mut report: SweepReport,
    tasks: Vec<Task<'_>>,
    stop_at: Option<Instant>,
) -> Result<SweepReport> {
    let start = Instant::now();
    let lifecycle = &job.config().lifecycle;
    let max_retire = sweep_budget::retire_limit(
        report.managed,
        lifecycle.max_retire_fraction_ppm,
        lifecycle.max_retire_per_run,
    );
    // Subjects (secret names, or databases for `create`) that failed for good this run.
    let mut stuck: HashSet<String> = HashSet::new();
    for kind in Kind::ALL {
        let of_kind: Vec<Task> = tasks_of(&tasks, kind);
        if of_kind.is_empty() {
            continue;
        }
        let deadline = sweep_budget::kind_deadline(kind, start, stop_at);
        let mut run = KindRun::new(kind, of_kind.len(), deadline, max_retire);
        let mut pending = of_kind.into_iter().peekable();
        let mut running = FuturesUnordered::new();
        let hold = loop {
            let mut hold = None;
            while running.len() < SWEEP_CONCURRENCY {
                // Never retried within the run: already reported as stuck.
                while pending.peek().is_some_and(|t| stuck.contains(&t.subject())) {
                    pending.next();
                }
                if pending.peek().is_none() {
                    break;
                }
                match run.start(Instant::now()) {
                    Ok(()) => {
                        let task = pending.next().expect("peeked");
                        running.push(async move {
                            let (label, subject) = (task.label(), task.subject());
                            (label, subject, run_task(job, task).await)
                        });
                    }
                    Err(h) => {
                        hold = Some(h);
                        break;
                    }
                }
            }
            let Some((label, subject, result)) = running.next().await else {
                break hold;
            };
            run.ended(record(
                &mut report,
                kind,
                label,
                subject,
                result,
                &mut stuck,
            ));
        };
        let left: Vec<String> = pending
            .filter(|t| !stuck.contains(&t.subject()))
            .map(|t| t.label())
            .collect();
        if left.is_empty() {
            continue;
        }
        match hold {
            Some(Hold::RetireLimit) => {
                report.retire_limit = Some(max_retire);
                report.retire_deferred.extend(left);
            }
            Some(Hold::OutOfTime) => {
                report.out_of_time.push(kind.as_str().to_string());
                report.left.extend(left);
            }
            Some(Hold::TooManyFailures) | None => {
                report
                    .stopped_after_failures
                    .push(kind.as_str().to_string());
                report.left.extend(left);
            }
        }
    }
    for list in [
        &mut report.created,
        &mut report.left,
        &mut report.repaired,
        &mut report.retired,
        &mut report.retire_deferred,
        &mut report.replicas_repaired,
        &mut report.flagged,
        &mut report.backfilled,
        &mut report.taken_over,
    ] {
        list.sort();
        // A secret's repair and its tag backfill are two jobs of one kind: named once.
        list.dedup();
    }
    Ok(report)
}

/// The report's summary line (`reconcile sweep finished`), written by whoever ran the sweep:
/// the worker writes the whole report in its place line instead.
pub fn log_summary(report: &SweepReport) {
    info!(
        databases = report.databases,
        created = report.created.len(),
        already_present = report.already_present,
        skipped = report.skipped,
        repaired = report.repaired.len(),
        retired = report.retired.len(),
        replicas_repaired = report.replicas_repaired.len(),
        flagged = report.flagged.len(),
        failed = report.failed.len(),
        stuck = report.stuck.len(),
        failed_listings = report.failed_listings.len(),
        left = report.left.len(),
        out_of_time = ?report.out_of_time,
        stopped_after_failures = ?report.stopped_after_failures,
        "reconcile sweep finished"
    );
}

/// The tasks of one kind, in the plan's order.
fn tasks_of<'a>(tasks: &[Task<'a>], kind: Kind) -> Vec<Task<'a>> {
    tasks.iter().filter(|t| t.kind() == kind).cloned().collect()
}

/// Puts one task's result in the report; says how it ended for its kind's counts.
fn record(
    report: &mut SweepReport,
    kind: Kind,
    name: String,
    subject: String,
    result: Result<Done>,
    stuck: &mut HashSet<String>,
) -> Ended {
    let (list, done) = match result {
        Ok(Done::Provisioned(o)) => {
            match o.outcome {
                OutcomeKind::Created => {
                    report.created.push(o.secret_name.clone().unwrap_or(name));
                    return Ended::Did;
                }
                OutcomeKind::Updated | OutcomeKind::Unchanged => report.already_present += 1,
                OutcomeKind::Flagged => report.flagged.push(o.secret_name.clone().unwrap_or(name)),
                _ => report.skipped += 1,
            }
            return Ended::Nothing;
        }
        Ok(Done::Repaired(s)) => (&mut report.repaired, s),
        Ok(Done::Retired(s)) => (&mut report.retired, s),
        Ok(Done::ReplicaRepaired(s)) => (&mut report.replicas_repaired, s),
        Ok(Done::TakenOver(s)) => (&mut report.taken_over, s),
        Ok(Done::Backfilled(s)) => (&mut report.backfilled, s),
        Ok(Done::Unchanged) => return Ended::Nothing,
        // Not ready: its own creation event (or the next sweep) takes care of it. (A missing
        // parameter is `skipped` or a failure, as MISSING_PASSWORD_PARAMETER says.)
        Err(Error::DatabaseNotReady { .. }) => {
            report.skipped += 1;
            return Ended::Nothing;
        }
        Err(e) => {
            // One line per failure, so that an alarming error type (e.g. SecretConflict) found
            // by the sweep raises its alarm like an event's would.
            let transient = e.is_transient();
            warn!(
                job = %name,
                kind = kind.as_str(),
                error_type = e.error_type(),
                error = %e,
                stuck = !transient,
                "reconcile sweep: job failed"
            );
            if transient {
                report.failed.push(SweepFailure {
                    database: name,
                    error_type: e.error_type().to_string(),
                    message: e.to_string(),
                });
            } else if stuck.insert(subject) {
                report.stuck.push(StuckJob {
                    name,
                    kind: kind.as_str().to_string(),
                    error_type: e.error_type().to_string(),
                    message: e.to_string(),
                });
            }
            return Ended::Failed;
        }
    };
    list.push(done);
    Ended::Did
}

/// The listing that shows databases tagged `{service}/{kind}`.
fn listing_of(service: Service, kind: DbKind) -> Option<Listing> {
    match (service, kind) {
        (Service::Rds, DbKind::Instance) => Some(Listing::RdsInstances),
        (Service::Rds | Service::DocDb, DbKind::Cluster) => Some(Listing::RdsClusters),
        (Service::Redshift, DbKind::Cluster) => Some(Listing::RedshiftClusters),
        (Service::RedshiftServerless, DbKind::Workgroup) => Some(Listing::ServerlessWorkgroups),
        _ => None,
    }
}

fn failed_listing(listing: &str, e: &Error) -> FailedListing {
    FailedListing {
        listing: listing.to_string(),
        error_type: e.error_type().to_string(),
        message: e.to_string(),
        transient: e.is_transient(),
    }
}

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
use futures_util::{stream, StreamExt as _};
use tracing::{info, warn};

use crate::aws::database::{self, Listing};
use crate::aws::secrets;
use crate::jobs::{Job, DEADLINE_MARGIN};
use crate::model::error::{Error, Result};
use crate::model::outcome::{FailedListing, Outcome, OutcomeKind, SweepFailure, SweepReport};
use crate::model::tags;
use crate::model::{Database, DbKind, Service};
use crate::rules::drift::{plan_sweep, Connection};
use crate::rules::existing_secret::SecretState;

/// Tasks run at once: bounded, to stay under the API rate limits.
pub const SWEEP_CONCURRENCY: usize = 4;

/// The listing of the function's secrets, reported as `secrets` (and `secrets:<region>` for a
/// replica region) when it fails.
const SECRETS_LISTING: &str = "secrets";

/// One unit of the sweep's work.
enum Task<'a> {
    Provision(&'a Database),
    Repair(&'a Database, &'a SecretState),
    Retire(&'a SecretState),
    Replica(&'a SecretState, String),
    Backfill(&'a SecretState, &'a str),
}

/// What a task did.
enum Done {
    Provisioned(Box<Outcome>),
    Repaired(String),
    Unchanged,
    Retired(String),
    ReplicaRepaired(String),
    Backfilled(String),
}

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
    let (listed, secrets, replica_listings) = tokio::join!(
        database::list_all(clients),
        secrets::list_owned(&clients.secrets, None),
        replica_listings
    );
    let mut report = SweepReport {
        databases: listed.databases.len(),
        failed_listings: listed
            .failed
            .iter()
            .map(|(listing, e)| failed_listing(listing.as_str(), e))
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
    report.retire_deferred = plan
        .retire_deferred
        .iter()
        .map(|s| s.name.clone())
        .collect();
    let mut tasks: Vec<Task> = plan.provision.into_iter().map(Task::Provision).collect();
    tasks.extend(plan.drift.into_iter().map(|(db, s)| Task::Repair(db, s)));
    tasks.extend(plan.retire.into_iter().map(Task::Retire));
    tasks.extend(
        plan.replicas_missing
            .into_iter()
            .map(|(s, r)| Task::Replica(s, r)),
    );
    tasks.extend(
        plan.backfill
            .into_iter()
            .map(|(s, id)| Task::Backfill(s, id)),
    );
    finish(job, report, tasks, stop_at).await
}

/// Runs the tasks, a few at a time, and completes the report.
async fn finish(
    job: &Job,
    mut report: SweepReport,
    tasks: Vec<Task<'_>>,
    stop_at: Option<Instant>,
) -> Result<SweepReport> {
    // `None`: not started before the deadline.
    let results: Vec<(String, Option<Result<Done>>)> = stream::iter(tasks)
        .map(|task| async move {
            let name = task.label();
            if stop_at.is_some_and(|t| Instant::now() >= t) {
                return (name, None);
            }
            (name, Some(run_task(job, task).await))
        })
        .buffer_unordered(SWEEP_CONCURRENCY)
        .collect()
        .await;

    for (name, result) in results {
        match result {
            None => report.left.push(name),
            Some(Ok(Done::Provisioned(o))) => match o.outcome {
                OutcomeKind::Created => report.created.push(o.secret_name.clone().unwrap_or(name)),
                OutcomeKind::Updated | OutcomeKind::Unchanged => report.already_present += 1,
                OutcomeKind::Flagged => report.flagged.push(o.secret_name.clone().unwrap_or(name)),
                _ => report.skipped += 1,
            },
            Some(Ok(Done::Repaired(s))) => report.repaired.push(s),
            Some(Ok(Done::Retired(s))) => report.retired.push(s),
            Some(Ok(Done::ReplicaRepaired(s))) => report.replicas_repaired.push(s),
            Some(Ok(Done::Backfilled(s))) => report.backfilled.push(s),
            Some(Ok(Done::Unchanged)) => {}
            // Not ready: its own creation event (or the next sweep) takes care of it. (A
            // missing parameter is `skipped` or a failure, as MISSING_PASSWORD_PARAMETER says.)
            Some(Err(Error::DatabaseNotReady { .. })) => report.skipped += 1,
            Some(Err(e)) => {
                // One line per failure, so that an alarming error type (e.g. SecretConflict)
                // found by the sweep raises its alarm like an event's would.
                warn!(
                    database = %name,
                    error_type = e.error_type(),
                    error = %e,
                    "reconcile sweep: database failed"
                );
                report.failed.push(SweepFailure {
                    database: name,
                    error_type: e.error_type().to_string(),
                    message: e.to_string(),
                })
            }
        }
    }
    for list in [
        &mut report.created,
        &mut report.left,
        &mut report.repaired,
        &mut report.retired,
        &mut report.replicas_repaired,
        &mut report.flagged,
        &mut report.backfilled,
    ] {
        list.sort();
    }
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
        failed_listings = report.failed_listings.len(),
        left = report.left.len(),
        "reconcile sweep finished"
    );
    Ok(report)
}

impl Task<'_> {
    /// The database or secret the job is about, for `left` and `failed`.
    fn label(&self) -> String {
        match self {
            Task::Provision(db) | Task::Repair(db, _) => db.to_string(),
            Task::Retire(s) | Task::Backfill(s, _) => s.name.clone(),
            Task::Replica(s, region) => format!("{}:{region}", s.name),
        }
    }
}

async fn run_task(job: &Job, task: Task<'_>) -> Result<Done> {
    match task {
        Task::Provision(db) => Ok(Done::Provisioned(Box::new(
            job.provision(db.clone(), None, None).await?,
        ))),
        Task::Repair(db, s) => {
            let Some(connection) = Connection::of(db) else {
                return Ok(Done::Unchanged);
            };
            // ListSecrets' view of the rotation may be minutes old: read it fresh first.
            job.check_rotation(s).await?;
            job.repair(db, &connection, s).await?;
            Ok(Done::Repaired(s.name.clone()))
        }
        Task::Retire(s) => Ok(if job.retire_orphan(s).await? {
            Done::Retired(s.name.clone())
        } else {
            Done::Unchanged
        }),
        Task::Replica(s, region) => Ok(if job.repair_replica(s, &region).await? {
            Done::ReplicaRepaired(format!("{}:{region}", s.name))
        } else {
            Done::Unchanged
        }),
        Task::Backfill(s, id) => {
            let tag = [(tags::DATABASE_ID_TAG_KEY, id)];
            secrets::tag(&job.clients.secrets, &s.arn, &tag).await?;
            Ok(Done::Backfilled(s.name.clone()))
        }
    }
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
    }
}

impl Job {
    /// A replica missing from its region: re-created when the primary reports the region as
    /// failed (removed from replication first) or not at all; left alone while AWS reports it
    /// in progress or in sync. `true` when ReplicateSecretToRegions was called.
    pub(crate) async fn repair_replica(&self, state: &SecretState, region: &str) -> Result<bool> {
        let secrets = &self.clients.secrets;
        let options = &self.config.options;
        let Some(current) = secrets::describe(secrets, &state.arn).await? else {
            return Ok(false);
        };
        match current.replicas.iter().find(|r| r.region == region) {
            // Replication is asynchronous: in progress, or in sync after the listing was made.
            Some(r) if !r.status.eq_ignore_ascii_case("Failed") => return Ok(false),
            Some(_) => secrets::remove_regions(secrets, &state.arn, &[region.to_string()]).await?,
            None => {}
        }
        let replica: Vec<_> = options
            .replicas
            .iter()
            .filter(|r| r.region == region)
            .cloned()
            .collect();
        secrets::replicate(
            secrets,
            &state.arn,
            &replica,
            options.force_overwrite_replica,
        )
        .await?;
        Ok(true)
    }
}

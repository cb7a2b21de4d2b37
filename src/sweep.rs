//! The reconcile sweep: RDS events are delivered "on a best effort basis" and may be missing.
//! On a schedule, list every database and provision those that have an initial-password
//! parameter at the templated name but no secret, exactly as the event path would. Each listing
//! fails on its own and is reported in `failedListings`; the others go on.

use std::time::{Duration, Instant};

use futures_util::{stream, StreamExt as _};
use tracing::{info, warn};

use crate::database;
use crate::error::{Error, Result};
use crate::model::Location;
use crate::outcome::{FailedListing, Kind, Outcome, SweepFailure, SweepReport};
use crate::provision::{Provisioner, DEADLINE_MARGIN};

/// Databases provisioned at once: bounded, to stay under the API rate limits.
pub const SWEEP_CONCURRENCY: usize = 4;

/// Runs the sweep. Stops starting new databases when less than [`DEADLINE_MARGIN`] of the
/// invocation is left, and reports those as `left`.
pub async fn run(
    provisioner: &Provisioner,
    location: &Location,
    remaining: Option<Duration>,
) -> Result<Outcome> {
    let started = Instant::now();
    let stop_at = remaining.map(|r| started + r.saturating_sub(DEADLINE_MARGIN));
    let listed = database::list_all(provisioner.clients()).await;
    let databases = listed.databases;
    let mut report = SweepReport {
        databases: databases.len(),
        failed_listings: listed
            .failed
            .iter()
            .map(|(listing, e)| FailedListing {
                listing: listing.as_str().to_string(),
                error_type: e.error_type().to_string(),
                message: e.to_string(),
            })
            .collect(),
        ..SweepReport::default()
    };

    // `None`: not started before the deadline.
    let results: Vec<(String, Option<Result<Outcome>>)> = stream::iter(databases)
        .map(|db| async move {
            let name = db.to_string();
            if stop_at.is_some_and(|t| Instant::now() >= t) {
                return (name, None);
            }
            (
                name,
                Some(provisioner.provision(db, None, location, None).await),
            )
        })
        .buffer_unordered(SWEEP_CONCURRENCY)
        .collect()
        .await;

    for (name, result) in results {
        match result {
            None => report.left.push(name),
            Some(Ok(o)) => match o.outcome {
                Kind::Created => report.created.push(o.secret_name.unwrap_or(name)),
                Kind::Updated | Kind::Unchanged => report.already_present += 1,
                _ => report.skipped += 1,
            },
            // Not ready: its own creation event (or the next sweep) takes care of it. (A
            // missing parameter is `skipped` or a failure, as MISSING_PASSWORD_PARAMETER says.)
            Some(Err(Error::DatabaseNotReady { .. })) => report.skipped += 1,
            Some(Err(e)) => {
                // One line per failed database, so that an alarming error type (e.g.
                // SecretConflict) found by the sweep raises its alarm like an event's would.
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
    report.created.sort();
    report.left.sort();
    info!(
        databases = report.databases,
        created = report.created.len(),
        already_present = report.already_present,
        skipped = report.skipped,
        failed = report.failed.len(),
        failed_listings = report.failed_listings.len(),
        left = report.left.len(),
        "reconcile sweep finished"
    );
    Ok(Outcome {
        sweep: Some(report),
        ..Outcome::new(Kind::Reconciled)
    })
}

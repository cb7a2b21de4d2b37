//! The organization sweep (hub mode): the sweep of [`super::sweep::run`] in every account of
//! `SWEEP_ACCOUNTS` (a list, or the organization's active accounts, as
//! [`crate::rules::sweep_places`] decides) and every region of `SWEEP_REGIONS`, through the
//! member role. Bounded concurrency per account and overall; one account's or region's
//! failure, or a refused organization listing, is reported and the rest go on; it stops
//! starting new account-regions before the deadline and reports them as left.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{stream, StreamExt as _};
use tracing::{info, warn};

use super::sweep;
use crate::aws::accounts::Accounts;
use crate::aws::organizations;
use crate::config::{Config, SweepAccounts};
use crate::jobs::{Job, DEADLINE_MARGIN};
use crate::model::error::Result;
use crate::model::outcome::{
    AccountSweep, FailedListing, FailedRegion, OrganizationSweep, SkippedAccount, SweepReport,
};
use crate::model::Place;
use crate::rules::sweep_places::{swept_accounts, Listed, ORGANIZATION_LISTING};

/// Account-regions swept at once, overall and within one account.
pub const ACCOUNTS_AT_ONCE: usize = 8;
pub const REGIONS_PER_ACCOUNT_AT_ONCE: usize = 2;

/// The accounts and regions a sweep covers, and what the organization's listing said.
#[derive(Debug, Clone, Default)]
pub struct Places {
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    pub failed_listings: Vec<FailedListing>,
    pub skipped_accounts: Vec<SkippedAccount>,
}

/// Lists the accounts (`SWEEP_ACCOUNTS`, through [`swept_accounts`]) and regions
/// (`SWEEP_REGIONS`, or the own region) a sweep from `own` covers. A refused organization
/// listing is reported and degrades to the own account and listed members; any other failure
/// of it (throttling, a 5xx) fails, so that Lambda tries again.
pub async fn places(config: &Config, accounts: &Accounts, own: &Place) -> Result<Places> {
    let organization = &config.organization;
    let mut failed_listings = Vec::new();
    let listing = match &organization.sweep_accounts {
        SweepAccounts::Organization => match accounts.organization_accounts().await {
            Ok(l) => Some(l),
            Err(e) if !organizations::is_refusal(&e) => return Err(e),
            Err(e) => {
                warn!(
                    error_type = e.error_type(),
                    error = %e,
                    "organization sweep: the organization's accounts could not be listed; sweeping the own account and listed members"
                );
                failed_listings.push(FailedListing {
                    listing: ORGANIZATION_LISTING.to_string(),
                    error_type: e.error_type().to_string(),
                    message: e.to_string(),
                    transient: e.is_transient(),
                });
                None
            }
        },
        _ => None,
    };
    let listed = listing.as_ref().map(|l| Listed {
        accounts: &l.accounts,
        management_account: l.management_account.as_deref(),
    });
    let swept = swept_accounts(organization, &own.account, listed.as_ref());
    let regions = if organization.sweep_regions.is_empty() {
        vec![own.region.clone()]
    } else {
        organization.sweep_regions.clone()
    };
    Ok(Places {
        accounts: swept.accounts,
        regions,
        failed_listings,
        skipped_accounts: swept.skipped,
    })
}

/// Runs the sweep in every account and region the configuration covers, from the function's
/// own place `own`, in member sessions named `session` (the scheduled event's id).
pub async fn run(
    config: &Arc<Config>,
    accounts: &Accounts,
    own: &Place,
    session: &str,
    remaining: Option<Duration>,
) -> Result<OrganizationSweep> {
    let started = Instant::now();
    let stop_at = remaining.map(|r| started + r.saturating_sub(DEADLINE_MARGIN));
    let places = places(config, accounts, own).await?;
    let mut report = OrganizationSweep {
        failed_listings: places.failed_listings,
        skipped_accounts: places.skipped_accounts,
        ..OrganizationSweep::default()
    };
    let listed = places.accounts;
    let regions = places.regions;
    let regions = &regions;
    type Swept = (String, Option<Result<SweepReport>>);
    let results: Vec<(String, Vec<Swept>)> = stream::iter(listed)
        .map(|account| async move {
            let swept: Vec<Swept> = stream::iter(regions.iter().cloned())
                .map(|region| {
                    let account = account.clone();
                    async move {
                        if stop_at.is_some_and(|t| Instant::now() >= t) {
                            return (region, None);
                        }
                        let place = Place::of(own, &account, &region);
                        let left = remaining.map(|r| r.saturating_sub(started.elapsed()));
                        let result = match accounts.clients_for(&place, session).await {
                            Ok(clients) => {
                                let r = sweep::run(&Job::new(config, clients, &place), left).await;
                                if let Ok(r) = &r {
                                    sweep::log_summary(r);
                                }
                                r
                            }
                            Err(e) => Err(e),
                        };
                        (region, Some(result))
                    }
                })
                .buffer_unordered(REGIONS_PER_ACCOUNT_AT_ONCE)
                .collect()
                .await;
            (account, swept)
        })
        .buffer_unordered(ACCOUNTS_AT_ONCE / REGIONS_PER_ACCOUNT_AT_ONCE)
        .collect()
        .await;

    for (account, swept) in results {
        let entry: &mut AccountSweep = report.accounts.entry(account.clone()).or_default();
        for (region, result) in swept {
            match result {
                None => report.left.push(format!("{account}/{region}")),
                Some(Ok(r)) => {
                    report.databases += r.databases;
                    report.created += r.created.len();
                    report.already_present += r.already_present;
                    report.repaired += r.repaired.len();
                    report.retired += r.retired.len();
                    report.replicas_repaired += r.replicas_repaired.len();
                    report.flagged += r.flagged.len();
                    report.failed += r.failed.len();
                    report
                        .left
                        .extend(r.left.iter().map(|l| format!("{account}/{region}: {l}")));
                    entry.regions.insert(region, r);
                }
                Some(Err(e)) => {
                    warn!(
                        account = %account,
                        region = %region,
                        error_type = e.error_type(),
                        error = %e,
                        "organization sweep: account-region failed"
                    );
                    report.failed_places += 1;
                    entry.failed.push(FailedRegion {
                        region,
                        error_type: e.error_type().to_string(),
                        message: e.to_string(),
                    });
                }
            }
        }
    }
    report.left.sort();
    info!(
        accounts = report.accounts.len(),
        databases = report.databases,
        created = report.created,
        already_present = report.already_present,
        failed_places = report.failed_places,
        left = report.left.len(),
        skipped_accounts = report.skipped_accounts.len(),
        failed_listings = report.failed_listings.len(),
        "organization sweep finished"
    );
    Ok(report)
}

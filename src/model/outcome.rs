//! The function's response: what it did, for which database and secret. Never a password.

use serde::Serialize;

use crate::model::error::Error;
use crate::model::{Database, Place};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutcomeKind {
    /// This invocation stored a new secret.
    Created,
    /// The secret existed (ours): connection keys refreshed or missing replicas added.
    Updated,
    /// A secret of that name already exists and was left as it is.
    Unchanged,
    /// The event is ours, but this database gets no secret from us (managed password,
    /// cluster member, unsupported engine, being deleted).
    Skipped,
    /// The event is not a trigger of this function.
    Ignored,
    /// A scheduled reconcile sweep ran (`sweep` has the counts).
    Reconciled,
    /// The database is gone: its secrets were tagged, or scheduled for deletion (`secrets`).
    Retired,
    /// A secret exists for the database, but the function cannot prove that a password it
    /// would write belongs there (the secret carries no seal): nothing was written, an operator
    /// decides (`reason` says how).
    Flagged,
    /// Hub mode: the event was refused for a reason a retry cannot fix (`errorType`:
    /// `InvalidEvent`, `UntrustedEvent`, or `DatabaseNotFound` for a user event). A non-error
    /// answer, so that Lambda does not retry it; the log line carries the errorType.
    Refused,
}

impl OutcomeKind {
    /// The value of the outcome's `outcome` key.
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeKind::Created => "created",
            OutcomeKind::Updated => "updated",
            OutcomeKind::Unchanged => "unchanged",
            OutcomeKind::Skipped => "skipped",
            OutcomeKind::Ignored => "ignored",
            OutcomeKind::Reconciled => "reconciled",
            OutcomeKind::Retired => "retired",
            OutcomeKind::Flagged => "flagged",
            OutcomeKind::Refused => "refused",
        }
    }
}

/// One replica region's state after CreateSecret / ReplicateSecretToRegions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplicaStatus {
    pub region: String,
    /// `InSync`, `InProgress` or `Failed`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A database the sweep could not provision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepFailure {
    pub database: String,
    pub error_type: String,
    pub message: String,
}

/// A sweep job that failed in a way only an operator can remove.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StuckJob {
    /// The secret (or, for `create`, the database) the job was about.
    pub name: String,
    /// `create`, `repair`, `retire` or `replica`.
    pub kind: String,
    pub error_type: String,
    pub message: String,
}

/// A listing the sweep could not make (`rds-instances`, `rds-clusters`, `redshift-clusters`,
/// `redshift-serverless-workgroups`, `secrets`, `secrets:<region>`, and `copies:<region>` for the
/// Describe of databases' copies in another region).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailedListing {
    pub listing: String,
    pub error_type: String,
    pub message: String,
    /// Whether trying again may succeed (throttling, a 5xx, a timeout: the error's
    /// [`crate::model::error::Error::is_transient`]); not in the report. A worker hands a place
    /// with such a listing back to SQS.
    #[serde(skip)]
    pub transient: bool,
}

/// What a reconcile sweep found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepReport {
    /// Databases listed (RDS instances and clusters, DocumentDB clusters, Redshift clusters,
    /// Redshift Serverless workgroups).
    pub databases: usize,
    /// Secrets this sweep created (their events were missed).
    pub created: Vec<String>,
    /// Databases whose secret was already there.
    pub already_present: usize,
    /// Databases that get no secret (no password parameter, managed password, cluster member,
    /// unsupported engine, not available).
    pub skipped: usize,
    /// Jobs that failed for a reason a later run may not meet (throttling, a 5xx, a timeout,
    /// a rotation in progress).
    pub failed: Vec<SweepFailure>,
    /// Jobs that failed for a reason only an operator can remove (AccessDenied,
    /// ValidationException, SecretNotJson, a conflict, a stuck rotation): reported once, and
    /// not retried for that secret or database within the run.
    pub stuck: Vec<StuckJob>,
    /// Jobs not started: their kind's time ran out, or it failed too often (see `outOfTime`
    /// and `stoppedAfterFailures`). The next sweep takes them up.
    pub left: Vec<String>,
    /// Kinds of job (`create`, `repair`, `retire`, `replica`) whose share of the time ran out
    /// with jobs left.
    pub out_of_time: Vec<String>,
    /// Kinds of job no longer attempted after `max(3, 10 %)` of them failed.
    pub stopped_after_failures: Vec<String>,
    /// Listings that failed; the databases of the others were swept.
    pub failed_listings: Vec<FailedListing>,
    /// Secrets whose connection keys drifted from their database and were repaired.
    pub repaired: Vec<String>,
    /// Secrets of databases that no longer exist, retired as `ON_DATABASE_DELETED` says.
    pub retired: Vec<String>,
    /// Orphaned secrets left for the next sweep: `retireLimit` retirements succeeded.
    pub retire_deferred: Vec<String>,
    /// Drifted secrets left for the next sweep: `MAX_REWRITES_PER_RUN` were rewritten
    /// (endpoint changes first, then extra connection keys such as new regional keys).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rewrite_deferred: Vec<String>,
    /// Live managed secrets whose primary is in this place (what `MAX_RETIRE_FRACTION` is
    /// taken of).
    #[serde(skip_serializing_if = "is_zero")]
    pub managed: usize,
    /// With `retireDeferred`: this place's limit, `max(1, floor(MAX_RETIRE_FRACTION ×
    /// managed))` and at most `MAX_RETIRE_PER_RUN`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retire_limit: Option<usize>,
    /// `empty-listing`: a listing showed no database of a `{service}/{kind}` (`retireGuarded`)
    /// while this place holds live secrets of 2 or more of its databases; none was retired.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retire_guard: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub retire_guarded: Vec<String>,
    /// Replicas re-created, as `name:region`.
    pub replicas_repaired: Vec<String>,
    /// Secrets that exist for a database but carry no seal: nothing was written (an operator
    /// decides; see the `flagged` outcome).
    pub flagged: Vec<String>,
    /// Secrets made before the database-id tag existed that got it (created after their
    /// database; never a seal).
    pub backfilled: Vec<String>,
    /// Admin secrets superseded by their database's managed secret (RDS or Redshift manages
    /// the master password now): tagged, kept, their users' `masterarn` repointed.
    pub taken_over: Vec<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The `retireGuard` of a place whose listing showed every database of a kind gone.
pub const RETIRE_GUARD_EMPTY_LISTING: &str = "empty-listing";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DatabaseRef {
    pub service: String,
    pub identifier: String,
    /// The database's account and region: the job's place.
    pub account: String,
    pub region: String,
    /// Empty (omitted) when the database is gone and only its tags name it.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub engine: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    pub outcome: OutcomeKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<DatabaseRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A `refused` outcome's error type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub replicas: Vec<ReplicaStatus>,
    /// Every secret an `updated` (connection change) or `retired` outcome changed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sweep: Option<Sweep>,
}

/// What a sweep did: in one account and region, or (hub mode) in each it covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Sweep {
    Single(Box<SweepReport>),
    Organization(OrganizationSweep),
    /// Hub mode: the sweep planned, one work-queue message per account-region.
    Plan(PlanReport),
}

/// The hub's plan: places found and queued, and what could not be queued or listed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanReport {
    /// The plan's id (every message's `planId`, and the member sessions' name).
    pub plan_id: String,
    /// Accounts and regions in the plan.
    pub accounts: usize,
    pub regions: usize,
    /// Messages SQS accepted: one per account-region.
    pub planned: usize,
    /// Places not queued after two retries (or at once, for an entry AWS says the sender got
    /// wrong), each logged with its account, region and error code.
    pub plan_failed: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed_listings: Vec<FailedListing>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped_accounts: Vec<SkippedAccount>,
}

/// The organization sweep: totals, and each account's report per region.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationSweep {
    /// Databases listed, secrets created, present, repaired, retired and replicas repaired,
    /// and database failures, over every account and region.
    pub databases: usize,
    pub created: usize,
    pub already_present: usize,
    pub repaired: usize,
    pub retired: usize,
    pub replicas_repaired: usize,
    pub flagged: usize,
    pub failed: usize,
    /// Account-regions that could not be swept (e.g. `MemberAccessDenied`).
    pub failed_places: usize,
    /// `account/region` not started before the deadline.
    pub left: Vec<String>,
    /// Listings of the organization that failed (`organization-accounts`: ListAccounts was
    /// refused); the function's own account and the listed members were still swept.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed_listings: Vec<FailedListing>,
    /// Accounts not swept, and why (`management-account`, `state SUSPENDED`, ...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped_accounts: Vec<SkippedAccount>,
    pub accounts: std::collections::BTreeMap<String, AccountSweep>,
}

/// An account the organization sweep skipped on purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedAccount {
    pub account: String,
    pub reason: String,
}

/// One account of the organization sweep.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountSweep {
    pub regions: std::collections::BTreeMap<String, SweepReport>,
    /// Regions that could not be swept, with the error.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<FailedRegion>,
}

/// A region of an account the organization sweep could not sweep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailedRegion {
    pub region: String,
    pub error_type: String,
    pub message: String,
}

impl Outcome {
    pub fn new(outcome: OutcomeKind) -> Self {
        Outcome {
            outcome,
            secret_name: None,
            secret_arn: None,
            database: None,
            reason: None,
            error_type: None,
            replicas: Vec::new(),
            secrets: Vec::new(),
            sweep: None,
        }
    }

    /// The non-error answer of an error no retry can fix (hub mode).
    pub fn refused(e: &Error) -> Self {
        Outcome {
            error_type: Some(e.error_type().to_string()),
            ..Outcome::new(OutcomeKind::Refused).with_reason(e.to_string())
        }
    }

    pub fn ignored(reason: impl Into<String>) -> Self {
        Outcome::new(OutcomeKind::Ignored).with_reason(reason)
    }

    /// An outcome about `db`, at `place`.
    pub fn about(kind: OutcomeKind, db: &Database, place: &Place) -> Self {
        Outcome {
            database: Some(DatabaseRef {
                service: db.service.as_str().into(),
                identifier: db.identifier.clone(),
                account: place.account.clone(),
                region: place.region.clone(),
                engine: db.engine.clone(),
            }),
            ..Outcome::new(kind)
        }
    }

    /// An outcome about a database known only by its service and identifier (it is gone).
    pub fn about_named(kind: OutcomeKind, service: &str, identifier: &str, place: &Place) -> Self {
        Outcome {
            database: Some(DatabaseRef {
                service: service.into(),
                identifier: identifier.into(),
                account: place.account.clone(),
                region: place.region.clone(),
                engine: String::new(),
            }),
            ..Outcome::new(kind)
        }
    }

    pub fn with_secrets(mut self, names: Vec<String>) -> Self {
        self.secrets = names;
        self
    }

    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    pub fn with_secret(mut self, name: &str, arn: Option<String>) -> Self {
        self.secret_name = Some(name.to_string());
        self.secret_arn = arn;
        self
    }

    pub fn with_replicas(mut self, replicas: Vec<ReplicaStatus>) -> Self {
        self.replicas = replicas;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_match_the_serialised_outcome() {
        for k in [
            OutcomeKind::Created,
            OutcomeKind::Updated,
            OutcomeKind::Unchanged,
            OutcomeKind::Skipped,
            OutcomeKind::Ignored,
            OutcomeKind::Reconciled,
            OutcomeKind::Retired,
            OutcomeKind::Flagged,
            OutcomeKind::Refused,
        ] {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
    }

    #[test]
    fn keys_that_do_not_apply_are_omitted() {
        let v = serde_json::to_value(Outcome::ignored("not ours")).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"outcome": "ignored", "reason": "not ours"})
        );
        let o = Outcome {
            secret_name: Some("n".into()),
            secret_arn: Some("arn".into()),
            database: Some(DatabaseRef {
                service: "rds".into(),
                identifier: "db".into(),
                account: "123456789012".into(),
                region: "us-east-1".into(),
                engine: "mysql".into(),
            }),
            ..Outcome::new(OutcomeKind::Created)
        };
        assert_eq!(
            serde_json::to_value(o).unwrap(),
            serde_json::json!({"outcome": "created", "secretName": "n", "secretArn": "arn",
                "database": {"service": "rds", "identifier": "db", "account": "123456789012",
                             "region": "us-east-1", "engine": "mysql"}})
        );
    }
}

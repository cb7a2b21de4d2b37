//! The sweep's units of work: what each is about, its kind (for the time shares and failure
//! limits of [`crate::rules::sweep_budget`]), and how it runs.

use crate::aws::secrets;
use crate::jobs::Job;
use crate::model::error::Result;
use crate::model::outcome::{Outcome, OutcomeKind};
use crate::model::tags;
use crate::model::Database;
use crate::rules::drift::Connection;
use crate::rules::existing_secret::SecretState;
use crate::rules::sweep_budget::Kind;

/// One unit of the sweep's work.
#[derive(Clone)]
pub(super) enum Task<'a> {
    Provision(&'a Database),
    Repair(&'a Database, &'a SecretState),
    Retire(&'a SecretState),
    Replica(&'a SecretState, String),
    Backfill(&'a SecretState, &'a str),
    /// RDS manages the password now: supersede the admin secret.
    TakeOver(&'a Database),
}

/// What a task did.
pub(super) enum Done {
    Provisioned(Box<Outcome>),
    Repaired(String),
    Unchanged,
    Retired(String),
    ReplicaRepaired(String),
    Backfilled(String),
    /// The admin secret, superseded by the database's managed secret.
    TakenOver(String),
}

impl Task<'_> {
    pub(super) fn kind(&self) -> Kind {
        match self {
            Task::Provision(_) => Kind::Create,
            Task::Repair(..) | Task::Backfill(..) | Task::TakeOver(_) => Kind::Repair,
            Task::Retire(_) => Kind::Retire,
            Task::Replica(..) => Kind::Replica,
        }
    }

    /// What a failure for good is about: the secret, or for `create` the database.
    pub(super) fn subject(&self) -> String {
        match self {
            Task::Provision(db) | Task::TakeOver(db) => db.to_string(),
            Task::Repair(_, s) | Task::Retire(s) | Task::Replica(s, _) | Task::Backfill(s, _) => {
                s.name.clone()
            }
        }
    }

    /// The database or secret the job is about, for `left` and `failed`.
    pub(super) fn label(&self) -> String {
        match self {
            Task::Provision(db) | Task::TakeOver(db) => db.to_string(),
            Task::Repair(_, s) | Task::Retire(s) | Task::Backfill(s, _) => s.name.clone(),
            Task::Replica(s, region) => format!("{}:{region}", s.name),
        }
    }
}

pub(super) async fn run_task(job: &Job, task: Task<'_>) -> Result<Done> {
    match task {
        Task::TakeOver(db) => {
            let managed = db.managed_secret_arn.as_deref().unwrap_or_default();
            let o = job.take_over(db, managed).await?;
            Ok(match (o.outcome, o.secret_name) {
                (OutcomeKind::Updated, Some(name)) => Done::TakenOver(name),
                _ => Done::Unchanged,
            })
        }
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

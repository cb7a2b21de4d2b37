//! Database lookup: what AWS says about a database (engine, endpoint, master user, managed
//! password). One adapter per service API ([`rds`], [`redshift`], [`serverless`]); all return
//! the same [`Database`]. This module only talks to AWS; what to do with the answer is decided
//! elsewhere.

pub mod blue_green;
pub mod copies;
mod rds;
mod redshift;
pub mod restores;
mod serverless;

use std::time::Duration;

use aws_smithy_runtime_api::client::waiters::error::WaiterError;

use crate::aws::Clients;
use crate::model::error::{Error, Result};
use crate::model::{Database, Target};

/// Describes the database an event points at.
pub async fn describe(clients: &Clients, target: &Target) -> Result<Database> {
    match target {
        Target::DbInstance(id) => rds::describe_instance(clients, id).await,
        Target::DbCluster(id) => rds::describe_cluster(clients, id).await,
        Target::RedshiftCluster(id) => redshift::describe_cluster(clients, id).await,
        Target::Workgroup(name) => serverless::describe_workgroup(clients, name).await,
        Target::WorkgroupArn(arn) => {
            let name = serverless::workgroup_name_for_arn(clients, arn).await?;
            serverless::describe_workgroup(clients, &name).await
        }
        Target::Namespace(namespace) => {
            let name = serverless::workgroup_name_for_namespace(clients, namespace).await?;
            serverless::describe_workgroup(clients, &name).await
        }
    }
}

/// Waits for a database that Describe showed without an endpoint (the caller decided it gets a
/// secret), for at most `max_wait`, then describes it again. RDS instances and clusters and
/// Redshift clusters use the SDK's own waiters; Redshift Serverless has none, so its workgroup
/// is polled with backoff until it is `AVAILABLE`.
pub async fn wait_available(
    clients: &Clients,
    target: &Target,
    db: &Database,
    max_wait: Duration,
) -> Result<Database> {
    if max_wait.is_zero() {
        return Ok(db.clone());
    }
    let waited = match target {
        Target::DbInstance(_) => rds::wait_for_instance(clients, db, max_wait).await,
        Target::DbCluster(_) => rds::wait_for_cluster(clients, db, max_wait).await,
        Target::RedshiftCluster(_) => redshift::wait_for_cluster(clients, db, max_wait).await,
        Target::Workgroup(_) | Target::WorkgroupArn(_) | Target::Namespace(_) => {
            return serverless::wait_for_workgroup(clients, db, max_wait).await;
        }
    };
    // A failure state (deleted, failed, ...) is judged on a fresh Describe like any other.
    match waited {
        Ok(()) | Err(None) => describe(clients, target).await,
        Err(Some(e)) => Err(e),
    }
}

/// The error for a database still without an endpoint after `max_wait`.
fn still_not_ready(db: &Database, max_wait: Duration) -> Error {
    Error::DatabaseNotReady {
        resource: db.resource,
        identifier: db.identifier.clone(),
        detail: format!(
            "still {:?} with no endpoint after waiting {}s",
            db.status,
            max_wait.as_secs()
        ),
    }
}

/// `None` for a waiter that ended in a failure state (the caller describes again); the
/// classified error otherwise.
fn waiter_failure<O, E: aws_smithy_types::error::metadata::ProvideErrorMetadata>(
    err: WaiterError<O, E>,
    db: &Database,
    max_wait: Duration,
) -> Option<Error> {
    match err {
        WaiterError::FailureState(_) => None,
        WaiterError::ExceededMaxWait(_) => Some(still_not_ready(db, max_wait)),
        other => Some(Error::waiter(db.resource.label(), &db.identifier, &other)),
    }
}

/// One of the sweep's listings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Listing {
    RdsInstances,
    RdsClusters,
    RedshiftClusters,
    ServerlessWorkgroups,
}

impl Listing {
    pub const ALL: [Listing; 4] = [
        Listing::RdsInstances,
        Listing::RdsClusters,
        Listing::RedshiftClusters,
        Listing::ServerlessWorkgroups,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Listing::RdsInstances => "rds-instances",
            Listing::RdsClusters => "rds-clusters",
            Listing::RedshiftClusters => "redshift-clusters",
            Listing::ServerlessWorkgroups => "redshift-serverless-workgroups",
        }
    }
}

/// What the listings found: every database of the listings that worked, and the error of each
/// that failed (the others go on: an `AccessDenied` on Redshift, or Redshift missing from a
/// region, does not stop RDS).
#[derive(Debug, Default)]
pub struct Listed {
    pub databases: Vec<Database>,
    pub failed: Vec<(Listing, Error)>,
}

/// Every RDS instance and cluster (Aurora, DocumentDB, Multi-AZ), Redshift cluster and Redshift
/// Serverless workgroup, each listing paginated, the four concurrently.
pub async fn list_all(clients: &Clients) -> Listed {
    let (instances, clusters, redshift, workgroups) = tokio::join!(
        rds::list_instances(clients),
        rds::list_clusters(clients),
        redshift::list_clusters(clients),
        serverless::list_workgroups(clients)
    );
    let mut listed = Listed::default();
    for (listing, result) in Listing::ALL
        .into_iter()
        .zip([instances, clusters, redshift, workgroups])
    {
        match result {
            Ok(databases) => listed.databases.extend(databases),
            Err(e) => listed.failed.push((listing, e)),
        }
    }
    listed
}

/// A field AWS may leave empty, as `None` when it does.
fn nonempty(s: Option<&str>) -> Option<String> {
    s.filter(|s| !s.is_empty()).map(str::to_string)
}

/// An SDK timestamp as a `SystemTime` (`None` before 1970).
fn system_time(t: &aws_smithy_types::DateTime) -> Option<std::time::SystemTime> {
    std::time::SystemTime::try_from(*t).ok()
}

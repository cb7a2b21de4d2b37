//! Database lookup: what AWS says about a database (engine, endpoint, master user, managed
//! password). One adapter per service API ([`rds`], [`redshift`], [`serverless`]); all return
//! the same [`Database`]. This module only talks to AWS; what to do with the answer is decided
//! elsewhere.

mod rds;
mod redshift;
mod serverless;

use std::time::Duration;

use aws_smithy_runtime_api::client::waiters::error::WaiterError;

use crate::aws::Clients;
use crate::error::{Error, Result};
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
    }
}

/// Describes the database and, if it has no endpoint yet and `max_wait` allows, waits for it
/// with the SDK's own waiter (RDS instances and clusters, Redshift clusters), then describes it
/// again. Redshift Serverless has no SDK waiter: a workgroup still creating is returned as it
/// is (and the provisioner answers `DatabaseNotReady`, so Lambda retries).
pub async fn describe_available(
    clients: &Clients,
    target: &Target,
    max_wait: Duration,
) -> Result<Database> {
    let db = describe(clients, target).await?;
    if db.host.is_some() || max_wait.is_zero() || db.is_gone() {
        return Ok(db);
    }
    let waited = match target {
        Target::DbInstance(_) => rds::wait_for_instance(clients, &db, max_wait).await,
        Target::DbCluster(_) => rds::wait_for_cluster(clients, &db, max_wait).await,
        Target::RedshiftCluster(_) => redshift::wait_for_cluster(clients, &db, max_wait).await,
        Target::Workgroup(_) | Target::WorkgroupArn(_) => return Ok(db),
    };
    // A failure state (deleted, failed, ...) is judged on a fresh Describe like any other.
    match waited {
        Ok(()) | Err(None) => describe(clients, target).await,
        Err(Some(e)) => Err(e),
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
        WaiterError::ExceededMaxWait(_) => Some(Error::DatabaseNotReady {
            resource: db.resource,
            identifier: db.identifier.clone(),
            detail: format!(
                "still {:?} with no endpoint after waiting {}s",
                db.status,
                max_wait.as_secs()
            ),
        }),
        other => Some(Error::waiter(db.resource.label(), &db.identifier, &other)),
    }
}

/// Every RDS instance and cluster (Aurora, DocumentDB, Multi-AZ) and every Redshift cluster,
/// each listing paginated; the three listings run concurrently.
pub async fn list_all(clients: &Clients) -> Result<Vec<Database>> {
    let (instances, clusters, redshift) = tokio::join!(
        rds::list_instances(clients),
        rds::list_clusters(clients),
        redshift::list_clusters(clients)
    );
    let mut all = instances?;
    all.extend(clusters?);
    all.extend(redshift?);
    Ok(all)
}

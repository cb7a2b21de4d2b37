//! Database lookup: what AWS says about a database (engine, endpoint, master user, managed
//! password). One adapter per service API; all return the same [`Database`].

use std::time::Duration;

use futures_util::FutureExt as _;

use aws_sdk_rds::client::Waiters as _;
use aws_sdk_rds::operation::describe_db_clusters::DescribeDBClustersError;
use aws_sdk_rds::operation::describe_db_instances::DescribeDBInstancesError;
use aws_sdk_redshift::client::Waiters as _;
use aws_sdk_redshift::operation::describe_clusters::DescribeClustersError;
use aws_sdk_redshiftserverless::operation::get_namespace::GetNamespaceError;
use aws_sdk_redshiftserverless::operation::get_workgroup::GetWorkgroupError;
use aws_smithy_runtime_api::client::waiters::error::WaiterError;

use crate::aws::Clients;
use crate::error::{Error, Result};
use crate::event::Target;

/// The `{service}` placeholder's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Rds,
    DocDb,
    Redshift,
    RedshiftServerless,
}

impl Service {
    pub fn as_str(self) -> &'static str {
        match self {
            Service::Rds => "rds",
            Service::DocDb => "docdb",
            Service::Redshift => "redshift",
            Service::RedshiftServerless => "redshift-serverless",
        }
    }
}

/// Which identifier key the secret carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentifierKey {
    DbInstance,
    DbCluster,
    /// Redshift Serverless: `namespaceName` with this value.
    Namespace(String),
}

/// A database as Describe reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Database {
    pub service: Service,
    /// "DB instance", "DB cluster", ... for messages.
    pub kind: &'static str,
    pub identifier: String,
    pub identifier_key: IdentifierKey,
    /// The engine as AWS names it (`aurora-postgresql`, `oracle-ee`, ...).
    pub engine: String,
    pub status: String,
    /// Instance endpoint address or the cluster's writer endpoint; absent while creating.
    pub host: Option<String>,
    pub port: Option<i32>,
    pub dbname: Option<String>,
    pub master_username: Option<String>,
    /// The cluster this instance is a member of (Aurora, DocumentDB).
    pub cluster: Option<String>,
    /// ARN of the service-managed master secret, when the master password is managed.
    pub managed_secret_arn: Option<String>,
}

/// Describes the database an event points at.
pub async fn describe(clients: &Clients, target: &Target) -> Result<Database> {
    match target {
        Target::DbInstance(id) => describe_db_instance(clients, id).await,
        Target::DbCluster(id) => describe_db_cluster(clients, id).await,
        Target::RedshiftCluster(id) => describe_redshift_cluster(clients, id).await,
        Target::Workgroup(name) => describe_workgroup(clients, name).await,
        Target::WorkgroupArn(arn) => {
            let name = workgroup_name_for_arn(clients, arn).await?;
            describe_workgroup(clients, &name).await
        }
    }
}

/// Describes the database and, if it has no endpoint yet and `max_wait` allows, waits for it
/// with the SDK's own waiter (RDS instances and clusters, Redshift clusters), then describes it
/// again. Redshift Serverless has no SDK waiter: a workgroup still creating is returned as it
/// is (and the handler answers `DatabaseNotReady`, so Lambda retries).
pub async fn describe_available(
    clients: &Clients,
    target: &Target,
    max_wait: Duration,
) -> Result<Database> {
    let db = describe(clients, target).await?;
    if db.host.is_some() || max_wait.is_zero() || is_gone(&db.status) {
        return Ok(db);
    }
    let id = db.identifier.as_str();
    // Waiter futures are large: boxed, they keep the handler's future small.
    let waited = match target {
        Target::DbInstance(_) => clients
            .rds
            .wait_until_db_instance_available()
            .db_instance_identifier(id)
            .wait(max_wait)
            .boxed()
            .await
            .map(drop)
            .map_err(|e| waiter_failure(e, &db, max_wait)),
        Target::DbCluster(_) => clients
            .rds
            .wait_until_db_cluster_available()
            .db_cluster_identifier(id)
            .wait(max_wait)
            .boxed()
            .await
            .map(drop)
            .map_err(|e| waiter_failure(e, &db, max_wait)),
        Target::RedshiftCluster(_) => clients
            .redshift
            .wait_until_cluster_available()
            .cluster_identifier(id)
            .wait(max_wait)
            .boxed()
            .await
            .map(drop)
            .map_err(|e| waiter_failure(e, &db, max_wait)),
        Target::Workgroup(_) | Target::WorkgroupArn(_) => return Ok(db),
    };
    // A failure state (deleted, failed, ...) is judged on a fresh Describe like any other.
    match waited {
        Ok(()) | Err(None) => describe(clients, target).await,
        Err(Some(e)) => Err(e),
    }
}

/// Statuses (any service's spelling) of a database that is going away.
pub fn is_gone(status: &str) -> bool {
    matches!(status.to_ascii_lowercase().as_str(), "deleting" | "deleted")
}

/// `None` for a waiter that ended in a failure state (the caller describes again); the
/// classified error otherwise.
fn waiter_failure<O: std::fmt::Debug, E: std::error::Error + Send + Sync + 'static>(
    err: WaiterError<O, E>,
    db: &Database,
    max_wait: Duration,
) -> Option<Error> {
    match err {
        WaiterError::FailureState(_) => None,
        WaiterError::ExceededMaxWait(_) => Some(Error::DatabaseNotReady {
            kind: db.kind,
            identifier: db.identifier.clone(),
            detail: format!(
                "still {:?} with no endpoint after waiting {}s",
                db.status,
                max_wait.as_secs()
            ),
        }),
        other => Some(Error::aws_on(
            db.kind,
            "wait until available",
            &db.identifier,
            other,
        )),
    }
}

/// DocumentDB shares the RDS API; only the engine tells it apart.
fn service_for_engine(engine: &str) -> Service {
    if engine.eq_ignore_ascii_case("docdb") {
        Service::DocDb
    } else {
        Service::Rds
    }
}

async fn describe_db_instance(clients: &Clients, id: &str) -> Result<Database> {
    let out = clients
        .rds
        .describe_db_instances()
        .db_instance_identifier(id)
        .send()
        .await
        .map_err(|e| match e.into_service_error() {
            DescribeDBInstancesError::DbInstanceNotFoundFault(_) => Error::DatabaseNotFound {
                kind: "DB instance",
                identifier: id.to_string(),
            },
            other => Error::aws_on("RDS", "DescribeDBInstances", id, other),
        })?;
    let i = out
        .db_instances()
        .iter()
        .find(|i| i.db_instance_identifier() == Some(id))
        .or_else(|| out.db_instances().first())
        .ok_or_else(|| Error::DatabaseNotFound {
            kind: "DB instance",
            identifier: id.to_string(),
        })?;
    Ok(from_db_instance(i, id))
}

async fn describe_db_cluster(clients: &Clients, id: &str) -> Result<Database> {
    let out = clients
        .rds
        .describe_db_clusters()
        .db_cluster_identifier(id)
        .send()
        .await
        .map_err(|e| match e.into_service_error() {
            DescribeDBClustersError::DbClusterNotFoundFault(_) => Error::DatabaseNotFound {
                kind: "DB cluster",
                identifier: id.to_string(),
            },
            other => Error::aws_on("RDS", "DescribeDBClusters", id, other),
        })?;
    let c = out
        .db_clusters()
        .iter()
        .find(|c| c.db_cluster_identifier() == Some(id))
        .or_else(|| out.db_clusters().first())
        .ok_or_else(|| Error::DatabaseNotFound {
            kind: "DB cluster",
            identifier: id.to_string(),
        })?;
    Ok(from_db_cluster(c, id))
}

async fn describe_redshift_cluster(clients: &Clients, id: &str) -> Result<Database> {
    let out = clients
        .redshift
        .describe_clusters()
        .cluster_identifier(id)
        .send()
        .await
        .map_err(|e| match e.into_service_error() {
            DescribeClustersError::ClusterNotFoundFault(_) => Error::DatabaseNotFound {
                kind: "Redshift cluster",
                identifier: id.to_string(),
            },
            other => Error::aws_on("Redshift", "DescribeClusters", id, other),
        })?;
    let c = out
        .clusters()
        .iter()
        .find(|c| c.cluster_identifier() == Some(id))
        .or_else(|| out.clusters().first())
        .ok_or_else(|| Error::DatabaseNotFound {
            kind: "Redshift cluster",
            identifier: id.to_string(),
        })?;
    Ok(from_redshift_cluster(c, id))
}

/// GetWorkgroup (endpoint, namespace) then GetNamespace (admin user, database, managed
/// password): the second call needs the first's namespace name.
async fn describe_workgroup(clients: &Clients, name: &str) -> Result<Database> {
    let not_found = || Error::DatabaseNotFound {
        kind: "Redshift Serverless workgroup",
        identifier: name.to_string(),
    };
    let out = clients
        .serverless
        .get_workgroup()
        .workgroup_name(name)
        .send()
        .await
        .map_err(|e| match e.into_service_error() {
            GetWorkgroupError::ResourceNotFoundException(_) => not_found(),
            other => Error::aws_on("Redshift Serverless", "GetWorkgroup", name, other),
        })?;
    let wg = out.workgroup().ok_or_else(not_found)?;
    let namespace_name = wg.namespace_name().unwrap_or_default().to_string();
    let ns_out = clients
        .serverless
        .get_namespace()
        .namespace_name(&namespace_name)
        .send()
        .await
        .map_err(|e| match e.into_service_error() {
            GetNamespaceError::ResourceNotFoundException(_) => Error::DatabaseNotFound {
                kind: "Redshift Serverless namespace",
                identifier: namespace_name.clone(),
            },
            other => Error::aws_on(
                "Redshift Serverless",
                "GetNamespace",
                &namespace_name,
                other,
            ),
        })?;
    let ns = ns_out.namespace();
    Ok(Database {
        service: Service::RedshiftServerless,
        kind: "Redshift Serverless workgroup",
        identifier: wg.workgroup_name().unwrap_or(name).to_string(),
        identifier_key: IdentifierKey::Namespace(namespace_name.clone()),
        engine: "redshift".into(),
        status: wg
            .status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        host: wg
            .endpoint()
            .and_then(|e| e.address())
            .filter(|a| !a.is_empty())
            .map(str::to_string),
        port: wg.endpoint().and_then(|e| e.port()).or(wg.port()),
        dbname: ns.and_then(|n| n.db_name()).map(str::to_string),
        master_username: ns.and_then(|n| n.admin_username()).map(str::to_string),
        cluster: None,
        managed_secret_arn: ns
            .and_then(|n| n.admin_password_secret_arn())
            .map(str::to_string),
    })
}

/// The native workgroup-created event may carry only the workgroup's ARN, whose last part is
/// the workgroup id: find the workgroup with that ARN (paginated ListWorkgroups).
async fn workgroup_name_for_arn(clients: &Clients, arn: &str) -> Result<String> {
    let mut pages = clients.serverless.list_workgroups().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            Error::aws(
                "Redshift Serverless",
                "ListWorkgroups",
                e.into_service_error(),
            )
        })?;
        if let Some(name) = page
            .workgroups()
            .iter()
            .find(|w| w.workgroup_arn() == Some(arn))
            .and_then(|w| w.workgroup_name())
        {
            return Ok(name.to_string());
        }
    }
    Err(Error::DatabaseNotFound {
        kind: "Redshift Serverless workgroup",
        identifier: arn.to_string(),
    })
}

/// A `Database` from DescribeDBInstances' item (also used by the sweep's listing).
pub fn from_db_instance(i: &aws_sdk_rds::types::DbInstance, id: &str) -> Database {
    let engine = i.engine().unwrap_or_default().to_string();
    Database {
        service: service_for_engine(&engine),
        kind: "DB instance",
        identifier: i.db_instance_identifier().unwrap_or(id).to_string(),
        identifier_key: IdentifierKey::DbInstance,
        engine,
        status: i.db_instance_status().unwrap_or_default().to_string(),
        host: i
            .endpoint()
            .and_then(|e| e.address())
            .filter(|a| !a.is_empty())
            .map(str::to_string),
        port: i.endpoint().and_then(|e| e.port()),
        dbname: i.db_name().map(str::to_string),
        master_username: i.master_username().map(str::to_string),
        cluster: i.db_cluster_identifier().map(str::to_string),
        managed_secret_arn: i
            .master_user_secret()
            .and_then(|s| s.secret_arn())
            .map(str::to_string),
    }
}

/// A `Database` from DescribeDBClusters' item.
pub fn from_db_cluster(c: &aws_sdk_rds::types::DbCluster, id: &str) -> Database {
    let engine = c.engine().unwrap_or_default().to_string();
    Database {
        service: service_for_engine(&engine),
        kind: "DB cluster",
        identifier: c.db_cluster_identifier().unwrap_or(id).to_string(),
        identifier_key: IdentifierKey::DbCluster,
        engine,
        status: c.status().unwrap_or_default().to_string(),
        host: c.endpoint().filter(|a| !a.is_empty()).map(str::to_string),
        port: c.port(),
        dbname: c.database_name().map(str::to_string),
        master_username: c.master_username().map(str::to_string),
        cluster: None,
        managed_secret_arn: c
            .master_user_secret()
            .and_then(|s| s.secret_arn())
            .map(str::to_string),
    }
}

/// A `Database` from Redshift DescribeClusters' item.
pub fn from_redshift_cluster(c: &aws_sdk_redshift::types::Cluster, id: &str) -> Database {
    Database {
        service: Service::Redshift,
        kind: "Redshift cluster",
        identifier: c.cluster_identifier().unwrap_or(id).to_string(),
        identifier_key: IdentifierKey::DbCluster,
        engine: "redshift".into(),
        status: c.cluster_status().unwrap_or_default().to_string(),
        host: c
            .endpoint()
            .and_then(|e| e.address())
            .filter(|a| !a.is_empty())
            .map(str::to_string),
        port: c.endpoint().and_then(|e| e.port()),
        dbname: c.db_name().map(str::to_string),
        master_username: c.master_username().map(str::to_string),
        cluster: None,
        managed_secret_arn: c.master_password_secret_arn().map(str::to_string),
    }
}

/// Every RDS instance and cluster (Aurora, DocumentDB, Multi-AZ) and every Redshift cluster,
/// each listing paginated; the three listings run concurrently.
pub async fn list_all(clients: &Clients) -> Result<Vec<Database>> {
    let instances = async {
        let mut out = Vec::new();
        let mut pages = clients.rds.describe_db_instances().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| Error::aws("RDS", "DescribeDBInstances", e.into_service_error()))?;
            out.extend(page.db_instances().iter().map(|i| from_db_instance(i, "")));
        }
        Ok::<_, Error>(out)
    };
    let clusters = async {
        let mut out = Vec::new();
        let mut pages = clients.rds.describe_db_clusters().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| Error::aws("RDS", "DescribeDBClusters", e.into_service_error()))?;
            out.extend(page.db_clusters().iter().map(|c| from_db_cluster(c, "")));
        }
        Ok::<_, Error>(out)
    };
    let redshift = async {
        let mut out = Vec::new();
        let mut pages = clients.redshift.describe_clusters().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page
                .map_err(|e| Error::aws("Redshift", "DescribeClusters", e.into_service_error()))?;
            out.extend(page.clusters().iter().map(|c| from_redshift_cluster(c, "")));
        }
        Ok::<_, Error>(out)
    };
    let (instances, clusters, redshift) = tokio::join!(instances, clusters, redshift);
    let mut all = instances?;
    all.extend(clusters?);
    all.extend(redshift?);
    Ok(all)
}

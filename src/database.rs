//! Database lookup: what AWS says about a database (engine, endpoint, master user, managed
//! password). One adapter per service API; all return the same [`Database`].

use aws_sdk_rds::operation::describe_db_clusters::DescribeDBClustersError;
use aws_sdk_rds::operation::describe_db_instances::DescribeDBInstancesError;

use crate::aws::Clients;
use crate::error::{Error, Result};
use crate::event::Target;

/// The `{service}` placeholder's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Rds,
    DocDb,
}

impl Service {
    pub fn as_str(self) -> &'static str {
        match self {
            Service::Rds => "rds",
            Service::DocDb => "docdb",
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
            other => Error::aws("RDS", "DescribeDBInstances", other),
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
    let engine = i.engine().unwrap_or_default().to_string();
    Ok(Database {
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
    })
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
            other => Error::aws("RDS", "DescribeDBClusters", other),
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
    let engine = c.engine().unwrap_or_default().to_string();
    Ok(Database {
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
    })
}

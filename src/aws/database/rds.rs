//! RDS DescribeDBInstances / DescribeDBClusters (RDS, Aurora, DocumentDB, Neptune), their
//! waiters and paginated listings.

use std::time::Duration;

use aws_sdk_rds::client::Waiters as _;
use aws_sdk_rds::operation::describe_db_clusters::DescribeDBClustersError;
use aws_sdk_rds::operation::describe_db_instances::DescribeDBInstancesError;
use aws_sdk_rds::types::{DbCluster, DbInstance};
use futures_util::FutureExt as _;

use super::waiter_failure;
use super::{nonempty, system_time};
use crate::aws::Clients;
use crate::model::error::{Error, Result};
use crate::model::{regional, Database, IdentifierKey, Resource, Service};

pub(super) async fn describe_instance(clients: &Clients, id: &str) -> Result<Database> {
    let not_found = || Error::DatabaseNotFound {
        resource: Resource::DbInstance,
        identifier: id.to_string(),
    };
    let out = clients
        .rds
        .describe_db_instances()
        .db_instance_identifier(id)
        .send()
        .await
        .map_err(|e| match e.as_service_error() {
            Some(DescribeDBInstancesError::DbInstanceNotFoundFault(_)) => not_found(),
            _ => Error::aws_on("RDS", "DescribeDBInstances", id, &e),
        })?;
    let i = out
        .db_instances()
        .iter()
        .find(|i| i.db_instance_identifier() == Some(id))
        .or_else(|| out.db_instances().first())
        .ok_or_else(not_found)?;
    Ok(from_instance(i, id))
}

pub(super) async fn describe_cluster(clients: &Clients, id: &str) -> Result<Database> {
    let not_found = || Error::DatabaseNotFound {
        resource: Resource::DbCluster,
        identifier: id.to_string(),
    };
    let out = clients
        .rds
        .describe_db_clusters()
        .db_cluster_identifier(id)
        .send()
        .await
        .map_err(|e| match e.as_service_error() {
            Some(DescribeDBClustersError::DbClusterNotFoundFault(_)) => not_found(),
            _ => Error::aws_on("RDS", "DescribeDBClusters", id, &e),
        })?;
    let c = out
        .db_clusters()
        .iter()
        .find(|c| c.db_cluster_identifier() == Some(id))
        .or_else(|| out.db_clusters().first())
        .ok_or_else(not_found)?;
    Ok(from_cluster(c, id))
}

/// Waits with the SDK's `DBInstanceAvailable` waiter (boxed: waiter futures are large).
pub(super) async fn wait_for_instance(
    clients: &Clients,
    db: &Database,
    max_wait: Duration,
) -> std::result::Result<(), Option<Error>> {
    clients
        .rds
        .wait_until_db_instance_available()
        .db_instance_identifier(&db.identifier)
        .wait(max_wait)
        .boxed()
        .await
        .map(drop)
        .map_err(|e| waiter_failure(e, db, max_wait))
}

/// Waits with the SDK's `DBClusterAvailable` waiter.
pub(super) async fn wait_for_cluster(
    clients: &Clients,
    db: &Database,
    max_wait: Duration,
) -> std::result::Result<(), Option<Error>> {
    clients
        .rds
        .wait_until_db_cluster_available()
        .db_cluster_identifier(&db.identifier)
        .wait(max_wait)
        .boxed()
        .await
        .map(drop)
        .map_err(|e| waiter_failure(e, db, max_wait))
}

pub(super) async fn list_instances(clients: &Clients) -> Result<Vec<Database>> {
    let mut out = Vec::new();
    let mut pages = clients.rds.describe_db_instances().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Error::aws("RDS", "DescribeDBInstances", &e))?;
        out.extend(page.db_instances().iter().map(|i| from_instance(i, "")));
    }
    Ok(out)
}

pub(super) async fn list_clusters(clients: &Clients) -> Result<Vec<Database>> {
    let mut out = Vec::new();
    let mut pages = clients.rds.describe_db_clusters().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Error::aws("RDS", "DescribeDBClusters", &e))?;
        out.extend(page.db_clusters().iter().map(|c| from_cluster(c, "")));
    }
    Ok(out)
}

/// A `Database` from DescribeDBInstances' item.
fn from_instance(i: &DbInstance, id: &str) -> Database {
    let engine = i.engine().unwrap_or_default().to_string();
    Database {
        service: Service::for_rds_engine(&engine),
        resource: Resource::DbInstance,
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
        replica_source: i
            .read_replica_source_db_instance_identifier()
            .or(i.read_replica_source_db_cluster_identifier())
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        resource_id: nonempty(i.dbi_resource_id()),
        created_at: i.instance_create_time().and_then(system_time),
        pending_port: i.pending_modified_values().and_then(|p| p.port()),
        reader_host: None,
        copies: None,
        remote_replicas: remote(
            i.db_instance_arn(),
            i.read_replica_db_instance_identifiers(),
        ),
    }
    .with_copies_unknown_only_if_remote()
}

/// A `Database` from DescribeDBClusters' item.
fn from_cluster(c: &DbCluster, id: &str) -> Database {
    let engine = c.engine().unwrap_or_default().to_string();
    Database {
        service: Service::for_rds_engine(&engine),
        resource: Resource::DbCluster,
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
        replica_source: c
            .replication_source_identifier()
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        resource_id: nonempty(c.db_cluster_resource_id()),
        created_at: c.cluster_create_time().and_then(system_time),
        pending_port: None,
        reader_host: nonempty(c.reader_endpoint()),
        copies: None,
        remote_replicas: remote(c.db_cluster_arn(), c.read_replica_identifiers()),
    }
    .with_copies_unknown_only_if_remote()
}

/// The replicas of a database (its ARN `own`) that Describe names by ARN in another region:
/// RDS lists a cross-region read replica by its ARN, one in the same region by its identifier.
fn remote(own: Option<&str>, replicas: &[String]) -> Vec<String> {
    let here = own.and_then(regional::arn_region);
    replicas
        .iter()
        .filter(|r| regional::arn_region(r).is_some_and(|region| Some(region) != here))
        .cloned()
        .collect()
}

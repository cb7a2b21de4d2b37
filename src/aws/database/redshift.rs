//! Redshift (provisioned) DescribeClusters, its waiter and listing.

use std::time::Duration;

use aws_sdk_redshift::client::Waiters as _;
use aws_sdk_redshift::operation::describe_clusters::DescribeClustersError;
use aws_sdk_redshift::types::Cluster;
use futures_util::FutureExt as _;

use super::waiter_failure;
use super::{nonempty, system_time};
use crate::aws::Clients;
use crate::model::error::{Error, Result};
use crate::model::{Database, IdentifierKey, Resource, Service};

pub(super) async fn describe_cluster(clients: &Clients, id: &str) -> Result<Database> {
    let not_found = || Error::DatabaseNotFound {
        resource: Resource::RedshiftCluster,
        identifier: id.to_string(),
    };
    let out = clients
        .redshift
        .describe_clusters()
        .cluster_identifier(id)
        .send()
        .await
        .map_err(|e| match e.as_service_error() {
            Some(DescribeClustersError::ClusterNotFoundFault(_)) => not_found(),
            _ => Error::aws_on("Redshift", "DescribeClusters", id, &e),
        })?;
    let c = out
        .clusters()
        .iter()
        .find(|c| c.cluster_identifier() == Some(id))
        .or_else(|| out.clusters().first())
        .ok_or_else(not_found)?;
    Ok(from_cluster(c, id))
}

/// Waits with the SDK's `ClusterAvailable` waiter.
pub(super) async fn wait_for_cluster(
    clients: &Clients,
    db: &Database,
    max_wait: Duration,
) -> std::result::Result<(), Option<Error>> {
    clients
        .redshift
        .wait_until_cluster_available()
        .cluster_identifier(&db.identifier)
        .wait(max_wait)
        .boxed()
        .await
        .map(drop)
        .map_err(|e| waiter_failure(e, db, max_wait))
}

pub(super) async fn list_clusters(clients: &Clients) -> Result<Vec<Database>> {
    let mut out = Vec::new();
    let mut pages = clients.redshift.describe_clusters().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Error::aws("Redshift", "DescribeClusters", &e))?;
        out.extend(page.clusters().iter().map(|c| from_cluster(c, "")));
    }
    Ok(out)
}

/// A `Database` from Redshift DescribeClusters' item.
fn from_cluster(c: &Cluster, id: &str) -> Database {
    Database {
        service: Service::Redshift,
        resource: Resource::RedshiftCluster,
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
        replica_source: None,
        resource_id: nonempty(c.cluster_namespace_arn()),
        created_at: c.cluster_create_time().and_then(system_time),
        pending_port: None,
        reader_host: None,
        remote_replicas: Vec::new(),
        copies: Some(Vec::new()),
    }
}

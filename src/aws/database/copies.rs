//! A database's copies in other regions, for its regional connection keys
//! ([`crate::model::regional`]): RDS names a cross-region read replica, instance or cluster,
//! by its ARN in `ReadReplicaDBInstanceIdentifiers` / `ReadReplicaIdentifiers`; each is
//! described in its own region for its endpoint. In bulk: per region, one DescribeDBInstances
//! and one DescribeDBClusters filtered by `db-instance-id` / `db-cluster-id` (which "accept
//! ... ARNs"), at most [`FILTER_VALUES`] ARNs per request, whatever the number of databases.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_rds::types::Filter;
use futures_util::future::join_all;

use crate::aws::Clients;
use crate::model::engine::engine_rule;
use crate::model::error::{Error, Result};
use crate::model::regional::{self, RegionalCopy};
use crate::model::{Database, Resource};

/// ARNs per filter. AWS's reference names no limit on a filter's values; 100 is MaxRecords'
/// largest page ("Minimum 20, maximum 100"), so one request's ARNs fit in its first page.
pub const FILTER_VALUES: usize = 100;

/// Fills in `copies` of each database in `region` whose copies are not known yet: the database
/// itself first, then each copy Describe finds in its region (a replica Describe no longer
/// finds there is gone: no copy). A database with a copy in a region whose Describe failed,
/// or a copy Describe shows without an endpoint yet, stays unknown (`None`): its secrets'
/// regional keys stay as they are. With
/// `enabled` false (`REGIONAL_CONNECTION_KEYS=false`) no region is asked and every database
/// has none. Returns the regions whose Describe failed, with the error.
pub async fn find(
    clients: &Clients,
    region: &str,
    databases: &mut [Database],
    enabled: bool,
) -> Vec<(String, Error)> {
    if !enabled {
        for db in databases.iter_mut() {
            db.copies = Some(Vec::new());
        }
        return Vec::new();
    }
    // Per region: the instance ARNs and the cluster ARNs to describe there.
    let mut wanted: BTreeMap<String, (Vec<String>, Vec<String>)> = BTreeMap::new();
    for db in databases.iter().filter(|d| d.copies.is_none()) {
        for arn in &db.remote_replicas {
            let Some(r) = regional::arn_region(arn) else {
                continue;
            };
            let entry = wanted.entry(r.to_string()).or_default();
            match db.resource {
                Resource::DbCluster => entry.1.push(arn.clone()),
                _ => entry.0.push(arn.clone()),
            }
        }
    }
    let looked_up = join_all(
        wanted
            .into_iter()
            .map(|(r, (instances, clusters))| async move {
                let found = describe_in(clients, &r, instances, clusters).await;
                (r, found)
            }),
    )
    .await;
    let mut found: HashMap<String, RegionalCopy> = HashMap::new();
    let mut failed = Vec::new();
    for (r, result) in looked_up {
        match result {
            Ok(copies) => found.extend(copies),
            Err(e) => failed.push((r, e)),
        }
    }
    for db in databases.iter_mut().filter(|d| d.copies.is_none()) {
        let unreachable = db.remote_replicas.iter().any(|arn| {
            regional::arn_region(arn).is_some_and(|r| failed.iter().any(|(f, _)| f == r))
        });
        // A copy Describe shows without an endpoint is there, but gives no keys yet.
        let endpointless = db
            .remote_replicas
            .iter()
            .any(|arn| found.get(arn).is_some_and(|c| c.host.is_empty()));
        if endpointless && !unreachable {
            tracing::info!(
                database = %db,
                "a copy of the database in another region shows no endpoint yet; its regional keys stay as they are until it does"
            );
        }
        if unreachable || endpointless {
            continue;
        }
        let own = own_copy(db, region);
        // A copy Describe shows without a port has the database's (a replica keeps its
        // source's port unless changed).
        let others: Vec<RegionalCopy> = db
            .remote_replicas
            .iter()
            .filter_map(|arn| found.get(arn))
            .map(|c| RegionalCopy {
                port: if c.port == 0 { own.port } else { c.port },
                ..c.clone()
            })
            .collect();
        let mut copies = vec![own];
        copies.extend(others);
        db.copies = Some(copies);
    }
    failed
}

/// The database itself as a copy in `region`.
fn own_copy(db: &Database, region: &str) -> RegionalCopy {
    let default_port = engine_rule(&db.engine).map_or(0, |r| r.default_port);
    RegionalCopy {
        region: region.to_string(),
        host: db.host.clone().unwrap_or_default(),
        port: db.port.unwrap_or(default_port),
        reader_host: db.reader_host.clone(),
        identifier: db.identifier.clone(),
        resource_id: db.resource_id.clone(),
    }
}

/// The copies found in `region` by ARN: instances and clusters concurrently, each filtered
/// listing paged, [`FILTER_VALUES`] ARNs per request.
async fn describe_in(
    clients: &Clients,
    region: &str,
    instances: Vec<String>,
    clusters: Vec<String>,
) -> Result<HashMap<String, RegionalCopy>> {
    let rds = clients.rds_in(region);
    let (instances, clusters) = tokio::join!(
        instance_copies(&rds, region, &instances),
        cluster_copies(&rds, region, &clusters)
    );
    let mut out = instances?;
    out.extend(clusters?);
    Ok(out)
}

async fn instance_copies(
    rds: &aws_sdk_rds::Client,
    region: &str,
    arns: &[String],
) -> Result<HashMap<String, RegionalCopy>> {
    let mut out = HashMap::new();
    for chunk in arns.chunks(FILTER_VALUES) {
        let filter = Filter::builder()
            .name("db-instance-id")
            .set_values(Some(chunk.to_vec()))
            .build();
        let mut pages = rds
            .describe_db_instances()
            .filters(filter)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| Error::aws("RDS", "DescribeDBInstances", &e))?;
            for i in page.db_instances() {
                let Some(arn) = i.db_instance_arn() else {
                    continue;
                };
                // A copy without an endpoint yet (creating, modifying) is kept with no host:
                // its database's copies are then not known (never "gone").
                let endpoint = i.endpoint();
                out.insert(
                    arn.to_string(),
                    RegionalCopy {
                        region: region.to_string(),
                        host: endpoint
                            .and_then(|e| e.address())
                            .unwrap_or_default()
                            .to_string(),
                        port: endpoint.and_then(|e| e.port()).unwrap_or_default(),
                        reader_host: None,
                        identifier: i.db_instance_identifier().unwrap_or_default().to_string(),
                        resource_id: i
                            .dbi_resource_id()
                            .filter(|r| !r.is_empty())
                            .map(str::to_string),
                    },
                );
            }
        }
    }
    Ok(out)
}

async fn cluster_copies(
    rds: &aws_sdk_rds::Client,
    region: &str,
    arns: &[String],
) -> Result<HashMap<String, RegionalCopy>> {
    let mut out = HashMap::new();
    for chunk in arns.chunks(FILTER_VALUES) {
        let filter = Filter::builder()
            .name("db-cluster-id")
            .set_values(Some(chunk.to_vec()))
            .build();
        let mut pages = rds
            .describe_db_clusters()
            .filters(filter)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| Error::aws("RDS", "DescribeDBClusters", &e))?;
            for c in page.db_clusters() {
                let Some(arn) = c.db_cluster_arn() else {
                    continue;
                };
                out.insert(
                    arn.to_string(),
                    RegionalCopy {
                        region: region.to_string(),
                        host: c.endpoint().unwrap_or_default().to_string(),
                        port: c.port().unwrap_or_default(),
                        reader_host: c
                            .reader_endpoint()
                            .filter(|r| !r.is_empty())
                            .map(str::to_string),
                        identifier: c.db_cluster_identifier().unwrap_or_default().to_string(),
                        resource_id: c
                            .db_cluster_resource_id()
                            .filter(|r| !r.is_empty())
                            .map(str::to_string),
                    },
                );
            }
        }
    }
    Ok(out)
}

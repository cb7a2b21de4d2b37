//! What AWS records about a restore: RDS's "restoration" events for an instance
//! (DescribeEvents: its records carry a category and a message, not an event id) and when a
//! snapshot was taken (DescribeDBSnapshots, DescribeDBClusterSnapshots, Redshift
//! DescribeClusterSnapshots: `SnapshotCreateTime`). It only talks to AWS.

use std::time::SystemTime;

use aws_sdk_rds::types::SourceType;

use super::system_time;
use crate::aws::Clients;
use crate::model::error::{Error, Result};
use crate::model::Resource;

/// The category RDS files an instance's restores under (RDS-EVENT-0043 "Restored from
/// snapshot", RDS-EVENT-0019 point in time); AWS's cluster event table has none.
pub const RESTORATION: &str = "restoration";

/// The messages of the instance's "restoration" events since `since` (DescribeEvents keeps
/// 14 days), oldest first.
pub async fn restoration_messages(
    clients: &Clients,
    instance: &str,
    since: SystemTime,
) -> Result<Vec<String>> {
    let mut pages = clients
        .rds
        .describe_events()
        .source_identifier(instance)
        .source_type(SourceType::DbInstance)
        .event_categories(RESTORATION)
        .start_time(aws_smithy_types::DateTime::from(since))
        .max_records(100)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Error::aws_on("RDS", "DescribeEvents", instance, &e))?;
        out.extend(
            page.events()
                .iter()
                .filter(|e| e.event_categories().iter().any(|c| c == RESTORATION))
                .map(|e| e.message().unwrap_or_default().to_string()),
        );
    }
    Ok(out)
}

/// When the snapshot `id` (a name, or an ARN for a shared one) of a `resource` was taken;
/// `None` when AWS no longer has it or the resource has no snapshot API here (Serverless).
pub async fn snapshot_time(
    clients: &Clients,
    resource: Resource,
    id: &str,
) -> Result<Option<SystemTime>> {
    let shared = id.starts_with("arn:");
    // Automated snapshots are named `rds:…` and are found only with their snapshot type.
    let automated = id.starts_with("rds:");
    match resource {
        Resource::DbInstance => {
            let mut call = clients
                .rds
                .describe_db_snapshots()
                .db_snapshot_identifier(id)
                .include_shared(shared);
            if automated {
                call = call.snapshot_type("automated");
            }
            match call.send().await {
                Ok(out) => Ok(out
                    .db_snapshots()
                    .iter()
                    .find_map(|s| s.snapshot_create_time().and_then(system_time))),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_db_snapshot_not_found_fault()) =>
                {
                    Ok(None)
                }
                Err(e) => Err(Error::aws_on("RDS", "DescribeDBSnapshots", id, &e)),
            }
        }
        Resource::DbCluster => {
            let mut call = clients
                .rds
                .describe_db_cluster_snapshots()
                .db_cluster_snapshot_identifier(id)
                .include_shared(shared);
            if automated {
                call = call.snapshot_type("automated");
            }
            match call.send().await {
                Ok(out) => Ok(out
                    .db_cluster_snapshots()
                    .iter()
                    .find_map(|s| s.snapshot_create_time().and_then(system_time))),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_db_cluster_snapshot_not_found_fault()) =>
                {
                    Ok(None)
                }
                Err(e) => Err(Error::aws_on("RDS", "DescribeDBClusterSnapshots", id, &e)),
            }
        }
        Resource::RedshiftCluster => {
            let call = clients.redshift.describe_cluster_snapshots();
            let call = if shared {
                call.snapshot_arn(id)
            } else {
                call.snapshot_identifier(id)
            };
            match call.send().await {
                Ok(out) => Ok(out
                    .snapshots()
                    .iter()
                    .find_map(|s| s.snapshot_create_time().and_then(system_time))),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_cluster_snapshot_not_found_fault()) =>
                {
                    Ok(None)
                }
                Err(e) => Err(Error::aws_on(
                    "Redshift",
                    "DescribeClusterSnapshots",
                    id,
                    &e,
                )),
            }
        }
        Resource::Workgroup | Resource::Namespace => Ok(None),
    }
}

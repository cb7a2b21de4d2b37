//! What RDS says of its Blue/Green deployments (DescribeBlueGreenDeployments): each
//! deployment's status, its `Source` and `Target` ARNs and `SwitchoverDetails` members, and
//! when it was created. It only talks to AWS; [`crate::rules::recreation::switched_over_to`]
//! decides what a deployment proves.

use super::system_time;
use crate::aws::Clients;
use crate::model::deployment::Deployment;
use crate::model::error::{Error, Result};

/// Every Blue/Green deployment of the account and region (paginated by `Marker`; no
/// `MaxRecords`: AWS's default is its maximum, 100, and moto refuses the parameter).
pub async fn deployments(clients: &Clients) -> Result<Vec<Deployment>> {
    let mut pages = clients
        .rds
        .describe_blue_green_deployments()
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Error::aws("RDS", "DescribeBlueGreenDeployments", &e))?;
        out.extend(page.blue_green_deployments().iter().map(|d| {
            let mut arns: Vec<String> = [d.source(), d.target()]
                .into_iter()
                .flatten()
                .map(str::to_string)
                .collect();
            for s in d.switchover_details() {
                arns.extend(
                    [s.source_member(), s.target_member()]
                        .into_iter()
                        .flatten()
                        .map(str::to_string),
                );
            }
            Deployment {
                identifier: d
                    .blue_green_deployment_identifier()
                    .unwrap_or_default()
                    .to_string(),
                completed: d.status() == Some("SWITCHOVER_COMPLETED"),
                arns,
                created: d.create_time().and_then(system_time),
            }
        }));
    }
    Ok(out)
}

//! A replica missing from its region, re-created (the sweep's `replica` jobs).

use crate::aws::secrets;
use crate::jobs::Job;
use crate::model::error::Result;
use crate::rules::existing_secret::SecretState;

impl Job {
    /// A replica missing from its region: re-created when the primary reports the region as
    /// failed (removed from replication first) or not at all; left alone while AWS reports it
    /// in progress or in sync. `true` when ReplicateSecretToRegions was called.
    pub(crate) async fn repair_replica(&self, state: &SecretState, region: &str) -> Result<bool> {
        let secrets = &self.clients.secrets;
        let options = &self.config.options;
        let Some(current) = secrets::describe(secrets, &state.arn).await? else {
            return Ok(false);
        };
        match current.replicas.iter().find(|r| r.region == region) {
            // Replication is asynchronous: in progress, or in sync after the listing was made.
            Some(r) if !r.status.eq_ignore_ascii_case("Failed") => return Ok(false),
            Some(_) => secrets::remove_regions(secrets, &state.arn, &[region.to_string()]).await?,
            None => {}
        }
        let replica: Vec<_> = options
            .replicas
            .iter()
            .filter(|r| r.region == region)
            .cloned()
            .collect();
        secrets::replicate(
            secrets,
            &state.arn,
            &replica,
            options.force_overwrite_replica,
        )
        .await?;
        Ok(true)
    }
}

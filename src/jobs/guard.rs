//! The rotation guard before every PutSecretValue: DescribeSecret right then (never ListSecrets,
//! which "might not reflect changes from the last five minutes"), and for a pending rotation
//! the AWSPENDING version's `CreatedDate` (ListSecretVersionIds): in progress
//! (`RotationInProgress`, retryable) or stuck past its window (`RotationStuck`, not).

use std::time::SystemTime;

use tracing::warn;

use super::Job;
use crate::aws::secrets;
use crate::model::error::{Error, Result};
use crate::model::rotation::is_stuck;
use crate::model::secret::SecretState;
use crate::model::timestamp;

impl Job {
    /// `Ok` when nothing rotates `state`'s secret now.
    pub(crate) async fn check_rotation(&self, state: &SecretState) -> Result<()> {
        let s = &self.clients.secrets;
        let fresh = secrets::describe(s, &state.arn).await?;
        let Some(fresh) = fresh.filter(|f| f.rotation_pending) else {
            return Ok(());
        };
        let name = fresh.name.clone();
        match secrets::pending_version(s, &state.arn).await? {
            Some((version, since)) if is_stuck(fresh.rotation_window, since, SystemTime::now()) => {
                let since = since.map(timestamp::rfc3339).unwrap_or_default();
                warn!(secret_name = %name, version = %version, since = %since, "rotation stuck");
                Err(Error::RotationStuck {
                    name,
                    version,
                    since,
                })
            }
            _ => Err(Error::RotationInProgress { name }),
        }
    }
}

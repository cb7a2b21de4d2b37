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
    /// `Ok` when nothing rotates `state`'s secret now: DescribeSecret right then (`state` may be
    /// a ListSecrets entry, minutes old), then [`Job::check_rotation_of`].
    pub(crate) async fn check_rotation(&self, state: &SecretState) -> Result<()> {
        match secrets::describe(&self.clients.secrets, &state.arn).await? {
            Some(fresh) => self.check_rotation_of(&fresh).await,
            None => Ok(()),
        }
    }

    /// The guard for a state this invocation just read with DescribeSecret: no second
    /// DescribeSecret; for a pending rotation, its version's date decides in progress or stuck.
    pub(crate) async fn check_rotation_of(&self, fresh: &SecretState) -> Result<()> {
        if !fresh.rotation_pending {
            return Ok(());
        }
        let name = fresh.name.clone();
        match secrets::pending_version(&self.clients.secrets, &fresh.arn).await? {
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

//! The rotation guard before every PutSecretValue: DescribeSecret right then (never ListSecrets,
//! which "might not reflect changes from the last five minutes"), and for a pending rotation
//! the AWSPENDING version's `CreatedDate` (ListSecretVersionIds): in progress
//! (`RotationInProgress`, retryable) or stuck past its window (`RotationStuck`, not).

use std::time::SystemTime;

use tracing::{debug, warn};

use super::Job;
use crate::aws::secrets;
use crate::model::error::{Error, Result};
use crate::model::rotation::is_stuck;
use crate::model::secret::SecretState;
use crate::model::tags;
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
                self.report_stuck(fresh, &version, &since).await;
                Err(Error::RotationStuck {
                    name,
                    version,
                    since,
                })
            }
            _ => Err(Error::RotationInProgress { name }),
        }
    }

    /// The "rotation stuck" line (which the `RotationStuck` alarm counts), once per secret,
    /// version and UTC day: the secret's `db-secret-provisioner:rotation-stuck` tag records
    /// the day it was last reported. Every answer is still `RotationStuck`; a failed tag write
    /// only means the line may come again.
    async fn report_stuck(&self, fresh: &SecretState, version: &str, since: &str) {
        let mark = format!("{} {version}", timestamp::utc_date(SystemTime::now()));
        let name = fresh.name.as_str();
        if tags::value(&fresh.tags, tags::ROTATION_STUCK_TAG_KEY) == Some(mark.as_str()) {
            debug!(secret_name = %name, version = %version, "rotation stuck, reported today");
            return;
        }
        warn!(secret_name = %name, version = %version, since = %since, "rotation stuck");
        let tag = [(tags::ROTATION_STUCK_TAG_KEY, mark.as_str())];
        if let Err(e) = secrets::tag(&self.clients.secrets, &fresh.arn, &tag).await {
            warn!(secret_name = %name, error = %e, "could not record the stuck rotation's report");
        }
    }
}

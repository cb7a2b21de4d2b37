//! A promoted cross-region read replica is an independent database: it gets its own new secret
//! in its region, with the password read from the local replica of its source database's
//! secret (the source's region may be down), and the `promoted-from` tag naming that source
//! secret. Never a `masterarn`: AWS's newer PostgreSQL rotation function creates users from it.

use secrecy::SecretString;
use serde_json::Value;

use super::names::Names;
use crate::aws::parameters::Password;
use crate::aws::secrets;
use crate::jobs::Job;
use crate::model::error::{Error, Result};
use crate::model::secret::SecretState;
use crate::model::Database;
use crate::rules::promotion::{is_source_of, names_copy, primary_arn};

impl Job {
    /// The password of `db`'s master user `username`, when `db` is a promoted read replica of a
    /// database whose secret is replicated here: read from that local replica, with the
    /// source secret's ARN. `None` when no replica here names `db` as a copy.
    pub(super) async fn promoted_password(
        &self,
        db: &Database,
        names: &Names,
        username: &str,
    ) -> Result<Option<(Password, String)>> {
        if db.resource_id.is_none() || db.replica_source.is_some() {
            return Ok(None);
        }
        let here = self.place.region.as_str();
        let candidates = self.secrets_with_copies().await?;
        let prefix = self.config.secret_prefix.as_str();
        let Some(source) = candidates
            .iter()
            .filter(|s| s.name.starts_with(prefix))
            .find(|s| is_source_of(s, db, here, username))
        else {
            return Ok(None);
        };
        // A replica named like its source renders the source's name here, and the name is
        // the local replica's: only a name template with {region} tells them apart.
        if source.name == names.secret.as_str() {
            return Err(Error::SecretConflict {
                name: source.name.clone(),
                expected: names.owner.to_string(),
                reason: format!(
                    "{db} is a promoted read replica named like its source, and its secret's name is taken by the replica here of its source's secret; give SECRET_NAME_TEMPLATE a {{region}} so that each region's database has its own name"
                ),
            });
        }
        let current = secrets::current(&self.clients.secrets, &source.arn, &source.name).await?;
        // The tags are a hint anyone allowed TagResource could write; the value, which only
        // PutSecretValue writes, must name this very copy too.
        if !names_copy(&current.value, db, here) {
            tracing::warn!(
                database = %db,
                secret = %source.name,
                "a replica secret's copies tag names this database but its regional keys do not; no password is taken from it"
            );
            return Ok(None);
        }
        let Some(password) = current.value.get("password").and_then(Value::as_str) else {
            tracing::warn!(
                database = %db,
                secret = %source.name,
                "the replica of the promoted database's source secret has no password key; no secret is made from it"
            );
            return Ok(None);
        };
        let from = match source.primary_region.as_deref() {
            Some(primary) => primary_arn(&source.arn, primary),
            None => source.arn.clone(),
        };
        Ok(Some((
            Password {
                value: SecretString::from(password.to_string()),
                modified: None,
            },
            from,
        )))
    }

    /// The function's secrets here that carry the copies tag, listed once per job.
    async fn secrets_with_copies(&self) -> Result<&[SecretState]> {
        self.copies_listing
            .get_or_try_init(|| secrets::list_with_copies(&self.clients.secrets))
            .await
            .map(Vec::as_slice)
    }
}

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
    /// source secret's ARN. `None` when no replica here proves to be its source's.
    ///
    /// Every replica whose tags name `db` as a copy is a candidate (a decoy tagged so cannot
    /// hide the real one); the first whose value names `db` too, for the same user, encrypted
    /// with `KMS_KEY_ID`'s key (as a recreation checks: a secret planted elsewhere with a key
    /// of its maker's is not the function's), is the source. A listing that fails is logged
    /// and counts as none (it is not about this database); a failure reading a candidate is
    /// this database's promotion failing, and is returned.
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
        let Some(candidates) = self.secrets_with_copies().await else {
            return Ok(None);
        };
        let prefix = self.config.secret_prefix.as_str();
        for source in candidates
            .iter()
            .filter(|s| s.name.starts_with(prefix))
            .filter(|s| is_source_of(s, db, here, username))
        {
            if !self.same_key(source).await? {
                tracing::warn!(
                    database = %db,
                    secret = %source.name,
                    "a replica secret names this database as its copy but is not encrypted with KMS_KEY_ID's key; no password is taken from it"
                );
                continue;
            }
            let current =
                secrets::current(&self.clients.secrets, &source.arn, &source.name).await?;
            // The tags are a hint anyone allowed TagResource could write; the value must name
            // this very copy, and its user, too.
            let user = current.value.get("username").and_then(Value::as_str);
            if !names_copy(&current.value, db, here) || user != Some(username) {
                tracing::warn!(
                    database = %db,
                    secret = %source.name,
                    "a replica secret's copies tag names this database but its value does not; no password is taken from it"
                );
                continue;
            }
            let Some(password) = current.value.get("password").and_then(Value::as_str) else {
                tracing::warn!(
                    database = %db,
                    secret = %source.name,
                    "the replica of the promoted database's source secret has no password key; no secret is made from it"
                );
                continue;
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
            let from = match source.primary_region.as_deref() {
                Some(primary) => primary_arn(&source.arn, primary),
                None => source.arn.clone(),
            };
            return Ok(Some((
                Password {
                    value: SecretString::from(password.to_string()),
                    modified: None,
                },
                from,
            )));
        }
        Ok(None)
    }

    /// The function's secrets here that carry the copies tag, listed once per job; `None`
    /// when the listing failed (logged once: the job's other databases are not asked again).
    async fn secrets_with_copies(&self) -> Option<&[SecretState]> {
        self.copies_listing
            .get_or_init(|| async {
                secrets::list_with_copies(&self.clients.secrets)
                    .await
                    .map_err(|e| {
                        tracing::warn!(
                            error_type = e.error_type(),
                            error = %e,
                            "the listing of replicated secrets with a copies tag failed; no promoted read replica is recognised in this invocation"
                        );
                    })
                    .ok()
            })
            .await
            .as_deref()
    }
}

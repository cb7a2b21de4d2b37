//! Writing a fresh value over an existing secret (a recreation, a reset, a resolve): merged
//! over the current value, so no key is lost but the regional keys of a region the database
//! has no copy in any more, and the connection tag then says what the value holds.

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

use crate::aws::secrets::{self, Current};
use crate::jobs::Job;
use crate::model::error::{Error, Result};
use crate::model::secret::SecretState;
use crate::model::{regional, Database};
use crate::rules::drift::written_tags;
use crate::rules::existing_secret;
use crate::rules::secret_value::SecretValue;

impl Job {
    /// PutSecretValue of `value` merged over the current value: no key the current version
    /// has is dropped, but the regional keys of a region `db` has no copy in any more. The
    /// request token derives from the current version and the new keys. The connection tag
    /// then says the value's extra keys (or `recheck` while `db`'s copies are unknown).
    pub(super) async fn write_over(
        &self,
        db: &Database,
        state: &SecretState,
        current: &Current,
        value: &SecretValue,
    ) -> Result<()> {
        let new: Map<String, Value> =
            serde_json::from_str(value.json().expose_secret()).map_err(|_| Error::AwsService {
                code: None,
                service: "Secrets Manager",
                operation: "PutSecretValue",
                message: format!("{}: the new value is not a JSON object", state.name),
            })?;
        let known = db.copies.is_some();
        let drop = if known {
            regional::stale_keys(&current.value, &value.fields.extra)
        } else {
            Vec::new()
        };
        let secrets = &self.clients.secrets;
        if let Some(r) = existing_secret::merge(
            &state.arn,
            &current.version_id,
            current.value.clone(),
            new,
            &drop,
        ) {
            let merged = SecretString::from(Value::Object(r.merged).to_string());
            secrets::put_value(secrets, &state.arn, Some(&r.token), &merged).await?;
        }
        self.put_tags(state, written_tags(db, &value.fields.extra))
            .await?;
        Ok(())
    }
}

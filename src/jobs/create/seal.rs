//! Sealing a new secret, and checking the seal of an existing one (see [`crate::model::seal`]):
//! the seal is written right after CreateSecret (the ARN exists only then), and checked before
//! any password is written into a secret that already exists.

use std::time::SystemTime;

use super::names::Names;
use crate::aws::{kms, secrets};
use crate::jobs::Job;
use crate::model::error::Result;
use crate::model::seal::{Seal, SealCheck, Sealed};
use crate::model::secret::SecretState;
use crate::model::tags::{self, Owner};

impl Job {
    /// Seals the secret just created at `arn` (GenerateMac, then the seal tag). Without
    /// `SEAL_KEY_ID` the secret stays unsealed.
    pub(super) async fn seal(&self, arn: &str, names: &Names) -> Result<bool> {
        self.seal_as(arn, &names.owner, names.database_id.as_deref())
            .await
    }

    /// Seals the secret at `arn` as `owner`'s, for the database with `database_id`.
    pub(crate) async fn seal_as(
        &self,
        arn: &str,
        owner: &Owner,
        database_id: Option<&str>,
    ) -> Result<bool> {
        let Some(key) = self.config.seal_key_id.as_deref() else {
            return Ok(false);
        };
        let created = SystemTime::now();
        let sealed = Sealed {
            arn,
            database: &owner.database,
            username: &owner.username,
            database_id: database_id.unwrap_or(""),
        };
        let mac = kms::generate_mac(&self.clients.kms, key, sealed.message(created)).await?;
        let value = Seal { created, mac }.tag_value();
        secrets::tag(&self.clients.secrets, arn, &[(tags::SEAL_TAG_KEY, &value)]).await?;
        Ok(true)
    }

    /// What the seal of an existing secret says (VerifyMac). Without `SEAL_KEY_ID` nothing can
    /// be verified: a seal counts as absent.
    pub(crate) async fn seal_check(&self, state: &SecretState) -> Result<SealCheck> {
        let Some(text) = tags::value(&state.tags, tags::SEAL_TAG_KEY) else {
            return Ok(SealCheck::Absent);
        };
        let Some(key) = self.config.seal_key_id.as_deref() else {
            return Ok(SealCheck::Absent);
        };
        let (Some(seal), Some(sealed)) = (Seal::parse(text), Sealed::of(state)) else {
            return Ok(SealCheck::Invalid);
        };
        let message = sealed.message(seal.created);
        Ok(
            if kms::verify_mac(&self.clients.kms, key, message, seal.mac).await? {
                SealCheck::Valid
            } else {
                SealCheck::Invalid
            },
        )
    }
}

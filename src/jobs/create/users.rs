//! The user secrets of a database whose admin secret met a recreation: after a write (a new
//! database), the earlier database's live user secrets are retired; after a restore whose
//! admin secret kept its value, the retired user secrets whose value predates the restore
//! point are live again. A later "Database User Created" event for a retired user secret is
//! a recreation for that user, under the same rule.

use std::time::SystemTime;

use futures_util::future::try_join_all;

use super::names::Names;
use crate::aws::secrets;
use crate::jobs::Job;
use crate::model::error::Result;
use crate::model::seal::SealCheck;
use crate::model::secret::SecretState;
use crate::model::tags;
use crate::model::Database;

impl Job {
    /// The user secrets of `db` other than the master user's, primary here and under the
    /// prefix.
    async fn user_secrets(&self, names: &Names) -> Result<Vec<SecretState>> {
        let region = Some(self.place.region.as_str());
        Ok(
            secrets::list_owned(&self.clients.secrets, Some(&names.owner.database))
                .await?
                .into_iter()
                .filter(|s| {
                    self.is_ours_here(s, region)
                        && tags::value(&s.tags, tags::USERNAME_TAG_KEY)
                            != Some(names.owner.username.as_str())
                })
                .collect(),
        )
    }

    /// After a recreation: the live user secrets of the earlier database (another database
    /// id, or none and made before this database) are retired. Returns how many.
    pub(super) async fn retire_earlier_users(&self, db: &Database, names: &Names) -> Result<usize> {
        let earlier: Vec<SecretState> = self
            .user_secrets(names)
            .await?
            .into_iter()
            .filter(|s| !s.is_retired())
            .filter(|s| match tags::value(&s.tags, tags::DATABASE_ID_TAG_KEY) {
                Some(id) => names.database_id.as_deref() != Some(id),
                None => matches!((s.created_at, db.created_at), (Some(s), Some(d)) if s < d),
            })
            .collect();
        try_join_all(earlier.iter().map(|s| self.retire(s))).await?;
        Ok(earlier.len())
    }

    /// After a restore whose admin secret kept its value: each retired user secret whose seal
    /// verifies and whose AWSCURRENT version predates the restore point is live again.
    /// Returns how many.
    pub(super) async fn unretire_users(
        &self,
        db: &Database,
        names: &Names,
        point: SystemTime,
    ) -> Result<usize> {
        let retired: Vec<SecretState> = self
            .user_secrets(names)
            .await?
            .into_iter()
            .filter(SecretState::is_retired)
            .collect();
        let back = try_join_all(retired.iter().map(|s| self.unretire_user(db, s, point))).await?;
        Ok(back.into_iter().filter(|b| *b).count())
    }

    /// After a Blue/Green switchover: each live user secret that carries `old_id` (the blue
    /// database's) and whose seal verifies is stamped with the green database's id and sealed
    /// again; its value stays (the green database is a copy with the same users). Returns how
    /// many.
    pub(super) async fn restamp_users(
        &self,
        db: &Database,
        names: &Names,
        old_id: Option<&str>,
    ) -> Result<usize> {
        let Some(old_id) = old_id else {
            return Ok(0);
        };
        let live: Vec<SecretState> = self
            .user_secrets(names)
            .await?
            .into_iter()
            .filter(|s| !s.is_retired())
            .filter(|s| tags::value(&s.tags, tags::DATABASE_ID_TAG_KEY) == Some(old_id))
            .collect();
        let done = try_join_all(live.iter().map(|s| async move {
            let Some(owner) = tags::owner_of(&s.tags) else {
                return Ok(false);
            };
            if self.seal_check(s).await? != SealCheck::Valid {
                return Ok(false);
            }
            let endpoint = tags::value(&s.tags, tags::ENDPOINT_TAG_KEY);
            self.stamp_as(s, &owner, db.resource_id.as_deref(), endpoint)
                .await?;
            Ok::<_, crate::model::error::Error>(true)
        }))
        .await?;
        Ok(done.into_iter().filter(|d| *d).count())
    }

    async fn unretire_user(
        &self,
        db: &Database,
        s: &SecretState,
        point: SystemTime,
    ) -> Result<bool> {
        let secrets = &self.clients.secrets;
        let (seal, created) = tokio::join!(
            self.seal_check(s),
            secrets::current_version_created(secrets, &s.arn)
        );
        let (seal, created) = (seal?, created?);
        if seal != SealCheck::Valid || created.is_none_or(|c| c > point) {
            return Ok(false);
        }
        let Some(owner) = tags::owner_of(&s.tags) else {
            return Ok(false);
        };
        if s.scheduled_for_deletion {
            secrets::restore(secrets, &s.arn).await?;
        }
        let endpoint = tags::value(&s.tags, tags::ENDPOINT_TAG_KEY);
        self.stamp_as(s, &owner, db.resource_id.as_deref(), endpoint)
            .await?;
        Ok(true)
    }
}

//! A Blue/Green switchover gives the production name to the green database, which keeps its
//! own resource id ("each resource keeps the same resource ID", RDS user guide): the name's
//! secrets then carry the blue database's id. A completed switchover to the name, made after
//! the secret (DescribeBlueGreenDeployments, [`crate::rules::recreation::switched_over_to`]),
//! keeps their values and re-stamps them with the green database's id and a new seal.

use super::names::Names;
use super::recreate::Recreated;
use crate::aws::database::blue_green;
use crate::jobs::Job;
use crate::model::error::Result;
use crate::model::secret::SecretState;
use crate::model::tags;
use crate::model::{Database, Resource};
use crate::rules::recreation;

impl Job {
    /// `Some` when a completed switchover explains the live `state`'s other database id: the
    /// value is kept, `state` (and, for the admin secret, its users' secrets) re-stamped.
    pub(super) async fn keep_on_switchover(
        &self,
        db: &Database,
        names: &Names,
        state: &SecretState,
        endpoint: Option<&str>,
        admin: bool,
    ) -> Result<Option<Recreated>> {
        if state.is_retired() || state.scheduled_for_deletion {
            return Ok(None);
        }
        let resource = match db.resource {
            Resource::DbInstance => "db",
            Resource::DbCluster => "cluster",
            _ => return Ok(None),
        };
        let deployments = blue_green::deployments(&self.clients).await?;
        let Some(evidence) =
            recreation::switched_over_to(&deployments, resource, &db.identifier, state.created_at)
        else {
            return Ok(None);
        };
        let old_id = tags::value(&state.tags, tags::DATABASE_ID_TAG_KEY).map(str::to_string);
        self.stamp(state, names, endpoint).await?;
        let mut reason = format!(
            "{evidence}: the name {db} belongs to the switched-over database now; the secret's value was kept and it is stamped with that database's id and sealed"
        );
        if admin {
            let users = self.restamp_users(db, names, old_id.as_deref()).await?;
            if users > 0 {
                reason.push_str(&format!("; {users} user secret(s) stamped too"));
            }
        }
        Ok(Some(Recreated::Kept(reason)))
    }
}

//! A promoted cross-region read replica (pure): which replica secret here was its source
//! database's, so that its own new secret takes the password from that local replica (the
//! source's region may be down).
//!
//! The hint is the copies tag ([`crate::model::tags::COPIES_TAG_KEY`]) the source's secret
//! carries, and Secrets Manager replicates with its tags ("Secrets Manager replicates the
//! encrypted secret data and metadata such as tags", Replicate secrets across Regions): it
//! names each copy by region and resource id. A resource id is "the AWS Region-unique,
//! immutable identifier for the DB instance" (RDS API reference, DBInstance.DbiResourceId;
//! likewise DbClusterResourceId), and promotion makes no new instance, so the promoted
//! database still carries it. The proof is the source secret's value, which only
//! PutSecretValue writes: its `<region>.resourceId` and `<region>.identifier` must be the
//! promoted database's ([`names_copy`]); a copies tag alone, which TagResource writes, is
//! never enough. A database is never matched by its name alone: a database made
//! under a former replica's name elsewhere would get the source's password, and every
//! application reading its secret would send that password to it.

use serde_json::{Map, Value};

use crate::model::database_tag::DatabaseTag;
use crate::model::secret::SecretState;
use crate::model::tags;
use crate::model::{regional, Database};

/// Whether `s`, a secret listed in `region`, is the replica here of the secret of the database
/// `db` (standalone, in `region`) was a copy of, for the master user `username`: a replica (its
/// primary is elsewhere), live, the function's (ownership tags) for a database of the same
/// service and kind and for the same user, whose copies tag names `db`'s resource id in
/// `region`.
pub fn is_source_of(s: &SecretState, db: &Database, region: &str, username: &str) -> bool {
    let (Some(id), None) = (db.resource_id.as_deref(), db.replica_source.as_deref()) else {
        return false;
    };
    let Some(owner) = tags::owner_of(&s.tags) else {
        return false;
    };
    let same_kind = DatabaseTag::parse(&owner.database).is_some_and(|t| {
        let mine = DatabaseTag::of(db);
        t.service == mine.service && t.kind == mine.kind
    });
    !s.is_primary_in(Some(region))
        && !s.is_retired()
        && same_kind
        && owner.username == username
        && tags::value(&s.tags, tags::COPIES_TAG_KEY)
            .is_some_and(|t| regional::copies_tag_names(t, region, id))
}

/// Whether the source secret's value names `db` as its copy in `region`: its
/// `<region>.resourceId` and `<region>.identifier` are `db`'s. The copies tag is the hint that
/// costs no read; this is the proof, since only PutSecretValue (which the function and the
/// rotation functions hold) writes a value, while TagResource may be granted more widely.
pub fn names_copy(value: &Map<String, Value>, db: &Database, region: &str) -> bool {
    let field = |f: &str| value.get(&regional::key(region, f)).and_then(Value::as_str);
    db.resource_id.is_some()
        && field("resourceId") == db.resource_id.as_deref()
        && field("identifier") == Some(db.identifier.as_str())
}

/// The ARN of the primary secret of `replica_arn` (the same ARN in `primary_region`).
pub fn primary_arn(replica_arn: &str, primary_region: &str) -> String {
    let parts: Vec<&str> = replica_arn.splitn(5, ':').collect();
    match parts.as_slice() {
        [arn, partition, service, _, rest] => {
            format!("{arn}:{partition}:{service}:{primary_region}:{rest}")
        }
        _ => replica_arn.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tags::Owner;
    use crate::model::{DbKind, Service};

    fn promoted() -> Database {
        Database {
            identifier: "orders-eu".into(),
            resource_id: Some("db-PROMOTED".into()),
            ..Database::sample()
        }
    }

    fn replica(copies: &str) -> SecretState {
        let mut tags = Owner::new(Service::Rds, DbKind::Instance, "orders", "admin")
            .tags()
            .to_vec();
        tags.push((tags::COPIES_TAG_KEY.into(), copies.into()));
        SecretState {
            arn: "arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-secrets/rds/orders/admin-AbCdEf".into(),
            name: "db-secrets/rds/orders/admin".into(),
            tags,
            primary_region: Some("us-east-1".into()),
            ..Default::default()
        }
    }

    #[test]
    fn only_the_replica_naming_this_very_copy_is_the_source() {
        let db = promoted();
        let s = replica("ap-south-1=db-OTHER eu-west-1=db-PROMOTED");
        assert!(is_source_of(&s, &db, "eu-west-1", "admin"));
        assert!(
            !is_source_of(&s, &db, "ap-south-1", "admin"),
            "region and id"
        );
        assert!(
            !is_source_of(&s, &db, "eu-west-1", "app_user"),
            "the master user's"
        );
        let mut squatter = db.clone();
        squatter.resource_id = Some("db-SQUATTER".into());
        assert!(
            !is_source_of(&s, &squatter, "eu-west-1", "admin"),
            "a database under the copy's name is not the copy"
        );
        let mut still_replica = db.clone();
        still_replica.replica_source = Some("arn:aws:rds:us-east-1:111122223333:db:orders".into());
        assert!(!is_source_of(&s, &still_replica, "eu-west-1", "admin"));
        let mut primary_here = s.clone();
        primary_here.primary_region = Some("eu-west-1".into());
        assert!(
            !is_source_of(&primary_here, &db, "eu-west-1", "admin"),
            "a secret of this region's own database"
        );
        let mut retired = s.clone();
        retired
            .tags
            .push((tags::DELETED_TAG_KEY.into(), "2026-12-06T00:00:00Z".into()));
        assert!(!is_source_of(&retired, &db, "eu-west-1", "admin"));
        let mut cluster = db.clone();
        cluster.resource = crate::model::Resource::DbCluster;
        cluster.identifier_key = crate::model::IdentifierKey::DbCluster;
        assert!(
            !is_source_of(&s, &cluster, "eu-west-1", "admin"),
            "another kind"
        );
    }

    #[test]
    fn the_value_must_name_the_copy_too() {
        let db = promoted();
        let value = serde_json::json!({"eu-west-1.resourceId": "db-PROMOTED",
            "eu-west-1.identifier": "orders-eu", "password": "p"});
        let value = value.as_object().unwrap();
        assert!(names_copy(value, &db, "eu-west-1"));
        assert!(!names_copy(value, &db, "ap-south-1"));
        let mut renamed = db.clone();
        renamed.identifier = "other".into();
        assert!(!names_copy(value, &renamed, "eu-west-1"));
        let forged_tag_only = serde_json::json!({"password": "p"});
        assert!(
            !names_copy(forged_tag_only.as_object().unwrap(), &db, "eu-west-1"),
            "a copies tag alone proves nothing"
        );
    }

    #[test]
    fn the_primary_arn_is_the_replica_arn_in_the_primary_region() {
        assert_eq!(
            primary_arn(&replica("").arn, "us-east-1"),
            "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-secrets/rds/orders/admin-AbCdEf"
        );
        assert_eq!(primary_arn("not-an-arn", "us-east-1"), "not-an-arn");
    }
}

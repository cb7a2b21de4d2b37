//! The tags the function puts on its secrets, and what an existing secret's tags say about it
//! (pure). A secret is the function's to change only if it carries all three ownership tags and
//! they name the same database and user.

use std::fmt;

use crate::model::database_tag::DatabaseTag;
use crate::model::{DbKind, Service};

/// The tag every secret this function creates carries. Nothing is ever changed on a secret
/// without it (IAM conditions on it too).
pub const MANAGED_TAG_KEY: &str = "managed-by";
pub const MANAGED_TAG_VALUE: &str = "db-secret-provisioner";
/// Tag keys with this prefix are the function's own: `SECRET_TAGS` may not use them.
pub const RESERVED_PREFIX: &str = "db-secret-provisioner:";
/// `{service}/{kind}/{identifier}` of the database the secret is for.
pub const DATABASE_TAG_KEY: &str = "db-secret-provisioner:database";
/// The database user the secret is for.
pub const USERNAME_TAG_KEY: &str = "db-secret-provisioner:username";
/// `host:port` the secret's connection keys name: set at creation and kept current, so that the
/// sweep finds drift without reading any secret value.
pub const ENDPOINT_TAG_KEY: &str = "db-secret-provisioner:endpoint";
/// When the secret's database was found deleted (RFC 3339 UTC, `2026-12-02T13:40:05Z`; the
/// date-only form of earlier versions reads as 00:00Z): the secret is retired.
pub const DELETED_TAG_KEY: &str = "db-secret-provisioner:database-deleted";
/// The immutable resource id of the database the secret was made for (`DbiResourceId`,
/// `DbClusterResourceId`, the Redshift namespace ARN, the Serverless namespace id): a database
/// created again or restored under the same name has another one.
pub const DATABASE_ID_TAG_KEY: &str = "db-secret-provisioner:database-id";
/// The KMS HMAC over the secret's ARN, database tag, username tag, database id and creation
/// time, written right after CreateSecret: a secret without a valid seal is unsealed.
pub const SEAL_TAG_KEY: &str = "db-secret-provisioner:seal";
/// The secret's password may not be the database's: it waits for an operator (`resolve`).
pub const STALE_TAG_KEY: &str = "db-secret-provisioner:password-stale";
/// A restore of the secret's database was seen (CloudTrail), with its time and source.
pub const RESTORE_HINT_TAG_KEY: &str = "db-secret-provisioner:restore-hint";
/// RDS (or Redshift) manages the database's master password now: the ARN of its managed
/// secret. The admin secret so tagged is never scheduled for deletion nor loses its replicas.
pub const SUPERSEDED_TAG_KEY: &str = "db-secret-provisioner:superseded-by";
/// A stuck rotation was reported (the "rotation stuck" log line and its alarm): `<YYYY-MM-DD>
/// <version id>`, so that it is reported once per secret and day.
pub const ROTATION_STUCK_TAG_KEY: &str = "db-secret-provisioner:rotation-stuck";
/// A digest of the connection keys beyond `host` and `port` (`readerHost`, the regional keys;
/// [`crate::model::regional::digest`]): with the endpoint tag, what the sweep compares to find
/// drift without reading any secret value. Absent where there are none.
pub const CONNECTION_TAG_KEY: &str = "db-secret-provisioner:connection";
/// The connection tag's value on a secret whose value the function wrote (a recreation, a
/// reset, a resolve) while its database's copies in other regions were unknown: no digest
/// matches it, so the next sweep that knows them reads the value once and puts the digest.
pub const CONNECTION_RECHECK: &str = "recheck";
/// The database's copies in other regions, `<region>=<resourceId>` separated by spaces
/// ([`crate::model::regional::copies_tag`]): Secrets Manager replicates tags, so the function
/// in a copy's region finds, without reading any value, the secret whose database that copy
/// was once it is promoted.
pub const COPIES_TAG_KEY: &str = "db-secret-provisioner:copies";
/// On a promoted read replica's own secret: the ARN of the source database's secret whose
/// local replica gave the password.
pub const PROMOTED_FROM_TAG_KEY: &str = "db-secret-provisioner:promoted-from";
/// Every tag key the function writes itself.
pub const RESERVED_TAG_KEYS: [&str; 14] = [
    MANAGED_TAG_KEY,
    DATABASE_TAG_KEY,
    USERNAME_TAG_KEY,
    ENDPOINT_TAG_KEY,
    DELETED_TAG_KEY,
    DATABASE_ID_TAG_KEY,
    SEAL_TAG_KEY,
    STALE_TAG_KEY,
    RESTORE_HINT_TAG_KEY,
    SUPERSEDED_TAG_KEY,
    ROTATION_STUCK_TAG_KEY,
    CONNECTION_TAG_KEY,
    COPIES_TAG_KEY,
    PROMOTED_FROM_TAG_KEY,
];
/// AWS allows 50 tags per secret; the function keeps the rest for its own keys.
pub const MAX_USER_TAGS: usize = 50 - RESERVED_TAG_KEYS.len();

/// The database and user a secret belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Owner {
    /// `{service}/{kind}/{identifier}`, e.g. `rds/instance/orders-db`.
    pub database: String,
    pub username: String,
}

impl Owner {
    pub fn new(service: Service, kind: DbKind, identifier: &str, username: &str) -> Owner {
        Owner {
            database: DatabaseTag::new(service, kind, identifier).to_string(),
            username: username.to_string(),
        }
    }

    /// The ownership tags, the managed-by tag first.
    pub fn tags(&self) -> [(String, String); 3] {
        [
            (MANAGED_TAG_KEY.into(), MANAGED_TAG_VALUE.into()),
            (DATABASE_TAG_KEY.into(), self.database.clone()),
            (USERNAME_TAG_KEY.into(), self.username.clone()),
        ]
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} user {}", self.database, self.username)
    }
}

/// The endpoint tag's value for a host and port.
pub fn endpoint(host: &str, port: i32) -> String {
    format!("{host}:{port}")
}

/// The value of tag `key`.
pub fn value<'a>(tags: &'a [(String, String)], key: &str) -> Option<&'a str> {
    tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Whether `tags` carry the managed-by tag.
pub fn is_managed(tags: &[(String, String)]) -> bool {
    value(tags, MANAGED_TAG_KEY) == Some(MANAGED_TAG_VALUE)
}

/// The owner `tags` name, if they carry all three ownership tags.
pub fn owner_of(tags: &[(String, String)]) -> Option<Owner> {
    is_managed(tags).then_some(())?;
    Some(Owner {
        database: value(tags, DATABASE_TAG_KEY)?.to_string(),
        username: value(tags, USERNAME_TAG_KEY)?.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn ownership_needs_all_three_tags() {
        let owner = Owner::new(Service::Rds, DbKind::Instance, "orders-db", "admin");
        assert_eq!(owner.database, "rds/instance/orders-db");
        let mut all: Vec<(String, String)> = owner.tags().to_vec();
        all.push(("team".into(), "data".into()));
        assert_eq!(owner_of(&all), Some(owner.clone()));
        assert!(is_managed(&all));
        assert_eq!(owner_of(&all[..2]), None, "no username tag");
        assert_eq!(
            owner_of(&tags(&[
                (MANAGED_TAG_KEY, "someone-else"),
                (DATABASE_TAG_KEY, "rds/instance/orders-db"),
                (USERNAME_TAG_KEY, "admin")
            ])),
            None
        );
        assert_eq!(
            Owner::new(Service::RedshiftServerless, DbKind::Workgroup, "bi", "u").to_string(),
            "redshift-serverless/workgroup/bi user u"
        );
    }
}

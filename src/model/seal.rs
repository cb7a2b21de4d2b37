//! The seal (pure): what the function's KMS HMAC covers, and the tag that carries it. A seal
//! binds a secret's full ARN (whose random suffix a new secret of the same name does not
//! share), its database tag, username tag and database id, and the time it was made; copied
//! onto another secret, or onto a secret with other ownership tags, it no longer verifies.
//! Making and checking the MAC is KMS's (`GenerateMac` / `VerifyMac`, HMAC_SHA_256, in
//! [`crate::aws::kms`]).

use std::time::SystemTime;

use crate::model::secret::SecretState;
use crate::model::tags;
use crate::model::timestamp;

/// The seal tag's format version.
const VERSION: &str = "v1";

/// What a seal covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed<'a> {
    pub arn: &'a str,
    /// The database tag, `{service}/{kind}/{identifier}`.
    pub database: &'a str,
    pub username: &'a str,
    /// The database-id tag (empty when Describe gave none).
    pub database_id: &'a str,
}

impl Sealed<'_> {
    /// The message the MAC is made over: every field on its own line, after a fixed header,
    /// so that no two different inputs give the same bytes (no field holds a newline: ARNs,
    /// tag values and RFC 3339 times cannot).
    pub fn message(&self, created: SystemTime) -> Vec<u8> {
        format!(
            "db-secret-provisioner seal {VERSION}\narn={}\ndatabase={}\nusername={}\ndatabase-id={}\ncreated={}\n",
            self.arn,
            self.database,
            self.username,
            self.database_id,
            timestamp::rfc3339(created)
        )
        .into_bytes()
    }
}

impl<'a> Sealed<'a> {
    /// What a seal on `state` must cover: its ARN and its ownership and database-id tags.
    /// `None` when it lacks the database or username tag (it cannot be one of ours).
    pub fn of(state: &'a SecretState) -> Option<Sealed<'a>> {
        Some(Sealed {
            arn: &state.arn,
            database: tags::value(&state.tags, tags::DATABASE_TAG_KEY)?,
            username: tags::value(&state.tags, tags::USERNAME_TAG_KEY)?,
            database_id: tags::value(&state.tags, tags::DATABASE_ID_TAG_KEY).unwrap_or(""),
        })
    }
}

/// What a secret's seal says, once checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealCheck {
    /// Made by the function for exactly this ARN, database, user and database id.
    Valid,
    /// No seal tag at all: made before sealing, without a seal key, or planted without one.
    Absent,
    /// A seal tag that is unreadable or does not verify: copied from another secret, forged, or
    /// the ownership tags were changed after it was made.
    Invalid,
}

/// A seal as its tag carries it: `v1 <created, RFC 3339> <MAC, base64>`, only characters AWS
/// allows in tag values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seal {
    pub created: SystemTime,
    pub mac: Vec<u8>,
}

impl Seal {
    pub fn tag_value(&self) -> String {
        format!(
            "{VERSION} {} {}",
            timestamp::rfc3339(self.created),
            aws_smithy_types::base64::encode(&self.mac)
        )
    }

    /// Reads a seal tag; `None` for anything that is not one (a present but unreadable seal
    /// is as good as a forged one).
    pub fn parse(text: &str) -> Option<Seal> {
        let mut parts = text.split(' ');
        if parts.next()? != VERSION {
            return None;
        }
        let created = timestamp::parse(parts.next()?)?;
        let mac = aws_smithy_types::base64::decode(parts.next()?).ok()?;
        if parts.next().is_some() || mac.is_empty() {
            return None;
        }
        Some(Seal { created, mac })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::identifiers::is_tag_value;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn the_tag_round_trips_and_the_message_binds_every_field() {
        let created = UNIX_EPOCH + Duration::from_secs(1_795_651_205);
        let seal = Seal {
            created,
            mac: vec![0xfb; 32],
        };
        let tag = seal.tag_value();
        assert!(is_tag_value(&tag), "{tag}");
        assert_eq!(Seal::parse(&tag), Some(seal));
        for bad in [
            "",
            "v1",
            "v2 2026-11-26T00:00:05Z AAAA",
            "v1 yesterday AAAA",
            "v1 2026-11-26T00:00:05Z",
            "v1 2026-11-26T00:00:05Z !!",
            "v1 2026-11-26T00:00:05Z AAAA x",
        ] {
            assert_eq!(Seal::parse(bad), None, "{bad}");
        }
        let base = Sealed {
            arn: "arn:aws:secretsmanager:us-east-1:1:secret:db-secrets/rds/a/admin-AbCdEf",
            database: "rds/instance/a",
            username: "admin",
            database_id: "db-ABC",
        };
        let m = base.message(created);
        for other in [
            Sealed {
                arn: "arn:aws:secretsmanager:us-east-1:1:secret:db-secrets/rds/a/admin-XyZabc",
                ..base.clone()
            },
            Sealed {
                database: "rds/instance/b",
                ..base.clone()
            },
            Sealed {
                username: "app",
                ..base.clone()
            },
            Sealed {
                database_id: "db-DEF",
                ..base.clone()
            },
        ] {
            assert_ne!(other.message(created), m, "{other:?}");
        }
        assert_ne!(base.message(created + Duration::from_secs(1)), m);
    }
}

//! AWS naming rules (pure, bottom floor), each checked once at the edge: a value of one of these
//! types is valid by construction, so no later stage re-checks it.

use std::fmt;

use crate::model::error::{Error, Result};

/// A Secrets Manager secret name: 1–512 characters of `[A-Za-z0-9/_+=.@-]`, not ending in `-`
/// followed by six letters or digits (Secrets Manager appends exactly such a suffix to ARNs, so
/// a name like that makes partial-ARN lookups ambiguous; `…/db-1/admin` is fine: the suffix AWS
/// adds never contains `/`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SecretName(String);

impl SecretName {
    pub fn parse(name: &str) -> Result<SecretName> {
        let invalid = |reason: String| Error::InvalidSecretName {
            name: name.chars().take(600).collect(),
            reason,
        };
        if name.is_empty() {
            return Err(invalid("the name is empty".into()));
        }
        if name.len() > 512 {
            return Err(invalid(format!(
                "{} characters, more than the 512 allowed",
                name.chars().count()
            )));
        }
        if let Some(c) = name.chars().find(|c| !is_secret_name_char(*c)) {
            return Err(invalid(format!(
                "character {c:?} is not allowed (only A-Z a-z 0-9 / _ + = . @ -)"
            )));
        }
        if has_arn_suffix(name) {
            return Err(invalid(
                "it ends with '-' and six letters or digits, which Secrets Manager reserves for ARN suffixes"
                    .into(),
            ));
        }
        Ok(SecretName(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SecretName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn has_arn_suffix(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() >= 7 && b[b.len() - 7] == b'-' && b[b.len() - 6..].iter().all(u8::is_ascii_alphanumeric)
}

/// An SSM parameter name: 1–2048 of `A-Za-z0-9_.-/`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ParameterName(String);

impl ParameterName {
    /// Checked before the call, so that an identifier or username that cannot form a name is
    /// named in the error.
    pub fn parse(name: &str) -> Result<ParameterName> {
        if name.is_empty() || name.len() > 2048 || !name.chars().all(is_parameter_name_char) {
            return Err(Error::InvalidEvent(format!(
                "{:?} is not a valid SSM parameter name (A-Z a-z 0-9 _ . - /)",
                name.chars().take(200).collect::<String>()
            )));
        }
        Ok(ParameterName(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ParameterName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A database username that can stand in a secret name: 1–128 of `A-Za-z0-9_+=.@-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    pub fn parse(u: &str) -> Option<Username> {
        let valid = !u.is_empty()
            && u.len() <= 128
            && u.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_+=.@-".contains(c));
        valid.then(|| Username(u.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An RDS, DocumentDB or Redshift identifier: 1–63 letters, digits and hyphens. Valid by
/// construction; reads as a `&str`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RdsIdentifier(String);

impl RdsIdentifier {
    pub fn parse(id: &str) -> Result<RdsIdentifier> {
        if id.is_empty()
            || id.len() > 63
            || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(Error::InvalidEvent(format!(
                "{:?} is not a valid RDS identifier (1-63 letters, digits and hyphens)",
                clip(id)
            )));
        }
        Ok(RdsIdentifier(id.to_string()))
    }
}

/// A Redshift Serverless workgroup name: 3–64 lowercase letters, digits and hyphens. Valid by
/// construction; reads as a `&str`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WorkgroupName(String);

impl WorkgroupName {
    pub fn parse(name: &str) -> Result<WorkgroupName> {
        if name.len() < 3
            || name.len() > 64
            || !name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(Error::InvalidEvent(format!(
                "{:?} is not a valid workgroup name (3-64 lowercase letters, digits and hyphens)",
                clip(name)
            )));
        }
        Ok(WorkgroupName(name.to_string()))
    }
}

/// A database name a user event may set (`dbname`): 1–64 of `A-Za-z0-9_$-`. Valid by
/// construction; reads as a `&str`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DbName(String);

impl DbName {
    pub fn parse(name: &str) -> Option<DbName> {
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_$-".contains(c));
        valid.then(|| DbName(name.to_string()))
    }
}

macro_rules! reads_as_str {
    ($($t:ty),*) => {$(
        impl std::ops::Deref for $t {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}

reads_as_str!(Username, RdsIdentifier, WorkgroupName, DbName);

/// Test literals: `Target::DbInstance("orders".into())`. Panics on an invalid name.
#[cfg(any(test, feature = "test-support"))]
mod literals {
    use super::*;

    impl From<&str> for RdsIdentifier {
        fn from(id: &str) -> Self {
            RdsIdentifier::parse(id).expect("a valid RDS identifier")
        }
    }

    impl From<&str> for Username {
        fn from(u: &str) -> Self {
            Username::parse(u).expect("a valid username")
        }
    }

    impl From<&str> for DbName {
        fn from(name: &str) -> Self {
            DbName::parse(name).expect("a valid database name")
        }
    }

    impl From<&str> for WorkgroupName {
        fn from(name: &str) -> Self {
            WorkgroupName::parse(name).expect("a valid workgroup name")
        }
    }
}

/// An IAM role name: 1–64 of letters, digits and `+=,.@_-`.
pub fn is_role_name(n: &str) -> bool {
    (1..=64).contains(&n.len())
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

/// An EventBridge event source: 1–256 of `A-Za-z0-9._/-`.
pub fn is_event_source(s: &str) -> bool {
    (1..=256).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._/-".contains(c))
}

/// The characters Secrets Manager allows in tag keys and values: letters, digits, spaces and
/// `_ . : / = + - @`.
fn is_tag_text(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_alphanumeric() || " _.:/=+-@".contains(c))
}

/// A tag key: 1–128 tag characters.
pub fn is_tag_key(k: &str) -> bool {
    (1..=128).contains(&k.chars().count()) && is_tag_text(k)
}

/// A tag value: at most 256 tag characters.
pub fn is_tag_value(v: &str) -> bool {
    v.chars().count() <= 256 && is_tag_text(v)
}

/// A parsed ARN, borrowing its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    pub text: &'a str,
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource_type: &'a str,
    pub resource_id: &'a str,
}

impl<'a> Arn<'a> {
    /// Parses `arn:partition:service:region:account:type:id` or `…:account:type/id`.
    pub fn parse(text: &'a str) -> Result<Arn<'a>> {
        let parts: Vec<&str> = text.splitn(6, ':').collect();
        let invalid = || {
            Error::InvalidEvent(format!(
                "{:?} is not an AWS ARN of the form arn:aws:service:region:account:type:id",
                clip(text)
            ))
        };
        match parts.as_slice() {
            ["arn", partition, service, region, account, resource]
                if partition.starts_with("aws") =>
            {
                let (resource_type, resource_id) =
                    resource.split_once([':', '/']).ok_or_else(invalid)?;
                if resource_id.is_empty() {
                    return Err(invalid());
                }
                Ok(Arn {
                    text,
                    partition,
                    service,
                    region,
                    account,
                    resource_type,
                    resource_id,
                })
            }
            _ => Err(invalid()),
        }
    }
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `ap-southeast-5`, ...
pub fn is_region(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()))
}

/// A 12-digit AWS account id.
pub fn is_account_id(a: &str) -> bool {
    a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit())
}

/// An AWS Organizations id: `o-` and 10 to 32 lowercase letters or digits.
pub fn is_organization_id(o: &str) -> bool {
    o.strip_prefix("o-").is_some_and(|rest| {
        (10..=32).contains(&rest.len())
            && rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

/// A KMS key id (UUID or `mrk-…`), key ARN, `alias/NAME` or alias ARN.
pub fn is_kms_key_ref(k: &str) -> bool {
    let idish = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if let Some(alias) = k.strip_prefix("alias/") {
        return !alias.is_empty()
            && alias
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/_-".contains(c));
    }
    if k.starts_with("arn:aws") {
        let parts: Vec<&str> = k.splitn(6, ':').collect();
        return parts.len() == 6
            && parts[2] == "kms"
            && (parts[5].starts_with("key/") || parts[5].starts_with("alias/"));
    }
    idish(k) && k.len() >= 8
}

/// Characters of a secret name.
pub fn is_secret_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "/_+=.@-".contains(c)
}

/// Characters of an SSM parameter name.
pub fn is_parameter_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "/_.-".contains(c)
}

/// Keeps messages about hostile input short: at most 100 characters (control characters are
/// escaped by `{:?}` at the call site).
pub fn clip(s: &str) -> &str {
    match s.char_indices().nth(100) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_secret_names() {
        for n in [
            "a",
            "db-secrets/rds/orders-db/admin",
            "x+y=z.w@v_u-t",
            &"a".repeat(512),
            "db-secrets/rds/orders/admin-12345",
            "db-secrets/rds/orders-1/admin",
            "db-secrets/rds/orders/admin-a.b_cd",
        ] {
            SecretName::parse(n).unwrap_or_else(|e| panic!("{n}: {e}"));
        }
    }

    #[test]
    fn rejects_invalid_secret_names() {
        for (n, needle) in [
            ("", "empty"),
            (&"a".repeat(513) as &str, "513 characters"),
            ("db secrets/x", "' '"),
            ("db/ä", "'ä'"),
            ("db/x*", "'*'"),
            (
                "db-secrets/rds/orders/admin-abc123",
                "six letters or digits",
            ),
            (
                "db-secrets/rds/orders/admin-ABCDEF",
                "six letters or digits",
            ),
        ] {
            let e = SecretName::parse(n).unwrap_err();
            assert_eq!(e.error_type(), "InvalidSecretName");
            assert!(e.to_string().contains(needle), "{n}: {e}");
        }
    }

    #[test]
    fn parameter_names_usernames_and_identifiers() {
        assert!(ParameterName::parse("/db-secrets/rds/x/admin").is_ok());
        let e = ParameterName::parse("/db/x y").unwrap_err();
        assert_eq!(e.error_type(), "InvalidEvent");
        assert!(Username::parse("svc.api@x").is_some());
        for bad in ["", "bad/user", "ünïcode", "a\r\nb", &"u".repeat(129)] {
            assert!(Username::parse(bad).is_none(), "{bad:?}");
        }
        assert!(RdsIdentifier::parse("orders-db-1").is_ok());
        assert!(RdsIdentifier::parse("a/b").is_err());
        assert!(WorkgroupName::parse("bi-wg").is_ok());
        assert!(WorkgroupName::parse("BI").is_err());
        assert!(DbName::parse("app_db$1").is_some());
        assert!(DbName::parse("").is_none() && DbName::parse("a;b").is_none());
    }

    #[test]
    fn arns() {
        let a = Arn::parse("arn:aws:rds:eu-west-1:111122223333:db:orders-db").unwrap();
        assert_eq!(
            (
                a.service,
                a.region,
                a.account,
                a.resource_type,
                a.resource_id
            ),
            ("rds", "eu-west-1", "111122223333", "db", "orders-db")
        );
        let w = Arn::parse("arn:aws:redshift-serverless:us-east-1:1:workgroup/0f8c").unwrap();
        assert_eq!((w.resource_type, w.resource_id), ("workgroup", "0f8c"));
        assert!(Arn::parse("arn:aws-cn:rds:cn-north-1:1:db:x").is_ok());
        for bad in ["arn:evil:rds:r:1:db:x", "arn:aws:s3:::", "not-an-arn"] {
            assert!(Arn::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn regions_accounts_and_keys() {
        for r in ["us-east-1", "us-gov-west-1", "ap-southeast-5"] {
            assert!(is_region(r), "{r}");
        }
        for r in ["mars-1", "us-east", "US-EAST-1"] {
            assert!(!is_region(r), "{r}");
        }
        assert!(is_account_id("123456789012"));
        assert!(!is_account_id("12345678901x"));
        for key in [
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            "mrk-1234abcd12ab34cd56ef1234567890ab",
            "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:kms:us-east-1:123456789012:alias/x",
            "alias/db-secrets",
        ] {
            assert!(is_kms_key_ref(key), "{key}");
        }
        assert!(!is_kms_key_ref("my key"));
        assert_eq!(clip(&"x".repeat(500)).len(), 100);
    }
}

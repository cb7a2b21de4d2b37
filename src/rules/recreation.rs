//! Whether a password may go into a secret that already exists for a database's name (pure):
//! the secret is retired, or live with another database's id. The create job reads the facts
//! (after the seal, key and policy checks and RestoreSecret), this module decides, and the
//! job carries it out. Nothing is written on a guess: whatever cannot be proven is flagged.

use std::time::SystemTime;

use serde_json::Value;

pub use crate::model::deployment::Deployment;

/// Evidence that the database was restored rather than created: a restore hint on the secret,
/// or an RDS "restoration" event since the retirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restore {
    /// Where the evidence comes from, in words.
    pub evidence: String,
    /// The restore point (the snapshot's `SnapshotCreateTime`, or `restoreTime`), when known.
    pub point: Option<SystemTime>,
}

/// What the job read.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The initial-password parameter holds the secret's current password.
    pub same_password: bool,
    /// There is an initial-password parameter at all.
    pub parameter: bool,
    /// The parameter's `LastModifiedDate`.
    pub parameter_modified: Option<SystemTime>,
    /// The secret's `LastChangedDate`, before this job changed it.
    pub secret_changed: Option<SystemTime>,
    /// When the secret was retired (the deleted tag), if it was.
    pub retired_at: Option<SystemTime>,
    /// When the secret's AWSCURRENT version was created.
    pub current_created: Option<SystemTime>,
    pub restore: Option<Restore>,
}

/// What happens to the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Write the parameter's password: the database is new and the parameter was written
    /// for it.
    Write,
    /// Keep the secret's value and un-retire it; `restored` when on restore evidence (its user
    /// secrets may then be un-retired too).
    Keep { reason: String, restored: bool },
    /// Write nothing; tag the secret stale and answer `flagged`.
    Flag(String),
}

/// The rule: equal passwords need no decision; restore evidence keeps a value that predates
/// the restore point; otherwise the parameter's password is written only when the parameter
/// is newer than the secret's last change and than its retirement.
pub fn decide(f: &Facts) -> Verdict {
    // Restore evidence whose point is after the secret's current password: the database has
    // that password, and so do its users' secrets of the same age.
    let restored_after = f.restore.as_ref().is_some_and(|r| {
        matches!((r.point, f.current_created), (Some(point), Some(current)) if current <= point)
    });
    if f.same_password {
        return Verdict::Keep {
            reason: "the initial-password parameter holds the secret's current password".into(),
            restored: restored_after,
        };
    }
    if let Some(r) = &f.restore {
        return match (r.point, f.current_created) {
            (Some(point), Some(current)) if current <= point => Verdict::Keep {
                reason: format!(
                    "the database was restored ({}) from a point after the secret's current password was set: the value was kept",
                    r.evidence
                ),
                restored: true,
            },
            (Some(_), _) => Verdict::Flag(format!(
                "the database was restored ({}) from a point before the secret's current password was set: neither password can be proven to be the database's",
                r.evidence
            )),
            (None, _) => Verdict::Flag(format!(
                "the database was restored ({}), but the restore point is not known: the secret's current password cannot be proven to be the database's",
                r.evidence
            )),
        };
    }
    if !f.parameter {
        return Verdict::Flag(
            "the database was created again, but there is no initial-password parameter: the secret's password cannot be proven to be the database's".into(),
        );
    }
    let newer = |than: Option<SystemTime>| match (f.parameter_modified, than) {
        (Some(p), Some(t)) => p > t,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if newer(f.secret_changed) && newer(f.retired_at) {
        Verdict::Write
    } else {
        Verdict::Flag(
            "the initial-password parameter was not written after the secret's last change: it may be the earlier database's password".into(),
        )
    }
}

/// The key check, before any ARN is resolved: `Ok(true)` the keys are the same, `Ok(false)`
/// they differ, `Err((a, b))` both must be resolved with DescribeKey and their ARNs compared.
/// An absent `KmsKeyId` (the AWS managed key) matches only an unset `KMS_KEY_ID`.
pub fn keys_match<'a>(
    secret: Option<&'a str>,
    configured: Option<&'a str>,
) -> std::result::Result<bool, (&'a str, &'a str)> {
    match (secret, configured) {
        (None, None) => Ok(true),
        (Some(a), Some(b)) if a == b => Ok(true),
        (Some(a), Some(b)) => Err((a, b)),
        _ => Ok(false),
    }
}

/// The policy check: the secret has no resource policy, or the one `RESOURCE_POLICY` sets
/// (compared as parsed JSON).
pub fn policy_matches(found: Option<&str>, configured: Option<&Value>) -> bool {
    match (found, configured) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(text), Some(want)) => serde_json::from_str::<Value>(text).ok().as_ref() == Some(want),
    }
}

/// The deployment whose completed switchover gave the production name `resource:identifier`
/// (`db:` or `cluster:` in the ARN) to another database, made after `since` (the secret's
/// creation): the evidence, in words. AWS documents `Source` and `Target` only "before
/// switchover" (the production and the green database); after it, the old production database
/// is renamed `<name>-old<n>`. A member ARN that names the identifier, or the identifier with
/// an `-old<n>` suffix, matches either way.
pub fn switched_over_to(
    deployments: &[Deployment],
    resource: &str,
    identifier: &str,
    since: Option<SystemTime>,
) -> Option<String> {
    let names_it = |arn: &str| {
        let Some(name) = arn.rsplit_once(&format!(":{resource}:")).map(|(_, n)| n) else {
            return false;
        };
        let base = match name.rsplit_once("-old") {
            Some((base, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => base,
            _ => name,
        };
        base == identifier
    };
    deployments
        .iter()
        .filter(|d| d.completed)
        .filter(|d| match (d.created, since) {
            (Some(created), Some(since)) => created > since,
            _ => false,
        })
        .find(|d| d.arns.iter().any(|a| names_it(a)))
        .map(|d| {
            format!(
                "Blue/Green deployment {} completed its switchover",
                d.identifier
            )
        })
}

/// A reset master password: the initial-password parameter's password is the new one only
/// when the parameter was written after the secret's last change (`LastChangedDate`) and
/// before the reset (the event's time). `Err` says why it cannot be proven.
pub fn reset_is_fresh(
    parameter_modified: Option<SystemTime>,
    secret_changed: Option<SystemTime>,
    reset_at: SystemTime,
) -> Result<(), String> {
    let Some(modified) = parameter_modified else {
        return Err(
            "there is no initial-password parameter (or it has no LastModifiedDate)".into(),
        );
    };
    match secret_changed {
        Some(changed) if modified <= changed => Err(
            "the initial-password parameter was not written after the secret last changed".into(),
        ),
        None => Err("the secret's last change is not known".into()),
        _ if modified >= reset_at => {
            Err("the initial-password parameter was written after the reset, not for it".into())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    fn t(s: u64) -> Option<SystemTime> {
        Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + s))
    }

    fn fresh() -> Facts {
        Facts {
            parameter: true,
            parameter_modified: t(300),
            secret_changed: t(200),
            retired_at: t(100),
            current_created: t(50),
            ..Default::default()
        }
    }

    #[test]
    fn a_parameter_written_after_the_retirement_is_written() {
        assert_eq!(decide(&fresh()), Verdict::Write);
        let never_retired = Facts {
            retired_at: None,
            ..fresh()
        };
        assert_eq!(decide(&never_retired), Verdict::Write);
    }

    #[test]
    fn an_old_or_missing_parameter_is_flagged_never_written() {
        for f in [
            Facts {
                parameter_modified: t(150),
                ..fresh()
            },
            Facts {
                parameter_modified: t(50),
                ..fresh()
            },
            Facts {
                parameter_modified: t(200),
                ..fresh()
            },
            Facts {
                parameter_modified: None,
                ..fresh()
            },
            Facts {
                parameter: false,
                parameter_modified: None,
                ..fresh()
            },
        ] {
            assert!(matches!(decide(&f), Verdict::Flag(_)), "{f:?}");
        }
    }

    #[test]
    fn the_same_password_is_kept_whatever_else_holds() {
        let f = Facts {
            same_password: true,
            parameter_modified: t(1),
            ..fresh()
        };
        assert!(matches!(
            decide(&f),
            Verdict::Keep {
                restored: false,
                ..
            }
        ));
    }

    #[test]
    fn restore_evidence_keeps_only_a_value_older_than_the_restore_point() {
        let restored = |point, current| Facts {
            current_created: current,
            restore: Some(Restore {
                evidence: "hint".into(),
                point,
            }),
            ..fresh()
        };
        assert!(matches!(
            decide(&restored(t(60), t(50))),
            Verdict::Keep { restored: true, .. }
        ));
        assert!(matches!(
            decide(&restored(t(50), t(50))),
            Verdict::Keep { restored: true, .. }
        ));
        // Rotated after the snapshot: the snapshot holds an older password.
        assert!(matches!(decide(&restored(t(40), t(50))), Verdict::Flag(_)));
        assert!(matches!(decide(&restored(None, t(50))), Verdict::Flag(_)));
        // Never a write, however fresh the parameter.
        assert!(matches!(decide(&restored(t(40), None)), Verdict::Flag(_)));
    }

    #[test]
    fn keys_and_policies() {
        assert_eq!(keys_match(None, None), Ok(true));
        assert_eq!(keys_match(Some("k"), None), Ok(false));
        assert_eq!(keys_match(None, Some("alias/k")), Ok(false));
        assert_eq!(keys_match(Some("arn:k"), Some("arn:k")), Ok(true));
        assert_eq!(
            keys_match(Some("arn:k"), Some("alias/k")),
            Err(("arn:k", "alias/k"))
        );
        let want = json!({"Version": "2012-10-17", "Statement": []});
        assert!(policy_matches(None, None));
        assert!(policy_matches(None, Some(&want)));
        assert!(!policy_matches(Some("{}"), None));
        assert!(policy_matches(
            Some(r#"{"Statement":[],  "Version":"2012-10-17"}"#),
            Some(&want)
        ));
        assert!(!policy_matches(Some(r#"{"Statement":[{}]}"#), Some(&want)));
        assert!(!policy_matches(Some("not json"), Some(&want)));
    }

    #[test]
    fn a_reset_takes_the_parameter_only_between_the_last_change_and_the_reset() {
        let t = |s: u64| SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(s);
        assert_eq!(reset_is_fresh(Some(t(20)), Some(t(10)), t(30)), Ok(()));
        for (modified, changed, reset) in [
            (None, Some(t(10)), t(30)),
            (Some(t(5)), Some(t(10)), t(30)),
            (Some(t(10)), Some(t(10)), t(30)),
            (Some(t(40)), Some(t(10)), t(30)),
            (Some(t(20)), None, t(30)),
        ] {
            assert!(
                reset_is_fresh(modified, changed, reset).is_err(),
                "{modified:?}"
            );
        }
    }

    #[test]
    fn a_completed_switchover_to_the_name_made_after_the_secret_is_evidence() {
        let t = |s: u64| SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(s);
        let d = |completed: bool, arns: &[&str], created: u64| Deployment {
            identifier: "bgd-1".into(),
            completed,
            arns: arns.iter().map(|a| a.to_string()).collect(),
            created: Some(t(created)),
        };
        let moto_shape = [
            "arn:aws:rds:us-east-1:1:db:orders-old1",
            "arn:aws:rds:us-east-1:1:db:orders",
        ];
        let before_shape = [
            "arn:aws:rds:us-east-1:1:db:orders",
            "arn:aws:rds:us-east-1:1:db:orders-green-abcdef",
        ];
        for arns in [&moto_shape[..], &before_shape[..]] {
            assert!(switched_over_to(&[d(true, arns, 20)], "db", "orders", Some(t(10))).is_some());
            assert!(
                switched_over_to(&[d(false, arns, 20)], "db", "orders", Some(t(10))).is_none(),
                "not completed"
            );
            assert!(
                switched_over_to(&[d(true, arns, 5)], "db", "orders", Some(t(10))).is_none(),
                "before the secret"
            );
            assert!(
                switched_over_to(&[d(true, arns, 20)], "cluster", "orders", Some(t(10))).is_none(),
                "an instance, not a cluster"
            );
            assert!(
                switched_over_to(&[d(true, arns, 20)], "db", "order", Some(t(10))).is_none(),
                "another name"
            );
        }
        let other = [
            "arn:aws:rds:us-east-1:1:db:orders-archive",
            "arn:aws:rds:us-east-1:1:db:orders-archive-old1",
        ];
        assert!(switched_over_to(&[d(true, &other, 20)], "db", "orders", Some(t(10))).is_none());
        assert!(
            switched_over_to(&[d(true, &moto_shape, 20)], "db", "orders", None).is_none(),
            "age unknown"
        );
    }
}

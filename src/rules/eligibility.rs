//! Whether a described database gets a secret (pure): the first decision after Describe.

use crate::model::engine::{engine_rule, EngineRule};
use crate::model::error::{Error, Result};
use crate::model::request::UserSpec;
use crate::model::Database;

/// What to do with a described database.
#[derive(Debug, PartialEq, Eq)]
pub enum Assessment {
    Skip(String),
    Provision {
        rule: &'static EngineRule,
        host: String,
        username: String,
    },
}

/// Whether a job is for the master user: no user, or a user event naming the master username
/// (which then takes the admin path, with all its guards).
pub fn is_admin(db: &Database, user: Option<&UserSpec>) -> bool {
    match user {
        None => true,
        Some(u) => db.master_username.as_deref() == Some(u.username.as_str()),
    }
}

/// Decides, from Describe alone, whether the database gets a secret (pure logic). `user` is
/// set for an application user's secret: then the master user's managed password and cluster
/// membership do not matter, only that the database can be reached. A user event naming the
/// master user is judged as the admin's secret.
pub fn assess(db: &Database, user: Option<&UserSpec>) -> Result<Assessment> {
    let what = db.to_string();
    if db.is_gone() {
        return Ok(Assessment::Skip(format!("{what} is {}", db.status)));
    }
    let Some(rule) = engine_rule(&db.engine) else {
        return Ok(Assessment::Skip(format!(
            "{what} runs engine {:?}, which has no database secret format",
            db.engine
        )));
    };
    if is_admin(db, user) {
        if let Some(cluster) = &db.cluster {
            return Ok(Assessment::Skip(format!(
                "{what} is a member of DB cluster {cluster}; the cluster's secret covers it"
            )));
        }
        if let Some(arn) = &db.managed_secret_arn {
            return Ok(Assessment::Skip(format!(
                "the master password of {what} is managed by AWS in secret {arn}"
            )));
        }
    }
    if let Some(source) = &db.replica_source {
        return Ok(Assessment::Skip(format!(
            "{what} is a read replica of {source}; its credentials are the source's, and so is the secret"
        )));
    }
    let not_ready = |detail: String| Error::DatabaseNotReady {
        resource: db.resource,
        identifier: db.identifier.clone(),
        detail,
    };
    let host = db
        .host
        .clone()
        .ok_or_else(|| not_ready(format!("status {:?}, no endpoint yet", db.status)))?;
    let username = match user {
        Some(u) => u.username.to_string(),
        None => db
            .master_username
            .clone()
            .filter(|u| !u.is_empty())
            .ok_or_else(|| not_ready("Describe reports no master username".into()))?,
    };
    Ok(Assessment::Provision {
        rule,
        host,
        username,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Database {
        Database::sample()
    }

    fn skip_reason(d: &Database) -> String {
        match assess(d, None).unwrap() {
            Assessment::Skip(r) => r,
            other => panic!("expected skip, got {other:?}"),
        }
    }

    #[test]
    fn provisions_an_available_database() {
        match assess(&db(), None).unwrap() {
            Assessment::Provision {
                rule,
                host,
                username,
            } => {
                assert_eq!(rule.secret_engine, "mysql");
                assert_eq!(host, "orders.x.rds.amazonaws.com");
                assert_eq!(username, "admin");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn skips() {
        let mut d = db();
        d.cluster = Some("aurora-1".into());
        assert!(skip_reason(&d).contains("member of DB cluster aurora-1"));
        let mut d = db();
        d.managed_secret_arn = Some("arn:aws:secretsmanager:us-east-1:1:secret:rds!db-1".into());
        assert!(skip_reason(&d).contains("rds!db-1"));
        let mut d = db();
        d.engine = "neptune".into();
        assert!(skip_reason(&d).contains("neptune"));
        let mut d = db();
        d.status = "deleting".into();
        d.host = None;
        assert!(skip_reason(&d).contains("deleting"));
        let mut d = db();
        d.replica_source = Some("orders-primary".into());
        assert!(skip_reason(&d).contains("read replica of orders-primary"));
    }

    #[test]
    fn skips_are_decided_before_any_wait() {
        // Still creating, no endpoint yet: a skip needs no wait, only a provision does.
        let mut d = db();
        d.status = "creating".into();
        d.host = None;
        d.cluster = Some("aurora-1".into());
        assert!(skip_reason(&d).contains("aurora-1"));
        d.cluster = None;
        d.managed_secret_arn = Some("arn:aws:secretsmanager:us-east-1:1:secret:rds!db-1".into());
        assert!(skip_reason(&d).contains("managed by AWS"));
        d.managed_secret_arn = None;
        d.engine = "neptune".into();
        assert!(skip_reason(&d).contains("neptune"));
        d.engine = "mysql".into();
        d.replica_source = Some("src".into());
        assert!(skip_reason(&d).contains("read replica"));
        d.replica_source = None;
        assert_eq!(
            assess(&d, None).unwrap_err().error_type(),
            "DatabaseNotReady"
        );
    }

    #[test]
    fn a_user_secret_ignores_the_master_users_managed_password_and_membership() {
        let mut d = db();
        d.managed_secret_arn = Some("arn:aws:secretsmanager:us-east-1:1:secret:rds!db-1".into());
        d.cluster = Some("aurora-1".into());
        let user = UserSpec::new("app_user".into());
        match assess(&d, Some(&user)).unwrap() {
            Assessment::Provision { username, .. } => assert_eq!(username, "app_user"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_user_event_for_the_master_user_takes_the_admin_path() {
        let mut d = db();
        d.managed_secret_arn = Some("arn:aws:secretsmanager:us-east-1:1:secret:rds!db-1".into());
        let master = UserSpec::new("admin".into());
        assert!(is_admin(&d, Some(&master)));
        match assess(&d, Some(&master)).unwrap() {
            Assessment::Skip(r) => assert!(r.contains("managed by AWS"), "{r}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn no_endpoint_is_not_ready() {
        let mut d = db();
        d.status = "creating".into();
        d.host = None;
        let e = assess(&d, None).unwrap_err();
        assert_eq!(e.error_type(), "DatabaseNotReady");
        assert!(e.to_string().contains("orders") && e.to_string().contains("creating"));
    }
}

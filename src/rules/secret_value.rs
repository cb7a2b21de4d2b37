//! Secret shaping (pure): the Secrets Manager "JSON structure of database secrets", as a typed
//! value that is serialised exactly once, here, and handed to the store as it is.

use secrecy::SecretString;

use crate::model::engine::EngineRule;
use crate::model::error::{Error, Result};
pub use crate::model::secret::{SecretFields, SecretValue, MAX_SECRET_BYTES};
use crate::model::{Database, IdentifierKey};

/// Builds the secret for `db` and the given credentials.
///
/// Keys: `engine`, `host`, `username`, `password`, `port`, `dbname` when known,
/// `dbInstanceIdentifier` / `dbClusterIdentifier` / `namespaceName`, `ssl` where the rule says
/// so, `masterarn` when given, and `readerHost` and the regional keys where the database has
/// them.
pub fn shape(
    db: &Database,
    rule: &EngineRule,
    host: &str,
    username: &str,
    password: &SecretString,
    masterarn: Option<&str>,
) -> Result<SecretValue> {
    let (instance, cluster, namespace) = match &db.identifier_key {
        IdentifierKey::DbInstance => (Some(db.identifier.clone()), None, None),
        IdentifierKey::DbCluster => (None, Some(db.identifier.clone()), None),
        IdentifierKey::Namespace(ns) => (None, None, Some(ns.clone())),
    };
    let fields = SecretFields {
        engine: rule.secret_engine,
        host: host.to_string(),
        username: username.to_string(),
        password: password.clone(),
        port: db.port.unwrap_or(rule.default_port),
        dbname: db.dbname.clone().filter(|d| !d.is_empty()),
        db_instance_identifier: instance,
        db_cluster_identifier: cluster,
        namespace_name: namespace,
        ssl: rule.ssl.then_some(true),
        masterarn: masterarn.map(str::to_string),
        extra: db.extra_connection_keys(),
    };
    let value = SecretValue::new(fields);
    let len = value.len();
    if len > MAX_SECRET_BYTES {
        return Err(Error::PasswordParameterInvalid {
            name: format!("for {db}"),
            reason: format!(
                "the secret would be {} bytes, over the Secrets Manager limit of {MAX_SECRET_BYTES}",
                len
            ),
        });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::engine::engine_rule;
    use secrecy::ExposeSecret;
    use serde_json::Value;

    fn db(engine: &str, key: IdentifierKey) -> Database {
        Database {
            identifier: "orders-db".into(),
            identifier_key: key,
            engine: engine.into(),
            host: Some("orders-db.abc.us-east-1.rds.amazonaws.com".into()),
            port: None,
            ..Database::sample()
        }
    }

    fn parse(s: &SecretValue) -> Value {
        serde_json::from_str(s.json().expose_secret()).unwrap()
    }

    #[test]
    fn instance_secret_has_exactly_the_documented_keys() {
        let mut d = db("postgres", IdentifierKey::DbInstance);
        d.port = Some(5433);
        d.dbname = Some("orders".into());
        let rule = engine_rule(&d.engine).unwrap();
        let pw = SecretString::from("pa\"ss\\word");
        let v = parse(&shape(&d, rule, d.host.as_deref().unwrap(), "admin", &pw, None).unwrap());
        assert_eq!(
            v,
            serde_json::json!({
                "engine": "postgres",
                "host": "orders-db.abc.us-east-1.rds.amazonaws.com",
                "username": "admin",
                "password": "pa\"ss\\word",
                "port": 5433,
                "dbname": "orders",
                "dbInstanceIdentifier": "orders-db"
            })
        );
    }

    #[test]
    fn defaults_port_omits_unknown_dbname_and_adds_ssl_and_masterarn() {
        let mut d = db("docdb", IdentifierKey::DbCluster);
        d.dbname = Some(String::new());
        let rule = engine_rule("docdb").unwrap();
        let pw = SecretString::from("pw");
        let v = parse(&shape(&d, rule, "h", "app", &pw, Some("arn:aws:secretsmanager:x")).unwrap());
        assert_eq!(v["port"], 27017);
        assert!(v["port"].is_number());
        assert!(v.get("dbname").is_none(), "never null or empty");
        assert_eq!(v["ssl"], true);
        assert_eq!(v["dbClusterIdentifier"], "orders-db");
        assert_eq!(v["masterarn"], "arn:aws:secretsmanager:x");
        assert!(v.get("dbInstanceIdentifier").is_none());
    }

    #[test]
    fn namespace_key_for_serverless() {
        let d = db("redshift", IdentifierKey::Namespace("analytics".into()));
        let v = parse(
            &shape(
                &d,
                engine_rule("redshift").unwrap(),
                "h",
                "u",
                &SecretString::from("p"),
                None,
            )
            .unwrap(),
        );
        assert_eq!(v["namespaceName"], "analytics");
        assert!(v.get("dbClusterIdentifier").is_none());
    }

    #[test]
    fn oversized_secret_is_refused_without_echoing_the_password() {
        let d = db("mysql", IdentifierKey::DbInstance);
        let big = "x".repeat(MAX_SECRET_BYTES);
        let err = shape(
            &d,
            engine_rule("mysql").unwrap(),
            "h",
            "u",
            &SecretString::from(big.clone()),
            None,
        )
        .unwrap_err();
        assert_eq!(err.error_type(), "PasswordParameterInvalid");
        assert!(!err.to_string().contains(&big[..64]));
    }

    #[test]
    fn debug_of_the_secret_is_redacted() {
        let d = db("mysql", IdentifierKey::DbInstance);
        let s = shape(
            &d,
            engine_rule("mysql").unwrap(),
            "h",
            "u",
            &SecretString::from("hunter2-secret"),
            None,
        )
        .unwrap();
        assert!(!format!("{s:?}").contains("hunter2-secret"));
    }
}

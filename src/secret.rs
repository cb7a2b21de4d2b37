//! Secret shaping: the Secrets Manager "JSON structure of database secrets".
//!
//! All engine-specific rules live in [`ENGINE_RULES`], one row per engine family. Pure logic.

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

use crate::database::{Database, IdentifierKey};
use crate::error::{Error, Result};

/// Secrets Manager's limit on `SecretString`.
pub const MAX_SECRET_BYTES: usize = 65_536;

/// How an AWS engine name is matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    Exact(&'static str),
    Prefix(&'static str),
}

/// One engine family: how AWS names it, and what the secret says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineRule {
    pub aws_engine: Match,
    /// The secret's `engine` value, as the AWS rotation functions expect it.
    pub secret_engine: &'static str,
    /// Used when Describe reports no port.
    pub default_port: i32,
    /// Adds `"ssl": true` (DocumentDB, TLS on by default).
    pub ssl: bool,
}

const fn rule(aws_engine: Match, secret_engine: &'static str, default_port: i32) -> EngineRule {
    EngineRule {
        aws_engine,
        secret_engine,
        default_port,
        ssl: false,
    }
}

/// The one table of engine rules. Engines not listed (e.g. `neptune`) are unsupported.
pub const ENGINE_RULES: &[EngineRule] = &[
    rule(Match::Exact("mysql"), "mysql", 3306),
    rule(Match::Exact("aurora-mysql"), "mysql", 3306),
    rule(Match::Exact("aurora"), "mysql", 3306),
    rule(Match::Exact("postgres"), "postgres", 5432),
    rule(Match::Exact("aurora-postgresql"), "postgres", 5432),
    rule(Match::Exact("mariadb"), "mariadb", 3306),
    rule(Match::Prefix("oracle-"), "oracle", 1521),
    rule(Match::Prefix("custom-oracle-"), "oracle", 1521),
    rule(Match::Prefix("sqlserver-"), "sqlserver", 1433),
    rule(Match::Prefix("custom-sqlserver-"), "sqlserver", 1433),
    rule(Match::Prefix("db2-"), "db2", 50000),
    EngineRule {
        ssl: true,
        ..rule(Match::Exact("docdb"), "mongo", 27017)
    },
    rule(Match::Exact("redshift"), "redshift", 5439),
];

/// The rule for an AWS engine name, if the engine is supported.
pub fn engine_rule(aws_engine: &str) -> Option<&'static EngineRule> {
    let engine = aws_engine.to_ascii_lowercase();
    ENGINE_RULES.iter().find(|r| match r.aws_engine {
        Match::Exact(e) => engine == e,
        Match::Prefix(p) => engine.len() > p.len() && engine.starts_with(p),
    })
}

/// Builds the secret's JSON for `db` and the given credentials.
///
/// Keys: `engine`, `host`, `username`, `password`, `port` (a JSON number), `dbname` when known,
/// `dbInstanceIdentifier` / `dbClusterIdentifier` / `namespaceName`, `ssl` where the rule says
/// so, and `masterarn` when given.
pub fn shape(
    db: &Database,
    rule: &EngineRule,
    host: &str,
    username: &str,
    password: &SecretString,
    masterarn: Option<&str>,
) -> Result<SecretString> {
    let mut m = Map::new();
    m.insert("engine".into(), rule.secret_engine.into());
    m.insert("host".into(), host.into());
    m.insert("username".into(), username.into());
    m.insert("password".into(), password.expose_secret().into());
    m.insert("port".into(), db.port.unwrap_or(rule.default_port).into());
    if let Some(dbname) = db.dbname.as_deref().filter(|d| !d.is_empty()) {
        m.insert("dbname".into(), dbname.into());
    }
    match &db.identifier_key {
        IdentifierKey::DbInstance => {
            m.insert("dbInstanceIdentifier".into(), db.identifier.clone().into());
        }
        IdentifierKey::DbCluster => {
            m.insert("dbClusterIdentifier".into(), db.identifier.clone().into());
        }
        IdentifierKey::Namespace(ns) => {
            m.insert("namespaceName".into(), ns.clone().into());
        }
    }
    if rule.ssl {
        m.insert("ssl".into(), true.into());
    }
    if let Some(arn) = masterarn {
        m.insert("masterarn".into(), arn.into());
    }
    let text = Value::Object(m).to_string();
    if text.len() > MAX_SECRET_BYTES {
        return Err(Error::PasswordParameterInvalid {
            name: format!("for {} {}", db.kind, db.identifier),
            reason: format!(
                "the secret would be {} bytes, over the Secrets Manager limit of {MAX_SECRET_BYTES}",
                text.len()
            ),
        });
    }
    Ok(SecretString::from(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::database::Service;

    fn db(engine: &str, key: IdentifierKey) -> Database {
        Database {
            service: Service::Rds,
            kind: "DB instance",
            identifier: "orders-db".into(),
            identifier_key: key,
            engine: engine.into(),
            status: "available".into(),
            host: Some("orders-db.abc.us-east-1.rds.amazonaws.com".into()),
            port: None,
            dbname: None,
            master_username: Some("admin".into()),
            cluster: None,
            managed_secret_arn: None,
        }
    }

    #[test]
    fn every_documented_engine_maps() {
        let cases = [
            ("mysql", "mysql", 3306),
            ("aurora-mysql", "mysql", 3306),
            ("aurora", "mysql", 3306),
            ("postgres", "postgres", 5432),
            ("aurora-postgresql", "postgres", 5432),
            ("mariadb", "mariadb", 3306),
            ("oracle-ee", "oracle", 1521),
            ("oracle-ee-cdb", "oracle", 1521),
            ("oracle-se2", "oracle", 1521),
            ("oracle-se2-cdb", "oracle", 1521),
            ("custom-oracle-ee", "oracle", 1521),
            ("custom-oracle-ee-cdb", "oracle", 1521),
            ("custom-oracle-se2", "oracle", 1521),
            ("custom-oracle-se2-cdb", "oracle", 1521),
            ("sqlserver-ee", "sqlserver", 1433),
            ("sqlserver-se", "sqlserver", 1433),
            ("sqlserver-ex", "sqlserver", 1433),
            ("sqlserver-web", "sqlserver", 1433),
            ("sqlserver-dev-ee", "sqlserver", 1433),
            ("custom-sqlserver-ee", "sqlserver", 1433),
            ("custom-sqlserver-web", "sqlserver", 1433),
            ("db2-se", "db2", 50000),
            ("db2-ae", "db2", 50000),
            ("db2-ce", "db2", 50000),
            ("docdb", "mongo", 27017),
            ("redshift", "redshift", 5439),
            ("MySQL", "mysql", 3306),
        ];
        for (aws, secret, port) in cases {
            let r = engine_rule(aws).unwrap_or_else(|| panic!("{aws} unmapped"));
            assert_eq!((r.secret_engine, r.default_port), (secret, port), "{aws}");
            assert_eq!(r.ssl, aws == "docdb", "{aws}");
        }
    }

    #[test]
    fn unsupported_engines() {
        for aws in [
            "neptune",
            "oracle-",
            "sqlserver",
            "db2",
            "aurora-postgres",
            "",
            "mongodb",
        ] {
            assert!(engine_rule(aws).is_none(), "{aws} should be unsupported");
        }
    }

    fn parse(s: &SecretString) -> Value {
        serde_json::from_str(s.expose_secret()).unwrap()
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

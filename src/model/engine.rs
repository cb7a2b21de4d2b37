//! The engine rules (pure): one row per engine family, the only place an engine is described.
//! Adding an engine is adding a row here.

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
    /// AWS's rotation functions for the engine read `masterarn` even for single-user rotation
    /// (Db2): a master secret, which has none, cannot be rotated by them.
    pub rotation_needs_masterarn: bool,
}

const fn rule(aws_engine: Match, secret_engine: &'static str, default_port: i32) -> EngineRule {
    EngineRule {
        aws_engine,
        secret_engine,
        default_port,
        ssl: false,
        rotation_needs_masterarn: false,
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
    EngineRule {
        rotation_needs_masterarn: true,
        ..rule(Match::Prefix("db2-"), "db2", 50000)
    },
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

#[cfg(test)]
mod tests {
    use super::*;

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
            assert_eq!(r.rotation_needs_masterarn, secret == "db2", "{aws}");
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
}

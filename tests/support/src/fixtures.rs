//! The seeded-database fixture: a database in moto, optionally its initial-password parameter,
//! and the names the default templates give its parameter and secret.

use serde_json::Value;

use super::{
    create_cluster, create_instance, create_redshift_cluster, events, put_password, secret_json,
    unique, Clients,
};

/// A database seeded in moto.
#[derive(Debug, Clone)]
pub struct Db {
    /// `instance`, `cluster` or `redshift`.
    pub kind: &'static str,
    /// The `{service}` value: `rds`, `docdb` or `redshift`.
    pub service: &'static str,
    pub id: String,
    /// The master username.
    pub username: String,
}

impl Db {
    /// The default template's parameter for `user`.
    pub fn parameter_of(&self, user: &str) -> String {
        format!("/db-secrets/{}/{}/{user}", self.service, self.id)
    }

    /// The default template's secret name for `user`.
    pub fn secret_name_of(&self, user: &str) -> String {
        format!("db-secrets/{}/{}/{user}", self.service, self.id)
    }

    /// The master user's parameter.
    pub fn parameter(&self) -> String {
        self.parameter_of(&self.username)
    }

    /// The master user's secret name.
    pub fn secret_name(&self) -> String {
        self.secret_name_of(&self.username)
    }

    /// The native creation event (RDS-EVENT-0005 or 0170).
    pub fn event(&self) -> Value {
        match self.kind {
            "instance" => events::rds("instance", &self.id, "RDS-EVENT-0005"),
            "cluster" => events::rds("cluster", &self.id, "RDS-EVENT-0170"),
            other => panic!("{other} databases have no native creation event"),
        }
    }

    /// The master user's stored secret, if any.
    pub async fn secret(&self, c: &Clients) -> Option<Value> {
        secret_json(c, &self.secret_name()).await
    }

    /// Puts the master user's initial password.
    pub async fn put_password(&self, c: &Clients, password: &str) {
        put_password(c, &self.parameter(), password).await
    }
}

/// An RDS instance of `engine` with master user `username`, and its password parameter when
/// `password` is given.
pub async fn instance(
    c: &Clients,
    prefix: &str,
    engine: &str,
    username: &str,
    password: Option<&str>,
) -> Db {
    let db = Db {
        kind: "instance",
        service: "rds",
        id: unique(prefix),
        username: username.into(),
    };
    create_instance(c, &db.id, engine, username).await;
    if let Some(p) = password {
        db.put_password(c, p).await;
    }
    db
}

/// An RDS cluster (Aurora or DocumentDB) with its password parameter when `password` is given.
pub async fn cluster(
    c: &Clients,
    prefix: &str,
    engine: &str,
    username: &str,
    dbname: Option<&str>,
    password: Option<&str>,
) -> Db {
    let db = Db {
        kind: "cluster",
        service: if engine == "docdb" { "docdb" } else { "rds" },
        id: unique(prefix),
        username: username.into(),
    };
    create_cluster(c, &db.id, engine, username, dbname).await;
    if let Some(p) = password {
        db.put_password(c, p).await;
    }
    db
}

/// A Redshift cluster with its password parameter when `password` is given.
pub async fn redshift(c: &Clients, prefix: &str, username: &str, password: Option<&str>) -> Db {
    let db = Db {
        kind: "redshift",
        service: "redshift",
        id: unique(prefix),
        username: username.into(),
    };
    create_redshift_cluster(c, &db.id, username).await;
    if let Some(p) = password {
        db.put_password(c, p).await;
    }
    db
}

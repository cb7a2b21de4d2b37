//! The seeded-database fixture: a database in moto, optionally its initial-password parameter,
//! and the names the default templates give its parameter and secret.
//!
//! [`Db`] is the one way the tests seed a database's initial-password parameter; [`parameter`]
//! and [`secret_name`] are the one way they name a default parameter or secret. Both render the
//! product's own default templates (`Config::from_lookup(|_| None)`), so no test hand-writes
//! `/db-secrets/...`.

use std::sync::OnceLock;

use db_secret_provisioner::config::Config;
use db_secret_provisioner::model::template::{Facts, Template};
use db_secret_provisioner::model::Place;
pub use db_secret_provisioner::model::Service;
use serde_json::Value;

use super::{
    create_cluster, create_instance, create_redshift_cluster, events, put_password, secret_json,
    unique, Clients, ACCOUNT, REGION,
};

/// The default configuration: no variable set.
fn defaults() -> &'static Config {
    static DEFAULTS: OnceLock<Config> = OnceLock::new();
    DEFAULTS.get_or_init(|| Config::from_lookup(|_| None).expect("the default configuration"))
}

/// `template` rendered for `user` of `service` database `id`, in the tests' account and region.
/// The default templates do not use `{engine}`; any value stands in for it.
fn render(template: &Template, service: Service, id: &str, user: &str) -> String {
    let place = Place::own(ACCOUNT, REGION);
    let facts = Facts::of(service, id, Some(user), Some("any"), &place);
    template
        .render(&facts)
        .unwrap_or_else(|| panic!("the default template {template} does not render"))
}

/// The default template's initial-password parameter of `user` of `service` database `id`.
pub fn parameter(service: Service, id: &str, user: &str) -> String {
    render(&defaults().password_parameter, service, id, user)
}

/// The default template's secret name of `user` of `service` database `id`.
pub fn secret_name(service: Service, id: &str, user: &str) -> String {
    render(&defaults().secret_name, service, id, user)
}

/// A database seeded in moto (or only named: [`Db::new`]).
#[derive(Debug, Clone)]
pub struct Db {
    /// `instance`, `cluster`, `redshift` or `workgroup`.
    pub kind: &'static str,
    /// The `{service}` value.
    pub service: Service,
    pub id: String,
    /// The master username.
    pub username: String,
}

impl Db {
    /// A database with a fixed identifier, created by the test itself (or never: a parameter
    /// without a database); seeds nothing.
    pub fn new(kind: &'static str, service: Service, id: &str, username: &str) -> Db {
        Db {
            kind,
            service,
            id: id.to_string(),
            username: username.to_string(),
        }
    }

    /// The default template's parameter for `user`.
    pub fn parameter_of(&self, user: &str) -> String {
        parameter(self.service, &self.id, user)
    }

    /// The default template's secret name for `user`.
    pub fn secret_name_of(&self, user: &str) -> String {
        secret_name(self.service, &self.id, user)
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
        self.put_password_of(c, &self.username, password).await
    }

    /// Puts `user`'s initial password (a master user or a database user).
    pub async fn put_password_of(&self, c: &Clients, user: &str, password: &str) {
        put_password(c, &self.parameter_of(user), password).await
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
    let db = Db::new("instance", Service::Rds, &unique(prefix), username);
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
    let db = Db::new(
        "cluster",
        Service::for_rds_engine(engine),
        &unique(prefix),
        username,
    );
    create_cluster(c, &db.id, engine, username, dbname).await;
    if let Some(p) = password {
        db.put_password(c, p).await;
    }
    db
}

/// A Redshift cluster with its password parameter when `password` is given.
pub async fn redshift(c: &Clients, prefix: &str, username: &str, password: Option<&str>) -> Db {
    let db = Db::new("redshift", Service::Redshift, &unique(prefix), username);
    create_redshift_cluster(c, &db.id, username).await;
    if let Some(p) = password {
        db.put_password(c, p).await;
    }
    db
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the fixtures stand on, written out once: the documented default names.
    #[test]
    fn the_default_templates_give_the_documented_names() {
        assert_eq!(
            parameter(Service::Rds, "orders-db", "admin"),
            "/db-secrets/rds/orders-db/admin"
        );
        assert_eq!(
            secret_name(Service::DocDb, "orders-db", "admin"),
            "db-secrets/docdb/orders-db/admin"
        );
    }
}

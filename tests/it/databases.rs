//! The secret opens a real database: a throwaway PostgreSQL and MariaDB (Debian's packages) on
//! loopback, each the endpoint of an RDS instance in moto (the launcher reports an instance
//! tagged `moto:endpoint-address` at that address, on CreateDBInstance's `Port`). The built
//! function stores the admin secret (RDS-EVENT-0005) and an application user's secret
//! ("Database User Created"); each is then used with exactly its `host`, `port`, `username`,
//! `password` and `dbname`, through tokio-postgres and mysql_async.

use aws_sdk_rds::types::Tag;
use mysql_async::prelude::Queryable;
use serde_json::{json, Value};

use crate::support::events::{instance_created, user};
use crate::support::fixtures::{Db, Service};
use crate::support::servers::Server;
use crate::support::*;

const ADMIN_PW: &str = "Real-Admin-Pw-5b1c";
const USER_PW: &str = "Real-User-Pw-83fa";

/// An RDS instance of `engine` whose endpoint is the local server.
async fn instance_at(c: &Clients, id: &str, engine: &str, port: u16) {
    c.rds
        .create_db_instance()
        .db_instance_identifier(id)
        .engine(engine)
        .set_engine_version((engine == "mariadb").then(|| "10.11.6".to_string()))
        .db_instance_class("db.t3.micro")
        .allocated_storage(20)
        .master_username("dbadmin")
        .master_user_password("unused-by-the-function")
        .db_name("appdb")
        .port(i32::from(port))
        .tags(
            Tag::builder()
                .key("moto:endpoint-address")
                .value("127.0.0.1")
                .build(),
        )
        .send()
        .await
        .unwrap();
}

/// Provisions the admin's and `app_reader`'s secrets through the built function; returns both.
async fn provision_both(c: &Clients, id: &str) -> (Value, Value) {
    let db = Db::new("instance", Service::Rds, id, "dbadmin");
    db.put_password(c, ADMIN_PW).await;
    db.put_password_of(c, "app_reader", USER_PW).await;
    let function = Function::start_default(&[]);
    let admin = function.invoke(&instance_created(id));
    assert_eq!(admin.response()["outcome"], "created", "{admin:?}");
    let reader = function.invoke(&user(
        json!({"dbInstanceIdentifier": id, "username": "app_reader"}),
    ));
    assert_eq!(reader.response()["outcome"], "created", "{reader:?}");
    assert!(!function.logs().contains(ADMIN_PW) && !function.logs().contains(USER_PW));
    (
        db.secret(c).await.unwrap(),
        secret_json(c, &db.secret_name_of("app_reader"))
            .await
            .unwrap(),
    )
}

fn field<'a>(secret: &'a Value, key: &str) -> &'a str {
    secret[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} in {secret}"))
}

fn port(secret: &Value) -> u16 {
    secret["port"]
        .as_u64()
        .expect("port is a JSON number")
        .try_into()
        .unwrap()
}

/// (current user, current database) on a connection made with exactly the secret's fields.
async fn postgres_whoami(secret: &Value) -> (String, String) {
    let (client, connection) = tokio_postgres::Config::new()
        .host(field(secret, "host"))
        .port(port(secret))
        .user(field(secret, "username"))
        .password(field(secret, "password"))
        .dbname(field(secret, "dbname"))
        .connect(tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("connect with the secret: {e}"));
    tokio::spawn(connection);
    let row = client
        .query_one("SELECT current_user::text, current_database()::text", &[])
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

async fn mariadb_whoami(secret: &Value) -> (String, String) {
    let opts = mysql_async::OptsBuilder::default()
        .ip_or_hostname(field(secret, "host"))
        .tcp_port(port(secret))
        .user(Some(field(secret, "username")))
        .pass(Some(field(secret, "password")))
        .db_name(Some(field(secret, "dbname")));
    let mut conn = mysql_async::Conn::new(opts)
        .await
        .unwrap_or_else(|e| panic!("connect with the secret: {e}"));
    let row: Option<(String, String)> = conn
        .query_first("SELECT SUBSTRING_INDEX(CURRENT_USER(), '@', 1), DATABASE()")
        .await
        .unwrap();
    conn.disconnect().await.unwrap();
    row.unwrap()
}

#[tokio::test]
async fn the_stored_secrets_open_a_real_postgresql() {
    let server = Server::postgres();
    server.sql("CREATE DATABASE appdb");
    server.sql(&format!("CREATE ROLE dbadmin LOGIN PASSWORD '{ADMIN_PW}'"));
    server.sql(&format!(
        "CREATE ROLE app_reader LOGIN PASSWORD '{USER_PW}'"
    ));
    let c = clients().await;
    let id = unique("real-pg");
    instance_at(&c, &id, "postgres", server.port).await;
    let (admin, reader) = provision_both(&c, &id).await;
    assert_eq!(admin["engine"], "postgres");
    assert_eq!(admin["port"], json!(server.port));
    assert_eq!(
        postgres_whoami(&admin).await,
        ("dbadmin".into(), "appdb".into())
    );
    assert_eq!(
        postgres_whoami(&reader).await,
        ("app_reader".into(), "appdb".into())
    );
}

#[tokio::test]
async fn the_stored_secrets_open_a_real_mariadb() {
    let server = Server::mariadb();
    server.sql("CREATE DATABASE appdb");
    for (user, pw) in [("dbadmin", ADMIN_PW), ("app_reader", USER_PW)] {
        server.sql(&format!("CREATE USER '{user}'@'%' IDENTIFIED BY '{pw}'"));
        server.sql(&format!("GRANT SELECT ON appdb.* TO '{user}'@'%'"));
    }
    let c = clients().await;
    let id = unique("real-maria");
    instance_at(&c, &id, "mariadb", server.port).await;
    let (admin, reader) = provision_both(&c, &id).await;
    assert_eq!(admin["engine"], "mariadb");
    assert_eq!(
        mariadb_whoami(&admin).await,
        ("dbadmin".into(), "appdb".into())
    );
    assert_eq!(
        mariadb_whoami(&reader).await,
        ("app_reader".into(), "appdb".into())
    );
}

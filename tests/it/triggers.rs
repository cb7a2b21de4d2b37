//! The triggers beyond native RDS events, against moto: DocumentDB (moto extended in
//! `tests/support/moto_launcher.py` to accept engine `docdb`), Redshift provisioned, CloudTrail
//! create calls, restores and "Database User Created". Redshift Serverless is not in moto: see
//! `mocked.rs`.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::support::events::{cloudtrail, user as user_event};
use crate::support::fixtures::{Db, Service};
use crate::support::*;

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

#[tokio::test]
async fn documentdb_cluster_gets_a_mongo_secret_with_ssl() {
    let c = clients().await;
    let db = fixtures::cluster(&c, "docdb", "docdb", "docadmin", None, Some("doc-pw")).await;
    let id = db.id.clone();
    let outcome = outcome(&db.event()).await;
    assert_eq!(outcome["outcome"], "created", "{outcome}");
    assert_eq!(outcome["database"]["service"], "docdb");
    let name = db.secret_name();
    assert_eq!(name, fixtures::secret_name(Service::DocDb, &id, "docadmin"));
    assert_eq!(outcome["secretName"], name.as_str());
    let s = db.secret(&c).await.unwrap();
    assert_eq!(
        keys(&s),
        BTreeSet::from([
            "engine",
            "host",
            "username",
            "password",
            "port",
            "ssl",
            "dbClusterIdentifier",
            "readerHost"
        ])
    );
    assert_eq!(s["engine"], "mongo");
    assert_eq!(s["port"], json!(27017));
    assert_eq!(s["ssl"], json!(true));
    assert_eq!(s["username"], "docadmin");
    assert_eq!(s["dbClusterIdentifier"], id.as_str());
    assert!(s["host"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{id}.cluster-")));
}

#[tokio::test]
async fn documentdb_managed_master_password_is_skipped() {
    let c = clients().await;
    let id = unique("docdb-m");
    c.rds
        .create_db_cluster()
        .db_cluster_identifier(&id)
        .engine("docdb")
        .master_username("docadmin")
        .manage_master_user_password(true)
        .send()
        .await
        .unwrap();
    let outcome = outcome(&events::rds("cluster", &id, "RDS-EVENT-0170")).await;
    assert_eq!(outcome["outcome"], "skipped", "{outcome}");
    assert!(outcome["reason"].as_str().unwrap().contains("rds!cluster-"));
}

#[tokio::test]
async fn redshift_cluster_announced_by_cloudtrail() {
    let c = clients().await;
    let db = fixtures::redshift(&c, "wh", "awsuser", Some("wh-pw")).await;
    let id = db.id.clone();
    let event = cloudtrail(
        "aws.redshift",
        "redshift.amazonaws.com",
        "CreateCluster",
        json!({"clusterIdentifier": id, "masterUsername": "awsuser", "masterUserPassword": "****", "nodeType": "ra3.xlplus"}),
    );
    let outcome = outcome(&event).await;
    assert_eq!(outcome["outcome"], "created", "{outcome}");
    let s = db.secret(&c).await.unwrap();
    assert_eq!(
        keys(&s),
        BTreeSet::from([
            "engine",
            "host",
            "username",
            "password",
            "port",
            "dbname",
            "dbClusterIdentifier"
        ])
    );
    assert_eq!(s["engine"], "redshift");
    assert_eq!(s["port"], json!(5439));
    assert_eq!(s["dbname"], "dev");
    assert_eq!(s["dbClusterIdentifier"], id.as_str());
    assert_eq!(s["password"], "wh-pw");
}

#[tokio::test]
async fn cloudtrail_and_native_events_give_the_same_secret() {
    let c = clients().await;
    for (kind, code, call, key) in [
        (
            "instance",
            "RDS-EVENT-0005",
            "CreateDBInstance",
            "dBInstanceIdentifier",
        ),
        (
            "cluster",
            "RDS-EVENT-0170",
            "CreateDBCluster",
            "dBClusterIdentifier",
        ),
    ] {
        let db = Db::new(kind, Service::Rds, &unique("ct"), "pgadmin");
        let id = db.id.clone();
        if kind == "instance" {
            create_instance(&c, &id, "postgres", "pgadmin").await;
        } else {
            create_cluster(&c, &id, "aurora-mysql", "pgadmin", Some("reports")).await;
        }
        db.put_password(&c, "same-pw").await;
        let name = db.secret_name();

        let by_cloudtrail = outcome(&cloudtrail(
            "aws.rds",
            "rds.amazonaws.com",
            call,
            json!({key: id, "masterUsername": "pgadmin"}),
        ))
        .await;
        assert_eq!(by_cloudtrail["outcome"], "created", "{by_cloudtrail}");
        let from_cloudtrail = secret_json(&c, &name).await.unwrap();
        c.secrets
            .delete_secret()
            .secret_id(&name)
            .force_delete_without_recovery(true)
            .send()
            .await
            .unwrap();
        let native = outcome(&events::rds(kind, &id, code)).await;
        assert_eq!(native["outcome"], "created", "{native}");
        assert_eq!(
            secret_json(&c, &name).await.unwrap(),
            from_cloudtrail,
            "{kind}"
        );
    }
}

#[tokio::test]
async fn a_restored_instance_is_treated_like_a_new_one() {
    let c = clients().await;
    let db = fixtures::instance(&c, "restored", "mysql", "admin", Some("restored-pw")).await;
    let id = db.id.clone();
    for code in ["RDS-EVENT-0043"] {
        let outcome = outcome(&events::rds("instance", &id, code)).await;
        assert_eq!(outcome["outcome"], "created", "{outcome}");
    }
    // A later point-in-time-restore event for the same name finds the secret there.
    let again = outcome(&events::rds("instance", &id, "RDS-EVENT-0019")).await;
    assert_eq!(again["outcome"], "unchanged");
    assert_eq!(
        db.secret(&c).await.unwrap()["dbInstanceIdentifier"],
        id.as_str()
    );
}

#[tokio::test]
async fn an_application_user_on_an_aurora_cluster() {
    let c = clients().await;
    let id = unique("app-aurora");
    let created = c
        .rds
        .create_db_cluster()
        .db_cluster_identifier(&id)
        .engine("aurora-postgresql")
        .master_username("postgres")
        .manage_master_user_password(true)
        .database_name("inventory")
        .send()
        .await
        .unwrap();
    // The masterarn of an alternating-users secret: the cluster's own AWS-managed master secret.
    let master = created
        .db_cluster()
        .and_then(|c| c.master_user_secret())
        .and_then(|s| s.secret_arn())
        .expect("moto reports the managed master secret")
        .to_string();
    let db = Db::new("cluster", Service::Rds, &id, "postgres");
    db.put_password_of(&c, "app_user", "app-user-pw").await;
    let outcome = outcome(&user_event(json!({"dbClusterIdentifier": id, "username": "app_user", "dbname": "orders", "masterSecretArn": master}))).await;
    assert_eq!(
        outcome["outcome"], "created",
        "a managed master password does not skip a user secret: {outcome}"
    );
    let s = secret_json(&c, &db.secret_name_of("app_user"))
        .await
        .unwrap();
    assert_eq!(
        keys(&s),
        BTreeSet::from([
            "engine",
            "host",
            "username",
            "password",
            "port",
            "dbname",
            "dbClusterIdentifier",
            "masterarn",
            "readerHost"
        ])
    );
    assert_eq!(s["engine"], "postgres");
    assert_eq!(s["username"], "app_user");
    assert_eq!(s["password"], "app-user-pw");
    assert_eq!(
        s["dbname"], "orders",
        "the event's dbname overrides Describe's"
    );
    assert_eq!(s["masterarn"], master.as_str());
    assert_eq!(s["port"], json!(5432));
}

/// User secrets on every service take their names from the templates (the events' former
/// `passwordParameter` and `secretName` overrides are gone with the trust boundary).
#[tokio::test]
async fn user_secrets_take_templated_names_on_every_service() {
    let c = clients().await;
    let docdb = Db::new("cluster", Service::DocDb, &unique("app-docdb"), "docadmin");
    create_cluster(&c, &docdb.id, "docdb", "docadmin", None).await;
    let wh = Db::new("redshift", Service::Redshift, &unique("app-wh"), "awsuser");
    create_redshift_cluster(&c, &wh.id, "awsuser").await;
    let inst = Db::new("instance", Service::Rds, &unique("app-inst"), "admin");
    create_instance(&c, &inst.id, "mariadb", "admin").await;

    docdb.put_password_of(&c, "reader", "r-pw").await;
    wh.put_password_of(&c, "etl", "etl-pw").await;
    inst.put_password_of(&c, "svc.api", "api-pw").await;

    let o = outcome(&user_event(
        json!({"dbClusterIdentifier": docdb.id, "username": "reader"}),
    ))
    .await;
    assert_eq!(o["secretName"], docdb.secret_name_of("reader"), "{o}");
    let s = secret_json(&c, &docdb.secret_name_of("reader"))
        .await
        .unwrap();
    assert_eq!(
        (s["engine"].as_str(), s["ssl"].as_bool()),
        (Some("mongo"), Some(true))
    );

    let name = wh.secret_name_of("etl");
    let o = outcome(&user_event(
        json!({"clusterIdentifier": wh.id, "username": "etl"}),
    ))
    .await;
    assert_eq!(o["outcome"], "created", "{o}");
    let s = secret_json(&c, &name).await.unwrap();
    assert_eq!(
        (
            s["engine"].as_str(),
            s["password"].as_str(),
            s["username"].as_str()
        ),
        (Some("redshift"), Some("etl-pw"), Some("etl"))
    );

    let o = outcome(&user_event(
        json!({"dbInstanceIdentifier": inst.id, "username": "svc.api"}),
    ))
    .await;
    assert_eq!(o["outcome"], "created", "{o}");
    assert_eq!(
        secret_json(&c, &inst.secret_name_of("svc.api"))
            .await
            .unwrap()["engine"],
        "mariadb"
    );
}

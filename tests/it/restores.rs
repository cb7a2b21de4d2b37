//! Restores, recreations and the way out of `flagged`, played against the built binary
//! through the Runtime API, each on a moto of its own (the sweep lists the whole account).
//! moto's DescribeEvents records no restoration events, so the restores here carry a restore
//! hint (the CloudTrail restore call); the event-only cases, with the responses AWS documents,
//! are in tests/it/recreation.rs.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::events;
use crate::support::fixtures::{self, Db};
use crate::support::*;

const DELETED: &str = "db-secret-provisioner:database-deleted";
const HINT: &str = "db-secret-provisioner:restore-hint";
const STALE: &str = "db-secret-provisioner:password-stale";
const SEAL: &str = "db-secret-provisioner:seal";

/// The value of `key` on the secret, and whether its deletion is scheduled.
async fn tag(c: &Clients, name: &str, key: &str) -> (Option<String>, bool) {
    let d = describe_secret(c, name).await;
    let value = d
        .tags()
        .iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value().map(str::to_string));
    (value, d.deleted_date().is_some())
}

/// A rotation, as a rotation function leaves it: a new AWSCURRENT version, every key kept.
async fn rotate(c: &Clients, name: &str, password: &str) {
    let mut v = secret_json(c, name).await.unwrap();
    v["password"] = json!(password);
    c.secrets
        .put_secret_value()
        .secret_id(name)
        .secret_string(v.to_string())
        .send()
        .await
        .unwrap();
}

async fn snapshot_instance(c: &Clients, id: &str, snapshot: &str) {
    c.rds
        .create_db_snapshot()
        .db_instance_identifier(id)
        .db_snapshot_identifier(snapshot)
        .send()
        .await
        .unwrap();
}

fn restore_call(id: &str, snapshot: &str) -> Value {
    events::cloudtrail(
        "aws.rds",
        "rds.amazonaws.com",
        "RestoreDBInstanceFromDBSnapshot",
        json!({"dBInstanceIdentifier": id, "dBSnapshotIdentifier": snapshot}),
    )
}

fn user_event(db: &Db, user: &str) -> Value {
    events::user(json!({"dbInstanceIdentifier": db.id, "username": user}))
}

/// Moto's dates are to the second: a step that must come strictly later waits past one.
fn tick() {
    std::thread::sleep(Duration::from_millis(1100));
}

#[tokio::test]
async fn a_restore_from_the_final_snapshot_keeps_the_rotated_passwords() {
    let moto = start_moto(None);
    let c = Clients::new(&sdk_config(&moto.endpoint, REGION).await);
    let env = [
        ("ON_DATABASE_DELETED", "schedule-deletion"),
        ("DELETE_PASSWORD_PARAMETER", "true"),
    ];
    let f = Function::start(&built_binary(), &moto.endpoint, &env);
    // Rotated, then snapshotted (the final snapshot), deleted, and restored under its name.
    let db = fixtures::instance(&c, "rst", "postgres", "admin", Some("Initial-Passw0rd")).await;
    assert_eq!(f.invoke(&db.event()).response()["outcome"], "created");
    db.put_password_of(&c, "app_user", "Initial-User-Pw").await;
    assert_eq!(
        f.invoke(&user_event(&db, "app_user")).response()["outcome"],
        "created"
    );
    let (admin, user) = (db.secret_name(), db.secret_name_of("app_user"));
    rotate(&c, &admin, "Rotated-Passw0rd").await;
    tick();
    snapshot_instance(&c, &db.id, &format!("{}-final", db.id)).await;
    // An older snapshot of a second database, taken before its rotation.
    let old =
        fixtures::instance(&c, "rst-old", "postgres", "admin", Some("Initial-Passw0rd")).await;
    assert_eq!(f.invoke(&old.event()).response()["outcome"], "created");
    snapshot_instance(&c, &old.id, &format!("{}-old", old.id)).await;
    tick();
    rotate(&c, &old.secret_name(), "Rotated-Passw0rd").await;
    for d in [&db, &old] {
        delete_instance(&c, &d.id).await;
        let o = f.invoke(&events::rds("instance", &d.id, "RDS-EVENT-0003"));
        assert_eq!(o.response()["outcome"], "retired", "{o:?}");
    }
    assert!(tag(&c, &admin, DELETED).await.1, "scheduled for deletion");

    // The restore calls leave their hints, before the databases exist.
    for (d, snapshot) in [
        (&db, format!("{}-final", db.id)),
        (&old, format!("{}-old", old.id)),
    ] {
        let o = f.invoke(&restore_call(&d.id, &snapshot));
        assert_eq!(o.response()["outcome"], "updated", "{o:?}");
        let hint = tag(&c, &d.secret_name(), HINT)
            .await
            .0
            .expect("a restore hint");
        assert!(hint.ends_with(&format!("snapshot {snapshot}")), "{hint}");
        create_instance(&c, &d.id, "postgres", "admin").await;
    }
    // RDS-EVENT-0043: the final snapshot postdates the rotation. The value is kept, and the
    // admin and user secrets are live again.
    let o = f.invoke(&events::rds("instance", &db.id, "RDS-EVENT-0043"));
    assert_eq!(o.response()["outcome"], "updated", "{o:?}");
    assert_eq!(db.secret(&c).await.unwrap()["password"], "Rotated-Passw0rd");
    for name in [&admin, &user] {
        assert_eq!(
            tag(&c, name, DELETED).await,
            (None, false),
            "{name} is live"
        );
        assert_eq!(tag(&c, name, HINT).await.0, None);
        assert!(
            tag(&c, name, SEAL).await.0.is_some(),
            "{name} is sealed again"
        );
    }
    assert_eq!(
        secret_json(&c, &user).await.unwrap()["password"],
        "Initial-User-Pw"
    );
    // The older snapshot predates the rotation: flagged, nothing written.
    let versions = version_count(&c, &old.secret_name()).await;
    let o = f.invoke(&events::rds("instance", &old.id, "RDS-EVENT-0043"));
    assert_eq!(o.response()["outcome"], "flagged", "{o:?}");
    assert_eq!(version_count(&c, &old.secret_name()).await, versions);
    assert!(tag(&c, &old.secret_name(), STALE).await.0.is_some());
    assert!(!f.logs().contains("Rotated-Passw0rd") && !f.logs().contains("Initial-Passw0rd"));
}

#[tokio::test]
async fn cluster_and_redshift_restores_read_their_snapshots() {
    let moto = start_moto(None);
    let c = Clients::new(&sdk_config(&moto.endpoint, REGION).await);
    let f = Function::start(&built_binary(), &moto.endpoint, &[]);
    // Aurora: RestoreDBClusterFromSnapshot, then RDS-EVENT-0170 ("created": AWS's cluster
    // events have no restoration category).
    let cl = fixtures::cluster(
        &c,
        "rstc",
        "aurora-postgresql",
        "admin",
        None,
        Some("Cluster-Pw-1"),
    )
    .await;
    assert_eq!(f.invoke(&cl.event()).response()["outcome"], "created");
    rotate(&c, &cl.secret_name(), "Cluster-Rotated").await;
    tick();
    let snapshot = format!("{}-final", cl.id);
    c.rds
        .create_db_cluster_snapshot()
        .db_cluster_identifier(&cl.id)
        .db_cluster_snapshot_identifier(&snapshot)
        .send()
        .await
        .unwrap();
    c.rds
        .delete_db_cluster()
        .db_cluster_identifier(&cl.id)
        .skip_final_snapshot(true)
        .send()
        .await
        .unwrap();
    assert_eq!(
        f.invoke(&events::rds("cluster", &cl.id, "RDS-EVENT-0171"))
            .response()["outcome"],
        "retired"
    );
    let restore = events::cloudtrail(
        "aws.rds",
        "rds.amazonaws.com",
        "RestoreDBClusterFromSnapshot",
        json!({"dBClusterIdentifier": cl.id, "snapshotIdentifier": snapshot, "engine": "aurora-postgresql"}),
    );
    assert_eq!(f.invoke(&restore).response()["outcome"], "updated");
    // (moto names the new cluster's automated snapshot like the old one's, which it keeps.)
    let automated = c
        .rds
        .describe_db_cluster_snapshots()
        .db_cluster_identifier(&cl.id)
        .snapshot_type("automated")
        .send()
        .await
        .unwrap();
    for s in automated.db_cluster_snapshots() {
        c.rds
            .delete_db_cluster_snapshot()
            .db_cluster_snapshot_identifier(s.db_cluster_snapshot_identifier().unwrap())
            .send()
            .await
            .unwrap();
    }
    create_cluster(&c, &cl.id, "aurora-postgresql", "admin", None).await;
    let o = f.invoke(&cl.event());
    assert_eq!(o.response()["outcome"], "updated", "{o:?}");
    assert_eq!(cl.secret(&c).await.unwrap()["password"], "Cluster-Rotated");

    // Redshift: RestoreFromClusterSnapshot; no event follows, the sweep reads the hint.
    let wh = fixtures::redshift(&c, "rstw", "awsuser", Some("Warehouse-Pw-1")).await;
    let create = events::cloudtrail(
        "aws.redshift",
        "redshift.amazonaws.com",
        "CreateCluster",
        json!({"clusterIdentifier": wh.id, "masterUsername": "awsuser"}),
    );
    assert_eq!(f.invoke(&create).response()["outcome"], "created");
    rotate(&c, &wh.secret_name(), "Warehouse-Rotated").await;
    tick();
    let snapshot = format!("{}-final", wh.id);
    c.redshift
        .create_cluster_snapshot()
        .cluster_identifier(&wh.id)
        .snapshot_identifier(&snapshot)
        .send()
        .await
        .unwrap();
    c.redshift
        .delete_cluster()
        .cluster_identifier(&wh.id)
        .skip_final_cluster_snapshot(true)
        .send()
        .await
        .unwrap();
    let delete = events::cloudtrail(
        "aws.redshift",
        "redshift.amazonaws.com",
        "DeleteCluster",
        json!({"clusterIdentifier": wh.id}),
    );
    assert_eq!(f.invoke(&delete).response()["outcome"], "retired");
    let restore = events::cloudtrail(
        "aws.redshift",
        "redshift.amazonaws.com",
        "RestoreFromClusterSnapshot",
        json!({"clusterIdentifier": wh.id, "snapshotIdentifier": snapshot}),
    );
    assert_eq!(f.invoke(&restore).response()["outcome"], "updated");
    create_redshift_cluster(&c, &wh.id, "awsuser").await;
    let s = f.invoke(&events::scheduled());
    assert_eq!(s.response()["sweep"]["flagged"], json!([]), "{s:?}");
    assert_eq!(
        wh.secret(&c).await.unwrap()["password"],
        "Warehouse-Rotated"
    );
    assert_eq!(tag(&c, &wh.secret_name(), DELETED).await, (None, false));
}

#[tokio::test]
async fn deleted_and_recreated_unseen_the_new_password_is_written_and_users_follow() {
    let moto = start_moto(None);
    let c = Clients::new(&sdk_config(&moto.endpoint, REGION).await);
    let f = Function::start(&built_binary(), &moto.endpoint, &[]);
    let db = fixtures::instance(&c, "again", "postgres", "admin", Some("First-Passw0rd")).await;
    assert_eq!(f.invoke(&db.event()).response()["outcome"], "created");
    db.put_password_of(&c, "app_user", "First-User-Pw").await;
    assert_eq!(
        f.invoke(&user_event(&db, "app_user")).response()["outcome"],
        "created"
    );
    // Deleted and created again; the deletion event never arrives.
    delete_instance(&c, &db.id).await;
    tick();
    create_instance(&c, &db.id, "postgres", "admin").await;
    db.put_password(&c, "Second-Passw0rd").await;
    let o = f.invoke(&db.event());
    assert_eq!(o.response()["outcome"], "created", "never unchanged: {o:?}");
    assert_eq!(db.secret(&c).await.unwrap()["password"], "Second-Passw0rd");
    let user = db.secret_name_of("app_user");
    assert!(
        tag(&c, &user, DELETED).await.0.is_some(),
        "the earlier user secret is retired"
    );
    // The new database's user: its event stores the new user password.
    tick();
    db.put_password_of(&c, "app_user", "Second-User-Pw").await;
    let o = f.invoke(&user_event(&db, "app_user"));
    assert_eq!(o.response()["outcome"], "created", "{o:?}");
    assert_eq!(
        secret_json(&c, &user).await.unwrap()["password"],
        "Second-User-Pw"
    );
    assert_eq!(tag(&c, &user, DELETED).await, (None, false));
}

#[tokio::test]
async fn a_secret_moved_to_another_kms_key_is_refused_before_restore() {
    // The function's own sealed, retired secret, whose key someone changed: the key check
    // resolves KMS_KEY_ID (alias/db-secrets, DescribeKey) and finds another key.
    let moto = start_moto(None);
    let c = Clients::new(&sdk_config(&moto.endpoint, REGION).await);
    let env = [("KMS_KEY_ID", "alias/db-secrets")];
    let f = Function::start(&built_binary(), &moto.endpoint, &env);
    let db = fixtures::instance(&c, "rekey", "postgres", "admin", Some("Key-Passw0rd")).await;
    assert_eq!(f.invoke(&db.event()).response()["outcome"], "created");
    delete_instance(&c, &db.id).await;
    assert_eq!(
        f.invoke(&events::rds("instance", &db.id, "RDS-EVENT-0003"))
            .response()["outcome"],
        "retired"
    );
    c.secrets
        .update_secret()
        .secret_id(db.secret_name())
        .kms_key_id("arn:aws:kms:us-east-1:123456789012:key/99999999-9999-4999-8999-999999999999")
        .send()
        .await
        .unwrap();
    create_instance(&c, &db.id, "postgres", "admin").await;
    tick();
    db.put_password(&c, "New-Passw0rd").await;
    let versions = version_count(&c, &db.secret_name()).await;
    let o = f.invoke(&db.event());
    assert_eq!(o.error_type(), "SecretConflict", "{o:?}");
    // By sweep: the database has no live secret, and the same check refuses it.
    let s = f.invoke(&events::scheduled());
    let stuck = s.response()["sweep"]["stuck"].to_string();
    assert!(stuck.contains("SecretConflict"), "{s:?}");
    assert_eq!(version_count(&c, &db.secret_name()).await, versions);
    assert!(
        tag(&c, &db.secret_name(), DELETED).await.0.is_some(),
        "still retired"
    );
}

#[tokio::test]
async fn an_unsealed_secret_is_flagged_until_resolved() {
    let moto = start_moto(None);
    let c = Clients::new(&sdk_config(&moto.endpoint, REGION).await);
    let f = Function::start(&built_binary(), &moto.endpoint, &[]);
    let db = fixtures::instance(
        &c,
        "unsealed",
        "postgres",
        "admin",
        Some("Resolved-Passw0rd"),
    )
    .await;
    assert_eq!(f.invoke(&db.event()).response()["outcome"], "created");
    // As a secret made before sealing: no seal, retired.
    let name = db.secret_name();
    c.secrets
        .untag_resource()
        .secret_id(&name)
        .tag_keys(SEAL)
        .send()
        .await
        .unwrap();
    c.secrets
        .tag_resource()
        .secret_id(&name)
        .tags(
            aws_sdk_secretsmanager::types::Tag::builder()
                .key(DELETED)
                .value("2026-11-01T00:00:00Z")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let versions = version_count(&c, &name).await;
    let o = f.invoke(&db.event());
    assert_eq!(o.response()["outcome"], "flagged", "{o:?}");
    assert_eq!(version_count(&c, &name).await, versions, "no write");
    let reason = o.response()["reason"].as_str().unwrap().to_string();
    assert!(reason.contains(r#""action": "resolve""#), "{reason}");

    let o = f.invoke(&json!({"action": "resolve", "secret": name, "use": "parameter"}));
    assert_eq!(o.response()["outcome"], "updated", "{o:?}");
    assert_eq!(
        db.secret(&c).await.unwrap()["password"],
        "Resolved-Passw0rd"
    );
    assert!(tag(&c, &name, SEAL).await.0.is_some(), "sealed");
    assert_eq!(tag(&c, &name, DELETED).await, (None, false));
    // The next sweep neither flags nor writes it.
    let versions = version_count(&c, &name).await;
    let s = f.invoke(&events::scheduled());
    assert_eq!(s.response()["sweep"]["flagged"], json!([]), "{s:?}");
    assert_eq!(version_count(&c, &name).await, versions);
    // resolve refuses what is not the function's, and never echoes a value.
    let o = f.invoke(&json!({"action": "resolve", "secret": "db-secrets/none", "use": "current"}));
    assert_eq!(o.error_type(), "InvalidEvent", "{o:?}");
    assert!(!f.logs().contains("Resolved-Passw0rd"));
}

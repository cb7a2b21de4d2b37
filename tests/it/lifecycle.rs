//! Secrets follow their databases, against moto: a port change reaches the admin's and every
//! user's secret with the passwords kept; renames are not followed; a deletion retires the
//! secrets as `ON_DATABASE_DELETED` says (with its guard rails); a database created again gets
//! its secret back with the new password; nothing is written during a rotation; and one sweep
//! repairs drift, retires an orphan, re-replicates a failed region and creates a missing secret.
//! (moto keeps an instance's port on ModifyDBInstance: the test launcher applies DBPortNumber.)

use serde_json::json;

use crate::support::events::{self, delete_instance_call, modify_port_call};
use crate::support::fixtures::{self, Db, Service};
use crate::support::proxy::{Mode, Proxy};
use crate::support::*;
use crate::support::{outcome_with as run, sweep_with as sweep};

/// The value of tag `key` on secret `name`, and whether it is scheduled for deletion.
async fn tag_of(c: &Clients, name: &str, key: &str) -> (Option<String>, bool) {
    let d = describe_secret(c, name).await;
    let value = d
        .tags()
        .iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value().map(str::to_string));
    (value, d.deleted_date().is_some())
}

/// A PostgreSQL instance whose admin secret and `app_user`'s secret the function made.
async fn with_two_secrets(c: &Clients, endpoint: &str, prefix: &str, vars: &[(&str, &str)]) -> Db {
    let db = fixtures::instance(c, prefix, "postgres", "admin", Some("admin-pw")).await;
    assert_eq!(run(endpoint, vars, &db.event()).await["outcome"], "created");
    db.put_password_of(c, "app_user", "user-pw").await;
    let user = events::user(
        json!({"dbInstanceIdentifier": db.id, "username": "app_user", "dbname": "appdb"}),
    );
    assert_eq!(run(endpoint, vars, &user).await["outcome"], "created");
    db
}

const ENDPOINT_TAG: &str = "db-secret-provisioner:endpoint";
const DELETED_TAG: &str = "db-secret-provisioner:database-deleted";

#[tokio::test]
async fn a_port_change_reaches_the_admin_and_every_user_secret_with_the_passwords_kept() {
    let c = clients().await;
    let m = &moto().endpoint;
    let db = with_two_secrets(&c, m, "port", &[]).await;
    let (admin, user) = (db.secret_name(), db.secret_name_of("app_user"));
    // A key added by hand stays.
    let mut by_hand = db.secret(&c).await.unwrap();
    by_hand["note"] = json!("added by hand");
    c.secrets
        .put_secret_value()
        .secret_id(&admin)
        .secret_string(by_hand.to_string())
        .send()
        .await
        .unwrap();

    // A database whose identifier starts with this one's: ListSecrets matches tag values as
    // prefixes, so only the exact ownership tags keep its secret out of the change.
    let sibling = Db::new("instance", Service::Rds, &format!("{}-2", db.id), "admin");
    create_instance(&c, &sibling.id, "postgres", "admin").await;
    sibling.put_password(&c, "sibling-pw").await;
    let made = run(m, &[], &events::instance_created(&sibling.id)).await;
    assert_eq!(made["outcome"], "created", "{made}");
    let sibling_secret = sibling.secret(&c).await;

    set_port(&c, &db.id, 6000).await;
    let o = run(m, &[], &modify_port_call(&db.id, 6000)).await;
    assert_eq!(o["outcome"], "updated", "{o}");
    assert_eq!(
        sibling.secret(&c).await,
        sibling_secret,
        "the sibling's secret is not touched"
    );
    let mut changed: Vec<&str> = o["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    changed.sort();
    assert_eq!(changed, [admin.as_str(), user.as_str()]);
    assert!(o["reason"].as_str().unwrap().contains("port"), "{o}");

    let a = secret_json(&c, &admin).await.unwrap();
    let host = a["host"].as_str().unwrap().to_string();
    assert_eq!(
        (a["port"].clone(), a["password"].clone(), a["note"].clone()),
        (json!(6000), json!("admin-pw"), json!("added by hand"))
    );
    assert_eq!(
        (a["username"].clone(), a["engine"].clone()),
        (json!("admin"), json!("postgres"))
    );
    let u = secret_json(&c, &user).await.unwrap();
    assert_eq!(
        (
            u["port"].clone(),
            u["password"].clone(),
            u["dbname"].clone()
        ),
        (json!(6000), json!("user-pw"), json!("appdb"))
    );
    for name in [&admin, &user] {
        assert_eq!(
            tag_of(&c, name, ENDPOINT_TAG).await.0,
            Some(format!("{host}:6000"))
        );
    }

    // A replay writes nothing; with FOLLOW_CONNECTION_CHANGES=false the event is ignored.
    let versions = version_count(&c, &admin).await;
    assert_eq!(
        run(m, &[], &modify_port_call(&db.id, 6000)).await["outcome"],
        "unchanged"
    );
    set_port(&c, &db.id, 6001).await;
    let off = run(
        m,
        &[("FOLLOW_CONNECTION_CHANGES", "false")],
        &modify_port_call(&db.id, 6001),
    )
    .await;
    assert_eq!(off["outcome"], "ignored", "{off}");
    assert_eq!(version_count(&c, &admin).await, versions);
}

#[tokio::test]
async fn nothing_is_written_while_a_rotation_is_in_progress() {
    let c = clients().await;
    let m = &moto().endpoint;
    let db = fixtures::instance(&c, "rotating", "mysql", "admin", Some("rot-pw")).await;
    assert_eq!(run(m, &[], &db.event()).await["outcome"], "created");
    let name = db.secret_name();
    let pending = c
        .secrets
        .put_secret_value()
        .secret_id(&name)
        .secret_string(r#"{"password":"being rotated"}"#)
        .version_stages("AWSPENDING")
        .send()
        .await
        .unwrap();
    set_port(&c, &db.id, 6033).await;
    let versions = version_count(&c, &name).await;
    let o = run(m, &[], &modify_port_call(&db.id, 6033)).await;
    assert_eq!(o["errorType"], "RotationInProgress", "{o}");
    assert_eq!(version_count(&c, &name).await, versions);
    assert_eq!(secret_json(&c, &name).await.unwrap()["port"], 3306);

    // The rotation ends: the retry follows.
    c.secrets
        .update_secret_version_stage()
        .secret_id(&name)
        .version_stage("AWSPENDING")
        .remove_from_version_id(pending.version_id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        run(m, &[], &modify_port_call(&db.id, 6033)).await["outcome"],
        "updated"
    );
    let s = secret_json(&c, &name).await.unwrap();
    assert_eq!(
        (s["port"].clone(), s["password"].clone()),
        (json!(6033), json!("rot-pw"))
    );
}

#[tokio::test]
async fn renames_and_blue_green_switchovers_are_not_followed() {
    // Its own moto: the sweep lists every database.
    let moto = start_moto(None);
    let c = Clients::new(&sdk_config(&moto.endpoint, REGION).await);
    let bg = Db::new("instance", Service::Rds, "bg-prod", "admin");
    create_instance(&c, &bg.id, "mysql", "admin").await;
    bg.put_password(&c, "bg-pw").await;
    let o = run(&moto.endpoint, &[], &events::instance_created("bg-prod")).await;
    assert_eq!(o["outcome"], "created");
    let name = &bg.secret_name();

    let rename = events::cloudtrail(
        "aws.rds",
        "rds.amazonaws.com",
        "ModifyDBInstance",
        json!({"dBInstanceIdentifier": "bg-prod", "newDBInstanceIdentifier": "bg-prod-old1", "applyImmediately": true}),
    );
    let o = run(&moto.endpoint, &[], &rename).await;
    assert_eq!(o["outcome"], "ignored");
    assert!(
        o["reason"]
            .as_str()
            .unwrap()
            .contains("renames are not followed"),
        "{o}"
    );
    // The switchover: blue becomes bg-prod-old1, green takes the name (and the endpoint).
    c.rds
        .modify_db_instance()
        .db_instance_identifier("bg-prod")
        .new_db_instance_identifier("bg-prod-old1")
        .apply_immediately(true)
        .send()
        .await
        .unwrap();
    // (moto names green's automated snapshot like blue's, which it keeps: blue's goes first.)
    let snapshots = c.rds.describe_db_snapshots().send().await.unwrap();
    for s in snapshots.db_snapshots() {
        c.rds
            .delete_db_snapshot()
            .db_snapshot_identifier(s.db_snapshot_identifier().unwrap())
            .send()
            .await
            .unwrap();
    }
    create_instance(&c, "bg-prod", "mysql", "admin").await;
    for id in ["RDS-EVENT-0251", "RDS-EVENT-0247"] {
        let o = run(
            &moto.endpoint,
            &[],
            &events::rds("instance", "bg-prod-old1", id),
        )
        .await;
        assert_eq!(o["outcome"], "ignored", "{id}: {o}");
    }

    let s = sweep(&moto.endpoint, &[]).await;
    assert_eq!(s["databases"], 2, "{s}");
    for key in [
        "created",
        "repaired",
        "retired",
        "replicasRepaired",
        "failed",
    ] {
        assert_eq!(s[key], json!([]), "{key}: {s}");
    }
    assert_eq!(
        (s["alreadyPresent"].clone(), s["skipped"].clone()),
        (json!(1), json!(1)),
        "{s}"
    );
    assert_eq!(version_count(&c, name).await, 1);
    assert_eq!(tag_of(&c, name, DELETED_TAG).await, (None, false));
}

#[tokio::test]
async fn a_deleted_database_retires_its_secrets_as_configured() {
    let c = clients().await;
    let m = &moto().endpoint;
    // The deleted tag is the RFC 3339 UTC time, to the second, of the retirement.
    let started = std::time::SystemTime::now() - std::time::Duration::from_secs(1);
    let retired_now = |tag: Option<String>| {
        tag.as_deref()
            .filter(|t| t.len() == 20 && t.ends_with('Z'))
            .and_then(db_secret_provisioner::model::timestamp::parse)
            .is_some_and(|t| t >= started && t <= std::time::SystemTime::now())
    };

    // tag (the default): every secret of the database, the admin's and the user's.
    let db = with_two_secrets(&c, m, "del-tag", &[]).await;
    delete_instance(&c, &db.id).await;
    let o = run(m, &[], &delete_instance_call(&db.id)).await;
    assert_eq!(o["outcome"], "retired", "{o}");
    assert_eq!(o["secrets"].as_array().unwrap().len(), 2, "{o}");
    for name in [db.secret_name(), db.secret_name_of("app_user")] {
        let (tag, scheduled) = tag_of(&c, &name, DELETED_TAG).await;
        assert!(retired_now(tag.clone()) && !scheduled, "{name}: {tag:?}");
    }
    // Replayed, or the native event after the CloudTrail one: nothing left to retire.
    let again = run(m, &[], &events::rds("instance", &db.id, "RDS-EVENT-0003")).await;
    assert_eq!(again["outcome"], "unchanged", "{again}");

    // schedule-deletion: the replicas are removed first, then the deletion is scheduled.
    let vars = [
        ("ON_DATABASE_DELETED", "schedule-deletion"),
        ("RECOVERY_WINDOW_DAYS", "7"),
        ("REPLICA_REGIONS", "us-west-2"),
    ];
    let db = fixtures::instance(&c, "del-sched", "mysql", "admin", Some("pw-s")).await;
    assert_eq!(run(m, &vars, &db.event()).await["outcome"], "created");
    delete_instance(&c, &db.id).await;
    let o = run(m, &vars, &delete_instance_call(&db.id)).await;
    assert_eq!(o["outcome"], "retired", "{o}");
    assert!(o["reason"].as_str().unwrap().contains("7 days"), "{o}");
    let (tag, scheduled) = tag_of(&c, &db.secret_name(), DELETED_TAG).await;
    assert!(retired_now(tag.clone()) && scheduled, "{tag:?} {scheduled}");
    let d = describe_secret(&c, &db.secret_name()).await;
    assert!(d.replication_status().is_empty(), "replicas removed");

    // ignore: the event is ignored, the secret left as it is.
    let db = fixtures::instance(&c, "del-ign", "mysql", "admin", Some("pw-i")).await;
    assert_eq!(run(m, &[], &db.event()).await["outcome"], "created");
    delete_instance(&c, &db.id).await;
    let o = run(
        m,
        &[("ON_DATABASE_DELETED", "ignore")],
        &delete_instance_call(&db.id),
    )
    .await;
    assert_eq!(o["outcome"], "ignored", "{o}");
    assert_eq!(
        tag_of(&c, &db.secret_name(), DELETED_TAG).await,
        (None, false)
    );

    // Guard rail: a deletion event for a database Describe still shows retires nothing.
    let db = fixtures::instance(&c, "del-alive", "mysql", "admin", Some("pw-a")).await;
    assert_eq!(run(m, &[], &db.event()).await["outcome"], "created");
    let o = run(m, &[], &delete_instance_call(&db.id)).await;
    assert_eq!(o["outcome"], "unchanged", "{o}");
    assert!(o["reason"].as_str().unwrap().contains("exists"), "{o}");
    assert_eq!(
        tag_of(&c, &db.secret_name(), DELETED_TAG).await,
        (None, false)
    );
}

#[tokio::test]
async fn a_database_created_again_under_the_same_name_gets_its_secret_back_with_the_new_password() {
    let c = clients().await;
    let m = &moto().endpoint;
    let vars = [("ON_DATABASE_DELETED", "schedule-deletion")];
    let db = fixtures::instance(&c, "again", "mysql", "admin", Some("first-pw")).await;
    assert_eq!(run(m, &vars, &db.event()).await["outcome"], "created");
    let name = db.secret_name();
    delete_instance(&c, &db.id).await;
    assert_eq!(
        run(m, &vars, &delete_instance_call(&db.id)).await["outcome"],
        "retired"
    );
    assert!(
        tag_of(&c, &name, DELETED_TAG).await.1,
        "scheduled for deletion"
    );

    create_instance(&c, &db.id, "mysql", "admin").await;
    put_parameter(
        &c,
        &db.parameter(),
        "second-pw",
        aws_sdk_ssm::types::ParameterType::SecureString,
    )
    .await;
    let o = run(m, &vars, &db.event()).await;
    assert_eq!(o["outcome"], "created", "{o}");
    assert!(
        o["reason"].as_str().unwrap().contains("created again"),
        "{o}"
    );
    let s = secret_json(&c, &name).await.unwrap();
    assert_eq!(s["password"], "second-pw");
    assert_eq!(tag_of(&c, &name, DELETED_TAG).await, (None, false));
    assert_eq!(version_count(&c, &name).await, 2);
    // A replay of the creation event is a replay again: the password stays.
    assert_eq!(run(m, &vars, &db.event()).await["outcome"], "unchanged");
}

#[tokio::test]
async fn one_sweep_repairs_drift_retires_an_orphan_re_replicates_and_creates_a_missing_secret() {
    let moto = start_moto(None);
    let m = &moto.endpoint;
    let c = Clients::new(&sdk_config(m, REGION).await);
    let eu = Clients::new(&sdk_config(m, "eu-west-1").await);
    let vars = [("REPLICA_REGIONS", "eu-west-1")];
    let rds = |id: &str| Db::new("instance", Service::Rds, id, "admin");
    for id in ["fine-db", "drift-db", "orphan-db", "replica-db"] {
        create_instance(&c, id, "postgres", "admin").await;
        rds(id).put_password(&c, "pw").await;
    }
    // A same-named secret in eu-west-1 makes replica-db's replica fail.
    eu.secrets
        .create_secret()
        .name(rds("replica-db").secret_name())
        .secret_string("{}")
        .send()
        .await
        .unwrap();
    for id in ["fine-db", "drift-db", "orphan-db", "replica-db"] {
        let o = run(m, &vars, &events::instance_created(id)).await;
        assert_eq!(o["outcome"], "created", "{o}");
    }
    // What the events did not say: a port changed, a database went, the clash was cleared,
    // a database came without its event.
    set_port(&c, "drift-db", 6432).await;
    delete_instance(&c, "orphan-db").await;
    eu.secrets
        .delete_secret()
        .secret_id(rds("replica-db").secret_name())
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    create_instance(&c, "missing-db", "postgres", "admin").await;
    rds("missing-db").put_password(&c, "pw").await;

    let s = sweep(m, &vars).await;
    assert_eq!(s["databases"], 4, "{s}");
    assert_eq!(
        s["created"],
        json!([rds("missing-db").secret_name()]),
        "{s}"
    );
    assert_eq!(s["repaired"], json!([rds("drift-db").secret_name()]), "{s}");
    assert_eq!(s["retired"], json!([rds("orphan-db").secret_name()]), "{s}");
    assert_eq!(
        s["replicasRepaired"],
        json!([format!("{}:eu-west-1", rds("replica-db").secret_name())]),
        "{s}"
    );
    assert_eq!(s["alreadyPresent"], 2, "fine-db and replica-db: {s}");
    for key in ["failed", "failedListings", "left", "retireDeferred"] {
        assert_eq!(s[key], json!([]), "{key}: {s}");
    }
    assert_eq!(rds("drift-db").secret(&c).await.unwrap()["port"], 6432);
    assert!(eu
        .secrets
        .describe_secret()
        .secret_id(rds("replica-db").secret_name())
        .send()
        .await
        .is_ok());

    // The next sweep finds everything in place.
    let s = sweep(m, &vars).await;
    for key in [
        "created",
        "repaired",
        "retired",
        "replicasRepaired",
        "failed",
    ] {
        assert_eq!(s[key], json!([]), "{key}: {s}");
    }
    assert_eq!(s["alreadyPresent"], 4, "{s}");
}

/// MySQL instances `ids`, each with its secret made by its creation event.
async fn with_secrets(endpoint: &str, c: &Clients, ids: &[&str]) {
    for id in ids {
        create_instance(c, id, "mysql", "admin").await;
        Db::new("instance", Service::Rds, id, "admin")
            .put_password(c, "pw")
            .await;
        let o = run(endpoint, &[], &events::instance_created(id)).await;
        assert_eq!(o["outcome"], "created");
    }
}

#[tokio::test]
async fn the_sweep_never_retires_on_a_failed_listing_and_at_most_max_retire_per_run() {
    let moto = start_moto(None);
    let c = Clients::new(&sdk_config(&moto.endpoint, REGION).await);
    with_secrets(&moto.endpoint, &c, &["gone-a", "gone-b", "gone-c", "kept"]).await;
    for id in ["gone-a", "gone-b", "gone-c"] {
        delete_instance(&c, id).await;
    }
    let proxy = Proxy::start(&moto.endpoint);
    proxy.set_mode(Mode::Deny("DescribeDBInstances"));
    let s = sweep(&proxy.endpoint(), &[]).await;
    assert_eq!(s["retired"], json!([]), "{s}");
    assert_eq!(s["failedListings"][0]["listing"], "rds-instances", "{s}");

    // MAX_RETIRE_FRACTION (0.2) of 4 managed secrets: max(1, floor(0.8)) = 1.
    proxy.set_mode(Mode::Forward);
    let vars = [("MAX_RETIRE_PER_RUN", "2")];
    let s = sweep(&proxy.endpoint(), &vars).await;
    assert_eq!(s["managed"], 4, "{s}");
    assert_eq!(s["retired"].as_array().unwrap().len(), 1, "{s}");
    assert_eq!(s["retireLimit"], 1, "{s}");
    assert_eq!(s["retireDeferred"].as_array().unwrap().len(), 2, "{s}");
    // All of them may go: MAX_RETIRE_PER_RUN bounds it.
    let vars = [("MAX_RETIRE_PER_RUN", "1"), ("MAX_RETIRE_FRACTION", "1")];
    let s = sweep(&proxy.endpoint(), &vars).await;
    assert_eq!(s["retired"].as_array().unwrap().len(), 1, "{s}");
    assert_eq!(s["retireDeferred"].as_array().unwrap().len(), 1, "{s}");
    let s = sweep(&proxy.endpoint(), &vars).await;
    assert_eq!(s["retired"].as_array().unwrap().len(), 1, "{s}");
    assert_eq!(s["retireDeferred"], json!([]), "{s}");
}

#[tokio::test]
async fn a_listing_that_shows_every_database_gone_retires_nothing() {
    let moto = start_moto(None);
    let c = Clients::new(&sdk_config(&moto.endpoint, REGION).await);
    with_secrets(&moto.endpoint, &c, &["all-a", "all-b"]).await;
    for id in ["all-a", "all-b"] {
        delete_instance(&c, id).await;
    }
    let vars = [("MAX_RETIRE_FRACTION", "1")];
    let s = sweep(&moto.endpoint, &vars).await;
    assert_eq!(s["retired"], json!([]), "{s}");
    assert_eq!(s["retireGuard"], "empty-listing", "{s}");
    assert_eq!(s["retireGuarded"], json!(["rds/instance"]), "{s}");
    // A database of that kind comes back: the listing is believable again.
    create_instance(&c, "all-new", "mysql", "admin").await;
    let s = sweep(&moto.endpoint, &vars).await;
    assert_eq!(s["retired"].as_array().unwrap().len(), 2, "{s}");
    assert!(s.get("retireGuard").is_none(), "{s}");
}

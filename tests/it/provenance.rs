//! Provenance: the function writes into an existing secret only what provably belongs there.
//! Each case is played against the built binary through the Runtime API, on a moto of its own
//! (the sweep lists the whole account).
//!
//! - An operator adopts a hand-made secret by adding the ownership tags (docs/triggers.md); if
//!   its value is not a JSON object (a bare password, an array, a binary secret), no path
//!   (follow, `EXISTING_SECRET=update`, the sweep's repair) ever writes over it: each answers
//!   `SecretNotJson` naming the secret, and the value and its versions stay as they were.
//! - Every new secret carries its database's immutable resource id (the database-id tag) and a
//!   seal (a KMS HMAC over its ARN, ownership tags, database id and creation time).
//! - A squatter's secret (forged ownership and deleted tags, a bogus database id): without a
//!   seal the creation event and the sweep answer `flagged`; with a seal copied from another
//!   secret, `SecretConflict`; either way nothing is written or restored.
//! - The sweep backfills the database-id tag only on secrets made after their database.

use std::sync::OnceLock;

use aws_sdk_secretsmanager::primitives::Blob;
use aws_sdk_secretsmanager::types::Tag;
use db_secret_provisioner::model::tags::Owner;
use db_secret_provisioner::model::{DbKind, Service};
use serde_json::Value;

use crate::support::events::{self, instance_created, modify_port_call};
use crate::support::fixtures;
use crate::support::*;

fn provenance_moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| start_moto(None))
}

/// A hand-made value, as an operator might have stored it before adopting the secret.
#[derive(Debug, Clone, Copy)]
enum HandMade {
    BarePassword,
    Array,
    Binary,
}

/// The secret's current value (string or binary) and how many versions it has.
async fn value_and_versions(c: &Clients, name: &str) -> (Option<String>, Option<Vec<u8>>, usize) {
    let v = c
        .secrets
        .get_secret_value()
        .secret_id(name)
        .send()
        .await
        .unwrap();
    let versions = c
        .secrets
        .list_secret_version_ids()
        .secret_id(name)
        .send()
        .await
        .unwrap();
    (
        v.secret_string().map(str::to_string),
        v.secret_binary().map(|b| b.as_ref().to_vec()),
        versions.versions().len(),
    )
}

#[tokio::test]
async fn an_adopted_secret_that_is_not_json_is_never_overwritten() {
    let endpoint = &provenance_moto().endpoint;
    let c = Clients::new(&sdk_config(endpoint, REGION).await);
    let mut wrong = Vec::new();
    let mut adopted = Vec::new();
    for made in [HandMade::BarePassword, HandMade::Array, HandMade::Binary] {
        let db = fixtures::instance(&c, "adopt", "postgres", "admin", Some("Init-Passw0rd")).await;
        let name = db.secret_name();
        // The operator's secret, adopted the documented way: the three ownership tags.
        let tags: Vec<Tag> = Owner::new(Service::Rds, DbKind::Instance, &db.id, "admin")
            .tags()
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect();
        let create = c.secrets.create_secret().name(&name).set_tags(Some(tags));
        let create = match made {
            HandMade::BarePassword => create.secret_string("Hand-Made-Passw0rd"),
            HandMade::Array => create.secret_string(r#"["Hand-Made-Passw0rd"]"#),
            HandMade::Binary => create.secret_binary(Blob::new(b"Hand-Made-Passw0rd".to_vec())),
        };
        create.send().await.unwrap();
        let before = value_and_versions(&c, &name).await;

        // 1. A port change (follow), 2. a creation event with EXISTING_SECRET=update.
        c.rds
            .modify_db_instance()
            .db_instance_identifier(&db.id)
            .db_port_number(6543)
            .apply_immediately(true)
            .send()
            .await
            .unwrap();
        for (path, env, event) in [
            ("follow", vec![], modify_port_call(&db.id, 6543)),
            (
                "update",
                vec![("EXISTING_SECRET", "update")],
                instance_created(&db.id),
            ),
        ] {
            let f = Function::start(&built_binary(), endpoint, &env);
            let answer = f.invoke(&event);
            if answer.error_type() != "SecretNotJson" {
                wrong.push(format!("{made:?} by {path}: {answer:?}"));
            } else if !format!("{answer:?}").contains(&name) {
                wrong.push(format!(
                    "{made:?} by {path}: the error does not name {name}"
                ));
            }
            if f.logs().contains("Hand-Made-Passw0rd") {
                wrong.push(format!("{made:?} by {path}: the value is in the logs"));
            }
        }
        adopted.push((made, name, before));
    }

    // 3. The sweep's repair (every adopted secret lacks the endpoint tag: drift).
    let f = Function::start(&built_binary(), endpoint, &[]);
    let answer = f.invoke(&events::scheduled());
    // Only an operator can give them a JSON value: reported once each, as stuck.
    let failed: Vec<Value> = answer.response()["sweep"]["stuck"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let not_json = failed
        .iter()
        .filter(|f| f["errorType"] == "SecretNotJson")
        .count();
    if not_json != 3 {
        wrong.push(format!(
            "the sweep: {not_json} SecretNotJson failures, not 3: {answer:?}"
        ));
    }
    if format!("{answer:?}").contains("Hand-Made-Passw0rd") {
        wrong.push("the sweep: the value is in the answer".into());
    }
    for (made, name, before) in &adopted {
        if value_and_versions(&c, name).await != *before {
            wrong.push(format!("{made:?}: the value or its versions changed"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Every new secret names the database it was made for by its immutable resource id
/// (`DbiResourceId`, `DbClusterResourceId`: "the AWS Region-unique, immutable identifier", RDS
/// API reference), which a database created again under the same name does not share.
#[tokio::test]
async fn a_new_secret_is_tagged_with_its_databases_immutable_id() {
    let endpoint = &provenance_moto().endpoint;
    let c = Clients::new(&sdk_config(endpoint, REGION).await);
    let db = fixtures::instance(&c, "dbid", "mysql", "admin", Some("Init-Passw0rd")).await;
    let resource_id = describe_instance(&c, &db.id)
        .await
        .dbi_resource_id()
        .expect("moto gives a DbiResourceId")
        .to_string();
    let f = Function::start(&built_binary(), endpoint, &[]);
    assert_eq!(f.invoke(&db.event()).response()["outcome"], "created");
    let tagged = describe_secret(&c, &db.secret_name())
        .await
        .tags()
        .iter()
        .find(|t| t.key() == Some("db-secret-provisioner:database-id"))
        .and_then(|t| t.value().map(str::to_string));
    assert_eq!(tagged, Some(resource_id));
}

/// The squat secret's value, versions and tags, to compare before and after an attack.
async fn squat_state(
    c: &Clients,
    name: &str,
) -> (Option<String>, usize, Vec<(String, String)>, bool) {
    let (value, _, versions) = value_and_versions(c, name).await;
    let d = describe_secret(c, name).await;
    let mut tags: Vec<(String, String)> = d
        .tags()
        .iter()
        .map(|t| (t.key().unwrap_or("").into(), t.value().unwrap_or("").into()))
        .collect();
    tags.sort();
    (value, versions, tags, d.deleted_date().is_some())
}

/// Plants, as an attacker who may create and tag secrets under the prefix could, a secret at
/// `db`'s name: the three ownership tags, the deleted tag (so it reads as a retired secret of
/// the function), a bogus database id, and `seal` when given.
async fn plant(c: &Clients, db: &fixtures::Db, seal: Option<&str>) -> String {
    let name = db.secret_name();
    let mut tags: Vec<(String, String)> =
        Owner::new(Service::Rds, DbKind::Instance, &db.id, "admin")
            .tags()
            .to_vec();
    tags.push((
        "db-secret-provisioner:database-deleted".into(),
        "2026-11-01T00:00:00Z".into(),
    ));
    tags.push((
        "db-secret-provisioner:database-id".into(),
        "db-ATTACKER0000000000000000".into(),
    ));
    if let Some(s) = seal {
        tags.push(("db-secret-provisioner:seal".into(), s.into()));
    }
    c.secrets
        .create_secret()
        .name(&name)
        .secret_string(
            r#"{"host":"attacker.example.com","username":"admin","password":"squatted"}"#,
        )
        .set_tags(Some(
            tags.iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect(),
        ))
        .send()
        .await
        .unwrap();
    name
}

#[tokio::test]
async fn a_squatted_secret_never_receives_the_password_by_event_or_by_sweep() {
    // A moto of its own: the sweep lists the whole account.
    let moto = start_moto(None);
    let endpoint = &moto.endpoint;
    let c = Clients::new(&sdk_config(endpoint, REGION).await);
    const PW: &str = "Real-Initial-Passw0rd";
    // A legitimate secret, whose seal the attacker copies.
    let legit = fixtures::instance(&c, "legit", "mysql", "admin", Some("Legit-Passw0rd")).await;
    let f = Function::start(&built_binary(), endpoint, &[]);
    assert_eq!(f.invoke(&legit.event()).response()["outcome"], "created");
    let copied = describe_secret(&c, &legit.secret_name())
        .await
        .tags()
        .iter()
        .find(|t| t.key() == Some("db-secret-provisioner:seal"))
        .and_then(|t| t.value().map(str::to_string))
        .expect("the function sealed its secret");

    let unsealed = fixtures::instance(&c, "squat-a", "mysql", "admin", Some(PW)).await;
    let copied_seal = fixtures::instance(&c, "squat-b", "mysql", "admin", Some(PW)).await;
    let a = plant(&c, &unsealed, None).await;
    let b = plant(&c, &copied_seal, Some(&copied)).await;
    let before = (squat_state(&c, &a).await, squat_state(&c, &b).await);

    let mut wrong = Vec::new();
    // By event: the creation event of each database.
    let answer = f.invoke(&unsealed.event());
    if answer.response()["outcome"] != "flagged" {
        wrong.push(format!("unsealed, by event: {answer:?}"));
    }
    let answer = f.invoke(&copied_seal.event());
    if answer.error_type() != "SecretConflict" {
        wrong.push(format!("copied seal, by event: {answer:?}"));
    }
    // By sweep: both are databases without a live secret.
    let answer = f.invoke(&events::scheduled());
    let sweep = &answer.response()["sweep"];
    if sweep["flagged"] != serde_json::json!([a]) {
        wrong.push(format!("unsealed, by sweep: {sweep}"));
    }
    let conflicts: Vec<&Value> = sweep["stuck"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter(|f| f["errorType"] == "SecretConflict")
                .collect()
        })
        .unwrap_or_default();
    if conflicts.len() != 1 {
        wrong.push(format!("copied seal, by sweep: {sweep}"));
    }
    let after = (squat_state(&c, &a).await, squat_state(&c, &b).await);
    if after != before {
        wrong.push(format!(
            "a squatted secret changed: {before:?} -> {after:?}"
        ));
    }
    // The alarm's metric filter counts these lines (template.yaml FlaggedSecretsMetric).
    let flagged_lines = f
        .logs()
        .lines()
        .filter(|l| l.contains(r#""message":"secret flagged""#))
        .count();
    if flagged_lines != 2 {
        wrong.push(format!(
            "{flagged_lines} \"secret flagged\" log lines, not 2 (event, sweep)"
        ));
    }
    if f.logs().contains(PW) || format!("{answer:?}").contains(PW) {
        wrong.push("the password is in a log line or an answer".into());
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn the_sweep_backfills_the_database_id_only_on_secrets_made_after_their_database() {
    // Secrets made before the database-id tag existed: one made (by the function) after its
    // database, one planted before its database was created. Only the first gets the tag, and
    // neither gets a seal. A moto of its own: the sweep lists the whole account.
    let moto = start_moto(None);
    let endpoint = &moto.endpoint;
    let c = Clients::new(&sdk_config(endpoint, REGION).await);
    let f = Function::start(&built_binary(), endpoint, &[]);
    let after = fixtures::instance(&c, "upgrade", "mysql", "admin", Some("Upgrade-Passw0rd")).await;
    // moto keeps a secret's CreatedDate to the second: let the second of the database pass.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(f.invoke(&after.event()).response()["outcome"], "created");
    // As an earlier version left it: no database-id tag (and no seal).
    c.secrets
        .untag_resource()
        .secret_id(after.secret_name())
        .tag_keys("db-secret-provisioner:database-id")
        .tag_keys("db-secret-provisioner:seal")
        .send()
        .await
        .unwrap();
    // Planted before its database exists (CreatedDate has seconds: wait past them).
    let before = fixtures::Db::new("instance", Service::Rds, "planted-early", "admin");
    let planted = plant(&c, &before, None).await;
    c.secrets
        .untag_resource()
        .secret_id(&planted)
        .tag_keys("db-secret-provisioner:database-deleted")
        .tag_keys("db-secret-provisioner:database-id")
        .send()
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    create_instance(&c, &before.id, "mysql", "admin").await;

    let sweep = f.invoke(&events::scheduled());
    let report = &sweep.response()["sweep"];
    assert_eq!(
        report["backfilled"],
        serde_json::json!([after.secret_name()]),
        "{report}"
    );
    let tag = |name: String| {
        let c = c.clone();
        async move {
            describe_secret(&c, &name)
                .await
                .tags()
                .iter()
                .filter(|t| {
                    matches!(
                        t.key(),
                        Some("db-secret-provisioner:database-id" | "db-secret-provisioner:seal")
                    )
                })
                .map(|t| t.key().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        tag(after.secret_name()).await,
        ["db-secret-provisioner:database-id"]
    );
    assert!(
        tag(planted).await.is_empty(),
        "nothing backfilled on the early secret"
    );
    // The next sweep has nothing left to backfill.
    let again = f.invoke(&events::scheduled());
    assert_eq!(
        again.response()["sweep"]["backfilled"],
        serde_json::json!([])
    );
}

//! Provenance: the function writes into an existing secret only what provably belongs there.
//! Each case is played against the built binary through the Runtime API, on a moto of its own
//! (the sweep lists the whole account).
//!
//! - An operator adopts a hand-made secret by adding the ownership tags (docs/triggers.md); if
//!   its value is not a JSON object (a bare password, an array, a binary secret), no path
//!   (follow, `EXISTING_SECRET=update`, the sweep's repair) ever writes over it: each answers
//!   `SecretNotJson` naming the secret, and the value and its versions stay as they were.
//! - Every new secret carries its database's immutable resource id (the database-id tag).

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
    let failed: Vec<Value> = answer.response()["sweep"]["failed"]
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
    let described = c
        .rds
        .describe_db_instances()
        .db_instance_identifier(&db.id)
        .send()
        .await
        .unwrap();
    let resource_id = described.db_instances()[0]
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

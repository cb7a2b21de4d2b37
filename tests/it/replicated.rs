//! Replicated databases, against moto: a PostgreSQL instance in us-east-1 with read replicas in
//! other regions gets the regional connection keys in its secret and in the secret's replica;
//! the sweep adds a second replica's keys and removes a deleted one's, keeping the password
//! and every other key; `REGIONAL_CONNECTION_KEYS=false` removes the function's keys; an
//! Aurora cluster's secret carries its reader endpoint and a cross-region replica cluster's; a
//! promoted replica gets its own secret in its region, with the password from the local
//! replica of its source's secret, while every request to the source's region fails.
//!
//! moto lists a cross-region replica in its source's `ReadReplicaDBInstanceIdentifiers` and
//! `ReadReplicaIdentifiers` by ARN, as RDS does, and filters DescribeDBInstances and
//! DescribeDBClusters by ARN. Deleting a cross-region replica fails in moto: the launcher's
//! `cross_region_replica_deletion` mends it. A region whose Describe fails is played with the
//! proxy's `FailWhere` (AccessDenied on the ARN-filtered DescribeDBInstances), a region that is
//! down with its `RegionDown`. moto keeps a promoted replica linked to its source: the
//! launcher's `promotion_detaches_replicas` mends it.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::events;
use crate::support::fixtures::{Db, Service};
use crate::support::proxy::{Mode, Proxy};
use crate::support::*;
use crate::support::{outcome_with as run, sweep_with as sweep};

/// A read replica of `source` (an instance in us-east-1) in `c`'s region.
async fn replica_of(c: &Clients, source: &str, id: &str) -> aws_sdk_rds::types::DbInstance {
    c.rds
        .create_db_instance_read_replica()
        .db_instance_identifier(id)
        .source_db_instance_identifier(format!("arn:aws:rds:{REGION}:123456789012:db:{source}"))
        .db_instance_class("db.t3.micro")
        .send()
        .await
        .unwrap_or_else(|e| panic!("create replica {id}: {e:?}"))
        .db_instance()
        .cloned()
        .unwrap()
}

fn regional_keys(s: &Value) -> Vec<String> {
    let mut keys: Vec<String> = s
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| *k == "regions" || k.contains('.'))
        .cloned()
        .collect();
    keys.sort();
    keys
}

async fn connection_tag(c: &Clients, name: &str) -> Option<String> {
    secret_tag(c, name, "db-secret-provisioner:connection").await
}

#[tokio::test]
async fn cross_region_replicas_are_in_the_secret_and_follow_the_database() {
    let moto = start_moto(None);
    let m = &moto.endpoint;
    let c = Clients::new(&sdk_config(m, REGION).await);
    let eu = Clients::new(&sdk_config(m, "eu-west-1").await);
    let ap = Clients::new(&sdk_config(m, "ap-south-1").await);
    let vars = [("REPLICA_REGIONS", "eu-west-1")];
    let db = Db::new("instance", Service::Rds, "orders-pg", "admin");
    create_instance(&c, &db.id, "postgres", "admin").await;
    db.put_password(&c, "initial-pw").await;
    let source = describe_instance(&c, &db.id).await;
    let eu_copy = replica_of(&eu, &db.id, "orders-pg-eu").await;
    assert_ne!(eu_copy.dbi_resource_id(), source.dbi_resource_id());

    let o = run(m, &vars, &db.event()).await;
    assert_eq!(o["outcome"], "created", "{o}");
    let name = db.secret_name();
    let s = db.secret(&c).await.unwrap();
    let eu_endpoint = eu_copy.endpoint().unwrap();
    assert_eq!(s["regions"], "us-east-1,eu-west-1", "{s}");
    assert_eq!(s["eu-west-1.host"], eu_endpoint.address().unwrap(), "{s}");
    assert_eq!(s["eu-west-1.port"], 5432, "a JSON number: {s}");
    assert_eq!(s["eu-west-1.identifier"], "orders-pg-eu", "{s}");
    assert_eq!(
        s["eu-west-1.resourceId"],
        eu_copy.dbi_resource_id().unwrap(),
        "{s}"
    );
    assert_eq!(s["us-east-1.host"], s["host"], "{s}");
    assert_eq!(
        s["us-east-1.resourceId"],
        source.dbi_resource_id().unwrap(),
        "{s}"
    );
    assert!(
        s.as_object().unwrap().values().all(|v| !v.is_null()),
        "no nulls: {s}"
    );
    // The secret's replica in eu-west-1 carries every region's information.
    let replica = secret_json(&eu, &name).await.expect("replica secret");
    assert_eq!(replica["eu-west-1.host"], s["eu-west-1.host"], "{replica}");
    assert_eq!(replica["regions"], s["regions"], "{replica}");
    let digest = connection_tag(&c, &name).await.expect("the connection tag");
    assert_eq!(digest.len(), 24, "{digest}");
    assert_eq!(
        secret_tag(&c, &name, "db-secret-provisioner:copies").await,
        Some(format!("eu-west-1={}", eu_copy.dbi_resource_id().unwrap()))
    );

    // Nothing changed: the sweep rewrites nothing.
    let swept = sweep(m, &vars).await;
    assert_eq!(swept["repaired"], json!([]), "{swept}");
    assert_eq!(swept["failedListings"], json!([]), "{swept}");

    // A key added by hand, a rotated password; then a second replica: its keys are added at
    // the next sweep, and everything else stays.
    let mut value = s.clone();
    value["note"] = json!("by hand");
    value["password"] = json!("rotated-pw");
    c.secrets
        .put_secret_value()
        .secret_id(&name)
        .secret_string(value.to_string())
        .send()
        .await
        .unwrap();
    let ap_copy = replica_of(&ap, &db.id, "orders-pg-ap").await;
    assert_ne!(
        Some(&json!(ap_copy.dbi_resource_id().unwrap())),
        s.get("ap-south-1.resourceId")
    );
    let swept = sweep(m, &vars).await;
    assert_eq!(swept["repaired"], json!([name]), "{swept}");
    let s = db.secret(&c).await.unwrap();
    assert_eq!(s["regions"], "us-east-1,ap-south-1,eu-west-1", "{s}");
    assert_eq!(
        s["ap-south-1.host"],
        ap_copy.endpoint().unwrap().address().unwrap()
    );
    assert_eq!(s["eu-west-1.host"], eu_endpoint.address().unwrap());
    assert_eq!(s["password"], "rotated-pw");
    assert_eq!(s["note"], "by hand");

    // The ap-south-1 replica is deleted while eu-west-1, where a copy still is, cannot be
    // described (the ARN-filtered Describe is refused): the copies are not known, so nothing
    // of the secret changes, and the failure is reported.
    let proxy = Proxy::start(m);
    proxy.set_mode(Mode::FailWhere(&[(
        "DescribeDBInstances",
        "db-instance-id",
        "AccessDenied",
    )]));
    ap.rds
        .delete_db_instance()
        .db_instance_identifier("orders-pg-ap")
        .skip_final_snapshot(true)
        .send()
        .await
        .unwrap();
    let swept = sweep(&proxy.endpoint(), &vars).await;
    assert_eq!(swept["repaired"], json!([]), "{swept}");
    assert_eq!(
        swept["failedListings"][0]["listing"], "copies:eu-west-1",
        "{swept}"
    );
    assert_eq!(db.secret(&c).await.unwrap(), s, "kept as it was");
    let ap_copy = replica_of(&ap, &db.id, "orders-pg-ap").await;
    assert_ne!(
        Some(&json!(ap_copy.dbi_resource_id().unwrap())),
        s.get("ap-south-1.resourceId")
    );
    let swept = sweep(m, &vars).await;
    assert_eq!(
        swept["repaired"],
        json!([name]),
        "the new ap-south-1 copy: {swept}"
    );
    let s = db.secret(&c).await.unwrap();
    assert_eq!(
        s["ap-south-1.resourceId"],
        ap_copy.dbi_resource_id().unwrap()
    );

    // The eu-west-1 replica is deleted: its keys go at the next sweep, and only they.
    eu.rds
        .delete_db_instance()
        .db_instance_identifier("orders-pg-eu")
        .skip_final_snapshot(true)
        .send()
        .await
        .unwrap();
    let before = s.clone();
    let swept = sweep(m, &vars).await;
    assert_eq!(swept["repaired"], json!([name]), "{swept}");
    let s = db.secret(&c).await.unwrap();
    assert_eq!(s["regions"], "us-east-1,ap-south-1", "{s}");
    for (k, v) in before.as_object().unwrap() {
        if k.starts_with("eu-west-1.") {
            assert!(s.get(k).is_none(), "{k} removed: {s}");
        } else if k != "regions" {
            assert_eq!(s.get(k), Some(v), "{k} kept");
        }
    }

    // Turned off: the function's regional keys go, and with them the connection tag.
    let off = [
        ("REPLICA_REGIONS", "eu-west-1"),
        ("REGIONAL_CONNECTION_KEYS", "false"),
    ];
    let swept = sweep(m, &off).await;
    assert_eq!(swept["repaired"], json!([name]), "{swept}");
    let s = db.secret(&c).await.unwrap();
    assert_eq!(regional_keys(&s), Vec::<String>::new(), "{s}");
    assert_eq!(s["password"], "rotated-pw");
    assert_eq!(s["note"], "by hand");
    assert_eq!(connection_tag(&c, &name).await, None);
    let swept = sweep(m, &off).await;
    assert_eq!(swept["repaired"], json!([]), "{swept}");
}

#[tokio::test]
async fn aurora_secrets_carry_the_reader_endpoint_and_a_replica_cluster_s() {
    let moto = start_moto(None);
    let m = &moto.endpoint;
    let c = Clients::new(&sdk_config(m, REGION).await);
    let eu = Clients::new(&sdk_config(m, "eu-west-1").await);
    let db = Db::new("cluster", Service::Rds, "ledger", "admin");
    create_cluster(&c, &db.id, "aurora-postgresql", "admin", Some("ledger")).await;
    db.put_password(&c, "pw").await;
    let source = c
        .rds
        .describe_db_clusters()
        .db_cluster_identifier(&db.id)
        .send()
        .await
        .unwrap()
        .db_clusters()[0]
        .clone();
    let o = run(m, &[], &db.event()).await;
    assert_eq!(o["outcome"], "created", "{o}");
    let s = db.secret(&c).await.unwrap();
    assert_eq!(s["readerHost"], source.reader_endpoint().unwrap(), "{s}");
    assert!(s.get("regions").is_none(), "no copy elsewhere: {s}");

    // A cross-region replica cluster (Aurora's `ReplicationSourceIdentifier`).
    let copy = eu
        .rds
        .create_db_cluster()
        .db_cluster_identifier("ledger-eu")
        .engine("aurora-postgresql")
        .replication_source_identifier(source.db_cluster_arn().unwrap())
        .master_username("admin")
        .master_user_password("moto-master-pw-unused")
        .send()
        .await
        .unwrap()
        .db_cluster()
        .cloned()
        .unwrap();
    let swept = sweep(m, &[]).await;
    assert_eq!(swept["repaired"], json!([db.secret_name()]), "{swept}");
    let s = db.secret(&c).await.unwrap();
    assert_eq!(s["regions"], "us-east-1,eu-west-1", "{s}");
    assert_eq!(s["eu-west-1.host"], copy.endpoint().unwrap());
    assert_eq!(s["eu-west-1.readerHost"], copy.reader_endpoint().unwrap());
    assert_eq!(s["us-east-1.readerHost"], s["readerHost"]);
    assert_eq!(s["eu-west-1.identifier"], "ledger-eu");
    assert_eq!(s["password"], "pw");
    assert_eq!(s["dbname"], "ledger");
}

#[tokio::test]
async fn a_promoted_replica_gets_its_own_secret_while_the_primary_region_is_down() {
    let moto = start_moto(None);
    let m = &moto.endpoint;
    let c = Clients::new(&sdk_config(m, REGION).await);
    let eu = Clients::new(&sdk_config(m, "eu-west-1").await);
    let vars = [("REPLICA_REGIONS", "eu-west-1")];
    // A decoy made first (ListSecrets lists it first): another database's replicated secret.
    let decoy = Db::new("instance", Service::Rds, "aaa-decoy", "admin");
    create_instance(&c, &decoy.id, "postgres", "admin").await;
    decoy.put_password(&c, "decoy-pw").await;
    assert_eq!(run(m, &vars, &decoy.event()).await["outcome"], "created");
    let db = Db::new("instance", Service::Rds, "billing", "admin");
    create_instance(&c, &db.id, "postgres", "admin").await;
    db.put_password(&c, "source-pw").await;
    let copy = replica_of(&eu, &db.id, "billing-eu").await;
    assert_eq!(run(m, &vars, &db.event()).await["outcome"], "created");
    let source_arn = describe_secret(&c, &db.secret_name())
        .await
        .arn()
        .unwrap()
        .to_string();

    // A second source whose replica kept its name: promoted, its secret's name is the local
    // replica's.
    let same = Db::new("instance", Service::Rds, "ledger-pg", "admin");
    create_instance(&c, &same.id, "postgres", "admin").await;
    same.put_password(&c, "ledger-pw").await;
    replica_of(&eu, &same.id, "ledger-pg").await;
    assert_eq!(run(m, &vars, &same.event()).await["outcome"], "created");
    // The attack: a standalone database in eu-west-1 without a parameter, and the source
    // secret's copies tag (which TagResource writes, and which replicates) naming it.
    create_instance(&eu, "evil-eu", "postgres", "admin").await;
    let evil = describe_instance(&eu, "evil-eu").await;
    let copies = secret_tag(&c, &db.secret_name(), "db-secret-provisioner:copies")
        .await
        .expect("the source's copies tag");

    // TagResource, as someone allowed it (not PutSecretValue) would call it.
    let tag_copies = |name: String, value: String| {
        let c = &c;
        async move {
            c.secrets
                .tag_resource()
                .secret_id(name)
                .tags(
                    aws_sdk_secretsmanager::types::Tag::builder()
                        .key("db-secret-provisioner:copies")
                        .value(value)
                        .build(),
                )
                .send()
                .await
                .unwrap();
        }
    };
    tag_copies(
        db.secret_name(),
        format!("{copies} eu-west-1={}", evil.dbi_resource_id().unwrap()),
    )
    .await;
    // The decoy's copies tag is made to name billing-eu too: it cannot hide the real source.
    tag_copies(
        decoy.secret_name(),
        format!("eu-west-1={}", copy.dbi_resource_id().unwrap()),
    )
    .await;

    // us-east-1 goes down; the eu-west-1 replicas are promoted, and the eu-west-1 function
    // sweeps its region (every request to us-east-1 is refused).
    for id in ["billing-eu", "ledger-pg"] {
        eu.rds
            .promote_read_replica()
            .db_instance_identifier(id)
            .send()
            .await
            .unwrap();
    }
    let proxy = Proxy::start(m);
    proxy.set_mode(Mode::RegionDown(REGION));
    let eu_function =
        Clients::new(&sdk_config_as(&proxy.endpoint(), "eu-west-1", FUNCTION_KEY).await);
    let h = handler_with(eu_function, &[("AWS_REGION", "eu-west-1")]);
    let in_eu = Invocation::new(ACCOUNT, "eu-west-1").with_remaining(Duration::from_secs(300));
    let mut scheduled = events::scheduled();
    scheduled["region"] = json!("eu-west-1");
    scheduled["resources"] = json!([format!(
        "arn:aws:events:eu-west-1:{ACCOUNT}:rule/db-secret-provisioner-reconcile"
    )]);
    let o = serde_json::to_value(h.handle(&scheduled, &in_eu).await.unwrap()).unwrap();
    let promoted = Db::new("instance", Service::Rds, "billing-eu", "admin");
    assert_eq!(
        o["sweep"]["created"],
        json!([promoted.secret_name()]),
        "{o}"
    );
    assert_eq!(proxy.refused(), 0, "nothing asked of us-east-1");
    // The forged tag gave the attacker's database nothing: the source's value does not name it.
    assert!(secret_json(&eu, "db-secrets/rds/evil-eu/admin")
        .await
        .is_none());
    // The replica named like its source is refused, saying what to change.
    let stuck = o["sweep"]["stuck"].as_array().unwrap();
    assert!(
        stuck.iter().any(|j| j["name"] == "DB instance ledger-pg"
            && j["message"].as_str().unwrap().contains("{region}")),
        "{o}"
    );
    let s = secret_json(&eu, &promoted.secret_name()).await.unwrap();
    assert_eq!(
        s["password"], "source-pw",
        "the source's, from the local replica"
    );
    assert_eq!(s["host"], copy.endpoint().unwrap().address().unwrap());
    assert_eq!(s["dbInstanceIdentifier"], "billing-eu");
    assert!(s.get("masterarn").is_none(), "{s}");
    let name = promoted.secret_name();
    assert_eq!(
        secret_tag(&eu, &name, "db-secret-provisioner:promoted-from").await,
        Some(source_arn.clone())
    );
    assert_eq!(
        secret_tag(&eu, &name, "db-secret-provisioner:database")
            .await
            .as_deref(),
        Some("rds/instance/billing-eu")
    );

    // The next sweep there finds it in place. (A database under a former copy's name but with
    // another resource id is no copy: src/rules/promotion.rs plays it.)
    let h = handler_with(
        Clients::new(&sdk_config_as(&proxy.endpoint(), "eu-west-1", FUNCTION_KEY).await),
        &[("AWS_REGION", "eu-west-1")],
    );
    let o = serde_json::to_value(h.handle(&scheduled, &in_eu).await.unwrap()).unwrap();
    assert_eq!(o["sweep"]["created"], json!([]), "{o}");
    assert_eq!(o["sweep"]["alreadyPresent"], 1, "{o}");
    assert!(secret_json(&eu, "db-secrets/rds/aaa-decoy/admin")
        .await
        .is_some());
}

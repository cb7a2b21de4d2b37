//! Secret options, replication, idempotency under concurrency, `EXISTING_SECRET=update`,
//! parameter deletion and the reconcile sweep, against moto.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::fixtures::{Db, Service};
use crate::support::*;

const KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
/// The customer managed key of the initial-password parameters (the template's
/// ParameterKmsKeyArn in the IAM contract).
const PARAMETER_KEY: &str =
    "arn:aws:kms:us-east-1:123456789012:key/0c0d0e0f-0000-4000-8000-00000000a55a";

async fn run(vars: &[(&str, &str)], event: &Value) -> Value {
    let h = handler_with(function_clients(&moto().endpoint).await, vars);
    serde_json::to_value(h.handle(event, &here()).await.unwrap()).unwrap()
}

/// (region, status) of each replica DescribeSecret reports, sorted.
async fn replica_regions(c: &Clients, name: &str) -> Vec<(String, String)> {
    let d = describe_secret(c, name).await;
    let mut regions: Vec<(String, String)> = d
        .replication_status()
        .iter()
        .map(|r| {
            (
                r.region().unwrap().to_string(),
                r.status().unwrap().as_str().to_string(),
            )
        })
        .collect();
    regions.sort();
    regions
}

/// A MySQL instance with its password parameter; returns (id, secret name).
async fn database(prefix: &str, password: &str) -> (String, String) {
    let c = clients().await;
    let db = fixtures::instance(&c, prefix, "mysql", "admin", Some(password)).await;
    let name = db.secret_name();
    (db.id, name)
}

#[tokio::test]
async fn kms_key_tags_and_replicas_go_into_one_create_secret() {
    let c = clients().await;
    let (id, name) = database("opts", "opts-pw").await;
    let outcome = run(
        &[
            ("KMS_KEY_ID", KEY),
            ("SECRET_TAGS", "team=data,env=prod"),
            ("REPLICA_REGIONS", "us-west-2,eu-west-1"),
        ],
        &events::instance_created(&id),
    )
    .await;
    assert_eq!(outcome["outcome"], "created", "{outcome}");
    let replicas: Vec<(String, String)> = outcome["replicas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["region"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(replicas.len(), 2, "{outcome}");
    assert!(
        replicas
            .iter()
            .all(|(_, s)| s == "InSync" || s == "InProgress"),
        "{replicas:?}"
    );

    let d = describe_secret(&c, &name).await;
    assert_eq!(d.kms_key_id(), Some(KEY));
    let mut tags: HashMap<&str, &str> = d
        .tags()
        .iter()
        .map(|t| (t.key().unwrap(), t.value().unwrap()))
        .collect();
    // The seal is a MAC made after CreateSecret: present and of its form.
    let seal = tags.remove("db-secret-provisioner:seal");
    assert!(seal.is_some_and(|s| s.starts_with("v1 ")), "{seal:?}");
    let database = format!("rds/instance/{id}");
    let endpoint = format!("{id}.aaaaaaaaaa.us-east-1.rds.amazonaws.com:3306");
    let described = c
        .rds
        .describe_db_instances()
        .db_instance_identifier(&id)
        .send()
        .await
        .unwrap();
    let database_id = described.db_instances()[0]
        .dbi_resource_id()
        .unwrap()
        .to_string();
    assert_eq!(
        tags,
        HashMap::from([
            ("team", "data"),
            ("env", "prod"),
            ("managed-by", "db-secret-provisioner"),
            ("db-secret-provisioner:database-id", database_id.as_str()),
            ("db-secret-provisioner:database", database.as_str()),
            ("db-secret-provisioner:username", "admin"),
            ("db-secret-provisioner:endpoint", endpoint.as_str()),
        ])
    );
    assert_eq!(
        replica_regions(&c, &name).await,
        [("eu-west-1", "InSync"), ("us-west-2", "InSync")]
            .map(|(r, s)| (r.to_string(), s.to_string()))
    );

    let primary = secret_json(&c, &name).await.unwrap();
    let west = Clients::new(&sdk_config(&moto().endpoint, "us-west-2").await);
    assert_eq!(
        secret_json(&west, &name).await.unwrap(),
        primary,
        "the replica returns the same JSON"
    );
}

#[tokio::test]
async fn a_replica_region_with_a_same_named_secret_fails_while_the_primary_is_created() {
    let c = clients().await;
    let (id, name) = database("collide", "collide-pw").await;
    let eu = Clients::new(&sdk_config(&moto().endpoint, "eu-west-1").await);
    eu.secrets
        .create_secret()
        .name(&name)
        .secret_string("{}")
        .send()
        .await
        .unwrap();

    let outcome = run(
        &[("REPLICA_REGIONS", "us-west-2,eu-west-1")],
        &events::instance_created(&id),
    )
    .await;
    assert_eq!(outcome["outcome"], "created", "{outcome}");
    let eu_status = outcome["replicas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["region"] == "eu-west-1")
        .unwrap()
        .clone();
    assert_eq!(eu_status["status"], "Failed", "{outcome}");
    assert_eq!(
        secret_json(&c, &name).await.unwrap()["password"],
        "collide-pw"
    );
    assert_eq!(
        secret_json(&eu, &name).await.unwrap(),
        json!({}),
        "the other secret is not overwritten"
    );
}

#[tokio::test]
async fn an_existing_secret_of_ours_gets_the_missing_replica_regions() {
    let c = clients().await;
    let (id, name) = database("grow", "grow-pw").await;
    let event = events::instance_created(&id);
    assert_eq!(
        run(&[("REPLICA_REGIONS", "us-west-2")], &event).await["outcome"],
        "created"
    );
    let outcome = run(&[("REPLICA_REGIONS", "us-west-2,eu-central-1")], &event).await;
    assert_eq!(outcome["outcome"], "updated", "{outcome}");
    assert!(outcome["reason"].as_str().unwrap().contains("eu-central-1"));
    let regions: Vec<String> = replica_regions(&c, &name)
        .await
        .into_iter()
        .map(|(r, _)| r)
        .collect();
    assert_eq!(regions, ["eu-central-1", "us-west-2"]);
    assert_eq!(
        run(&[("REPLICA_REGIONS", "us-west-2,eu-central-1")], &event).await["outcome"],
        "unchanged"
    );
}

#[test]
fn twenty_concurrent_invocations_make_one_secret_with_one_version() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (id, name) = rt.block_on(database("race", "race-pw"));
    let event = events::instance_created(&id);
    let functions: Vec<Function> = (0..20).map(|_| Function::start_default(&[])).collect();
    let outcomes: Vec<Value> = std::thread::scope(|s| {
        let handles: Vec<_> = functions
            .iter()
            .map(|f| {
                s.spawn(|| {
                    f.api
                        .invoke(&event, Duration::from_secs(120))
                        .response()
                        .clone()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let created = outcomes
        .iter()
        .filter(|o| o["outcome"] == "created")
        .count();
    let unchanged = outcomes
        .iter()
        .filter(|o| o["outcome"] == "unchanged")
        .count();
    assert_eq!((created, unchanged), (1, 19), "{outcomes:?}");
    let c = rt.block_on(clients());
    assert_eq!(rt.block_on(version_count(&c, &name)), 1);
    let matching = rt
        .block_on(c.secrets.list_secrets().send())
        .unwrap()
        .secret_list()
        .iter()
        .filter(|s| s.name() == Some(name.as_str()))
        .count();
    assert_eq!(matching, 1);
}

#[tokio::test]
async fn update_refreshes_connection_keys_and_keeps_the_rotated_password() {
    let c = clients().await;
    let (id, name) = database("upd", "initial-pw").await;
    let event = events::instance_created(&id);
    assert_eq!(run(&[], &event).await["outcome"], "created");
    let real_host = secret_json(&c, &name).await.unwrap()["host"].clone();

    // Since then: the password was rotated and the secret points at an old endpoint.
    let mut stale = secret_json(&c, &name).await.unwrap();
    stale["host"] = json!("old-endpoint.example.internal");
    stale["password"] = json!("rotated-pw");
    stale["note"] = json!("added by someone");
    c.secrets
        .put_secret_value()
        .secret_id(&name)
        .secret_string(stale.to_string())
        .send()
        .await
        .unwrap();

    let kept = run(&[], &event).await;
    assert_eq!(kept["outcome"], "unchanged", "keep is the default");
    assert_eq!(
        secret_json(&c, &name).await.unwrap()["host"],
        "old-endpoint.example.internal"
    );

    let updated = run(&[("EXISTING_SECRET", "update")], &event).await;
    assert_eq!(updated["outcome"], "updated", "{updated}");
    let now = secret_json(&c, &name).await.unwrap();
    assert_eq!(now["host"], real_host);
    assert_eq!(
        now["password"], "rotated-pw",
        "the password is never written back"
    );
    assert_eq!(now["note"], "added by someone");
    assert_eq!(version_count(&c, &name).await, 3);

    let again = run(&[("EXISTING_SECRET", "update")], &event).await;
    assert_eq!(again["outcome"], "unchanged", "nothing left to refresh");
    assert_eq!(version_count(&c, &name).await, 3);
}

/// Since the trust boundary, a foreign secret is a `SecretConflict` (it was `unchanged`).
#[tokio::test]
async fn update_never_touches_a_secret_without_our_tag() {
    let c = clients().await;
    let (id, name) = database("foreign", "pw").await;
    c.secrets
        .create_secret()
        .name(&name)
        .secret_string(r#"{"host":"elsewhere"}"#)
        .send()
        .await
        .unwrap();
    let h = handler_with(
        function_clients(&moto().endpoint).await,
        &[
            ("EXISTING_SECRET", "update"),
            ("REPLICA_REGIONS", "us-west-2"),
        ],
    );
    let e = h
        .handle(&events::instance_created(&id), &here())
        .await
        .unwrap_err();
    assert_eq!(e.error_type(), "SecretConflict", "{e}");
    assert!(e.to_string().contains("managed-by") && e.to_string().contains(&name));
    assert_eq!(
        secret_json(&c, &name).await.unwrap(),
        json!({"host": "elsewhere"})
    );
    assert!(replica_regions(&c, &name).await.is_empty());
}

#[tokio::test]
async fn a_secret_scheduled_for_deletion_is_a_clear_error_never_a_silent_restore() {
    let c = clients().await;
    let (id, name) = database("deleted", "pw").await;
    let event = events::instance_created(&id);
    assert_eq!(run(&[], &event).await["outcome"], "created");
    c.secrets
        .delete_secret()
        .secret_id(&name)
        .recovery_window_in_days(7)
        .send()
        .await
        .unwrap();
    let h = handler_with(function_clients(&moto().endpoint).await, &[]);
    let e = h.handle(&event, &here()).await.unwrap_err();
    assert_eq!(e.error_type(), "SecretScheduledForDeletion");
    assert!(e.to_string().contains(&name));
    let d = describe_secret(&c, &name).await;
    assert!(d.deleted_date().is_some(), "still scheduled for deletion");
}

#[tokio::test]
async fn the_password_parameter_is_deleted_once_stored_and_replays_still_succeed() {
    let c = clients().await;
    let (id, name) = database("delparam", "pw").await;
    let event = events::instance_created(&id);
    let vars = [("DELETE_PASSWORD_PARAMETER", "true")];
    assert_eq!(run(&vars, &event).await["outcome"], "created");
    let gone = c
        .ssm
        .get_parameter()
        .name(fixtures::parameter(Service::Rds, &id, "admin"))
        .send()
        .await;
    assert!(gone.is_err(), "the parameter is deleted");
    let replay = run(&vars, &event).await;
    assert_eq!(replay["outcome"], "unchanged", "{replay}");
    assert_eq!(secret_json(&c, &name).await.unwrap()["password"], "pw");
}

#[tokio::test]
async fn a_tag_equal_to_the_password_is_refused() {
    let c = clients().await;
    let (id, name) = database("tagpw", "Tag-Pass-123").await;
    let h = handler_with(
        function_clients(&moto().endpoint).await,
        &[("SECRET_TAGS", "hint=Tag-Pass-123")],
    );
    let e = h
        .handle(&events::instance_created(&id), &here())
        .await
        .unwrap_err();
    assert_eq!(e.error_type(), "ConfigurationError");
    assert!(e.to_string().contains("SECRET_TAGS") && e.to_string().contains("hint"));
    assert!(!e.to_string().contains("Tag-Pass-123"));
    assert!(secret_json(&c, &name).await.is_none());
}

#[tokio::test]
async fn the_resource_policy_is_attached() {
    let c = clients().await;
    let (id, name) = database("policy", "pw").await;
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"secretsmanager:DeleteSecret","Resource":"*"}]}"#;
    assert_eq!(
        run(
            &[("RESOURCE_POLICY", policy)],
            &events::instance_created(&id)
        )
        .await["outcome"],
        "created"
    );
    let stored = c
        .secrets
        .get_resource_policy()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    let stored: Value = serde_json::from_str(stored.resource_policy().unwrap()).unwrap();
    assert_eq!(stored, serde_json::from_str::<Value>(policy).unwrap());
}

#[tokio::test]
async fn the_sweep_heals_missed_events_and_leaves_the_rest_untouched() {
    // Its own moto: the sweep lists every database, so it must not see other tests'.
    let moto = start_moto(None);
    let c = Clients::new(&sdk_config(&moto.endpoint, REGION).await);
    let [a, b] = ["missed-a", "missed-b"].map(|id| Db::new("instance", Service::Rds, id, "admin"));
    for db in [&a, &b] {
        create_instance(&c, &db.id, "postgres", "admin").await;
        db.put_password(&c, "sweep-pw").await;
    }
    let cluster = Db::new("cluster", Service::Rds, "missed-cluster", "admin");
    create_cluster(&c, &cluster.id, "aurora-mysql", "admin", None).await;
    cluster.put_password(&c, "sweep-pw").await;
    create_redshift_cluster(&c, "no-parameter-wh", "awsuser").await;
    let taken = Db::new("instance", Service::Rds, "has-secret", "admin");
    create_instance(&c, &taken.id, "mysql", "admin").await;
    taken.put_password(&c, "sweep-pw").await;
    c.secrets
        .create_secret()
        .name(taken.secret_name())
        .secret_string(r#"{"password":"someone else's"}"#)
        .send()
        .await
        .unwrap();
    create_managed_instance(&c, "managed-one").await;

    let scheduled = events::scheduled();
    let h = handler_with(function_clients(&moto.endpoint).await, &[]);
    let o = serde_json::to_value(
        h.handle(&scheduled, &here().with_remaining(Duration::from_secs(300)))
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(o["outcome"], "reconciled", "{o}");
    let sweep = &o["sweep"];
    assert_eq!(sweep["databases"], 6, "{o}");
    assert_eq!(
        sweep["created"],
        json!([a.secret_name(), b.secret_name(), cluster.secret_name()])
    );
    assert_eq!(sweep["alreadyPresent"], 0);
    assert_eq!(sweep["skipped"], 2, "no parameter; managed password");
    // Someone else's secret at the templated name: a conflict, reported once as stuck (only an
    // operator can resolve it), left as it is.
    assert_eq!(sweep["failed"], json!([]), "{o}");
    let stuck = sweep["stuck"].as_array().unwrap();
    assert_eq!(stuck.len(), 1, "{o}");
    assert_eq!(stuck[0]["name"], "DB instance has-secret");
    assert_eq!(stuck[0]["kind"], "create");
    assert_eq!(stuck[0]["errorType"], "SecretConflict");
    assert_eq!(sweep["left"], json!([]));
    assert_eq!(a.secret(&c).await.unwrap()["engine"], "postgres");
    assert_eq!(
        taken.secret(&c).await.unwrap(),
        json!({"password": "someone else's"})
    );

    // A second sweep finds everything in place.
    let again = serde_json::to_value(
        h.handle(&scheduled, &here().with_remaining(Duration::from_secs(300)))
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(again["sweep"]["created"], json!([]));
    assert_eq!(again["sweep"]["alreadyPresent"], 3);
    assert_eq!(again["sweep"]["stuck"].as_array().unwrap().len(), 1);

    // Out of time: no job is started, each is reported as left (the databases whose secrets
    // are in place need none).
    let late = serde_json::to_value(
        h.handle(&scheduled, &here().with_remaining(Duration::from_secs(1)))
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(late["sweep"]["left"].as_array().unwrap().len(), 3, "{late}");
}

#[tokio::test]
async fn rotation_is_turned_on_with_the_function_of_the_secrets_engine() {
    // moto's RotateSecret would invoke the function in Docker: the launcher emulates the
    // rotation function's test step passing (RotateImmediately=false).
    let c = clients().await;
    let (id, name) = database("rot", "rot-pw").await;
    let pg = "arn:aws:lambda:us-east-1:123456789012:function:rotate-mysql";
    let o = run(
        &[
            ("ROTATION_LAMBDA_ARNS", &format!("mysql={pg}")),
            ("ROTATION_SCHEDULE", "rate(30 days)"),
        ],
        &events::instance_created(&id),
    )
    .await;
    assert_eq!(o["outcome"], "created", "{o}");
    let d = describe_secret(&c, &name).await;
    assert_eq!(d.rotation_enabled(), Some(true));
    assert_eq!(d.rotation_lambda_arn(), Some(pg));
    assert_eq!(version_count(&c, &name).await, 1, "no version is added");
}

#[tokio::test]
async fn each_replica_region_gets_its_own_kms_key() {
    let c = clients().await;
    let (id, name) = database("rkey", "rkey-pw").await;
    let eu_key = "arn:aws:kms:eu-west-1:123456789012:key/5e6f7a8b-0000-4000-8000-00000000e001";
    let o = run(
        &[
            ("KMS_KEY_ID", KEY),
            ("REPLICA_REGIONS", "us-west-2,eu-west-1"),
            ("REPLICA_KMS_KEY_ARNS", eu_key),
        ],
        &events::instance_created(&id),
    )
    .await;
    assert_eq!(o["outcome"], "created", "{o}");
    let d = describe_secret(&c, &name).await;
    let eu = d
        .replication_status()
        .iter()
        .find(|r| r.region() == Some("eu-west-1"))
        .unwrap();
    assert_eq!(eu.kms_key_id(), Some(eu_key));
    let west = d
        .replication_status()
        .iter()
        .find(|r| r.region() == Some("us-west-2"))
        .unwrap();
    assert_ne!(west.kms_key_id(), Some(eu_key));
}

#[tokio::test]
async fn a_parameter_under_a_customer_managed_key_is_read_with_decryption() {
    // The IAM contract sees this read and requires kms:Decrypt on PARAMETER_KEY through SSM.
    let c = clients().await;
    let db = fixtures::instance(&c, "pkey", "mysql", "admin", None).await;
    c.ssm
        .put_parameter()
        .name(db.parameter())
        .value("pkey-pw")
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .key_id(PARAMETER_KEY)
        .send()
        .await
        .unwrap();
    let o = run(&[], &events::instance_created(&db.id)).await;
    assert_eq!(o["outcome"], "created", "{o}");
    assert_eq!(db.secret(&c).await.unwrap()["password"], "pkey-pw");
}

//! Behaviour where moto is lenient and a real account is not: a rotation function per engine
//! and strategy, deciding from the first Describe before any wait, read replicas, a bounded
//! poll for Serverless workgroups, databases without an initial-password parameter, and a sweep
//! whose listings fail one by one. Rotation and `creating` states come from aws-smithy-mocks
//! (moto wants a real rotation Lambda and makes everything `available` at once); the rest runs
//! against moto, its Redshift Serverless emulated in the test launcher.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_rds::types::{DbInstance, MasterUserSecret};
use aws_sdk_redshiftserverless::operation::get_namespace::GetNamespaceOutput;
use aws_sdk_redshiftserverless::operation::get_workgroup::GetWorkgroupOutput;
use aws_sdk_redshiftserverless::types::{Namespace, Workgroup, WorkgroupStatus};
use aws_sdk_secretsmanager::operation::rotate_secret::RotateSecretOutput;
use aws_smithy_mocks::{mock, Rule};
use serde_json::{json, Value};

use crate::support::events::{self, create_db_instance_call, user};
use crate::support::fixtures::{Db, Service};
use crate::support::mocks::{self, capture_create, secure};
use crate::support::proxy::{Mode, Proxy};
use crate::support::*;

const ROTATORS: &str = "postgres=arn:aws:lambda:us-east-1:123456789012:function:rotate-pg,\
postgres:multi=arn:aws:lambda:us-east-1:123456789012:function:rotate-pg-multi,\
db2:multi=arn:aws:lambda:us-east-1:123456789012:function:rotate-db2-multi";
const MANAGED: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-0f1e2d-AbCdEf";

fn instance(id: &str, engine: &str) -> DbInstance {
    mocks::instance(
        id,
        engine,
        Some(("db.x.rds.amazonaws.com", 5432)),
        "available",
    )
}

/// A RotateSecret rule that records the rotation function of each call.
fn capture_rotation() -> (Rule, Arc<Mutex<Vec<String>>>) {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = seen.clone();
    let rule = mock!(aws_sdk_secretsmanager::Client::rotate_secret).then_compute_output(move |r| {
        sink.lock()
            .unwrap()
            .push(r.rotation_lambda_arn().unwrap_or_default().to_string());
        RotateSecretOutput::builder().build()
    });
    (rule, seen)
}

/// Runs `event` with `db` described and rotation configured; returns (outcome or errorType,
/// rotation functions called, stored secret).
async fn rotate(db: DbInstance, event: Value) -> (Value, Vec<String>, Value) {
    let describe = mocks::describe(db);
    let ssm = secure("pw-rotation");
    let (create, stored) = capture_create();
    let (rotate, seen) = capture_rotation();
    let clients = mocks::clients(&mocks::Rules {
        rds: vec![&describe],
        ssm: vec![&ssm],
        secrets: vec![&create, &rotate],
        ..Default::default()
    });
    let h = handler_with(
        clients,
        &[
            ("ROTATION_LAMBDA_ARNS", ROTATORS),
            ("ROTATION_SCHEDULE", "rate(30 days)"),
        ],
    );
    let outcome = serde_json::to_value(h.handle(&event, &here()).await.unwrap()).unwrap();
    let secret = stored
        .lock()
        .unwrap()
        .clone()
        .map(|(_, v)| serde_json::from_str(&v).unwrap())
        .unwrap_or(Value::Null);
    let calls = seen.lock().unwrap().clone();
    (outcome, calls, secret)
}

#[tokio::test]
async fn each_secret_gets_the_rotation_function_of_its_engine_and_strategy_or_a_reason() {
    // postgres, single user: its own function.
    let (o, calls, _) = rotate(instance("pg", "postgres"), events::instance_created("pg")).await;
    assert_eq!(o["outcome"], "created", "{o}");
    assert_eq!(
        calls,
        ["arn:aws:lambda:us-east-1:123456789012:function:rotate-pg"]
    );
    assert!(o.get("reason").is_none(), "{o}");

    // mysql: no function configured for it → no rotation, and the reason says so.
    let (o, calls, _) = rotate(instance("my", "mysql"), events::instance_created("my")).await;
    assert_eq!(o["outcome"], "created");
    assert!(
        calls.is_empty(),
        "the postgres function never rotates mysql"
    );
    assert!(
        o["reason"]
            .as_str()
            .unwrap()
            .contains("no function for mysql"),
        "{o}"
    );

    // An alternating-users secret (masterarn: the instance's managed master secret).
    let managed = DbInstance::builder()
        .db_instance_identifier("pgm")
        .engine("postgres")
        .db_instance_status("available")
        .master_username("admin")
        .endpoint(
            aws_sdk_rds::types::Endpoint::builder()
                .address("pgm.x.rds.amazonaws.com")
                .port(5432)
                .build(),
        )
        .master_user_secret(MasterUserSecret::builder().secret_arn(MANAGED).build())
        .build();
    let (o, calls, secret) = rotate(
        managed,
        user(json!({"dbInstanceIdentifier": "pgm", "username": "app", "masterSecretArn": MANAGED})),
    )
    .await;
    assert_eq!(o["outcome"], "created", "{o}");
    assert_eq!(secret["masterarn"], MANAGED);
    assert_eq!(
        calls,
        ["arn:aws:lambda:us-east-1:123456789012:function:rotate-pg-multi"]
    );

    // Db2: its master secret has no masterarn, which AWS's Db2 rotators need; dbname is kept.
    let (o, calls, secret) = rotate(instance("d2", "db2-se"), events::instance_created("d2")).await;
    assert_eq!(o["outcome"], "created", "{o}");
    assert!(calls.is_empty());
    assert!(
        o["reason"].as_str().unwrap().contains("need masterarn"),
        "{o}"
    );
    assert_eq!(
        secret["dbname"], "ORCL",
        "a Db2 secret carries Describe's dbname"
    );
}

/// A database still `creating` (no endpoint) as the first Describe shows it.
fn creating(id: &str) -> aws_sdk_rds::types::builders::DbInstanceBuilder {
    DbInstance::builder()
        .db_instance_identifier(id)
        .engine("postgres")
        .db_instance_status("creating")
        .master_username("admin")
}

#[tokio::test]
async fn the_first_describe_decides_a_skip_without_waiting() {
    for (what, db, needle) in [
        (
            "Aurora member",
            creating("m").db_cluster_identifier("aurora-1").build(),
            "member of DB cluster aurora-1",
        ),
        (
            "managed password",
            creating("m")
                .master_user_secret(MasterUserSecret::builder().secret_arn(MANAGED).build())
                .build(),
            "managed by AWS",
        ),
        (
            "unsupported engine",
            creating("m").engine("neptune").build(),
            "neptune",
        ),
        (
            "read replica",
            creating("m")
                .read_replica_source_db_instance_identifier("orders-primary")
                .build(),
            "read replica of orders-primary",
        ),
        (
            "being deleted",
            creating("m").db_instance_status("deleting").build(),
            "deleting",
        ),
    ] {
        let describe = mocks::describe(db);
        let ssm = secure("pw");
        let (create, _) = capture_create();
        let clients = mocks::rds_clients(&describe, &ssm, &create);
        let h = handler_with(clients, &[("WAIT_FOR_AVAILABLE_SECONDS", "600")]);
        let started = Instant::now();
        let o = serde_json::to_value(
            h.handle(&create_db_instance_call("m"), &here())
                .await
                .unwrap(),
        )
        .unwrap();
        assert_eq!(o["outcome"], "skipped", "{what}: {o}");
        assert!(
            o["reason"].as_str().unwrap().contains(needle),
            "{what}: {o}"
        );
        assert_eq!(
            describe.num_calls(),
            1,
            "{what}: one Describe, no waiter poll"
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{what}: no wait"
        );
        assert_eq!(create.num_calls(), 0);
    }
}

#[tokio::test]
async fn a_read_replica_is_skipped_naming_its_source() {
    let c = clients().await;
    let db = fixtures::instance(&c, "primary", "postgres", "admin", Some("pw")).await;
    let replica = unique("replica");
    c.rds
        .create_db_instance_read_replica()
        .db_instance_identifier(&replica)
        .source_db_instance_identifier(&db.id)
        .send()
        .await
        .unwrap();
    let replica = Db::new("instance", Service::Rds, &replica, "admin");
    replica.put_password(&c, "pw").await;
    let o = outcome(&events::instance_created(&replica.id)).await;
    assert_eq!(o["outcome"], "skipped", "{o}");
    assert!(o["reason"].as_str().unwrap().contains(&db.id), "{o}");
    assert!(replica.secret(&c).await.is_none());
}

fn workgroup(status: WorkgroupStatus) -> Workgroup {
    let available = status == WorkgroupStatus::Available;
    Workgroup::builder()
        .workgroup_name("bi-workgroup")
        .namespace_name("bi-namespace")
        .status(status)
        .set_endpoint(available.then(|| {
            aws_sdk_redshiftserverless::types::Endpoint::builder()
                .address("bi-workgroup.123456789012.us-east-1.redshift-serverless.amazonaws.com")
                .port(5439)
                .build()
        }))
        .build()
}

fn serverless_rules(polls_creating: usize) -> (Rule, Rule) {
    let get_wg = mock!(aws_sdk_redshiftserverless::Client::get_workgroup)
        .sequence()
        .output(|| {
            GetWorkgroupOutput::builder()
                .workgroup(workgroup(WorkgroupStatus::Creating))
                .build()
        })
        .times(polls_creating)
        .output(|| {
            GetWorkgroupOutput::builder()
                .workgroup(workgroup(WorkgroupStatus::Available))
                .build()
        })
        .times(10)
        .build();
    let get_ns = mock!(aws_sdk_redshiftserverless::Client::get_namespace).then_output(|| {
        GetNamespaceOutput::builder()
            .namespace(
                Namespace::builder()
                    .namespace_name("bi-namespace")
                    .admin_username("admin")
                    .db_name("analytics")
                    .build(),
            )
            .build()
    });
    (get_wg, get_ns)
}

#[tokio::test]
async fn create_workgroup_polls_with_backoff_until_available() {
    let (get_wg, get_ns) = serverless_rules(2);
    let ssm = secure("pw-wg");
    let (create, stored) = capture_create();
    let clients = mocks::clients(&mocks::Rules {
        serverless: vec![&get_wg, &get_ns],
        ssm: vec![&ssm],
        secrets: vec![&create],
        ..Default::default()
    });
    let event = events::sample("cloudtrail-redshift-serverless-create-workgroup.json");
    let started = Instant::now();
    let o = mocks::handler(clients)
        .handle(&event, &here())
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(serde_json::to_value(o).unwrap()["outcome"], "created");
    // The first Describe and one poll still creating, the next poll available: 1 s + 2 s.
    assert_eq!(get_wg.num_calls(), 3);
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(8),
        "{took:?}"
    );
    let (_, value) = stored.lock().unwrap().clone().unwrap();
    assert!(value.contains("bi-workgroup.123456789012"));
}

#[tokio::test]
async fn create_workgroup_wait_is_bounded_by_the_deadline() {
    let (get_wg, get_ns) = serverless_rules(1000);
    let ssm = secure("pw-wg");
    let (create, _) = capture_create();
    let clients = mocks::clients(&mocks::Rules {
        serverless: vec![&get_wg, &get_ns],
        ssm: vec![&ssm],
        secrets: vec![&create],
        ..Default::default()
    });
    let event = events::sample("cloudtrail-redshift-serverless-create-workgroup.json");
    let started = Instant::now();
    let remaining = db_secret_provisioner::jobs::DEADLINE_MARGIN + Duration::from_secs(2);
    let e = mocks::handler(clients)
        .handle(&event, &here().with_remaining(remaining))
        .await
        .unwrap_err();
    assert_eq!(e.error_type(), "DatabaseNotReady");
    assert!(e.to_string().contains("bi-workgroup"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(create.num_calls(), 0);
}

#[tokio::test]
async fn a_database_without_a_parameter_is_skipped_unless_its_secret_exists() {
    let c = clients().await;
    let db = fixtures::instance(&c, "noparam-skip", "mysql", "admin", None).await;
    let o = outcome(&db.event()).await;
    assert_eq!(o["outcome"], "skipped", "{o}");
    assert!(
        o["reason"].as_str().unwrap().contains(&db.parameter()),
        "the reason names the parameter it looked for: {o}"
    );
    assert!(db.secret(&c).await.is_none());
    let cloudtrail = create_db_instance_call(&db.id);
    assert_eq!(outcome(&cloudtrail).await["outcome"], "skipped");

    // The function's own secret for that database and user wins, parameter or not.
    db.put_password(&c, "pw-then-gone").await;
    assert_eq!(outcome(&db.event()).await["outcome"], "created");
    c.ssm
        .delete_parameter()
        .name(db.parameter())
        .send()
        .await
        .unwrap();
    let again = outcome(&db.event()).await;
    assert_eq!(again["outcome"], "unchanged", "{again}");

    // A user event claims its parameter exists: it still fails.
    let h = handler_with(function_clients(&moto().endpoint).await, &[]);
    let e = h
        .handle(
            &user(json!({"dbInstanceIdentifier": db.id, "username": "nobody"})),
            &here(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.error_type(), "PasswordParameterNotFound");
    assert!(e.to_string().contains(&db.parameter_of("nobody")));
}

#[tokio::test]
async fn a_failed_listing_is_reported_and_the_others_are_swept() {
    // Its own moto: the sweep lists every database of the account.
    let moto = start_moto(None);
    let c = Clients::new(&sdk_config(&moto.endpoint, REGION).await);
    let rds = Db::new("instance", Service::Rds, "sweep-rds", "admin");
    create_instance(&c, &rds.id, "postgres", "admin").await;
    rds.put_password(&c, "pw-sweep").await;
    let wh = Db::new("redshift", Service::Redshift, "sweep-wh", "awsuser");
    create_redshift_cluster(&c, &wh.id, "awsuser").await;
    wh.put_password(&c, "pw-sweep").await;
    let wg = Db::new(
        "workgroup",
        Service::RedshiftServerless,
        "sweep-wg",
        "admin",
    );
    create_workgroup(&c, "sweep-ns", &wg.id, "dev", None).await;
    wg.put_password(&c, "pw-sweep").await;

    // Redshift answers AccessDenied to DescribeClusters: RDS and Serverless go on.
    let proxy = Proxy::start(&moto.endpoint);
    proxy.set_mode(Mode::Deny("DescribeClusters"));
    let h = handler_with(function_clients(&proxy.endpoint()).await, &[]);
    let o = serde_json::to_value(
        h.handle(
            &events::scheduled(),
            &here().with_remaining(Duration::from_secs(300)),
        )
        .await
        .unwrap(),
    )
    .unwrap();
    let sweep = &o["sweep"];
    assert_eq!(sweep["databases"], 2, "{o}");
    assert_eq!(
        sweep["created"],
        json!([rds.secret_name(), wg.secret_name()])
    );
    let failed = sweep["failedListings"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{o}");
    assert_eq!(failed[0]["listing"], "redshift-clusters");
    assert_eq!(failed[0]["errorType"], "AwsServiceError");
    assert!(failed[0]["message"]
        .as_str()
        .unwrap()
        .contains("AccessDenied"));
    assert!(wh.secret(&c).await.is_none());
    let wg = wg.secret(&c).await.unwrap();
    assert_eq!(wg["namespaceName"], "sweep-ns");

    // With the listing back, the Redshift cluster is swept too.
    proxy.set_mode(Mode::Forward);
    let o = serde_json::to_value(
        h.handle(
            &events::scheduled(),
            &here().with_remaining(Duration::from_secs(300)),
        )
        .await
        .unwrap(),
    )
    .unwrap();
    assert_eq!(o["sweep"]["created"], json!([wh.secret_name()]));
    assert_eq!(o["sweep"]["failedListings"], json!([]));
}

#[tokio::test]
async fn a_serverless_workgroup_event_reads_workgroup_and_namespace_from_aws() {
    // Against moto (Redshift Serverless emulated in the launcher), so that the recorded
    // GetWorkgroup and GetNamespace reach the IAM contract.
    let c = clients().await;
    let (ns, wg) = (unique("ev-ns"), unique("ev-wg"));
    create_workgroup(&c, &ns, &wg, "analytics", Some(5440)).await;
    let db = Db::new("workgroup", Service::RedshiftServerless, &wg, "admin");
    db.put_password(&c, "pw-serverless").await;
    let name = db.secret_name();
    let event = events::serverless(
        json!({"eventId": "REDSHIFT-SERVERLESS-EVENT-1008", "workgroupName": wg}),
        json!([]),
    );
    let h = handler_with(function_clients(&moto().endpoint).await, &[]);
    let o = serde_json::to_value(h.handle(&event, &here()).await.unwrap()).unwrap();
    assert_eq!(o["outcome"], "created", "{o}");
    let secret = secret_json(&c, &name).await.unwrap();
    assert_eq!(secret["engine"], "redshift");
    assert_eq!(secret["namespaceName"], ns.as_str());
    assert_eq!(secret["dbname"], "analytics");
    assert_eq!(secret["port"], 5440);
    assert_eq!(
        secret["host"],
        format!("{wg}.123456789012.us-east-1.redshift-serverless.amazonaws.com")
    );
}

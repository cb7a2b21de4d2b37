//! End to end: the built binary, driven through the Lambda Runtime API exactly as Lambda runs
//! it, against moto.

use std::time::Duration;

use serde_json::json;

use crate::support::fixtures::{Db, Service};
use crate::support::runtime_api::Answer;
use crate::support::*;

const PASSWORD: &str = "e2e-Pa55word-never-logged-7c1f";

#[tokio::test]
async fn rds_instance_created_stores_the_secret_and_a_replay_is_unchanged() {
    let c = clients().await;
    let db = fixtures::instance(&c, "e2e", "postgres", "admin", Some(PASSWORD)).await;

    let function = Function::start_default(&[]);
    let event = db.event();
    let first = function.invoke(&event);
    let outcome = first.response();
    assert_eq!(outcome["outcome"], "created", "{outcome}");
    let name = db.secret_name();
    assert_eq!(outcome["secretName"], name.as_str());

    let secret = db.secret(&c).await.expect("stored");
    assert_eq!(secret["engine"], "postgres");
    assert_eq!(secret["password"], PASSWORD);
    assert_eq!(secret["port"], json!(5432));

    // Lambda and EventBridge retry; RDS repeats events.
    let replay = function.invoke(&event);
    assert_eq!(replay.response()["outcome"], "unchanged");
    assert_eq!(version_count(&c, &name).await, 1);

    // Every log line, at trace level, SDK internals included: the password is in none of them.
    let logs = function.logs();
    if std::env::var_os("SHOW_LOGS").is_some() {
        eprintln!("{logs}");
    }
    assert!(logs.contains("invocation finished"), "{logs}");
    assert!(
        !logs.contains(PASSWORD),
        "the password leaked into the logs"
    );
    assert!(!outcome.to_string().contains(PASSWORD));
}

/// The JSON log lines whose message is `message`.
fn log_lines(logs: &str, message: &str) -> Vec<serde_json::Value> {
    logs.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["fields"]["message"] == message)
        .collect()
}

#[tokio::test]
async fn one_structured_log_line_per_invocation() {
    let c = clients().await;
    let db = fixtures::instance(&c, "e2e-log", "mysql", "admin", Some(PASSWORD)).await;
    let id = db.id.clone();
    let function = Function::start_default(&[("REPLICA_REGIONS", "us-west-2")]);
    let event = db.event();
    function.invoke(&event);
    function.invoke(
        &json!({"source": "aws.rds", "detail-type": "RDS DB Instance Event", "detail": {}}),
    );

    let logs = function.logs_with("invocation failed", 1);
    let finished = log_lines(&logs, "invocation finished");
    assert_eq!(finished.len(), 1, "{logs}");
    let line = &finished[0];
    assert_eq!(line["fields"]["outcome"], "created");
    assert_eq!(line["fields"]["secret_name"], db.secret_name());
    assert!(line["fields"]["secret_arn"]
        .as_str()
        .unwrap()
        .starts_with("arn:aws:secretsmanager:"));
    assert!(line["fields"]["replicas"]
        .as_str()
        .unwrap()
        .starts_with("us-west-2:"));
    assert!(line["fields"]["duration_ms"].is_number());
    assert_eq!(line["span"]["event_id"], format!("evt-{id}"));
    assert_eq!(line["span"]["trigger"], "rds-instance-created");
    assert_eq!(line["span"]["database"], format!("DB instance {id}"));

    let failed = log_lines(&logs, "invocation failed");
    assert_eq!(failed.len(), 1, "{logs}");
    assert_eq!(failed[0]["fields"]["error_type"], "InvalidEvent");
    assert!(!logs.contains(PASSWORD));
}

#[tokio::test]
async fn failures_are_lambda_errors_with_a_stable_error_type_and_no_password() {
    let c = clients().await;
    let db = fixtures::instance(&c, "e2e-err", "mysql", "admin", None).await;
    let function = Function::start_default(&[("MISSING_PASSWORD_PARAMETER", "error")]);

    let missing = function.invoke(&db.event());
    assert_eq!(missing.error_type(), "PasswordParameterNotFound");
    let Answer::Error(body) = &missing else {
        unreachable!()
    };
    assert!(body["errorMessage"]
        .as_str()
        .unwrap()
        .contains(&db.parameter()));

    put_parameter(
        &c,
        &db.parameter(),
        PASSWORD,
        aws_sdk_ssm::types::ParameterType::String,
    )
    .await;
    let plain = function.invoke(&db.event());
    assert_eq!(plain.error_type(), "PasswordParameterNotSecure");

    let ghost = function.invoke(&events::rds("cluster", &unique("ghost"), "RDS-EVENT-0170"));
    assert_eq!(ghost.error_type(), "DatabaseNotFound");

    let invalid = function.invoke(&json!({"source": "aws.rds", "detail-type": "RDS DB Instance Event", "detail": {"EventID": "RDS-EVENT-0005"}}));
    assert_eq!(invalid.error_type(), "InvalidEvent");

    let ignored = function.invoke(&json!({"hello": "world"}));
    assert_eq!(ignored.response()["outcome"], "ignored");

    assert!(db.secret(&c).await.is_none());
    let logs = function.logs();
    assert!(
        logs.contains("PasswordParameterNotSecure"),
        "errors are logged with their type"
    );
    assert!(!logs.contains(PASSWORD));
    assert!(!format!("{plain:?}").contains(PASSWORD));
}

#[test]
fn configuration_errors_are_reported_to_the_init_error_endpoint() {
    let mut function = Function::start_default(&[("SECRET_NAME_TEMPLATE", "db/{hostname}")]);
    let init_error = function
        .api
        .wait_init_error(Duration::from_secs(30))
        .expect("an /init/error call");
    assert_eq!(init_error["errorType"], "ConfigurationError");
    let message = init_error["errorMessage"].as_str().unwrap();
    assert!(
        message.contains("SECRET_NAME_TEMPLATE") && message.contains("{hostname}"),
        "{message}"
    );
    let status = function
        .wait_exit(Duration::from_secs(10))
        .expect("the process exits");
    assert!(!status.success());
}

#[tokio::test]
async fn the_shipped_sample_events_work_against_moto() {
    let c = clients().await;
    // events/rds-instance-created.json and events/aurora-cluster-created.json name these.
    let orders = Db::new("instance", Service::Rds, "orders-db", "admin");
    create_instance(&c, &orders.id, "mysql", "admin").await;
    orders.put_password(&c, PASSWORD).await;
    let inventory = Db::new("cluster", Service::Rds, "inventory-aurora", "postgres");
    create_cluster(
        &c,
        &inventory.id,
        "aurora-postgresql",
        "postgres",
        Some("inventory"),
    )
    .await;
    inventory.put_password(&c, PASSWORD).await;

    let function = Function::start_default(&[]);
    let read = events::sample;
    let a = function.invoke(&read("rds-instance-created.json"));
    assert_eq!(a.response()["outcome"], "created");
    let b = function.invoke(&read("aurora-cluster-created.json"));
    assert_eq!(b.response()["outcome"], "created");
    assert_eq!(inventory.secret(&c).await.unwrap()["dbname"], "inventory");
    let ignored = function.invoke(&read("ignored-ec2-state-change.json"));
    assert_eq!(ignored.response()["outcome"], "ignored");
}

#[tokio::test]
async fn a_new_secret_takes_five_requests_in_four_sequential_steps() {
    use crate::support::proxy::Proxy;
    let c = clients().await;
    let db = fixtures::instance(&c, "e2e-ops", "postgres", "admin", Some(PASSWORD)).await;
    // Another user's parameter under the same path: listed, but not used.
    db.put_password_of(&c, "app_user", "other-user-pw").await;
    let proxy = Proxy::start(&moto().endpoint);
    let function = Function::start(&built_binary(), &proxy.endpoint(), &[]);
    let answer = function.invoke(&db.event());
    assert_eq!(answer.response()["outcome"], "created");
    let mut ops = proxy.operations();
    // Describe and the parameter listing run concurrently: their order varies. The seal needs
    // the new secret's ARN: GenerateMac, then its tag, after CreateSecret.
    ops[..2].sort();
    assert_eq!(
        ops,
        [
            "DescribeDBInstances",
            "GetParametersByPath",
            "CreateSecret",
            "GenerateMac",
            "TagResource"
        ]
    );
    let secret = db.secret(&c).await.unwrap();
    assert_eq!(
        (secret["username"].as_str(), secret["password"].as_str()),
        (Some("admin"), Some(PASSWORD))
    );
    assert!(!function.logs().contains("other-user-pw"));
}

/// The CloudWatch Logs metric filters of template.yaml, `{ $.a.b = "value" }`, as (path, value).
fn metric_filters() -> Vec<(Vec<String>, String)> {
    let template = std::fs::read_to_string(project_dir().join("template.yaml")).unwrap();
    template
        .lines()
        .filter_map(|l| l.trim().strip_prefix("FilterPattern: '{ $."))
        .map(|rest| {
            let (path, value) = rest
                .split_once(" = ")
                .expect("a `$.path = \"value\"` filter");
            let value = value.trim_end_matches(" }'").trim_matches('"');
            (
                path.split('.').map(str::to_string).collect(),
                value.to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn each_alarm_has_a_log_line_its_metric_filter_matches() {
    let c = clients().await;
    let db = fixtures::instance(&c, "alarm", "mysql", "admin", Some(PASSWORD)).await;
    // A secret at the rendered name that is not the function's.
    c.secrets
        .create_secret()
        .name(db.secret_name())
        .secret_string("{}")
        .send()
        .await
        .unwrap();
    let function = Function::start_default(&[]);
    let mut foreign = db.event();
    foreign["account"] = json!("210987654321");
    assert_eq!(function.invoke(&foreign).error_type(), "UntrustedEvent");
    assert_eq!(function.invoke(&db.event()).error_type(), "SecretConflict");
    // A retired secret of the function's shape at another database's name, but unsealed.
    let unsealed = fixtures::instance(&c, "alarm-flag", "mysql", "admin", Some(PASSWORD)).await;
    let mut tags = db_secret_provisioner::model::tags::Owner::new(
        Service::Rds,
        db_secret_provisioner::model::DbKind::Instance,
        &unsealed.id,
        "admin",
    )
    .tags()
    .to_vec();
    tags.push((
        "db-secret-provisioner:database-deleted".into(),
        "2026-11-01T00:00:00Z".into(),
    ));
    c.secrets
        .create_secret()
        .name(unsealed.secret_name())
        .secret_string("{}")
        .set_tags(Some(
            tags.iter()
                .map(|(k, v)| {
                    aws_sdk_secretsmanager::types::Tag::builder()
                        .key(k)
                        .value(v)
                        .build()
                })
                .collect(),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        function.invoke(&unsealed.event()).response()["outcome"],
        "flagged"
    );
    // A rotation that failed two days ago left AWSPENDING behind (the launcher dates a version
    // whose token starts "aged-two-days-" back): a port change meets it.
    let stuck = fixtures::instance(&c, "alarm-stuck", "mysql", "admin", Some(PASSWORD)).await;
    assert_eq!(
        function.invoke(&stuck.event()).response()["outcome"],
        "created"
    );
    c.secrets
        .put_secret_value()
        .secret_id(stuck.secret_name())
        .client_request_token("aged-two-days-0000-0000-0000-000000000001")
        .secret_string(r#"{"password": "pending"}"#)
        .version_stages("AWSPENDING")
        .send()
        .await
        .unwrap();
    set_port(&c, &stuck.id, 6100).await;
    let port_change = crate::support::events::modify_port_call(&stuck.id, 6100);
    assert_eq!(function.invoke(&port_change).error_type(), "RotationStuck");
    // Retried by Lambda: the same answer, but reported only once today.
    assert_eq!(function.invoke(&port_change).error_type(), "RotationStuck");
    // A port change whose wait runs out (no wait at all here): left to the sweep.
    let impatient = Function::start_default(&[("PORT_CHANGE_WAIT_SECONDS", "0")]);
    let unapplied = crate::support::events::modify_port_call(&stuck.id, 6200);
    assert_eq!(
        impatient.invoke(&unapplied).error_type(),
        "DatabaseNotReady"
    );
    let mut misconfigured = Function::start_default(&[("SECRET_NAME_TEMPLATE", "db/{hostname}")]);
    misconfigured
        .api
        .wait_init_error(Duration::from_secs(30))
        .expect("an /init/error call");
    misconfigured.wait_exit(Duration::from_secs(10));

    let logs = format!(
        "{}\n{}\n{}",
        function.logs(),
        impatient.logs(),
        misconfigured.logs()
    );
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let filters = metric_filters();
    // Distinct patterns, in template order: the worker's log group has its own filters, with
    // the same patterns as the function's.
    let mut alarmed: Vec<&str> = Vec::new();
    for (_, v) in &filters {
        if !alarmed.contains(&v.as_str()) {
            alarmed.push(v.as_str());
        }
    }
    assert_eq!(
        alarmed,
        [
            "UntrustedEvent",
            "SecretConflict",
            "secret flagged",
            "port change left to the sweep",
            "rotation stuck",
            "ConfigurationError"
        ]
    );
    for (path, value) in &filters {
        let matching = lines
            .iter()
            .filter(|l| path.iter().fold(*l, |v, k| &v[k.as_str()]) == value.as_str())
            .count();
        assert_eq!(matching, 1, "{path:?} = {value}: {logs}");
    }
}

#[test]
fn this_binary_records_the_functions_aws_operations_for_the_iam_contract() {
    // tests/deploy/iam_contract.py proves the templates' policies against what this binary
    // records; a test binary that recorded nothing would leave it proving stale records.
    assert!(crate::support::records_operations());
}

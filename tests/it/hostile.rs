//! Hostile input, table-driven: malformed, oversized, mistyped and unknown events, bad
//! parameters, odd databases and every configuration variable with an invalid value. Each case
//! asserts the exact outcome or `errorType`; afterwards, no secret was created or changed, and
//! the password (planted in every parameter) appears in no log line, outcome, error message or
//! tag. Events run through the built binary via the Runtime API (so its logs are captured);
//! paths moto cannot produce run in-process against aws-smithy-mocks with a log-capturing
//! subscriber. The table runs against a moto of its own, so that it can compare every secret
//! in the account before and after.

use std::sync::OnceLock;
use std::time::Duration;

use aws_sdk_ssm::types::ParameterType;
use aws_smithy_mocks::{mock, MockResponse};
use serde_json::{json, Value};

use crate::support::events::{
    cloudtrail_detail as cloudtrail, envelope, rds_detail as rds, serverless, user,
};
use crate::support::fixtures::{Db, Service};
use crate::support::runtime_api::Answer;
use crate::support::snapshot::Snapshot;
use crate::support::{logs, mocks, *};

const PW: &str = "Hostile-Pw-3b9f-never-shown";

#[derive(Debug, Clone, Copy)]
enum Expect {
    Outcome(&'static str),
    Error(&'static str),
}
use Expect::{Error as Fails, Outcome as Answers};

fn instance_event(id: &str) -> Value {
    events::instance_created(id)
}

fn event_cases() -> Vec<(&'static str, Value, Expect)> {
    let arn = |t: &str, id: &str| format!("arn:aws:rds:{REGION}:{ACCOUNT}:{t}:{id}");
    let mut huge_message = instance_event("neptune-db");
    huge_message["detail"]["Message"] = json!("x".repeat(256 * 1024));
    let mut huge_unrelated = envelope(
        json!("aws.ec2"),
        json!("EC2 Instance State-change Notification"),
        json!({}),
    );
    huge_unrelated["detail"]["blob"] = json!("y".repeat(256 * 1024));
    vec![
        // Not an EventBridge envelope.
        ("null payload", json!(null), Answers("ignored")),
        ("number payload", json!(42), Answers("ignored")),
        (
            "string payload",
            json!("RDS-EVENT-0005"),
            Answers("ignored"),
        ),
        (
            "array payload",
            json!([instance_event("string-db")]),
            Answers("ignored"),
        ),
        ("empty object", json!({}), Answers("ignored")),
        (
            "no source",
            json!({"detail-type": "RDS DB Instance Event", "detail": {}}),
            Answers("ignored"),
        ),
        // Wrong types in the envelope.
        (
            "source is a number",
            envelope(json!(1), json!("x"), json!({})),
            Fails("InvalidEvent"),
        ),
        (
            "detail-type is an object",
            envelope(json!("aws.rds"), json!({"a": 1}), json!({})),
            Fails("InvalidEvent"),
        ),
        (
            "resources is a string",
            {
                let mut e = instance_event("string-db");
                e["resources"] = json!("arn");
                e
            },
            Fails("InvalidEvent"),
        ),
        // Unknown sources, detail-types and event ids.
        (
            "unknown source",
            envelope(
                json!("aws.ec2"),
                json!("EC2 Instance State-change Notification"),
                json!({}),
            ),
            Answers("ignored"),
        ),
        (
            "unknown RDS detail-type",
            rds(
                "RDS DB Snapshot Event",
                json!({"EventID": "RDS-EVENT-0042"}),
            ),
            Answers("ignored"),
        ),
        (
            "unknown EventID",
            rds(
                "RDS DB Instance Event",
                json!({"EventID": "RDS-EVENT-9999", "SourceArn": arn("db", "string-db")}),
            ),
            Answers("ignored"),
        ),
        (
            "password reset of a database without the function's secret",
            rds(
                "RDS DB Instance Event",
                json!({"EventID": "RDS-EVENT-0016", "SourceArn": arn("db", "string-db")}),
            ),
            Answers("unchanged"),
        ),
        (
            "cluster EventID on an instance event",
            rds(
                "RDS DB Instance Event",
                json!({"EventID": "RDS-EVENT-0170", "SourceArn": arn("db", "string-db")}),
            ),
            Answers("ignored"),
        ),
        // Missing, empty and mistyped detail fields.
        (
            "detail is a string",
            rds("RDS DB Instance Event", json!("created")),
            Fails("InvalidEvent"),
        ),
        (
            "detail is an array",
            rds("RDS DB Instance Event", json!([1])),
            Fails("InvalidEvent"),
        ),
        (
            "EventID missing",
            rds(
                "RDS DB Instance Event",
                json!({"SourceArn": arn("db", "string-db")}),
            ),
            Fails("InvalidEvent"),
        ),
        (
            "EventID empty",
            rds(
                "RDS DB Instance Event",
                json!({"EventID": "", "SourceArn": arn("db", "string-db")}),
            ),
            Fails("InvalidEvent"),
        ),
        (
            "EventID a number",
            rds("RDS DB Instance Event", json!({"EventID": 5})),
            Fails("InvalidEvent"),
        ),
        (
            "no SourceArn nor SourceIdentifier",
            rds(
                "RDS DB Instance Event",
                json!({"EventID": "RDS-EVENT-0005"}),
            ),
            Fails("InvalidEvent"),
        ),
        (
            "SourceArn a number",
            rds(
                "RDS DB Instance Event",
                json!({"EventID": "RDS-EVENT-0005", "SourceArn": 12}),
            ),
            Fails("InvalidEvent"),
        ),
        (
            "SourceIdentifier empty",
            rds(
                "RDS DB Instance Event",
                json!({"EventID": "RDS-EVENT-0005", "SourceIdentifier": ""}),
            ),
            Fails("InvalidEvent"),
        ),
        // ARNs of another service or partition, identifiers that cannot be names.
        (
            "S3 ARN",
            rds(
                "RDS DB Instance Event",
                json!({"EventID": "RDS-EVENT-0005", "SourceArn": "arn:aws:s3:::bucket/key"}),
            ),
            Fails("InvalidEvent"),
        ),
        (
            "not an AWS partition",
            rds(
                "RDS DB Instance Event",
                json!({"EventID": "RDS-EVENT-0005", "SourceArn": "arn:evil:rds:us-east-1:1:db:string-db"}),
            ),
            Fails("InvalidEvent"),
        ),
        (
            "cluster ARN on an instance event",
            rds(
                "RDS DB Instance Event",
                json!({"EventID": "RDS-EVENT-0005", "SourceArn": arn("cluster", "c")}),
            ),
            Fails("InvalidEvent"),
        ),
        (
            "slash in the identifier",
            rds(
                "RDS DB Instance Event",
                json!({"EventID": "RDS-EVENT-0005", "SourceIdentifier": "rds:a/b"}),
            ),
            Fails("InvalidEvent"),
        ),
        (
            "unicode identifier",
            rds(
                "RDS DB Instance Event",
                json!({"EventID": "RDS-EVENT-0005", "SourceArn": arn("db", "dätabase")}),
            ),
            Fails("InvalidEvent"),
        ),
        (
            "control character in the identifier",
            rds(
                "RDS DB Instance Event",
                json!({"EventID": "RDS-EVENT-0005", "SourceArn": arn("db", "db\u{0}\n\u{1b}[31m")}),
            ),
            Fails("InvalidEvent"),
        ),
        (
            "oversized identifier",
            rds(
                "RDS DB Instance Event",
                json!({"EventID": "RDS-EVENT-0005", "SourceArn": arn("db", &"a".repeat(10_000))}),
            ),
            Fails("InvalidEvent"),
        ),
        // 256 KB events.
        ("256 KB unrelated event", huge_unrelated, Answers("ignored")),
        ("256 KB RDS event", huge_message, Answers("skipped")),
        // Databases.
        (
            "instance not found",
            instance_event("ghost-db"),
            Fails("DatabaseNotFound"),
        ),
        (
            "cluster not found",
            events::rds("cluster", "ghost-cluster", "RDS-EVENT-0170"),
            Fails("DatabaseNotFound"),
        ),
        (
            "unsupported engine",
            instance_event("neptune-db"),
            Answers("skipped"),
        ),
        (
            "managed master password",
            instance_event("managed-db"),
            Answers("skipped"),
        ),
        (
            "Aurora member instance",
            instance_event("member-db"),
            Answers("skipped"),
        ),
        (
            "someone else's secret already there",
            instance_event("existing-db"),
            Fails("SecretConflict"),
        ),
        // Parameters.
        (
            "parameter missing (MISSING_PASSWORD_PARAMETER=skip, the default)",
            instance_event("noparam-db"),
            Answers("skipped"),
        ),
        (
            "String parameter",
            instance_event("string-db"),
            Fails("PasswordParameterNotSecure"),
        ),
        (
            "StringList parameter",
            instance_event("stringlist-db"),
            Fails("PasswordParameterNotSecure"),
        ),
        // CloudTrail.
        (
            "failed CreateDBInstance call",
            cloudtrail(
                json!({"eventSource": "rds.amazonaws.com", "eventName": "CreateDBInstance",
            "errorCode": "DBInstanceAlreadyExists", "errorMessage": "exists", "requestParameters": {"dBInstanceIdentifier": "string-db"}}),
            ),
            Answers("ignored"),
        ),
        (
            "CreateDBInstance without identifier",
            cloudtrail(
                json!({"eventSource": "rds.amazonaws.com", "eventName": "CreateDBInstance",
            "requestParameters": {"engine": "mysql"}}),
            ),
            Fails("InvalidEvent"),
        ),
        (
            "requestParameters a string",
            cloudtrail(
                json!({"eventSource": "rds.amazonaws.com", "eventName": "CreateDBInstance",
            "requestParameters": "dBInstanceIdentifier=string-db"}),
            ),
            Fails("InvalidEvent"),
        ),
        (
            "CloudTrail of another call",
            cloudtrail(
                json!({"eventSource": "rds.amazonaws.com", "eventName": "RebootDBInstance",
            "requestParameters": {"dBInstanceIdentifier": "string-db"}}),
            ),
            Answers("ignored"),
        ),
        (
            "CloudTrail Redshift cluster not found",
            envelope(
                json!("aws.redshift"),
                json!("AWS API Call via CloudTrail"),
                json!({"eventSource": "redshift.amazonaws.com", "eventName": "CreateCluster", "requestParameters": {"clusterIdentifier": "ghost-wh"}}),
            ),
            Fails("DatabaseNotFound"),
        ),
        // Database User Created.
        (
            "user event with two identifiers",
            user(
                json!({"dbInstanceIdentifier": "string-db", "clusterIdentifier": "x", "username": "app"}),
            ),
            Fails("InvalidEvent"),
        ),
        (
            "user event with no identifier",
            user(json!({"username": "app"})),
            Fails("InvalidEvent"),
        ),
        (
            "user event without username",
            user(json!({"dbInstanceIdentifier": "string-db"})),
            Fails("InvalidEvent"),
        ),
        (
            "user event with a mistyped key",
            user(
                json!({"dbInstanceIdentifier": "string-db", "username": "app", "passwordParam": "/x"}),
            ),
            Fails("InvalidEvent"),
        ),
        (
            "username with control characters",
            user(json!({"dbInstanceIdentifier": "string-db", "username": "app\r\nuser"})),
            Fails("InvalidEvent"),
        ),
        (
            "unicode username",
            user(json!({"dbInstanceIdentifier": "string-db", "username": "ünïcode"})),
            Fails("InvalidEvent"),
        ),
        (
            "username a number",
            user(json!({"dbInstanceIdentifier": "string-db", "username": 7})),
            Fails("InvalidEvent"),
        ),
        (
            "secretName that breaks the naming rules",
            user(
                json!({"dbInstanceIdentifier": "string-db", "username": "app", "secretName": "a b"}),
            ),
            Fails("InvalidEvent"),
        ),
        (
            "user's parameter is a String",
            user(json!({"dbInstanceIdentifier": "string-db", "username": "admin"})),
            Fails("PasswordParameterNotSecure"),
        ),
        // Redshift Serverless.
        (
            "workgroup-created without a workgroup",
            serverless(
                json!({"eventId": "REDSHIFT-SERVERLESS-EVENT-1008"}),
                json!([]),
            ),
            Fails("InvalidEvent"),
        ),
        (
            "workgroup name in capitals",
            serverless(
                json!({"eventId": "REDSHIFT-SERVERLESS-EVENT-1008", "workgroupName": "BI"}),
                json!([]),
            ),
            Fails("InvalidEvent"),
        ),
        (
            "workgroup ARN of another service",
            serverless(
                json!({"eventId": "REDSHIFT-SERVERLESS-EVENT-1008"}),
                json!(["arn:aws:redshift:us-east-1:123456789012:workgroup/x"]),
            ),
            Fails("InvalidEvent"),
        ),
        (
            "other Serverless event",
            serverless(
                json!({"eventId": "REDSHIFT-SERVERLESS-EVENT-1003"}),
                json!([]),
            ),
            Answers("ignored"),
        ),
        // The sweep meets all of the above databases and creates nothing.
        (
            "reconcile sweep",
            envelope(json!("aws.events"), json!("Scheduled Event"), json!({})),
            Answers("reconciled"),
        ),
    ]
}

/// (variable, invalid value) — every configuration variable.
const CONFIG_CASES: &[(&str, &str)] = &[
    ("SECRET_NAME_TEMPLATE", "db/{password}"),
    ("SECRET_NAME_TEMPLATE", "db secrets/{identifier}"),
    ("PASSWORD_PARAMETER_TEMPLATE", "/db/{identifier"),
    ("SECRET_DESCRIPTION_TEMPLATE", "for {who}"),
    ("WAIT_FOR_AVAILABLE_SECONDS", "forever"),
    ("KMS_KEY_ID", "not a key"),
    ("SEAL_KEY_ID", "not a key"),
    ("SECRET_TAGS", "team"),
    ("REPLICA_REGIONS", "moon-1"),
    ("FORCE_OVERWRITE_REPLICA_SECRET", "sure"),
    ("RESOURCE_POLICY", "{\"Version\": "),
    (
        "ROTATION_LAMBDA_ARN",
        "arn:aws:lambda:us-east-1:123456789012:function:rotate",
    ),
    (
        "ROTATION_LAMBDA_ARNS",
        "postgres=arn:aws:lambda:us-east-1:123456789012:function:rotate",
    ),
    ("ROTATION_SCHEDULE", "rate(1 day)"),
    ("MISSING_PASSWORD_PARAMETER", "ignore"),
    ("EXISTING_SECRET", "replace"),
    ("DELETE_PASSWORD_PARAMETER", "yes"),
    ("LOG_SENSITIVE_BODIES", "true"),
    ("SECRET_NAME_PREFIX", "elsewhere/"),
    ("PASSWORD_PARAMETER_PREFIX", "/"),
    ("USER_EVENT_SOURCE", "aws.rds"),
    ("SECRET_NAME_TEMPLATE", "db-secrets/{identifier}"),
    ("REPLICA_KMS_KEY_ARNS", "alias/replica-key"),
    ("FOLLOW_CONNECTION_CHANGES", "yes"),
    ("ON_DATABASE_DELETED", "delete"),
    ("RECOVERY_WINDOW_DAYS", "0"),
    ("MAX_RETIRE_PER_RUN", "all"),
    ("MEMBER_ACCOUNTS", "12345"),
    ("MEMBER_ROLE_NAME", "no role"),
    ("SWEEP_ACCOUNTS", "111111111111"),
    ("SWEEP_REGIONS", "moon-1"),
    ("ORGANIZATION_ID", "o-NOT-AN-ID"),
    ("MAX_RETIRE_FRACTION", "2"),
    ("HANDLER_MODE", "planner"),
    (
        "WORK_QUEUE_URL",
        "https://sqs.us-east-1.amazonaws.com/123456789012/not-in-hub-mode",
    ),
    (
        "WORK_QUEUE_ARN",
        "arn:aws:sqs:us-east-1:123456789012:not-a-worker",
    ),
    (
        "REPLICA_KMS_KEY_ALIASES",
        "eu-west-1=alias/not-a-replica-region",
    ),
];

async fn seed(c: &Clients) {
    for id in ["string-db", "stringlist-db", "noparam-db", "existing-db"] {
        create_instance(c, id, "mysql", "admin").await;
    }
    create_instance(c, "neptune-db", "neptune", "admin").await;
    create_managed_instance(c, "managed-db").await;
    create_cluster(c, "member-cluster", "aurora-postgresql", "admin", None).await;
    create_member_instance(c, "member-db", "member-cluster").await;
    let rds = |id: &str| Db::new("instance", Service::Rds, id, "admin");
    put_parameter(c, &rds("string-db").parameter(), PW, ParameterType::String).await;
    put_parameter(
        c,
        &rds("stringlist-db").parameter(),
        PW,
        ParameterType::StringList,
    )
    .await;
    for id in ["neptune-db", "managed-db", "member-db", "existing-db"] {
        rds(id).put_password(c, PW).await;
    }
    c.secrets
        .create_secret()
        .name(rds("existing-db").secret_name())
        .secret_string(r#"{"username":"admin","password":"someone else's"}"#)
        .send()
        .await
        .unwrap();
}

/// What is wrong with one row's answer (nothing: empty). The tables check every row and then
/// fail with every wrong row at once.
fn check(name: &str, answer: &Answer, expect: Expect) -> Vec<String> {
    let mut wrong = Vec::new();
    match (expect, answer) {
        (Expect::Outcome(o), Answer::Response(v)) if v["outcome"] != o => {
            wrong.push(format!("{name}: expected outcome {o}, got {v}"))
        }
        (Expect::Outcome(_), Answer::Response(_)) => {}
        (Expect::Error(t), Answer::Error(e)) => {
            if e["errorType"] != t {
                wrong.push(format!("{name}: expected {t}, got {e}"));
            }
            if e["errorMessage"].as_str().unwrap_or("").is_empty() {
                wrong.push(format!("{name}: no message"));
            }
        }
        (expect, answer) => wrong.push(format!("{name}: expected {expect:?}, got {answer:?}")),
    }
    if format!("{answer:?}").contains(PW) {
        wrong.push(format!("{name}: the password is in the answer"));
    }
    wrong
}

/// Fails with every wrong row of a table.
fn all_rows_right(table: &str, wrong: &[String]) {
    assert!(
        wrong.is_empty(),
        "{table}: {} wrong row(s):\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// The moto of the hostile table: nothing else runs in it.
fn hostile_moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| start_moto(None))
}

#[tokio::test]
async fn hostile_events_parameters_and_databases_through_the_binary() {
    let c = Clients::new(&sdk_config(&hostile_moto().endpoint, REGION).await);
    seed(&c).await;
    let before = Snapshot::take(&c).await;
    let function = Function::start(&built_binary(), &hostile_moto().endpoint, &[]);
    let cases = event_cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let mut wrong = Vec::new();
    for (name, event, expect) in &cases {
        let answer = function.api.invoke(event, Duration::from_secs(60));
        wrong.extend(check(name, &answer, *expect));
    }
    all_rows_right("hostile events", &wrong);
    assert_eq!(
        Snapshot::take(&c).await,
        before,
        "no secret or parameter was created or changed"
    );
    for (name, value, _, tags) in &before.secrets {
        assert!(
            !value.contains(PW) && !tags.iter().any(|t| t.contains(PW)),
            "{name}"
        );
    }
    let logs = function.logs();
    assert!(
        logs.lines().count() > cases.len(),
        "the function logged (at trace level)"
    );
    assert!(!logs.contains(PW), "the password is in the logs");
}

#[test]
fn every_invalid_configuration_variable_is_an_init_error_naming_it() {
    let mut wrong = Vec::new();
    for (variable, value) in CONFIG_CASES {
        let mut function = Function::start_default(&[(variable, value)]);
        let Some(err) = function.api.wait_init_error(Duration::from_secs(30)) else {
            wrong.push(format!("{variable}={value}: no init error"));
            continue;
        };
        if err["errorType"] != "ConfigurationError" {
            wrong.push(format!("{variable}={value}: {err}"));
        }
        let message = err["errorMessage"].as_str().unwrap_or("");
        // ROTATION_* name their missing partner; all others name themselves.
        if !(message.contains("ROTATION_") || message.contains(variable)) {
            wrong.push(format!(
                "{variable}={value}: the message names neither: {message}"
            ));
        }
        let exit = function.wait_exit(Duration::from_secs(10));
        if exit.is_none_or(|s| s.success()) {
            wrong.push(format!(
                "{variable}={value}: the process did not exit with a failure"
            ));
        }
    }
    all_rows_right("invalid configuration", &wrong);
}

// --- what moto cannot produce: in-process, mocked, logs captured ------------------------------

#[tokio::test]
async fn hostile_parameters_and_databases_with_mocks() {
    use aws_sdk_rds::operation::describe_db_instances::DescribeDbInstancesOutput;
    use aws_sdk_rds::types::{DbInstance, Endpoint};
    use aws_sdk_ssm::operation::get_parameter::{GetParameterError, GetParameterOutput};
    use aws_sdk_ssm::types::error::InvalidKeyId;
    use aws_sdk_ssm::types::Parameter;

    let logs = logs::captured();
    let big = "B".repeat(70_000);
    let instance = |status: &str, endpoint: bool| {
        DbInstance::builder()
            .db_instance_identifier("mocked")
            .engine("postgres")
            .db_instance_status(status)
            .master_username("admin")
            .set_endpoint(endpoint.then(|| {
                Endpoint::builder()
                    .address("mocked.x.rds.amazonaws.com")
                    .port(5432)
                    .build()
            }))
            .build()
    };
    type Param = Box<dyn Fn() -> MockResponse<GetParameterOutput, GetParameterError> + Send + Sync>;
    let secure = |value: String| -> Param {
        Box::new(move || {
            MockResponse::Output(
                GetParameterOutput::builder()
                    .parameter(
                        Parameter::builder()
                            .name("p")
                            .r#type(ParameterType::SecureString)
                            .value(value.clone())
                            .build(),
                    )
                    .build(),
            )
        })
    };
    let cases: Vec<(&str, DbInstance, Param, Expect)> = vec![
        (
            "empty SecureString",
            instance("available", true),
            secure(String::new()),
            Fails("PasswordParameterInvalid"),
        ),
        (
            "value over the secret size limit",
            instance("available", true),
            secure(big.clone()),
            Fails("PasswordParameterInvalid"),
        ),
        (
            "KMS cannot decrypt the parameter",
            instance("available", true),
            Box::new(|| {
                MockResponse::Error(GetParameterError::InvalidKeyId(
                    InvalidKeyId::builder().message("key disabled").build(),
                ))
            }),
            Fails("AwsServiceError"),
        ),
        (
            "database being deleted",
            instance("deleting", false),
            secure(PW.to_string()),
            Answers("skipped"),
        ),
        (
            "database without an endpoint",
            instance("creating", false),
            secure(PW.to_string()),
            Fails("DatabaseNotReady"),
        ),
    ];
    let mut wrong = Vec::new();
    for (name, db, param, expect) in cases {
        let describe = mock!(aws_sdk_rds::Client::describe_db_instances).then_output(move || {
            DescribeDbInstancesOutput::builder()
                .db_instances(db.clone())
                .build()
        });
        let get = mock!(aws_sdk_ssm::Client::get_parameter).then_compute_response(move |_| param());
        let create = mock!(aws_sdk_secretsmanager::Client::create_secret).then_output(|| {
            aws_sdk_secretsmanager::operation::create_secret::CreateSecretOutput::builder().build()
        });
        let clients = mocks::rds_clients(&describe, &get, &create);
        let handler = mocks::handler(clients);
        let mut context = lambda_runtime::Context::default();
        context.invoked_function_arn =
            format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:db-secret-provisioner");
        let event = lambda_runtime::LambdaEvent::new(instance_event("mocked"), context);
        let answer = match handler.invoke(event).await {
            Ok(o) => Answer::Response(serde_json::to_value(o).unwrap()),
            Err(e) => {
                let d: lambda_runtime::Diagnostic = e.into();
                Answer::Error(json!({"errorType": d.error_type, "errorMessage": d.error_message}))
            }
        };
        wrong.extend(check(name, &answer, expect));
        if format!("{answer:?}").contains(&big[..100]) {
            wrong.push(format!("{name}: the value is in the answer"));
        }
        if create.num_calls() != 0 {
            wrong.push(format!("{name}: something was stored"));
        }
    }
    all_rows_right("hostile parameters and databases", &wrong);
    let text = logs.text();
    assert!(text.contains("invocation"), "logs were captured");
    assert!(
        !text.contains(PW) && !text.contains(&big[..100]),
        "a password is in the logs"
    );
}

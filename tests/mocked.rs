//! Paths moto cannot produce, covered with aws-smithy-mocks: engines moto rejects (`db2-*`,
//! `sqlserver-dev-ee`, `-cdb` and `custom-*` Oracle/SQL Server), a database still `creating`
//! without an endpoint, and the exact AWS calls one event makes.

#[path = "support/mocks.rs"]
mod mocks;

use std::sync::{Arc, Mutex};

use aws_sdk_rds::types::{DbInstance, Endpoint};
use aws_sdk_secretsmanager::operation::create_secret::CreateSecretOutput;
use aws_sdk_ssm::operation::get_parameter::GetParameterOutput;
use aws_sdk_ssm::types::{Parameter, ParameterType};
use aws_smithy_mocks::mock;
use db_secret_provisioner::config::Config;
use db_secret_provisioner::handler::Handler;
use serde_json::{json, Value};

fn event(id: &str) -> Value {
    json!({
        "id": "e1", "detail-type": "RDS DB Instance Event", "source": "aws.rds",
        "account": "123456789012", "region": "us-east-1",
        "detail": {"EventID": "RDS-EVENT-0005", "SourceArn": format!("arn:aws:rds:us-east-1:123456789012:db:{id}")}
    })
}

fn instance(id: &str, engine: &str, endpoint: Option<(&str, i32)>, status: &str) -> DbInstance {
    DbInstance::builder()
        .db_instance_identifier(id)
        .engine(engine)
        .db_instance_status(status)
        .master_username("admin")
        .db_name("ORCL")
        .set_endpoint(endpoint.map(|(a, p)| Endpoint::builder().address(a).port(p).build()))
        .build()
}

fn secure(value: &'static str) -> aws_smithy_mocks::Rule {
    mock!(aws_sdk_ssm::Client::get_parameter).then_output(move || {
        GetParameterOutput::builder()
            .parameter(
                Parameter::builder()
                    .name("p")
                    .r#type(ParameterType::SecureString)
                    .value(value)
                    .build(),
            )
            .build()
    })
}

fn handler(clients: db_secret_provisioner::aws::Clients) -> Handler {
    Handler::new(Config::from_lookup(|_| None).unwrap(), clients)
}

#[tokio::test]
async fn engines_moto_rejects_are_shaped_from_the_table() {
    for (engine, secret_engine, port) in [
        ("db2-se", "db2", 50000),
        ("db2-ae", "db2", 50000),
        ("sqlserver-dev-ee", "sqlserver", 1433),
        ("custom-sqlserver-ee", "sqlserver", 1433),
        ("oracle-ee-cdb", "oracle", 1521),
        ("custom-oracle-se2-cdb", "oracle", 1521),
    ] {
        let db = instance(
            "legacy",
            engine,
            Some(("legacy.example.internal", port)),
            "available",
        );
        let describe = mock!(aws_sdk_rds::Client::describe_db_instances).then_output(move || {
            aws_sdk_rds::operation::describe_db_instances::DescribeDbInstancesOutput::builder()
                .db_instances(db.clone())
                .build()
        });
        let ssm = secure("mocked-pw");
        let stored: Arc<Mutex<Option<(String, String)>>> = Arc::default();
        let sink = stored.clone();
        let create = mock!(aws_sdk_secretsmanager::Client::create_secret).then_compute_output(
            move |input| {
                *sink.lock().unwrap() = Some((
                    input.name().unwrap().to_string(),
                    input.secret_string().unwrap().to_string(),
                ));
                CreateSecretOutput::builder()
                    .arn("arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf")
                    .name(input.name().unwrap())
                    .build()
            },
        );
        let clients = mocks::clients(&mocks::Rules {
            rds: vec![&describe],
            ssm: vec![&ssm],
            secrets: vec![&create],
            ..Default::default()
        });
        let outcome = handler(clients)
            .handle(&event("legacy"), None)
            .await
            .unwrap();
        assert_eq!(
            serde_json::to_value(&outcome).unwrap()["outcome"],
            "created",
            "{engine}"
        );
        let (name, value) = stored.lock().unwrap().clone().unwrap();
        assert_eq!(name, "db-secrets/rds/legacy/admin");
        let secret: Value = serde_json::from_str(&value).unwrap();
        assert_eq!(
            secret,
            json!({"engine": secret_engine, "host": "legacy.example.internal", "username": "admin",
                   "password": "mocked-pw", "port": port, "dbname": "ORCL", "dbInstanceIdentifier": "legacy"}),
            "{engine}"
        );
        // One Describe, one GetParameter, one CreateSecret: nothing else.
        assert_eq!(
            (describe.num_calls(), ssm.num_calls(), create.num_calls()),
            (1, 1, 1)
        );
    }
}

#[tokio::test]
async fn a_database_still_creating_is_not_ready_and_nothing_is_stored() {
    let describe = mock!(aws_sdk_rds::Client::describe_db_instances).then_output(|| {
        aws_sdk_rds::operation::describe_db_instances::DescribeDbInstancesOutput::builder()
            .db_instances(instance("fresh", "postgres", None, "creating"))
            .build()
    });
    let ssm = secure("pw");
    let create = mock!(aws_sdk_secretsmanager::Client::create_secret)
        .then_output(|| CreateSecretOutput::builder().build());
    let clients = mocks::clients(&mocks::Rules {
        rds: vec![&describe],
        ssm: vec![&ssm],
        secrets: vec![&create],
        ..Default::default()
    });
    let err = handler(clients)
        .handle(&event("fresh"), None)
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "DatabaseNotReady");
    assert!(err.to_string().contains("fresh") && err.to_string().contains("creating"));
    assert_eq!(create.num_calls(), 0);
}

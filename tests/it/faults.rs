//! Faults: throttling and 5xx on each AWS call in turn (aws-smithy-mocks), a hung endpoint and
//! moto going away mid-invocation (the fault proxy in front of moto), and concurrent
//! invocations for several databases (separate processes through the Runtime API). The SDK's
//! configured standard retry does the retrying; the function fails with a retryable
//! `AwsServiceError`, and a replay converges to exactly one correct secret.

use std::time::{Duration, Instant};

use aws_sdk_rds::operation::describe_db_instances::{
    DescribeDBInstancesError, DescribeDbInstancesOutput,
};
use aws_sdk_rds::types::{DbInstance, Endpoint};
use aws_sdk_secretsmanager::operation::create_secret::{CreateSecretError, CreateSecretOutput};
use aws_sdk_ssm::operation::get_parameter::{GetParameterError, GetParameterOutput};
use aws_sdk_ssm::types::{Parameter, ParameterType};
use aws_smithy_mocks::{mock, Rule};
use aws_smithy_types::error::ErrorMetadata;
use serde_json::Value;

use crate::support::fixtures::{Db, Service};
use crate::support::mocks;
use crate::support::proxy::{Mode, Proxy};
use crate::support::*;

fn throttled() -> ErrorMetadata {
    ErrorMetadata::builder()
        .code("ThrottlingException")
        .message("Rate exceeded")
        .build()
}

#[derive(Clone, Copy, Debug)]
enum Fault {
    Throttle,
    ServerError,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Describe,
    GetParameter,
    CreateSecret,
}

/// Rules where `faulty` fails `failures` times (then succeeds) and the others succeed.
fn rules(faulty: Op, fault: Fault, failures: usize) -> (Rule, Rule, Rule) {
    let db = DbInstance::builder()
        .db_instance_identifier("flaky")
        .engine("mysql")
        .db_instance_status("available")
        .master_username("admin")
        .endpoint(
            Endpoint::builder()
                .address("flaky.x.rds.amazonaws.com")
                .port(3306)
                .build(),
        )
        .build();
    let describe_ok = move || {
        DescribeDbInstancesOutput::builder()
            .db_instances(db.clone())
            .build()
    };
    let param_ok = || {
        GetParameterOutput::builder()
            .parameter(
                Parameter::builder()
                    .name("p")
                    .r#type(ParameterType::SecureString)
                    .value("pw")
                    .build(),
            )
            .build()
    };
    let create_ok = || {
        CreateSecretOutput::builder()
            .arn("arn:aws:secretsmanager:us-east-1:1:secret:x-AbCdEf")
            .name("x")
            .build()
    };

    macro_rules! rule {
        ($op:expr, $mock:expr, $ok:expr, $err:expr) => {{
            if faulty == $op && failures > 0 {
                let seq = $mock.sequence();
                let seq = match fault {
                    Fault::Throttle => seq.error($err).times(failures),
                    Fault::ServerError => seq.http_status(503, None).times(failures),
                };
                seq.output($ok).build()
            } else {
                $mock.then_output($ok)
            }
        }};
    }
    (
        rule!(
            Op::Describe,
            mock!(aws_sdk_rds::Client::describe_db_instances),
            describe_ok,
            || { DescribeDBInstancesError::generic(throttled()) }
        ),
        rule!(
            Op::GetParameter,
            mock!(aws_sdk_ssm::Client::get_parameter),
            param_ok,
            || { GetParameterError::generic(throttled()) }
        ),
        rule!(
            Op::CreateSecret,
            mock!(aws_sdk_secretsmanager::Client::create_secret),
            create_ok,
            || { CreateSecretError::generic(throttled()) }
        ),
    )
}

fn event() -> Value {
    events::instance_created("flaky")
}

async fn run(faulty: Op, fault: Fault, failures: usize) -> (Result<Value, String>, [usize; 3]) {
    let (describe, get, create) = rules(faulty, fault, failures);
    let clients = mocks::rds_clients(&describe, &get, &create);
    let handler = mocks::handler(clients);
    let result = handler
        .handle(&event(), &here())
        .await
        .map(|o| serde_json::to_value(o).unwrap())
        .map_err(|e| {
            assert!(
                e.to_string().contains("flaky")
                    || e.to_string()
                        .contains(&fixtures::parameter(Service::Rds, "flaky", "admin")),
                "{e}"
            );
            e.error_type().to_string()
        });
    (
        result,
        [describe.num_calls(), get.num_calls(), create.num_calls()],
    )
}

#[tokio::test]
async fn transient_faults_on_each_call_are_retried_by_the_sdk() {
    for op in [Op::Describe, Op::GetParameter, Op::CreateSecret] {
        for fault in [Fault::Throttle, Fault::ServerError] {
            let (result, calls) = run(op, fault, 3).await;
            assert_eq!(result.unwrap()["outcome"], "created", "{op:?} {fault:?}");
            let expected = match op {
                Op::Describe => [4, 1, 1],
                Op::GetParameter => [1, 4, 1],
                Op::CreateSecret => [1, 1, 4],
            };
            assert_eq!(
                calls, expected,
                "{op:?} {fault:?}: 3 failures, then the 4th attempt succeeds"
            );
        }
    }
}

#[tokio::test]
async fn persistent_faults_fail_with_a_retryable_error_and_store_nothing() {
    for op in [Op::Describe, Op::GetParameter, Op::CreateSecret] {
        for fault in [Fault::Throttle, Fault::ServerError] {
            let (result, calls) = run(op, fault, 10).await;
            assert_eq!(result.unwrap_err(), "AwsServiceError", "{op:?} {fault:?}");
            let attempts = match op {
                Op::Describe => calls[0],
                Op::GetParameter => calls[1],
                Op::CreateSecret => calls[2],
            };
            assert_eq!(
                attempts, 4,
                "{op:?} {fault:?}: the SDK's 4 attempts, no more"
            );
            if op != Op::CreateSecret {
                assert_eq!(calls[2], 0, "{op:?}: CreateSecret is never reached");
            }
        }
    }
}

#[tokio::test]
async fn a_hung_endpoint_cannot_eat_the_invocation() {
    let c = clients().await;
    create_instance(&c, "hung-db", "mysql", "admin").await;
    let proxy = Proxy::start(&moto().endpoint);
    proxy.set_mode(Mode::BlackHole);
    let function = Function::start(&built_binary(), &proxy.endpoint(), &[]);
    let started = Instant::now();
    let answer = function.api.invoke(
        &events::instance_created("hung-db"),
        Duration::from_secs(60),
    );
    let took = started.elapsed();
    assert_eq!(answer.error_type(), "AwsServiceError");
    assert!(
        took < Duration::from_secs(25),
        "bounded by the 20 s operation timeout, took {took:?}"
    );
    assert!(
        format!("{answer:?}").to_lowercase().contains("timeout"),
        "{answer:?}"
    );
}

#[tokio::test]
async fn moto_gone_mid_invocation_then_a_replay_converges() {
    let c = clients().await;
    let db = fixtures::instance(&c, "gone", "postgres", "admin", Some("gone-pw")).await;
    let name = db.secret_name();
    let proxy = Proxy::start(&moto().endpoint);
    let function = Function::start(&built_binary(), &proxy.endpoint(), &[]);
    let event = db.event();

    // Describe and GetParameter get through; then the local AWS is gone.
    proxy.set_mode(Mode::DownAfter(2));
    let failed = function.api.invoke(&event, Duration::from_secs(60));
    assert_eq!(failed.error_type(), "AwsServiceError");
    assert!(
        proxy.operations().iter().any(|o| o == "CreateSecret"),
        "{:?}",
        proxy.operations()
    );
    assert!(secret_json(&c, &name).await.is_none(), "no partial secret");

    // Back: Lambda's retry (a replay) stores exactly one secret.
    proxy.set_mode(Mode::Forward);
    assert_eq!(
        function
            .api
            .invoke(&event, Duration::from_secs(60))
            .response()["outcome"],
        "created"
    );
    assert_eq!(
        function
            .api
            .invoke(&event, Duration::from_secs(60))
            .response()["outcome"],
        "unchanged"
    );
    assert_eq!(version_count(&c, &name).await, 1);
    assert_eq!(secret_json(&c, &name).await.unwrap()["password"], "gone-pw");
}

#[test]
fn concurrent_processes_for_several_databases_make_one_secret_each() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let c = rt.block_on(clients());
    let ids: Vec<String> = (0..6).map(|_| unique("multi")).collect();
    for id in &ids {
        rt.block_on(create_instance(&c, id, "mariadb", "admin"));
        rt.block_on(Db::new("instance", Service::Rds, id, "admin").put_password(&c, "multi-pw"));
    }
    // Three processes per database, all invoked at once.
    let work: Vec<(String, Function)> = ids
        .iter()
        .flat_map(|id| (0..3).map(move |_| id.clone()))
        .map(|id| (id, Function::start_default(&[])))
        .collect();
    let answers: Vec<(String, Value)> = std::thread::scope(|s| {
        let handles: Vec<_> = work
            .iter()
            .map(|(id, f)| {
                s.spawn(move || {
                    let answer = f
                        .api
                        .invoke(&events::instance_created(id), Duration::from_secs(120));
                    (id.clone(), answer.response().clone())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for id in &ids {
        let outcomes: Vec<&str> = answers
            .iter()
            .filter(|(i, _)| i == id)
            .map(|(_, a)| a["outcome"].as_str().unwrap())
            .collect();
        assert_eq!(
            outcomes.iter().filter(|o| **o == "created").count(),
            1,
            "{id}: {outcomes:?}"
        );
        assert_eq!(
            outcomes.iter().filter(|o| **o == "unchanged").count(),
            2,
            "{id}: {outcomes:?}"
        );
        let name = fixtures::secret_name(Service::Rds, id, "admin");
        assert_eq!(rt.block_on(version_count(&c, &name)), 1);
        assert_eq!(
            rt.block_on(secret_json(&c, &name)).unwrap()["dbInstanceIdentifier"],
            id.as_str()
        );
    }
}

//! Clients answered by `aws-smithy-mocks` rules (its own `mock_client!`) instead of an endpoint,
//! for what moto cannot emulate (engines it rejects, resources stuck in `creating`, injected
//! faults), and the mock outputs the tests share.

use std::sync::{Arc, Mutex};

use crate::handler_with;
use aws_sdk_rds::operation::describe_db_instances::DescribeDbInstancesOutput;
use aws_sdk_rds::types::{DbInstance, Endpoint};
use aws_sdk_secretsmanager::operation::create_secret::CreateSecretOutput;
use aws_sdk_ssm::operation::get_parameter::GetParameterOutput;
use aws_sdk_ssm::types::{Parameter, ParameterType};
use aws_smithy_async::time::SystemTimeSource;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use db_secret_provisioner::aws::{retry_config, timeout_config, Clients};
use db_secret_provisioner::lambda::handler::Handler;

/// A mock client of `$krate` answering with `$rules` (any order), with the production retry and
/// timeout settings and the system clock (`mock_client!`'s test defaults stop the clock, and a
/// waiter's deadline would then never pass).
macro_rules! mocked {
    ($krate:ident, $rules:expr) => {
        mock_client!($krate, RuleMode::MatchAny, $rules, |c| c
            .retry_config(retry_config())
            .timeout_config(timeout_config())
            .time_source(SystemTimeSource::new()))
    };
}

/// Rules per service; a call no rule matches fails (the mock interceptor answers it with an
/// error).
#[derive(Default)]
pub struct Rules<'a> {
    pub rds: Vec<&'a Rule>,
    pub ssm: Vec<&'a Rule>,
    pub secrets: Vec<&'a Rule>,
    pub redshift: Vec<&'a Rule>,
    pub serverless: Vec<&'a Rule>,
    pub kms: Vec<&'a Rule>,
}

/// Listing a parameter path finds nothing unless a test says otherwise: the function then
/// falls back to GetParameter, which the tests' own rules answer.
fn empty_listing() -> Rule {
    mock!(aws_sdk_ssm::Client::get_parameters_by_path).then_output(|| {
        aws_sdk_ssm::operation::get_parameters_by_path::GetParametersByPathOutput::builder().build()
    })
}

pub fn clients(rules: &Rules<'_>) -> Clients {
    let listing = empty_listing();
    let mut ssm = rules.ssm.clone();
    ssm.push(&listing);
    Clients {
        rds: mocked!(aws_sdk_rds, &rules.rds),
        ssm: mocked!(aws_sdk_ssm, &ssm),
        secrets: mocked!(aws_sdk_secretsmanager, &rules.secrets),
        redshift: mocked!(aws_sdk_redshift, &rules.redshift),
        serverless: mocked!(aws_sdk_redshiftserverless, &rules.serverless),
        kms: mocked!(aws_sdk_kms, &rules.kms),
        kms_here: mocked!(aws_sdk_kms, &rules.kms),
        regional: Default::default(),
        sdk: None,
    }
}

/// Clients whose RDS, SSM and Secrets Manager calls these three rules answer.
pub fn rds_clients(describe: &Rule, ssm: &Rule, create: &Rule) -> Clients {
    clients(&Rules {
        rds: vec![describe],
        ssm: vec![ssm],
        secrets: vec![create],
        ..Default::default()
    })
}

/// The handler with the default configuration over mocked clients.
pub fn handler(clients: Clients) -> Handler {
    handler_with(clients, &[])
}

/// A DB instance as DescribeDBInstances returns it (master user `admin`, database `ORCL`).
pub fn instance(id: &str, engine: &str, endpoint: Option<(&str, i32)>, status: &str) -> DbInstance {
    DbInstance::builder()
        .db_instance_identifier(id)
        .engine(engine)
        .db_instance_status(status)
        .master_username("admin")
        .db_name("ORCL")
        .set_endpoint(endpoint.map(|(a, p)| Endpoint::builder().address(a).port(p).build()))
        .build()
}

pub fn describe_output(db: DbInstance) -> DescribeDbInstancesOutput {
    DescribeDbInstancesOutput::builder()
        .db_instances(db)
        .build()
}

/// A DescribeDBInstances rule answering with `db`.
pub fn describe(db: DbInstance) -> Rule {
    mock!(aws_sdk_rds::Client::describe_db_instances)
        .then_output(move || describe_output(db.clone()))
}

/// The GetParameter output of a SecureString holding `value`.
pub fn secure_output(value: &str) -> GetParameterOutput {
    GetParameterOutput::builder()
        .parameter(
            Parameter::builder()
                .name("p")
                .r#type(ParameterType::SecureString)
                .value(value)
                .build(),
        )
        .build()
}

/// A GetParameter rule answering with a SecureString holding `value`.
pub fn secure(value: &'static str) -> Rule {
    mock!(aws_sdk_ssm::Client::get_parameter).then_output(move || secure_output(value))
}

/// The name and value CreateSecret was called with.
pub type Captured = Arc<Mutex<Option<(String, String)>>>;

/// A CreateSecret rule that records what it was asked to store.
pub fn capture_create() -> (Rule, Captured) {
    let stored: Captured = Arc::default();
    let sink = stored.clone();
    let rule =
        mock!(aws_sdk_secretsmanager::Client::create_secret).then_compute_output(move |input| {
            *sink.lock().unwrap() = Some((
                input.name().unwrap().to_string(),
                input.secret_string().unwrap().to_string(),
            ));
            CreateSecretOutput::builder()
                .arn(format!(
                    "arn:aws:secretsmanager:us-east-1:123456789012:secret:{}-AbCdEf",
                    input.name().unwrap()
                ))
                .name(input.name().unwrap())
                .build()
        });
    (rule, stored)
}

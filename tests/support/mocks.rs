//! Clients answered by `aws-smithy-mocks` rules instead of an endpoint: for what moto cannot
//! emulate (engines it rejects, resources stuck in `creating`, injected faults).

use aws_sdk_secretsmanager::config::{Credentials, Region};
use aws_smithy_mocks::{create_mock_http_client, MockResponseInterceptor, Rule, RuleMode};
use db_secret_provisioner::aws::Clients;

fn interceptor(rules: &[&Rule]) -> MockResponseInterceptor {
    rules.iter().fold(
        MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny),
        |i, r| i.with_rule(r),
    )
}

macro_rules! client {
    ($krate:ident, $rules:expr) => {
        $krate::Client::from_conf(
            $krate::Config::builder()
                .behavior_version_latest()
                .region(Region::new("us-east-1"))
                .credentials_provider(Credentials::new("mock", "mock", None, None, "mock"))
                .http_client(create_mock_http_client())
                .interceptor(interceptor($rules))
                // The production retry and timeout settings.
                .retry_config(db_secret_provisioner::aws::retry_config())
                .timeout_config(db_secret_provisioner::aws::timeout_config())
                .build(),
        )
    };
}

/// Rules per service; a call no rule matches fails the test's expectations (the mock
/// interceptor answers it with an error).
#[derive(Default)]
pub struct Rules<'a> {
    pub rds: Vec<&'a Rule>,
    pub ssm: Vec<&'a Rule>,
    pub secrets: Vec<&'a Rule>,
    pub redshift: Vec<&'a Rule>,
    pub serverless: Vec<&'a Rule>,
}

/// Listing a parameter path finds nothing unless a test says otherwise: the function then
/// falls back to GetParameter, which the tests' own rules answer.
fn empty_listing() -> Rule {
    aws_smithy_mocks::mock!(aws_sdk_ssm::Client::get_parameters_by_path).then_output(|| {
        aws_sdk_ssm::operation::get_parameters_by_path::GetParametersByPathOutput::builder().build()
    })
}

pub fn clients(rules: &Rules<'_>) -> Clients {
    let listing = empty_listing();
    let mut ssm = rules.ssm.clone();
    ssm.push(&listing);
    Clients {
        rds: client!(aws_sdk_rds, &rules.rds),
        ssm: client!(aws_sdk_ssm, &ssm),
        secrets: client!(aws_sdk_secretsmanager, &rules.secrets),
        redshift: client!(aws_sdk_redshift, &rules.redshift),
        serverless: client!(aws_sdk_redshiftserverless, &rules.serverless),
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

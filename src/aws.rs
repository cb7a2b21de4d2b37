//! AWS SDK clients, built once per execution environment from one `SdkConfig`.

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};

/// Every client the function uses. Cheap to clone (the SDK clients are `Arc`s inside).
#[derive(Debug, Clone)]
pub struct Clients {
    pub rds: aws_sdk_rds::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub redshift: aws_sdk_redshift::Client,
    pub serverless: aws_sdk_redshiftserverless::Client,
}

impl Clients {
    /// Builds every client from one shared configuration (region, credentials, endpoint,
    /// retry and timeout settings). No network I/O happens here.
    pub fn new(config: &SdkConfig) -> Self {
        Clients {
            rds: aws_sdk_rds::Client::new(config),
            ssm: aws_sdk_ssm::Client::new(config),
            secrets: aws_sdk_secretsmanager::Client::new(config),
            redshift: aws_sdk_redshift::Client::new(config),
            serverless: aws_sdk_redshiftserverless::Client::new(config),
        }
    }
}

/// Loads the shared SDK configuration from the environment (Lambda's credentials and region,
/// `AWS_ENDPOINT_URL` for a local AWS, `AWS_MAX_ATTEMPTS` / `AWS_RETRY_MODE` for retries).
///
/// Timeouts keep a hung endpoint from eating the invocation: each attempt is bounded, and so
/// is each operation including the SDK's own retries.
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(Duration::from_secs(10))
                .operation_timeout(Duration::from_secs(30))
                .build(),
        )
        .load()
        .await
}

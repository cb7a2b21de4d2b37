//! AWS SDK clients, built once per execution environment from one `SdkConfig`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
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
    /// KMS in the function's own account and region, where its seal key is: every place's
    /// clients share it (a member's secrets are sealed with the hub's key).
    pub kms: aws_sdk_kms::Client,
    /// KMS in the place itself, where a secret's encryption key is resolved (DescribeKey).
    pub kms_here: aws_sdk_kms::Client,
    /// Secrets Manager clients for other regions (replica regions) and RDS clients for the
    /// regions of databases' cross-region copies, built on first use from `secrets`' and
    /// `rds`' configuration and kept.
    pub regional: RegionalClients,
    /// The configuration the clients were built from (`None` for mocked clients): the base of
    /// the clients for other accounts and regions.
    pub sdk: Option<SdkConfig>,
}

/// Secrets Manager and RDS clients by region, shared by every clone of [`Clients`].
#[derive(Debug, Clone, Default)]
pub struct RegionalClients {
    secrets: Arc<Mutex<HashMap<String, aws_sdk_secretsmanager::Client>>>,
    rds: Arc<Mutex<HashMap<String, aws_sdk_rds::Client>>>,
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
            kms: aws_sdk_kms::Client::new(config),
            kms_here: aws_sdk_kms::Client::new(config),
            regional: RegionalClients::default(),
            sdk: Some(config.clone()),
        }
    }

    /// The Secrets Manager client for `region`: the same configuration (credentials, endpoint,
    /// retries, timeouts) with the region replaced. Built once per region.
    pub fn secrets_in(&self, region: &str) -> aws_sdk_secretsmanager::Client {
        let mut cache = self
            .regional
            .secrets
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        cache
            .entry(region.to_string())
            .or_insert_with(|| {
                let conf = self
                    .secrets
                    .config()
                    .to_builder()
                    .region(aws_config::Region::new(region.to_string()))
                    .build();
                aws_sdk_secretsmanager::Client::from_conf(conf)
            })
            .clone()
    }

    /// The RDS client for `region`, built as [`Clients::secrets_in`] builds its clients.
    pub fn rds_in(&self, region: &str) -> aws_sdk_rds::Client {
        let mut cache = self.regional.rds.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(region.to_string())
            .or_insert_with(|| {
                let conf = self
                    .rds
                    .config()
                    .to_builder()
                    .region(aws_config::Region::new(region.to_string()))
                    .build();
                aws_sdk_rds::Client::from_conf(conf)
            })
            .clone()
    }
}

/// The SDK's standard retry mode (exponential backoff with jitter, retry quota), 4 attempts:
/// throttling, 5xx, timeouts and connection failures are retried by the SDK, never by hand.
pub fn retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(4)
        .with_initial_backoff(Duration::from_millis(250))
        .with_max_backoff(Duration::from_secs(5))
}

/// Bounds that keep a hung endpoint from eating the invocation: 3 s to connect, 5 s per
/// attempt, 20 s per operation including the SDK's retries.
pub fn timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(Duration::from_secs(5))
        .operation_timeout(Duration::from_secs(20))
        .build()
}

/// Loads the shared SDK configuration from the environment (Lambda's credentials and region,
/// `AWS_ENDPOINT_URL` for a local AWS) with [`retry_config`] and [`timeout_config`].
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry_config())
        .timeout_config(timeout_config())
        .load()
        .await
}

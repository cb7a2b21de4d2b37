//! Wiring only: logging, configuration, SDK clients (built once), the Lambda runtime loop.

use db_secret_provisioner::{aws, config::Config, lambda};
use lambda_runtime::{service_fn, Error};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda::logging::init();

    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            tracing::error!(error_type = err.error_type(), error = %err, "invalid configuration");
            lambda::init_error::report_init_error(&err).await;
            return Err(err.into());
        }
    };
    let sdk_config = aws::load_sdk_config().await;
    let clients = aws::Clients::new(&sdk_config);
    if config.work.is_worker() {
        let worker = lambda::Worker::new(config, clients);
        let worker = &worker;
        return lambda_runtime::run(service_fn(move |event| async move {
            worker.invoke(event).await
        }))
        .await;
    }
    let handler = lambda::Handler::new(config, clients);
    let handler = &handler;

    lambda_runtime::run(service_fn(move |event| async move {
        handler.invoke(event).await
    }))
    .await
}

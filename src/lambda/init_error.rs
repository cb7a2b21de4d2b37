//! Reporting an init failure to the Lambda Runtime API (`/runtime/init/error`), so a bad
//! configuration shows up as a classified init error naming the variable, before any event.

use lambda_runtime::Diagnostic;
use lambda_runtime_api_client::{body::Body, build_request, Client};

use crate::model::error::Error;

/// Posts `err` to `/runtime/init/error`. Outside Lambda (no `AWS_LAMBDA_RUNTIME_API`) it only
/// returns; a failure to report is printed, since the process is about to exit anyway.
pub async fn report_init_error(err: &Error) {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() {
        return;
    }
    let diagnostic = Diagnostic {
        error_type: err.error_type().to_string(),
        error_message: err.to_string(),
    };
    let result = async {
        let body = serde_json::to_vec(&diagnostic)?;
        let request = build_request()
            .method(http::Method::POST)
            .uri("/2018-06-01/runtime/init/error")
            .header("lambda-runtime-function-error-type", err.error_type())
            .header("content-type", "application/json")
            .body(Body::from(body))?;
        let client = Client::builder().build()?;
        client.call(request).await?;
        Ok::<_, lambda_runtime::Error>(())
    }
    .await;
    if let Err(e) = result {
        eprintln!("could not report the init error to the Runtime API: {e}");
    }
}

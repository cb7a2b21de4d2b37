//! The function's log subscriber: Lambda's advanced logging controls (`AWS_LAMBDA_LOG_LEVEL`,
//! else `RUST_LOG`, else `INFO`; JSON lines when `AWS_LAMBDA_LOG_FORMAT=JSON`), with one rule on
//! top: the SDK's raw HTTP dumps are never written. `aws_smithy_runtime::client::orchestrator`
//! logs every request and response at `trace` (`transmitting request`, `received response from
//! service`), and a response held in memory prints its body, which for GetParameter is the
//! decrypted password. That module is held at `debug` whatever level is asked for, and so is
//! the runtime's own dump of each invocation's payload (`raw JSON event received from Lambda`,
//! at `trace`): a payload is whatever its sender wrote (a work-queue body, a user event), and
//! the function's lines name what it recognised instead.

use lambda_runtime::tracing::subscriber::filter::{Directive, EnvFilter, LevelFilter};

/// The module whose `trace` events carry raw HTTP requests and responses.
pub const RAW_HTTP_TARGET: &str = "aws_smithy_runtime::client::orchestrator";
/// The runtime's module whose `trace` event carries each invocation's raw payload.
pub const RAW_EVENT_TARGET: &str = "lambda_runtime::layers::api_response";

/// The filter for `level` (a level or `RUST_LOG`-style directives), with the raw HTTP dumps
/// held back.
pub fn filter(level: &str) -> EnvFilter {
    let default = level.parse::<LevelFilter>().unwrap_or(LevelFilter::INFO);
    let mut filter = EnvFilter::builder()
        .with_default_directive(default.into())
        .parse_lossy(if level.parse::<LevelFilter>().is_ok() {
            ""
        } else {
            level
        });
    for target in [RAW_HTTP_TARGET, RAW_EVENT_TARGET] {
        if let Ok(cap) = format!("{target}=debug").parse::<Directive>() {
            filter = filter.add_directive(cap);
        }
    }
    filter
}

/// Installs the subscriber, once, at start.
pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "INFO".into());
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = lambda_runtime::tracing::subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_env_filter(filter(&level));
    if json {
        builder.json().init()
    } else {
        builder.init()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_http_dumps_are_held_back_at_every_level() {
        for level in [
            "trace",
            "TRACE",
            "debug",
            "info",
            "aws_smithy_runtime=trace",
            "aws_smithy_runtime::client::orchestrator=trace",
        ] {
            let f = filter(level).to_string();
            assert!(
                f.contains("aws_smithy_runtime::client::orchestrator=debug"),
                "{level}: {f}"
            );
            assert!(
                !f.contains("aws_smithy_runtime::client::orchestrator=trace"),
                "{level}: {f}"
            );
            assert!(
                f.contains("lambda_runtime::layers::api_response=debug"),
                "{level}: {f}"
            );
        }
        assert!(filter("trace").to_string().contains("trace"));
    }
}

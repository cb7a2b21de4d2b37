//! Configuration from environment variables, validated once at init.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::store;
use crate::template::{Facts, Template};

pub const DEFAULT_SECRET_NAME_TEMPLATE: &str = "db-secrets/{service}/{identifier}/{username}";
pub const DEFAULT_PASSWORD_PARAMETER_TEMPLATE: &str =
    "/db-secrets/{service}/{identifier}/{username}";
pub const DEFAULT_SECRET_DESCRIPTION_TEMPLATE: &str =
    "Credentials of {username} for {service} database {identifier} ({engine}), stored by db-secret-provisioner";

/// The function's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub secret_name: Template,
    pub password_parameter: Template,
    pub description: Template,
    /// The function's own region (`AWS_REGION`), used for `{region}` when an event has none.
    pub region: Option<String>,
    /// How long a CloudTrail-triggered invocation waits for a `creating` database
    /// (`WAIT_FOR_AVAILABLE_SECONDS`, default 600; never past the invocation's deadline).
    pub wait_for_available: Duration,
}

pub const DEFAULT_WAIT_FOR_AVAILABLE_SECONDS: u64 = 600;
/// Lambda's longest timeout: a larger wait could never be used.
const MAX_WAIT_FOR_AVAILABLE_SECONDS: u64 = 900;

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup` (the environment, or a map in tests). An unset or
    /// empty variable takes its default.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let get = |name: &str, default: &str| -> String {
            lookup(name)
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(|| default.to_string())
        };
        let parse = |name: &str, default: &str| -> Result<Template> {
            Template::parse(&get(name, default)).map_err(|e| Error::config(name, e.to_string()))
        };

        let secret_name = parse("SECRET_NAME_TEMPLATE", DEFAULT_SECRET_NAME_TEMPLATE)?;
        check_literal_chars(
            "SECRET_NAME_TEMPLATE",
            &secret_name,
            store::is_name_char,
            "A-Z a-z 0-9 / _ + = . @ -",
        )?;
        let password_parameter = parse(
            "PASSWORD_PARAMETER_TEMPLATE",
            DEFAULT_PASSWORD_PARAMETER_TEMPLATE,
        )?;
        check_literal_chars(
            "PASSWORD_PARAMETER_TEMPLATE",
            &password_parameter,
            is_parameter_name_char,
            "A-Z a-z 0-9 / _ . -",
        )?;
        let description = parse(
            "SECRET_DESCRIPTION_TEMPLATE",
            DEFAULT_SECRET_DESCRIPTION_TEMPLATE,
        )?;
        if lookup("LOG_SENSITIVE_BODIES").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            return Err(Error::config(
                "LOG_SENSITIVE_BODIES",
                "it makes the AWS SDK log request and response bodies, which carry the password; unset it",
            ));
        }
        let wait_for_available = match lookup("WAIT_FOR_AVAILABLE_SECONDS").filter(|v| !v.trim().is_empty()) {
            None => DEFAULT_WAIT_FOR_AVAILABLE_SECONDS,
            Some(v) => v
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| *n <= MAX_WAIT_FOR_AVAILABLE_SECONDS)
                .ok_or_else(|| {
                    Error::config(
                        "WAIT_FOR_AVAILABLE_SECONDS",
                        format!("{v:?} is not a whole number of seconds from 0 to {MAX_WAIT_FOR_AVAILABLE_SECONDS}"),
                    )
                })?,
        };
        Ok(Config {
            secret_name,
            password_parameter,
            description,
            wait_for_available: Duration::from_secs(wait_for_available),
            region: lookup("AWS_REGION")
                .or_else(|| lookup("AWS_DEFAULT_REGION"))
                .filter(|r| !r.is_empty()),
        })
    }
}

/// SSM parameter names: letters, digits, `_ . - /`.
pub fn is_parameter_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "/_.-".contains(c)
}

/// Rejects a template whose fixed text can never form a valid name. Each placeholder is
/// replaced by a sample value made of valid characters, so only the literal text is judged.
fn check_literal_chars(
    variable: &str,
    template: &Template,
    valid: fn(char) -> bool,
    allowed: &str,
) -> Result<()> {
    let sample = Facts {
        service: Some("s".into()),
        identifier: Some("i".into()),
        username: Some("u".into()),
        engine: Some("e".into()),
        region: Some("r".into()),
        account: Some("a".into()),
    };
    let rendered = template.render(&sample).unwrap_or_default();
    match rendered.chars().find(|c| !valid(*c)) {
        Some(c) => Err(Error::config(
            variable,
            format!("{template:?} contains {c:?}; names may only use {allowed}"),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults() {
        let c = config(&[("AWS_REGION", "eu-west-1")]).unwrap();
        assert_eq!(c.secret_name.to_string(), DEFAULT_SECRET_NAME_TEMPLATE);
        assert_eq!(
            c.password_parameter.to_string(),
            DEFAULT_PASSWORD_PARAMETER_TEMPLATE
        );
        assert_eq!(c.region.as_deref(), Some("eu-west-1"));
        assert_eq!(c.wait_for_available, Duration::from_secs(600));
        let c = config(&[("WAIT_FOR_AVAILABLE_SECONDS", "0")]).unwrap();
        assert_eq!(c.wait_for_available, Duration::ZERO);
        let empty = config(&[("SECRET_NAME_TEMPLATE", "  ")]).unwrap();
        assert_eq!(empty.secret_name.to_string(), DEFAULT_SECRET_NAME_TEMPLATE);
    }

    #[test]
    fn invalid_values_name_the_variable() {
        for (var, value, needle) in [
            (
                "SECRET_NAME_TEMPLATE",
                "db/{hostname}",
                "unknown placeholder",
            ),
            ("SECRET_NAME_TEMPLATE", "db secrets/{identifier}", "' '"),
            ("PASSWORD_PARAMETER_TEMPLATE", "/db/{identifier", "unclosed"),
            ("PASSWORD_PARAMETER_TEMPLATE", "/db/{identifier}+x", "'+'"),
            (
                "SECRET_DESCRIPTION_TEMPLATE",
                "for {who}",
                "unknown placeholder",
            ),
        ] {
            let e = config(&[(var, value)]).unwrap_err();
            assert_eq!(e.error_type(), "ConfigurationError");
            let msg = e.to_string();
            assert!(
                msg.contains(var) && msg.contains(needle),
                "{var}={value}: {msg}"
            );
        }
    }
}

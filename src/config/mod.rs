//! Configuration from environment variables, validated once at init: names and waits here,
//! the secret options in [`options`].

mod options;

use std::time::Duration;

pub use options::{ExistingSecret, Replica, Rotation, SecretOptions};

use crate::error::{Error, Result};
use crate::model::{Location, Service};
use crate::names::{is_parameter_name_char, is_secret_name_char};
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
    pub options: SecretOptions,
}

pub const DEFAULT_WAIT_FOR_AVAILABLE_SECONDS: u64 = 600;
/// Lambda's longest timeout: a larger wait could never be used.
const MAX_WAIT_FOR_AVAILABLE_SECONDS: u64 = 900;

/// Reads one variable: unset or blank is `None`, otherwise the trimmed value.
pub(crate) fn var(lookup: &impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    lookup(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup` (the environment, or a map in tests). An unset or
    /// empty variable takes its default.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let parse = |name: &str, default: &str| -> Result<Template> {
            let text = lookup(name)
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(|| default.to_string());
            Template::parse(&text).map_err(|e| Error::config(name, e.to_string()))
        };

        let secret_name = parse("SECRET_NAME_TEMPLATE", DEFAULT_SECRET_NAME_TEMPLATE)?;
        check_literal_chars(
            "SECRET_NAME_TEMPLATE",
            &secret_name,
            is_secret_name_char,
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
        let wait_for_available = match var(&lookup, "WAIT_FOR_AVAILABLE_SECONDS") {
            None => DEFAULT_WAIT_FOR_AVAILABLE_SECONDS,
            Some(v) => v
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
        let region = lookup("AWS_REGION")
            .or_else(|| lookup("AWS_DEFAULT_REGION"))
            .filter(|r| !r.is_empty());
        let options = options::secret_options(&lookup, region.as_deref())?;
        Ok(Config {
            secret_name,
            password_parameter,
            description,
            options,
            wait_for_available: Duration::from_secs(wait_for_available),
            region,
        })
    }
}

/// Rejects a template whose fixed text can never form a valid name. Each placeholder is
/// replaced by a sample value made of valid characters, so only the literal text is judged.
fn check_literal_chars(
    variable: &str,
    template: &Template,
    valid: fn(char) -> bool,
    allowed: &str,
) -> Result<()> {
    let location = Location {
        account: Some("a".into()),
        region: Some("r".into()),
    };
    let sample = Facts::of(Service::Rds, "i", Some("u"), Some("e"), &location);
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
    use super::options::is_schedule;
    use super::*;
    use crate::names::is_kms_key_ref;
    use crate::tags::{MANAGED_TAG_KEY, MANAGED_TAG_VALUE};
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config> {
        let mut map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        map.entry("AWS_REGION".into())
            .or_insert_with(|| "eu-west-1".into());
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
        let cases: &[(&str, &str, &str)] = &[
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
            ("LOG_SENSITIVE_BODIES", "true", "carry the password"),
            ("WAIT_FOR_AVAILABLE_SECONDS", "ten", "whole number"),
            ("WAIT_FOR_AVAILABLE_SECONDS", "-1", "whole number"),
            ("WAIT_FOR_AVAILABLE_SECONDS", "901", "0 to 900"),
            ("KMS_KEY_ID", "my key", "not a KMS key"),
            ("KMS_KEY_ID", "arn:aws:s3:::bucket", "not a KMS key"),
            ("SECRET_TAGS", "team", "not key=value"),
            ("SECRET_TAGS", "a=1,a=2", "given twice"),
            ("SECRET_TAGS", "aws:x=1", "reserved"),
            ("SECRET_TAGS", "managed-by=me", "set by the function"),
            ("SECRET_TAGS", "k=va|ue", "value of tag"),
            ("REPLICA_REGIONS", "us-west-2,mars-1", "not an AWS region"),
            ("REPLICA_REGIONS", "us-west-2,us-west-2", "twice"),
            ("REPLICA_REGIONS", "eu-west-1", "own region"),
            ("REPLICA_REGIONS", "us-west-2=not a key", "KMS key"),
            ("RESOURCE_POLICY", "{not json", "not JSON"),
            (
                "RESOURCE_POLICY",
                r#"{"Version": "2012-10-17"}"#,
                "Statement",
            ),
            (
                "ROTATION_LAMBDA_ARN",
                "arn:aws:lambda:eu-west-1:123456789012:function:rotate",
                "ROTATION_SCHEDULE",
            ),
            ("ROTATION_SCHEDULE", "rate(30 days)", "ROTATION_LAMBDA_ARN"),
            ("EXISTING_SECRET", "overwrite", "keep or update"),
            ("DELETE_PASSWORD_PARAMETER", "yes", "true or false"),
            ("FORCE_OVERWRITE_REPLICA_SECRET", "1", "true or false"),
        ];
        for (var, value, needle) in cases {
            let e = config(&[(var, value)]).unwrap_err();
            assert_eq!(e.error_type(), "ConfigurationError");
            let msg = e.to_string();
            assert!(
                msg.contains(var) && msg.contains(needle),
                "{var}={value}: {msg}"
            );
        }
        let e = config(&[
            (
                "ROTATION_LAMBDA_ARN",
                "arn:aws:lambda:eu-west-1:1:function:f",
            ),
            ("ROTATION_SCHEDULE", "every day"),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("ROTATION_SCHEDULE"));
        let e = config(&[
            ("ROTATION_LAMBDA_ARN", "arn:aws:s3:::x"),
            ("ROTATION_SCHEDULE", "rate(1 day)"),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("ROTATION_LAMBDA_ARN"));
    }

    #[test]
    fn secret_options() {
        let c = config(&[
            ("KMS_KEY_ID", "alias/db-secrets"),
            ("SECRET_TAGS", "team=data, cost-center = 42 ,env=prod"),
            (
                "REPLICA_REGIONS",
                "us-west-2, eu-central-1=alias/replica-key",
            ),
            (
                "RESOURCE_POLICY",
                r#"{"Version":"2012-10-17","Statement":[]}"#,
            ),
            (
                "ROTATION_LAMBDA_ARN",
                "arn:aws:lambda:eu-west-1:123456789012:function:rotate",
            ),
            ("ROTATION_SCHEDULE", "rate(30 days)"),
            ("EXISTING_SECRET", "update"),
            ("DELETE_PASSWORD_PARAMETER", "TRUE"),
        ])
        .unwrap();
        let o = c.options;
        assert_eq!(o.kms_key_id.as_deref(), Some("alias/db-secrets"));
        let tag = |k: &str, v: &str| (k.to_string(), v.to_string());
        assert_eq!(
            o.tags,
            vec![
                tag("team", "data"),
                tag("cost-center", "42"),
                tag("env", "prod"),
                tag(MANAGED_TAG_KEY, MANAGED_TAG_VALUE)
            ]
        );
        assert_eq!(
            o.replicas,
            vec![
                Replica {
                    region: "us-west-2".into(),
                    kms_key_id: None
                },
                Replica {
                    region: "eu-central-1".into(),
                    kms_key_id: Some("alias/replica-key".into())
                },
            ]
        );
        assert_eq!(o.rotation.unwrap().schedule, "rate(30 days)");
        assert_eq!(o.existing, ExistingSecret::Update);
        assert!(o.delete_password_parameter);
        assert!(!o.force_overwrite_replica);

        let d = config(&[]).unwrap().options;
        assert_eq!(d.tags, vec![tag(MANAGED_TAG_KEY, MANAGED_TAG_VALUE)]);
        assert_eq!(d.existing, ExistingSecret::Keep);
        assert!(d.replicas.is_empty() && d.rotation.is_none() && d.kms_key_id.is_none());
        for key in [
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            "mrk-1234abcd12ab34cd56ef1234567890ab",
            "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:kms:us-east-1:123456789012:alias/x",
        ] {
            assert!(is_kms_key_ref(key), "{key}");
        }
        for s in ["rate(1 day)", "rate(12 hours)", "cron(0 4 ? * SUN *)"] {
            assert!(is_schedule(s), "{s}");
        }
        for s in ["rate(0 days)", "rate(3 weeks)", "cron()", "daily"] {
            assert!(!is_schedule(s), "{s}");
        }
    }
}

//! Configuration from environment variables, validated once at init: names and waits here,
//! the secret options in [`options`].

mod database_changes;
mod options;
pub mod organization;
mod work;

use std::time::Duration;

pub use database_changes::{Lifecycle, OnDeleted};
pub use options::{ExistingSecret, Replica, Rotation, SecretOptions};
pub use organization::{Members, Organization, SweepAccounts, DEFAULT_MEMBER_ROLE_NAME};
pub use work::Work;

use crate::model::error::{Error, Result};
use crate::model::identifiers::{
    is_event_source, is_kms_key_ref, is_parameter_name_char, is_secret_name_char,
};
use crate::model::template::{Facts, Field, Template};
use crate::model::{Place, Service};

pub const DEFAULT_SECRET_NAME_TEMPLATE: &str = "db-secrets/{service}/{identifier}/{username}";
pub const DEFAULT_PASSWORD_PARAMETER_TEMPLATE: &str =
    "/db-secrets/{service}/{identifier}/{username}";
pub const DEFAULT_SECRET_DESCRIPTION_TEMPLATE: &str =
    "Credentials of {username} for {service} database {identifier} ({engine}), stored by db-secret-provisioner";

pub const DEFAULT_USER_EVENT_SOURCE: &str = "com.example.provisioning";

/// The function's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub secret_name: Template,
    /// `SECRET_NAME_PREFIX`, or the template's literal prefix: every rendered secret name is
    /// checked against it (IAM is scoped to it).
    pub secret_prefix: String,
    pub password_parameter: Template,
    /// `PASSWORD_PARAMETER_PREFIX`, or the template's literal prefix.
    pub parameter_prefix: String,
    pub description: Template,
    /// `USER_EVENT_SOURCE`: the sources "Database User Created" events are accepted from.
    pub user_event_sources: Vec<String>,
    /// The function's own region (`AWS_REGION`): a replica region may not be it.
    pub region: Option<String>,
    /// `SEAL_KEY_ID`: the HMAC KMS key (`HMAC_256`, `GENERATE_VERIFY_MAC`) that seals every
    /// secret the function creates. Without it secrets are made unsealed, and an unsealed
    /// secret never receives a password into an existing secret.
    pub seal_key_id: Option<String>,
    /// How long a CloudTrail-triggered invocation waits for a `creating` database
    /// (`WAIT_FOR_AVAILABLE_SECONDS`, default 600; never past the invocation's deadline).
    pub wait_for_available: Duration,
    /// `MISSING_PASSWORD_PARAMETER`: what a database without an initial-password parameter
    /// gets (user events always fail: they claim the parameter exists).
    pub missing_parameter: MissingParameter,
    pub options: SecretOptions,
    /// Following connection changes, and what a database's deletion does.
    pub lifecycle: Lifecycle,
    /// Hub mode: member accounts, other regions, the organization sweep.
    pub organization: Organization,
    /// Events (and in hub mode the sweep's plan), or the worker's place messages.
    pub work: Work,
}

/// What to do about a database that has no initial-password parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingParameter {
    /// Answer `skipped`: it was made by other means (the default).
    Skip,
    /// Fail with `PasswordParameterNotFound`, so the event is retried and kept.
    Error,
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

/// One of `choices` (spelling, value); unset or blank is the first. The one reader of the
/// configuration's enums: an unknown spelling names the variable and every spelling.
pub(crate) fn one_of<T: Clone>(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &str,
    choices: &[(&str, T)],
) -> Result<T> {
    let Some(v) = var(lookup, name) else {
        return Ok(choices[0].1.clone());
    };
    if let Some((_, value)) = choices.iter().find(|(spelling, _)| *spelling == v) {
        return Ok(value.clone());
    }
    let spellings: Vec<&str> = choices.iter().map(|(s, _)| *s).collect();
    let (last, rest) = spellings.split_last().unwrap_or((&"", &[]));
    let spelled = if rest.is_empty() {
        last.to_string()
    } else {
        format!("{} or {last}", rest.join(", "))
    };
    Err(Error::config(name, format!("{v:?} is not {spelled}")))
}

/// The items of a comma-separated list, trimmed, blanks dropped: the one list reader.
pub(crate) fn list(text: Option<&str>) -> impl Iterator<Item = &str> {
    text.into_iter()
        .flat_map(|t| t.split(','))
        .map(str::trim)
        .filter(|i| !i.is_empty())
}

/// A `true` or `false` variable (any case); unset or blank is `default`.
pub(crate) fn boolean(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: bool,
) -> Result<bool> {
    match var(lookup, name).map(|v| v.to_ascii_lowercase()).as_deref() {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(Error::config(
            name,
            format!("{other:?} is not true or false"),
        )),
    }
}

/// A whole number within `range`; unset or blank is `default`. `unit` (e.g. "of seconds ")
/// completes the error's "is not a whole number …from A to B".
pub(crate) fn whole_number<T>(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: T,
    range: std::ops::RangeInclusive<T>,
    unit: &str,
) -> Result<T>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display,
{
    let Some(v) = var(lookup, name) else {
        return Ok(default);
    };
    v.parse::<T>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            Error::config(
                name,
                format!(
                    "{v:?} is not a whole number {unit}from {} to {}",
                    range.start(),
                    range.end()
                ),
            )
        })
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
        let secret_prefix = check_name_template(
            "SECRET_NAME_TEMPLATE",
            &secret_name,
            "SECRET_NAME_PREFIX",
            var(&lookup, "SECRET_NAME_PREFIX"),
        )?;
        let parameter_prefix = check_name_template(
            "PASSWORD_PARAMETER_TEMPLATE",
            &password_parameter,
            "PASSWORD_PARAMETER_PREFIX",
            var(&lookup, "PASSWORD_PARAMETER_PREFIX"),
        )?;
        let description = parse(
            "SECRET_DESCRIPTION_TEMPLATE",
            DEFAULT_SECRET_DESCRIPTION_TEMPLATE,
        )?;
        let user_event_sources = user_event_sources(var(&lookup, "USER_EVENT_SOURCE"))?;
        if lookup("LOG_SENSITIVE_BODIES").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            return Err(Error::config(
                "LOG_SENSITIVE_BODIES",
                "it makes the AWS SDK log request and response bodies, which carry the password; unset it",
            ));
        }
        let wait_for_available = whole_number(
            &lookup,
            "WAIT_FOR_AVAILABLE_SECONDS",
            DEFAULT_WAIT_FOR_AVAILABLE_SECONDS,
            0..=MAX_WAIT_FOR_AVAILABLE_SECONDS,
            "of seconds ",
        )?;
        let region = lookup("AWS_REGION")
            .or_else(|| lookup("AWS_DEFAULT_REGION"))
            .filter(|r| !r.is_empty());
        let options = options::secret_options(&lookup, region.as_deref())?;
        let missing_parameter = one_of(
            &lookup,
            "MISSING_PASSWORD_PARAMETER",
            &[
                ("skip", MissingParameter::Skip),
                ("error", MissingParameter::Error),
            ],
        )?;
        let seal_key_id = var(&lookup, "SEAL_KEY_ID");
        if let Some(k) = &seal_key_id {
            if !is_kms_key_ref(k) {
                return Err(Error::config(
                    "SEAL_KEY_ID",
                    format!("{k:?} is not a KMS key id, key ARN, alias/NAME or alias ARN"),
                ));
            }
        }
        let lifecycle = database_changes::lifecycle(&|name: &str| var(&lookup, name))?;
        let organization = organization::organization(&|name: &str| var(&lookup, name))?;
        if organization.is_hub() {
            organization::check_hub_options(&options)?;
        }
        let work = work::work(&lookup, organization.is_hub())?;
        Ok(Config {
            lifecycle,
            organization,
            work,
            secret_name,
            secret_prefix,
            password_parameter,
            parameter_prefix,
            description,
            user_event_sources,
            options,
            wait_for_available: Duration::from_secs(wait_for_available),
            missing_parameter,
            region,
            seal_key_id,
        })
    }
}

/// A secret-name or parameter-name template must name the database and the user, each as a
/// whole `/`-separated segment, and start with a literal prefix of at least 2 characters other
/// than `/` (e.g. `db-secrets/`), to which IAM is scoped. A configured prefix must be a prefix
/// of that literal text. Returns the prefix every rendered name is checked against.
fn check_name_template(
    variable: &str,
    template: &Template,
    prefix_variable: &str,
    prefix: Option<String>,
) -> Result<String> {
    for (field, placeholder) in [
        (Field::Identifier, "{identifier}"),
        (Field::Username, "{username}"),
    ] {
        if !template.is_whole_segment(field) {
            return Err(Error::config(
                variable,
                format!(
                    "{template} must contain {placeholder} as a whole /-separated segment (e.g. .../{placeholder}/...), so that names derive from the database and user alone"
                ),
            ));
        }
    }
    let literal = template.literal_prefix();
    if !long_enough(literal) {
        return Err(Error::config(
            variable,
            format!(
                "{template} must start with a fixed prefix of at least 2 characters other than '/' (e.g. db-secrets/), to which IAM is scoped"
            ),
        ));
    }
    match prefix {
        None => Ok(literal.to_string()),
        Some(p) if !long_enough(&p) => Err(Error::config(
            prefix_variable,
            format!("{p:?} must have at least 2 characters other than '/'"),
        )),
        Some(p) if !literal.starts_with(&p) => Err(Error::config(
            prefix_variable,
            format!(
                "{p:?} is not a prefix of {variable} {:?}; every name must start with it",
                template.to_string()
            ),
        )),
        Some(p) => Ok(p),
    }
}

fn long_enough(prefix: &str) -> bool {
    prefix.chars().filter(|c| *c != '/').count() >= 2
}

/// `USER_EVENT_SOURCE`: comma-separated event sources; `aws.` sources are AWS's own.
fn user_event_sources(value: Option<String>) -> Result<Vec<String>> {
    let text = value.unwrap_or_else(|| DEFAULT_USER_EVENT_SOURCE.to_string());
    let sources: Vec<String> = list(Some(&text)).map(str::to_string).collect();
    let bad = |why: String| Error::config("USER_EVENT_SOURCE", why);
    if sources.is_empty() {
        return Err(bad("names no source".into()));
    }
    for s in &sources {
        if !is_event_source(s) {
            return Err(bad(format!(
                "{s:?} is not an event source (1-256 of A-Z a-z 0-9 . _ / -)"
            )));
        }
        if s.to_ascii_lowercase().starts_with("aws.") {
            return Err(bad(format!(
                "{s:?}: sources starting with aws. are AWS's own services"
            )));
        }
    }
    Ok(sources)
}

/// Rejects a template whose fixed text can never form a valid name. Each placeholder is
/// replaced by a sample value made of valid characters, so only the literal text is judged.
fn check_literal_chars(
    variable: &str,
    template: &Template,
    valid: fn(char) -> bool,
    allowed: &str,
) -> Result<()> {
    let sample = Facts::of(
        Service::Rds,
        "i",
        Some("u"),
        Some("e"),
        &Place::own("a", "r"),
    );
    let rendered = template.render(&sample).unwrap_or_default();
    match rendered.chars().find(|c| !valid(*c)) {
        Some(c) => Err(Error::config(
            variable,
            format!(
                "{:?} contains {c:?}; names may only use {allowed}",
                template.to_string()
            ),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::options::is_schedule;
    use super::*;
    use crate::model::identifiers::is_kms_key_ref;
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
        assert_eq!(
            (c.secret_prefix.as_str(), c.parameter_prefix.as_str()),
            ("db-secrets/", "/db-secrets/")
        );
        assert_eq!(c.user_event_sources, ["com.example.provisioning"]);
        let c = config(&[
            ("SECRET_NAME_PREFIX", "db-"),
            ("PASSWORD_PARAMETER_PREFIX", "/db-secrets/"),
            ("USER_EVENT_SOURCE", "com.example.a, com.example.b"),
        ])
        .unwrap();
        assert_eq!(c.secret_prefix, "db-");
        assert_eq!(c.user_event_sources, ["com.example.a", "com.example.b"]);
    }

    #[test]
    fn invalid_values_name_the_variable() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "SECRET_NAME_TEMPLATE",
                "db/{hostname}",
                "unknown placeholder",
            ),
            (
                "SECRET_NAME_TEMPLATE",
                "db secrets/{identifier}/{username}",
                "' '",
            ),
            ("PASSWORD_PARAMETER_TEMPLATE", "/db/{identifier", "unclosed"),
            (
                "PASSWORD_PARAMETER_TEMPLATE",
                "/db/{identifier}/{username}+x",
                "'+'",
            ),
            (
                "PASSWORD_PARAMETER_TEMPLATE",
                "/db/{identifier}/{username}x",
                "{username} as a whole",
            ),
            (
                "SECRET_NAME_TEMPLATE",
                "db/{identifier}-{username}",
                "{identifier} as a whole",
            ),
            (
                "SECRET_NAME_TEMPLATE",
                "db/{service}/{identifier}",
                "{username} as a whole",
            ),
            (
                "SECRET_NAME_TEMPLATE",
                "x/{identifier}/{username}",
                "at least 2 characters",
            ),
            (
                "PASSWORD_PARAMETER_TEMPLATE",
                "/{service}/{identifier}/{username}",
                "at least 2 characters",
            ),
            ("SECRET_NAME_PREFIX", "other/", "not a prefix"),
            ("SECRET_NAME_PREFIX", "/", "at least 2"),
            (
                "PASSWORD_PARAMETER_PREFIX",
                "/db-secrets/rds/",
                "not a prefix",
            ),
            ("USER_EVENT_SOURCE", "aws.rds", "AWS's own"),
            ("USER_EVENT_SOURCE", "a b", "not an event source"),
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
            (
                "SECRET_TAGS",
                "db-secret-provisioner:database=rds/instance/x",
                "reserved",
            ),
            ("SECRET_TAGS", "k=va|ue", "value of tag"),
            ("REPLICA_REGIONS", "us-west-2,mars-1", "not an AWS region"),
            ("REPLICA_REGIONS", "us-west-2,us-west-2", "twice"),
            ("REPLICA_REGIONS", "eu-west-1", "own region"),
            ("REPLICA_REGIONS", "us-west-2=not a key", "KMS key"),
            ("REPLICA_KMS_KEY_ARNS", "alias/x", "not a KMS key ARN"),
            (
                "REPLICA_KMS_KEY_ARNS",
                "arn:aws:kms:ap-south-1:123456789012:key/k1",
                "does not list",
            ),
            ("RESOURCE_POLICY", "{not json", "not JSON"),
            (
                "RESOURCE_POLICY",
                r#"{"Version": "2012-10-17"}"#,
                "Statement",
            ),
            (
                "ROTATION_LAMBDA_ARN",
                "arn:aws:lambda:eu-west-1:123456789012:function:rotate",
                "ROTATION_LAMBDA_ARNS",
            ),
            (
                "ROTATION_LAMBDA_ARNS",
                "postgres=arn:aws:lambda:eu-west-1:123456789012:function:rotate",
                "ROTATION_SCHEDULE",
            ),
            ("ROTATION_SCHEDULE", "rate(30 days)", "ROTATION_LAMBDA_ARNS"),
            ("MISSING_PASSWORD_PARAMETER", "ignore", "skip or error"),
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
                "ROTATION_LAMBDA_ARNS",
                "mysql=arn:aws:lambda:eu-west-1:1:function:f",
            ),
            ("ROTATION_SCHEDULE", "every day"),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("ROTATION_SCHEDULE"));
        for (list, needle) in [
            ("mysql=arn:aws:s3:::x", "not a Lambda function ARN"),
            ("neptune=arn:aws:lambda:eu-west-1:1:function:f", "not a secret engine"),
            ("mysql", "not engine=arn"),
            (
                "mysql=arn:aws:lambda:eu-west-1:1:function:f,mysql=arn:aws:lambda:eu-west-1:1:function:g",
                "twice",
            ),
        ] {
            let e = config(&[("ROTATION_LAMBDA_ARNS", list), ("ROTATION_SCHEDULE", "rate(1 day)")])
                .unwrap_err();
            assert!(
                e.to_string().contains("ROTATION_LAMBDA_ARNS") && e.to_string().contains(needle),
                "{list}: {e}"
            );
        }
    }

    #[test]
    fn rotation_functions_per_engine_and_strategy() {
        use crate::model::engine::engine_rule;
        let c = config(&[
            (
                "ROTATION_LAMBDA_ARNS",
                "postgres=arn:aws:lambda:eu-west-1:1:function:pg, postgres:multi=arn:aws:lambda:eu-west-1:1:function:pg-multi,mysql=arn:aws:lambda:eu-west-1:1:function:my,db2:multi=arn:aws:lambda:eu-west-1:1:function:db2",
            ),
            ("ROTATION_SCHEDULE", "rate(30 days)"),
        ])
        .unwrap();
        let r = c.options.rotation.unwrap();
        let pg = engine_rule("aurora-postgresql").unwrap();
        assert_eq!(
            r.lambda_for(pg, false),
            Ok("arn:aws:lambda:eu-west-1:1:function:pg")
        );
        assert_eq!(
            r.lambda_for(pg, true),
            Ok("arn:aws:lambda:eu-west-1:1:function:pg-multi")
        );
        let mysql = engine_rule("mysql").unwrap();
        assert!(r
            .lambda_for(mysql, true)
            .unwrap_err()
            .contains("mysql:multi"));
        let mongo = engine_rule("docdb").unwrap();
        assert!(r
            .lambda_for(mongo, false)
            .unwrap_err()
            .contains("for mongo"));
        let db2 = engine_rule("db2-se").unwrap();
        assert!(r.lambda_for(db2, false).unwrap_err().contains("masterarn"));
        assert_eq!(
            r.lambda_for(db2, true),
            Ok("arn:aws:lambda:eu-west-1:1:function:db2")
        );
        assert_eq!(
            config(&[]).unwrap().missing_parameter,
            MissingParameter::Skip
        );
        assert_eq!(
            config(&[("MISSING_PASSWORD_PARAMETER", "error")])
                .unwrap()
                .missing_parameter,
            MissingParameter::Error
        );
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
                "ROTATION_LAMBDA_ARNS",
                "mysql=arn:aws:lambda:eu-west-1:123456789012:function:rotate",
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
            ]
        );
        // 50 tags per secret, less the function's own keys (14): 36 of the operator's.
        assert_eq!(crate::model::tags::MAX_USER_TAGS, 36);
        let most: Vec<String> = (0..36).map(|i| format!("k{i}=v")).collect();
        assert!(config(&[("SECRET_TAGS", &most.join(","))]).is_ok());
        let many: Vec<String> = (0..37).map(|i| format!("k{i}=v")).collect();
        let e = config(&[("SECRET_TAGS", &many.join(","))]).unwrap_err();
        assert!(e.to_string().contains("at most 36"), "{e}");
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
        let keyed = config(&[
            ("REPLICA_REGIONS", "us-west-2,eu-central-1"),
            (
                "REPLICA_KMS_KEY_ARNS",
                "arn:aws:kms:eu-central-1:123456789012:key/k2",
            ),
        ])
        .unwrap()
        .options
        .replicas;
        assert_eq!(keyed[0].kms_key_id, None);
        assert_eq!(
            keyed[1].kms_key_id.as_deref(),
            Some("arn:aws:kms:eu-central-1:123456789012:key/k2")
        );
        let twice = config(&[
            ("REPLICA_REGIONS", "eu-central-1=alias/k"),
            (
                "REPLICA_KMS_KEY_ARNS",
                "arn:aws:kms:eu-central-1:123456789012:key/k2",
            ),
        ])
        .unwrap_err();
        assert!(twice.to_string().contains("second key"), "{twice}");
        assert_eq!(o.existing, ExistingSecret::Update);
        assert!(o.delete_password_parameter);
        assert!(!o.force_overwrite_replica);

        let d = config(&[]).unwrap().options;
        assert!(d.tags.is_empty());
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

    #[test]
    fn hub_mode_takes_keys_by_alias_and_no_rotation_function() {
        let hub = |extra: &[(&str, &str)]| {
            let mut vars = vec![
                ("MEMBER_ACCOUNTS", "111111111111"),
                ("ORGANIZATION_ID", "o-abcdefghij"),
                ("AWS_REGION", "us-east-1"),
                (
                    "WORK_QUEUE_URL",
                    "https://sqs.us-east-1.amazonaws.com/123456789012/work",
                ),
            ];
            vars.extend_from_slice(extra);
            config(&vars)
        };
        hub(&[
            ("KMS_KEY_ID", "alias/db-secrets"),
            ("REPLICA_REGIONS", "eu-west-1=alias/db-secrets"),
        ])
        .unwrap();
        let c = hub(&[
            ("KMS_KEY_ID", "alias/db-secrets"),
            ("REPLICA_REGIONS", "eu-west-1,us-west-2"),
            (
                "REPLICA_KMS_KEY_ALIASES",
                "eu-west-1=alias/db-secrets-eu, us-west-2=alias/db-secrets-us",
            ),
        ])
        .unwrap();
        let keys: Vec<Option<&str>> = c
            .options
            .replicas
            .iter()
            .map(|r| r.kms_key_id.as_deref())
            .collect();
        assert_eq!(
            keys,
            [Some("alias/db-secrets-eu"), Some("alias/db-secrets-us")]
        );
        for (extra, variable) in [
            (
                vec![("KMS_KEY_ID", "arn:aws:kms:us-east-1:123456789012:key/k1")],
                "KMS_KEY_ID",
            ),
            (
                vec![
                    ("REPLICA_REGIONS", "eu-west-1"),
                    (
                        "REPLICA_KMS_KEY_ARNS",
                        "arn:aws:kms:eu-west-1:123456789012:key/k2",
                    ),
                ],
                "REPLICA_KMS_KEY_ARNS",
            ),
            (
                vec![
                    (
                        "ROTATION_LAMBDA_ARNS",
                        "mysql=arn:aws:lambda:us-east-1:123456789012:function:r",
                    ),
                    ("ROTATION_SCHEDULE", "rate(30 days)"),
                ],
                "ROTATION_LAMBDA_ARNS",
            ),
            (
                vec![
                    ("REPLICA_REGIONS", "eu-west-1"),
                    ("REPLICA_KMS_KEY_ALIASES", "us-west-2=alias/x"),
                ],
                "REPLICA_KMS_KEY_ALIASES",
            ),
            (
                vec![
                    ("REPLICA_REGIONS", "eu-west-1=alias/a"),
                    ("REPLICA_KMS_KEY_ALIASES", "eu-west-1=alias/b"),
                ],
                "REPLICA_KMS_KEY_ALIASES",
            ),
            (
                vec![
                    ("REPLICA_REGIONS", "eu-west-1"),
                    ("REPLICA_KMS_KEY_ALIASES", "eu-west-1=key/x"),
                ],
                "REPLICA_KMS_KEY_ALIASES",
            ),
            (vec![("ORGANIZATION_ID", "")], "ORGANIZATION_ID"),
            (vec![("ORGANIZATION_ID", "o-short")], "ORGANIZATION_ID"),
            (
                vec![("SWEEP_ACCOUNTS", "111111111111,222222222222")],
                "SWEEP_ACCOUNTS",
            ),
        ] {
            let e = hub(&extra).unwrap_err();
            assert_eq!(e.error_type(), "ConfigurationError");
            assert!(e.to_string().contains(variable), "{e}");
        }
    }
}

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

/// The tag every secret this function creates carries. `EXISTING_SECRET=update` and the
/// reconcile sweep never touch a secret without it.
pub const MANAGED_TAG_KEY: &str = "managed-by";
pub const MANAGED_TAG_VALUE: &str = "db-secret-provisioner";

/// What to do when the secret already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExistingSecret {
    /// Leave it as it is.
    Keep,
    /// Refresh the connection keys, keep the username and password (our secrets only).
    Update,
}

/// A replica region with an optional KMS key of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replica {
    pub region: String,
    pub kms_key_id: Option<String>,
}

/// Rotation: the rotation function and its schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    pub lambda_arn: String,
    pub schedule: String,
}

/// Everything the console's "Store a new secret" offers, configured once per deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretOptions {
    pub kms_key_id: Option<String>,
    /// `SECRET_TAGS` plus the managed-by tag.
    pub tags: Vec<(String, String)>,
    pub replicas: Vec<Replica>,
    pub force_overwrite_replica: bool,
    pub resource_policy: Option<String>,
    pub rotation: Option<Rotation>,
    pub existing: ExistingSecret,
    pub delete_password_parameter: bool,
}

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
        let region = lookup("AWS_REGION")
            .or_else(|| lookup("AWS_DEFAULT_REGION"))
            .filter(|r| !r.is_empty());
        let options = secret_options(&lookup, region.as_deref())?;
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

fn secret_options(
    lookup: &impl Fn(&str) -> Option<String>,
    own_region: Option<&str>,
) -> Result<SecretOptions> {
    let get = |name: &str| {
        lookup(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };

    let kms_key_id = get("KMS_KEY_ID");
    if let Some(k) = &kms_key_id {
        if !is_kms_key_ref(k) {
            return Err(Error::config(
                "KMS_KEY_ID",
                format!("{k:?} is not a KMS key id, key ARN, alias/NAME or alias ARN"),
            ));
        }
    }

    let mut tags = match get("SECRET_TAGS") {
        Some(text) => parse_tags(&text).map_err(|e| Error::config("SECRET_TAGS", e))?,
        None => Vec::new(),
    };
    tags.push((MANAGED_TAG_KEY.into(), MANAGED_TAG_VALUE.into()));

    let mut replicas: Vec<Replica> = Vec::new();
    for item in get("REPLICA_REGIONS").iter().flat_map(|v| v.split(',')) {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let (region, key) = match item.split_once('=') {
            Some((r, k)) => (r.trim(), Some(k.trim().to_string())),
            None => (item, None),
        };
        let bad = |why: String| Error::config("REPLICA_REGIONS", why);
        if !is_region(region) {
            return Err(bad(format!("{region:?} is not an AWS region name")));
        }
        if Some(region) == own_region {
            return Err(bad(format!(
                "{region} is the function's own region, where the primary secret is"
            )));
        }
        if replicas.iter().any(|r| r.region == region) {
            return Err(bad(format!("{region} is listed twice")));
        }
        if let Some(k) = &key {
            if !is_kms_key_ref(k) {
                return Err(bad(format!(
                    "{k:?} (for {region}) is not a KMS key reference"
                )));
            }
        }
        replicas.push(Replica {
            region: region.to_string(),
            kms_key_id: key,
        });
    }

    let resource_policy = match get("RESOURCE_POLICY") {
        Some(text) => {
            let v: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| Error::config("RESOURCE_POLICY", format!("not JSON: {e}")))?;
            if v.get("Statement").is_none() {
                return Err(Error::config(
                    "RESOURCE_POLICY",
                    "a policy document needs a Statement",
                ));
            }
            if text.len() > 20_480 {
                return Err(Error::config(
                    "RESOURCE_POLICY",
                    "longer than the 20,480 characters Secrets Manager allows",
                ));
            }
            Some(text)
        }
        None => None,
    };

    let rotation = match (get("ROTATION_LAMBDA_ARN"), get("ROTATION_SCHEDULE")) {
        (None, None) => None,
        (Some(arn), Some(schedule)) => {
            if !(arn.starts_with("arn:aws")
                && arn.contains(":lambda:")
                && arn.contains(":function:"))
            {
                return Err(Error::config(
                    "ROTATION_LAMBDA_ARN",
                    format!("{arn:?} is not a Lambda function ARN"),
                ));
            }
            if !is_schedule(&schedule) {
                return Err(Error::config(
                    "ROTATION_SCHEDULE",
                    format!("{schedule:?} is not rate(N days|hours) or cron(...)"),
                ));
            }
            Some(Rotation {
                lambda_arn: arn,
                schedule,
            })
        }
        (Some(_), None) => {
            return Err(Error::config(
                "ROTATION_SCHEDULE",
                "must be set with ROTATION_LAMBDA_ARN",
            ))
        }
        (None, Some(_)) => {
            return Err(Error::config(
                "ROTATION_LAMBDA_ARN",
                "must be set with ROTATION_SCHEDULE",
            ))
        }
    };

    let existing = match get("EXISTING_SECRET").as_deref() {
        None | Some("keep") => ExistingSecret::Keep,
        Some("update") => ExistingSecret::Update,
        Some(other) => {
            return Err(Error::config(
                "EXISTING_SECRET",
                format!("{other:?} is not keep or update"),
            ))
        }
    };
    Ok(SecretOptions {
        kms_key_id,
        tags,
        replicas,
        force_overwrite_replica: boolean(lookup, "FORCE_OVERWRITE_REPLICA_SECRET")?,
        resource_policy,
        rotation,
        existing,
        delete_password_parameter: boolean(lookup, "DELETE_PASSWORD_PARAMETER")?,
    })
}

fn boolean(lookup: &impl Fn(&str) -> Option<String>, name: &str) -> Result<bool> {
    match lookup(name)
        .map(|v| v.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("") | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(Error::config(
            name,
            format!("{other:?} is not true or false"),
        )),
    }
}

/// `key=value,key=value` within the Secrets Manager tag limits (key 1–128, value ≤ 256, letters,
/// digits, spaces and `_ . : / = + - @`, no `aws:` prefix, no duplicates, not our own key).
fn parse_tags(text: &str) -> std::result::Result<Vec<(String, String)>, String> {
    let valid = |s: &str| {
        s.chars()
            .all(|c| c.is_alphanumeric() || " _.:/=+-@".contains(c))
    };
    let mut tags: Vec<(String, String)> = Vec::new();
    for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (k, v) = item
            .split_once('=')
            .ok_or_else(|| format!("{item:?} is not key=value"))?;
        let (k, v) = (k.trim(), v.trim());
        if k.is_empty() || k.chars().count() > 128 || !valid(k) {
            return Err(format!(
                "tag key {k:?} must be 1-128 letters, digits, spaces or _ . : / = + - @"
            ));
        }
        if v.chars().count() > 256 || !valid(v) {
            return Err(format!("the value of tag {k:?} must be at most 256 letters, digits, spaces or _ . : / = + - @"));
        }
        if k.to_ascii_lowercase().starts_with("aws:") {
            return Err(format!("tag key {k:?}: the aws: prefix is reserved"));
        }
        if k == MANAGED_TAG_KEY {
            return Err(format!("tag key {k:?} is set by the function itself"));
        }
        if tags.iter().any(|(existing, _)| existing == k) {
            return Err(format!("tag key {k:?} is given twice"));
        }
        tags.push((k.to_string(), v.to_string()));
    }
    if tags.len() > 49 {
        return Err("at most 49 tags (50 with the function's own)".into());
    }
    Ok(tags)
}

/// A KMS key id (UUID or `mrk-…`), key ARN, `alias/NAME` or alias ARN.
fn is_kms_key_ref(k: &str) -> bool {
    let idish = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if let Some(alias) = k.strip_prefix("alias/") {
        return !alias.is_empty()
            && alias
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/_-".contains(c));
    }
    if k.starts_with("arn:aws") {
        let parts: Vec<&str> = k.splitn(6, ':').collect();
        return parts.len() == 6
            && parts[2] == "kms"
            && (parts[5].starts_with("key/") || parts[5].starts_with("alias/"));
    }
    idish(k) && k.len() >= 8
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `ap-southeast-5`, ...
fn is_region(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()))
}

/// `rate(N days)`, `rate(N hours)` or `cron(…)`, the forms RotationRules.ScheduleExpression takes.
fn is_schedule(s: &str) -> bool {
    if let Some(inner) = s.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
        let mut it = inner.split_whitespace();
        let n = it.next().and_then(|n| n.parse::<u32>().ok());
        let unit = it.next();
        return matches!(n, Some(n) if n > 0)
            && matches!(unit, Some("day" | "days" | "hour" | "hours"))
            && it.next().is_none();
    }
    s.starts_with("cron(") && s.ends_with(')') && s.len() > 6
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

//! The secret options: everything the console's "Store a new secret" offers, configured once per
//! deployment.

use crate::model::engine::{EngineRule, ENGINE_RULES};
use crate::model::error::{Error, Result};
use crate::model::identifiers::{is_kms_key_ref, is_region, is_tag_key, is_tag_value, Arn};
use crate::model::tags::{MANAGED_TAG_KEY, MAX_USER_TAGS, RESERVED_PREFIX, RESERVED_TAG_KEYS};

use super::{boolean, list, one_of, var};

/// What to do when the secret already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExistingSecret {
    /// Leave it as it is.
    Keep,
    /// Refresh the connection keys, keep the username and password (our secrets only).
    Update,
}

impl ExistingSecret {
    /// `EXISTING_SECRET`'s spellings; the first is the default.
    pub const CHOICES: [(&'static str, ExistingSecret); 2] = [
        ("keep", ExistingSecret::Keep),
        ("update", ExistingSecret::Update),
    ];
}

/// A replica region with an optional KMS key of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replica {
    pub region: String,
    pub kms_key_id: Option<String>,
}

/// Rotation: AWS's rotation functions each accept one engine family and one strategy, so there
/// is one function per (engine, strategy), and one schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// (key, function ARN). The key is a secret's `engine` value for single-user rotation, and
    /// the same value with `:multi` for alternating users (a secret that carries `masterarn`).
    pub lambdas: Vec<(String, String)>,
    pub schedule: String,
}

impl Rotation {
    /// The rotation function for a secret of `rule`'s engine, alternating users when it carries
    /// `masterarn`; or why it gets none.
    pub fn lambda_for(&self, rule: &EngineRule, masterarn: bool) -> Result<&str, String> {
        if rule.rotation_needs_masterarn && !masterarn {
            return Err(format!(
                "no rotation: AWS's {} rotation functions need masterarn, which a master secret does not carry",
                rule.secret_engine
            ));
        }
        let key = if masterarn {
            format!("{}:multi", rule.secret_engine)
        } else {
            rule.secret_engine.to_string()
        };
        self.lambdas
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, arn)| arn.as_str())
            .ok_or_else(|| format!("no rotation: ROTATION_LAMBDA_ARNS names no function for {key}"))
    }
}

/// Everything the console's "Store a new secret" offers, configured once per deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretOptions {
    pub kms_key_id: Option<String>,
    /// `SECRET_TAGS` (the function adds its ownership tags to each secret).
    pub tags: Vec<(String, String)>,
    pub replicas: Vec<Replica>,
    pub force_overwrite_replica: bool,
    pub resource_policy: Option<String>,
    pub rotation: Option<Rotation>,
    pub existing: ExistingSecret,
    pub delete_password_parameter: bool,
}

pub(super) fn secret_options(
    lookup: &impl Fn(&str) -> Option<String>,
    own_region: Option<&str>,
) -> Result<SecretOptions> {
    let get = |name: &str| var(lookup, name);

    let kms_key_id = get("KMS_KEY_ID");
    if let Some(k) = &kms_key_id {
        if !is_kms_key_ref(k) {
            return Err(Error::config(
                "KMS_KEY_ID",
                format!("{k:?} is not a KMS key id, key ARN, alias/NAME or alias ARN"),
            ));
        }
    }

    let tags = match get("SECRET_TAGS") {
        Some(text) => parse_tags(&text).map_err(|e| Error::config("SECRET_TAGS", e))?,
        None => Vec::new(),
    };

    Ok(SecretOptions {
        kms_key_id,
        tags,
        replicas: replicas(&get, own_region)?,
        force_overwrite_replica: boolean(lookup, "FORCE_OVERWRITE_REPLICA_SECRET", false)?,
        resource_policy: resource_policy(&get)?,
        rotation: rotation(&get)?,
        existing: one_of(lookup, "EXISTING_SECRET", &ExistingSecret::CHOICES)?,
        delete_password_parameter: boolean(lookup, "DELETE_PASSWORD_PARAMETER", false)?,
    })
}

/// `REPLICA_REGIONS` (`region` or `region=key`), and `REPLICA_KMS_KEY_ARNS` or
/// `REPLICA_KMS_KEY_ALIASES` for their keys.
fn replicas(
    get: &impl Fn(&str) -> Option<String>,
    own_region: Option<&str>,
) -> Result<Vec<Replica>> {
    let mut replicas: Vec<Replica> = Vec::new();
    for item in list(get("REPLICA_REGIONS").as_deref()) {
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
    // Keys per replica region as key ARNs, each naming its region (what a template can pass
    // from a list parameter, and what IAM is scoped to).
    for arn in list(get("REPLICA_KMS_KEY_ARNS").as_deref()) {
        let bad = |why: String| Error::config("REPLICA_KMS_KEY_ARNS", why);
        let parsed = Arn::parse(arn)
            .ok()
            .filter(|a| a.service == "kms" && a.resource_type == "key")
            .ok_or_else(|| bad(format!("{arn:?} is not a KMS key ARN")))?;
        let replica = replicas
            .iter_mut()
            .find(|r| r.region == parsed.region)
            .ok_or_else(|| {
                bad(format!(
                    "{arn:?} is in {}, which REPLICA_REGIONS does not list",
                    parsed.region
                ))
            })?;
        if replica.kms_key_id.is_some() {
            return Err(bad(format!(
                "{} is given a second key ({arn:?})",
                parsed.region
            )));
        }
        replica.kms_key_id = Some(arn.to_string());
    }
    // Keys per replica region as aliases (`region=alias/NAME`): hub mode, where the same alias
    // names each member account's own key in that region.
    for item in list(get("REPLICA_KMS_KEY_ALIASES").as_deref()) {
        let bad = |why: String| Error::config("REPLICA_KMS_KEY_ALIASES", why);
        let (region, alias) = item
            .split_once('=')
            .map(|(r, a)| (r.trim(), a.trim()))
            .filter(|(r, a)| is_region(r) && a.starts_with("alias/") && is_kms_key_ref(a))
            .ok_or_else(|| bad(format!("{item:?} is not region=alias/NAME")))?;
        let replica = replicas
            .iter_mut()
            .find(|r| r.region == region)
            .ok_or_else(|| bad(format!("{region} is not listed in REPLICA_REGIONS")))?;
        if replica.kms_key_id.is_some() {
            return Err(bad(format!("{region} is given a second key ({alias:?})")));
        }
        replica.kms_key_id = Some(alias.to_string());
    }
    Ok(replicas)
}

/// `RESOURCE_POLICY`: a policy document within Secrets Manager's size limit.
fn resource_policy(get: &impl Fn(&str) -> Option<String>) -> Result<Option<String>> {
    Ok(match get("RESOURCE_POLICY") {
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
    })
}

/// `ROTATION_LAMBDA_ARNS` and `ROTATION_SCHEDULE`, set together or not at all.
fn rotation(get: &impl Fn(&str) -> Option<String>) -> Result<Option<Rotation>> {
    if get("ROTATION_LAMBDA_ARN").is_some() {
        return Err(Error::config(
            "ROTATION_LAMBDA_ARN",
            "one rotation function cannot rotate every engine (each AWS rotation function accepts one engine family); set ROTATION_LAMBDA_ARNS=engine=arn,engine:multi=arn,... instead",
        ));
    }
    Ok(
        match (get("ROTATION_LAMBDA_ARNS"), get("ROTATION_SCHEDULE")) {
            (None, None) => None,
            (Some(list), Some(schedule)) => {
                if !is_schedule(&schedule) {
                    return Err(Error::config(
                        "ROTATION_SCHEDULE",
                        format!("{schedule:?} is not rate(N days|hours) or cron(...)"),
                    ));
                }
                Some(Rotation {
                    lambdas: rotation_lambdas(&list)
                        .map_err(|e| Error::config("ROTATION_LAMBDA_ARNS", e))?,
                    schedule,
                })
            }
            (Some(_), None) => {
                return Err(Error::config(
                    "ROTATION_SCHEDULE",
                    "must be set with ROTATION_LAMBDA_ARNS",
                ))
            }
            (None, Some(_)) => {
                return Err(Error::config(
                    "ROTATION_LAMBDA_ARNS",
                    "must be set with ROTATION_SCHEDULE",
                ))
            }
        },
    )
}

/// `key=value,key=value` within the Secrets Manager tag limits (key 1–128, value ≤ 256, letters,
/// digits, spaces and `_ . : / = + - @`, no `aws:` prefix, no duplicates, not our own key).
fn parse_tags(text: &str) -> std::result::Result<Vec<(String, String)>, String> {
    let mut tags: Vec<(String, String)> = Vec::new();
    for item in list(Some(text)) {
        let (k, v) = item
            .split_once('=')
            .ok_or_else(|| format!("{item:?} is not key=value"))?;
        let (k, v) = (k.trim(), v.trim());
        if !is_tag_key(k) {
            return Err(format!(
                "tag key {k:?} must be 1-128 letters, digits, spaces or _ . : / = + - @"
            ));
        }
        if !is_tag_value(v) {
            return Err(format!("the value of tag {k:?} must be at most 256 letters, digits, spaces or _ . : / = + - @"));
        }
        if k.to_ascii_lowercase().starts_with("aws:") {
            return Err(format!("tag key {k:?}: the aws: prefix is reserved"));
        }
        if k == MANAGED_TAG_KEY || k.starts_with(RESERVED_PREFIX) {
            return Err(format!(
                "tag key {k:?} is set by the function itself ({MANAGED_TAG_KEY} and {RESERVED_PREFIX}* are reserved)"
            ));
        }
        if tags.iter().any(|(existing, _)| existing == k) {
            return Err(format!("tag key {k:?} is given twice"));
        }
        tags.push((k.to_string(), v.to_string()));
    }
    if tags.len() > MAX_USER_TAGS {
        return Err(format!(
            "at most {MAX_USER_TAGS} tags (AWS allows 50 per secret; the function keeps {} for its own)",
            RESERVED_TAG_KEYS.len()
        ));
    }
    Ok(tags)
}

/// `engine=arn,engine:multi=arn,...`: each key a secret `engine` value of the engine table,
/// optionally with `:multi`; each value a Lambda function ARN; no key twice.
fn rotation_lambdas(text: &str) -> std::result::Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for item in list(Some(text)) {
        let (key, arn) = item
            .split_once('=')
            .map(|(k, a)| (k.trim(), a.trim()))
            .ok_or_else(|| format!("{item:?} is not engine=arn"))?;
        let engine = key.strip_suffix(":multi").unwrap_or(key);
        if !ENGINE_RULES.iter().any(|r| r.secret_engine == engine) {
            let mut known: Vec<&str> = ENGINE_RULES.iter().map(|r| r.secret_engine).collect();
            known.sort();
            known.dedup();
            return Err(format!(
                "{key:?} is not a secret engine (one of {}, optionally with :multi)",
                known.join(", ")
            ));
        }
        let valid =
            Arn::parse(arn).is_ok_and(|a| a.service == "lambda" && a.resource_type == "function");
        if !valid {
            return Err(format!("{arn:?} (for {key}) is not a Lambda function ARN"));
        }
        if out.iter().any(|(k, _)| k == key) {
            return Err(format!("{key} is given twice"));
        }
        out.push((key.to_string(), arn.to_string()));
    }
    if out.is_empty() {
        return Err("names no rotation function".into());
    }
    Ok(out)
}

/// `rate(N days)`, `rate(N hours)` or `cron(…)`, the forms RotationRules.ScheduleExpression takes.
pub(super) fn is_schedule(s: &str) -> bool {
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

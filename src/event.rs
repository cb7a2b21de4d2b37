//! Event recognition: which incoming events ask for a secret, and for which database.
//!
//! Pure logic: no AWS calls. Everything that is not a trigger we know is `Ignored` with a reason
//! (the invocation succeeds and touches nothing); an event that is one of ours but malformed is
//! an [`Error::InvalidEvent`].

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// What kind of database an event points at, with its identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An RDS DB instance (RDS engines, or a DocumentDB/Aurora cluster member).
    DbInstance(String),
    /// An RDS DB cluster (Aurora, Multi-AZ DB cluster, DocumentDB).
    DbCluster(String),
    /// A Redshift provisioned cluster.
    RedshiftCluster(String),
    /// A Redshift Serverless workgroup, by name.
    Workgroup(String),
    /// A Redshift Serverless workgroup known only by its ARN (which carries the workgroup id,
    /// not its name): resolved with ListWorkgroups.
    WorkgroupArn(String),
}

impl Target {
    pub fn identifier(&self) -> &str {
        match self {
            Target::DbInstance(id)
            | Target::DbCluster(id)
            | Target::RedshiftCluster(id)
            | Target::Workgroup(id)
            | Target::WorkgroupArn(id) => id,
        }
    }

    /// A human name for messages: "DB instance", "DB cluster", ...
    pub fn kind(&self) -> &'static str {
        match self {
            Target::DbInstance(_) => "DB instance",
            Target::DbCluster(_) => "DB cluster",
            Target::RedshiftCluster(_) => "Redshift cluster",
            Target::Workgroup(_) | Target::WorkgroupArn(_) => "Redshift Serverless workgroup",
        }
    }

    /// The `{service}` value when the target alone decides it. RDS targets may turn out to be
    /// DocumentDB (`docdb`), which only Describe tells.
    pub fn service_guess(&self) -> &'static str {
        match self {
            Target::DbInstance(_) | Target::DbCluster(_) => "rds",
            Target::RedshiftCluster(_) => "redshift",
            Target::Workgroup(_) | Target::WorkgroupArn(_) => "redshift-serverless",
        }
    }
}

/// The trigger family an event belongs to (logged and reported).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    RdsInstanceCreated,
    RdsClusterCreated,
    RdsInstanceRestored,
    CloudTrailCreateDbInstance,
    CloudTrailCreateDbCluster,
    CloudTrailCreateRedshiftCluster,
    CloudTrailCreateWorkgroup,
    ServerlessWorkgroupCreated,
    DatabaseUserCreated,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::RdsInstanceCreated => "rds-instance-created",
            Trigger::RdsClusterCreated => "rds-cluster-created",
            Trigger::RdsInstanceRestored => "rds-instance-restored",
            Trigger::CloudTrailCreateDbInstance => "cloudtrail-create-db-instance",
            Trigger::CloudTrailCreateDbCluster => "cloudtrail-create-db-cluster",
            Trigger::CloudTrailCreateRedshiftCluster => "cloudtrail-create-redshift-cluster",
            Trigger::CloudTrailCreateWorkgroup => "cloudtrail-create-workgroup",
            Trigger::ServerlessWorkgroupCreated => "redshift-serverless-workgroup-created",
            Trigger::DatabaseUserCreated => "database-user-created",
        }
    }
}

/// An application user announced by a "Database User Created" event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserSpec {
    pub username: String,
    /// Overrides `PASSWORD_PARAMETER_TEMPLATE`.
    pub password_parameter: Option<String>,
    /// Overrides Describe's database name.
    pub dbname: Option<String>,
    /// Overrides `SECRET_NAME_TEMPLATE`.
    pub secret_name: Option<String>,
    /// Stored as `masterarn`, for the alternating-users rotation strategy.
    pub master_secret_arn: Option<String>,
}

/// A recognised request to provision a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub trigger: Trigger,
    pub target: Target,
    /// The EventBridge event id, for logs.
    pub event_id: Option<String>,
    /// Region and account of the database, from its ARN or the envelope.
    pub region: Option<String>,
    pub account: Option<String>,
    /// The resource may still be `creating` (CloudTrail create calls): wait until available.
    pub wait: bool,
    /// The master username the create call named (CloudTrail), known before Describe.
    pub master_username_hint: Option<String>,
    /// Set for "Database User Created": the secret is this user's, not the master user's.
    pub user: Option<Box<UserSpec>>,
}

impl Request {
    fn new(trigger: Trigger, target: Target, envelope: &EventBridgeEvent<Value>) -> Self {
        Request {
            trigger,
            target,
            event_id: envelope.id.clone(),
            region: envelope.region.clone().filter(|r| !r.is_empty()),
            account: envelope.account.clone().filter(|a| !a.is_empty()),
            wait: false,
            master_username_hint: None,
            user: None,
        }
    }
}

/// The result of looking at an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recognised {
    Provision(Request),
    /// A scheduled event: run the reconcile sweep.
    Sweep {
        region: Option<String>,
        account: Option<String>,
    },
    Ignored(String),
}

/// The native RDS events that announce a new database: (detail-type, EventID, trigger).
/// DocumentDB uses the same events; only Describe tells the engine.
const RDS_NATIVE_TRIGGERS: &[(&str, &str, Trigger)] = &[
    (
        "RDS DB Instance Event",
        "RDS-EVENT-0005",
        Trigger::RdsInstanceCreated,
    ),
    (
        "RDS DB Instance Event",
        "RDS-EVENT-0043",
        Trigger::RdsInstanceRestored,
    ),
    (
        "RDS DB Instance Event",
        "RDS-EVENT-0019",
        Trigger::RdsInstanceRestored,
    ),
    (
        "RDS DB Cluster Event",
        "RDS-EVENT-0170",
        Trigger::RdsClusterCreated,
    ),
];

/// The CloudTrail create calls we act on: (source, eventSource, eventName, trigger).
const CLOUDTRAIL_TRIGGERS: &[(&str, &str, &str, Trigger)] = &[
    (
        "aws.rds",
        "rds.amazonaws.com",
        "CreateDBInstance",
        Trigger::CloudTrailCreateDbInstance,
    ),
    (
        "aws.rds",
        "rds.amazonaws.com",
        "CreateDBCluster",
        Trigger::CloudTrailCreateDbCluster,
    ),
    (
        "aws.redshift",
        "redshift.amazonaws.com",
        "CreateCluster",
        Trigger::CloudTrailCreateRedshiftCluster,
    ),
    (
        "aws.redshift-serverless",
        "redshift-serverless.amazonaws.com",
        "CreateWorkgroup",
        Trigger::CloudTrailCreateWorkgroup,
    ),
];

pub const CLOUDTRAIL_DETAIL_TYPE: &str = "AWS API Call via CloudTrail";
pub const USER_CREATED_DETAIL_TYPE: &str = "Database User Created";
pub const SCHEDULED_DETAIL_TYPE: &str = "Scheduled Event";
pub const SERVERLESS_WORKGROUP_CREATED: &str = "REDSHIFT-SERVERLESS-EVENT-1008";

/// Looks at an incoming Lambda payload.
pub fn recognise(payload: &Value) -> Result<Recognised> {
    let Some(object) = payload.as_object() else {
        return Ok(Recognised::Ignored(format!(
            "not an EventBridge event (payload is {})",
            json_kind(payload)
        )));
    };
    if !object.contains_key("detail-type") || !object.contains_key("source") {
        return Ok(Recognised::Ignored(
            "not an EventBridge event (no detail-type or source)".into(),
        ));
    }
    let envelope: EventBridgeEvent<Value> = serde_json::from_value(payload.clone())
        .map_err(|e| Error::InvalidEvent(format!("malformed EventBridge envelope: {e}")))?;

    if envelope.detail_type == USER_CREATED_DETAIL_TYPE {
        return recognise_user(&envelope);
    }
    if envelope.detail_type == CLOUDTRAIL_DETAIL_TYPE {
        return recognise_cloudtrail(&envelope);
    }
    if envelope.detail_type == SCHEDULED_DETAIL_TYPE
        && matches!(envelope.source.as_str(), "aws.events" | "aws.scheduler")
    {
        return Ok(Recognised::Sweep {
            region: envelope.region.clone().filter(|r| !r.is_empty()),
            account: envelope.account.clone().filter(|a| !a.is_empty()),
        });
    }
    match envelope.source.as_str() {
        "aws.rds" => recognise_rds(&envelope),
        "aws.redshift-serverless" => recognise_serverless(&envelope),
        other => Ok(Recognised::Ignored(format!(
            "no trigger for source {:?} / detail-type {:?}",
            truncate(other),
            truncate(&envelope.detail_type)
        ))),
    }
}

fn recognise_rds(envelope: &EventBridgeEvent<Value>) -> Result<Recognised> {
    let detail_type = envelope.detail_type.as_str();
    if !RDS_NATIVE_TRIGGERS
        .iter()
        .any(|(dt, _, _)| *dt == detail_type)
    {
        return Ok(Recognised::Ignored(format!(
            "no trigger for aws.rds detail-type {:?}",
            truncate(detail_type)
        )));
    }
    let detail = detail_object(envelope)?;
    let event_code = string_field(detail, "EventID")?;
    let Some(&(_, _, trigger)) = RDS_NATIVE_TRIGGERS
        .iter()
        .find(|(dt, id, _)| *dt == detail_type && *id == event_code)
    else {
        return Ok(Recognised::Ignored(format!(
            "{detail_type} {:?} does not announce a new database",
            truncate(event_code)
        )));
    };
    let cluster = detail_type == "RDS DB Cluster Event";
    let resource_type = if cluster { "cluster" } else { "db" };

    let (identifier, region, account) = match detail.get("SourceArn") {
        Some(Value::String(arn)) if !arn.is_empty() => {
            let arn = parse_arn(arn)?;
            if arn.service != "rds" || arn.resource_type != resource_type {
                return Err(Error::InvalidEvent(format!(
                    "SourceArn {:?} is not an RDS {resource_type} ARN",
                    truncate(arn.text)
                )));
            }
            (
                arn.resource_id.to_string(),
                non_empty(arn.region),
                non_empty(arn.account),
            )
        }
        Some(v) if !v.is_null() && !v.is_string() => {
            return Err(Error::InvalidEvent(format!(
                "detail.SourceArn must be a string, found {}",
                json_kind(v)
            )))
        }
        _ => {
            let id = string_field(detail, "SourceIdentifier")?;
            (
                id.strip_prefix("rds:").unwrap_or(id).to_string(),
                None,
                None,
            )
        }
    };
    validate_rds_identifier(&identifier)?;

    let target = if cluster {
        Target::DbCluster(identifier)
    } else {
        Target::DbInstance(identifier)
    };
    let mut request = Request::new(trigger, target, envelope);
    request.region = region.or(request.region);
    request.account = account.or(request.account);
    Ok(Recognised::Provision(request))
}

/// CloudTrail create calls. The resource is `creating` when the call is recorded, so the
/// request asks the lookup to wait. A failed call (`errorCode`) created nothing.
fn recognise_cloudtrail(envelope: &EventBridgeEvent<Value>) -> Result<Recognised> {
    let detail = detail_object(envelope)?;
    let event_source = detail
        .get("eventSource")
        .and_then(Value::as_str)
        .unwrap_or("");
    let event_name = detail
        .get("eventName")
        .and_then(Value::as_str)
        .unwrap_or("");
    let Some(&(_, _, _, trigger)) = CLOUDTRAIL_TRIGGERS.iter().find(|(source, es, name, _)| {
        *source == envelope.source && *es == event_source && *name == event_name
    }) else {
        return Ok(Recognised::Ignored(format!(
            "no trigger for CloudTrail call {:?} / {:?}",
            truncate(event_source),
            truncate(event_name)
        )));
    };
    if let Some(code) = detail.get("errorCode").filter(|v| !v.is_null()) {
        return Ok(Recognised::Ignored(format!(
            "the {event_name} call failed ({}): nothing was created",
            truncate(code.as_str().unwrap_or("error"))
        )));
    }
    let params = optional_object(detail, "requestParameters")?;
    let response = optional_object(detail, "responseElements")?;
    // The response carries the identifier as AWS stored it (RDS lowercases identifiers).
    let pick = |response_path: &[&str], param: &str| -> Option<String> {
        let mut v = response.map(|r| Value::Object(r.clone()));
        for key in response_path {
            v = v.and_then(|v| v.get(*key).cloned());
        }
        v.and_then(|v| v.as_str().map(str::to_string))
            .or_else(|| {
                params
                    .and_then(|p| p.get(param))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .filter(|s| !s.is_empty())
    };
    let missing = |field: &str| Error::InvalidEvent(format!("{event_name} event has no {field}"));
    let target = match trigger {
        Trigger::CloudTrailCreateDbInstance => {
            let id = pick(&["dBInstanceIdentifier"], "dBInstanceIdentifier")
                .ok_or_else(|| missing("requestParameters.dBInstanceIdentifier"))?
                .to_ascii_lowercase();
            validate_rds_identifier(&id)?;
            Target::DbInstance(id)
        }
        Trigger::CloudTrailCreateDbCluster => {
            let id = pick(&["dBClusterIdentifier"], "dBClusterIdentifier")
                .ok_or_else(|| missing("requestParameters.dBClusterIdentifier"))?
                .to_ascii_lowercase();
            validate_rds_identifier(&id)?;
            Target::DbCluster(id)
        }
        Trigger::CloudTrailCreateRedshiftCluster => {
            let id = pick(&["clusterIdentifier"], "clusterIdentifier")
                .ok_or_else(|| missing("requestParameters.clusterIdentifier"))?
                .to_ascii_lowercase();
            validate_rds_identifier(&id)?;
            Target::RedshiftCluster(id)
        }
        _ => {
            let name = pick(&["workgroup", "workgroupName"], "workgroupName")
                .ok_or_else(|| missing("requestParameters.workgroupName"))?;
            validate_workgroup_name(&name)?;
            Target::Workgroup(name)
        }
    };
    let mut request = Request::new(trigger, target, envelope);
    if let Some(region) = detail
        .get("awsRegion")
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty())
    {
        request.region = Some(region.to_string());
    }
    request.wait = true;
    request.master_username_hint = params
        .and_then(|p| p.get("masterUsername"))
        .and_then(Value::as_str)
        .filter(|u| valid_username(u))
        .map(str::to_string);
    Ok(Recognised::Provision(request))
}

/// Redshift Serverless native events. Only REDSHIFT-SERVERLESS-EVENT-1008 ("workgroup … has
/// been created and is ready for use") is a trigger. Its `detail` is not publicly documented,
/// so the event id is looked for in any top-level detail value, and the workgroup is taken from
/// (in order) `detail.workgroupName` / `WorkgroupName` / `workgroup-name`, then a
/// `…:workgroup/<name or id>` ARN in `resources` or `detail.SourceArn`/`resourceArn`.
fn recognise_serverless(envelope: &EventBridgeEvent<Value>) -> Result<Recognised> {
    let detail = detail_object(envelope)?;
    let is_created = detail
        .values()
        .any(|v| v.as_str() == Some(SERVERLESS_WORKGROUP_CREATED));
    if !is_created {
        return Ok(Recognised::Ignored(format!(
            "aws.redshift-serverless {:?} is not {SERVERLESS_WORKGROUP_CREATED} (workgroup created)",
            truncate(&envelope.detail_type)
        )));
    }
    let by_name = ["workgroupName", "WorkgroupName", "workgroup-name"]
        .iter()
        .find_map(|k| detail.get(*k).and_then(Value::as_str))
        .filter(|n| !n.is_empty());
    let target = match by_name {
        Some(name) => {
            validate_workgroup_name(name)?;
            Target::Workgroup(name.to_string())
        }
        None => {
            let arns = envelope
                .resources
                .iter()
                .flatten()
                .map(String::as_str)
                .chain(
                    ["SourceArn", "resourceArn"]
                        .iter()
                        .filter_map(|k| detail.get(*k).and_then(Value::as_str)),
                );
            let arn = arns
                .into_iter()
                .find(|a| a.contains(":workgroup/"))
                .ok_or_else(|| {
                    Error::InvalidEvent(format!(
                        "{SERVERLESS_WORKGROUP_CREATED} event names no workgroup (no detail.workgroupName, no workgroup ARN in resources)"
                    ))
                })?;
            let parsed = parse_arn(arn)?;
            if parsed.service != "redshift-serverless" || arn.len() > 2048 {
                return Err(Error::InvalidEvent(format!(
                    "{:?} is not a Redshift Serverless ARN",
                    truncate(arn)
                )));
            }
            Target::WorkgroupArn(arn.to_string())
        }
    };
    Ok(Recognised::Provision(Request::new(
        Trigger::ServerlessWorkgroupCreated,
        target,
        envelope,
    )))
}

/// The keys a "Database User Created" event's detail may have.
const USER_EVENT_KEYS: &[&str] = &[
    "dbInstanceIdentifier",
    "dbClusterIdentifier",
    "clusterIdentifier",
    "workgroupName",
    "username",
    "passwordParameter",
    "dbname",
    "secretName",
    "masterSecretArn",
];

/// The custom event a provisioning pipeline sends after creating a database user.
fn recognise_user(envelope: &EventBridgeEvent<Value>) -> Result<Recognised> {
    let detail = detail_object(envelope)?;
    if let Some(unknown) = detail
        .keys()
        .find(|k| !USER_EVENT_KEYS.contains(&k.as_str()))
    {
        return Err(Error::InvalidEvent(format!(
            "detail.{} is not a field of {USER_CREATED_DETAIL_TYPE} (expected one of {})",
            truncate(unknown),
            USER_EVENT_KEYS.join(", ")
        )));
    }
    let optional = |key: &str| -> Result<Option<String>> {
        match detail.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => string_field(detail, key).map(|s| Some(s.to_string())),
        }
    };
    let identifiers: Vec<(&str, String)> = [
        "dbInstanceIdentifier",
        "dbClusterIdentifier",
        "clusterIdentifier",
        "workgroupName",
    ]
    .iter()
    .filter_map(|k| optional(k).transpose().map(|v| v.map(|v| (*k, v))))
    .collect::<Result<_>>()?;
    let (key, id) = match identifiers.as_slice() {
        [one] => one.clone(),
        [] => {
            return Err(Error::InvalidEvent(
                "detail needs exactly one of dbInstanceIdentifier, dbClusterIdentifier, clusterIdentifier, workgroupName; found none".into(),
            ))
        }
        many => {
            let keys: Vec<&str> = many.iter().map(|(k, _)| *k).collect();
            return Err(Error::InvalidEvent(format!(
                "detail needs exactly one database identifier; found {}",
                keys.join(" and ")
            )));
        }
    };
    let target = match key {
        "dbInstanceIdentifier" => Target::DbInstance(id),
        "dbClusterIdentifier" => Target::DbCluster(id),
        "clusterIdentifier" => Target::RedshiftCluster(id),
        _ => Target::Workgroup(id),
    };
    match &target {
        Target::Workgroup(name) => validate_workgroup_name(name)?,
        other => validate_rds_identifier(other.identifier())?,
    }
    let username = string_field(detail, "username")?.to_string();
    if !valid_username(&username) {
        return Err(Error::InvalidEvent(format!(
            "detail.username {:?} cannot be part of a secret name (1-128 of A-Z a-z 0-9 _ + = . @ -)",
            truncate(&username)
        )));
    }
    let password_parameter = optional("passwordParameter")?;
    if let Some(p) = &password_parameter {
        if p.len() > 2048 || !p.chars().all(crate::config::is_parameter_name_char) {
            return Err(Error::InvalidEvent(format!(
                "detail.passwordParameter {:?} is not an SSM parameter name",
                truncate(p)
            )));
        }
    }
    let secret_name = optional("secretName")?;
    if let Some(n) = &secret_name {
        crate::store::validate_name(n)
            .map_err(|e| Error::InvalidEvent(format!("detail.secretName: {e}")))?;
    }
    let master_secret_arn = optional("masterSecretArn")?;
    if let Some(arn) = &master_secret_arn {
        let parsed = parse_arn(arn)?;
        if parsed.service != "secretsmanager" {
            return Err(Error::InvalidEvent(format!(
                "detail.masterSecretArn {:?} is not a Secrets Manager ARN",
                truncate(arn)
            )));
        }
    }
    let mut request = Request::new(Trigger::DatabaseUserCreated, target, envelope);
    request.user = Some(Box::new(UserSpec {
        username,
        password_parameter,
        dbname: optional("dbname")?,
        secret_name,
        master_secret_arn,
    }));
    Ok(Recognised::Provision(request))
}

/// Usernames that can stand in a secret name: 1–128 of `A-Za-z0-9_+=.@-`.
fn valid_username(u: &str) -> bool {
    !u.is_empty()
        && u.len() <= 128
        && u.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=.@-".contains(c))
}

/// Redshift Serverless workgroup names: 3–64 lowercase letters, digits and hyphens.
fn validate_workgroup_name(name: &str) -> Result<()> {
    if name.len() < 3
        || name.len() > 64
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(Error::InvalidEvent(format!(
            "{:?} is not a valid workgroup name (3-64 lowercase letters, digits and hyphens)",
            truncate(name)
        )));
    }
    Ok(())
}

fn optional_object<'a>(
    detail: &'a Map<String, Value>,
    key: &str,
) -> Result<Option<&'a Map<String, Value>>> {
    match detail.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(v) => Err(Error::InvalidEvent(format!(
            "detail.{key} must be an object, found {}",
            json_kind(v)
        ))),
    }
}

/// RDS identifiers: 1–63 letters, digits and hyphens (DocumentDB and Aurora alike).
fn validate_rds_identifier(id: &str) -> Result<()> {
    if id.is_empty() || id.len() > 63 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(Error::InvalidEvent(format!(
            "{:?} is not a valid RDS identifier (1-63 letters, digits and hyphens)",
            truncate(id)
        )));
    }
    Ok(())
}

struct Arn<'a> {
    text: &'a str,
    service: &'a str,
    region: &'a str,
    account: &'a str,
    resource_type: &'a str,
    resource_id: &'a str,
}

/// Parses `arn:partition:service:region:account:type:id` or `…:account:type/id`.
fn parse_arn(text: &str) -> Result<Arn<'_>> {
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    let invalid = || {
        Error::InvalidEvent(format!(
            "{:?} is not an AWS ARN of the form arn:aws:service:region:account:type:id",
            truncate(text)
        ))
    };
    match parts.as_slice() {
        ["arn", partition, service, region, account, resource] if partition.starts_with("aws") => {
            let (resource_type, resource_id) =
                resource.split_once([':', '/']).ok_or_else(invalid)?;
            if resource_id.is_empty() {
                return Err(invalid());
            }
            Ok(Arn {
                text,
                service,
                region,
                account,
                resource_type,
                resource_id,
            })
        }
        _ => Err(invalid()),
    }
}

fn detail_object(envelope: &EventBridgeEvent<Value>) -> Result<&Map<String, Value>> {
    envelope.detail.as_object().ok_or_else(|| {
        Error::InvalidEvent(format!(
            "detail must be an object, found {}",
            json_kind(&envelope.detail)
        ))
    })
}

fn string_field<'a>(detail: &'a Map<String, Value>, key: &str) -> Result<&'a str> {
    match detail.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(Value::String(_)) => Err(Error::InvalidEvent(format!("detail.{key} is empty"))),
        None | Some(Value::Null) => Err(Error::InvalidEvent(format!("detail.{key} is missing"))),
        Some(v) => Err(Error::InvalidEvent(format!(
            "detail.{key} must be a string, found {}",
            json_kind(v)
        ))),
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Keeps messages about hostile input short: at most 100 characters, control characters
/// escaped by `{:?}` at the call site.
fn truncate(s: &str) -> &str {
    match s.char_indices().nth(100) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rds_event(detail_type: &str, detail: Value) -> Value {
        json!({
            "version": "0",
            "id": "68f6e973-1a0c-d37b-f2f2-94a7f62ffd4e",
            "detail-type": detail_type,
            "source": "aws.rds",
            "account": "123456789012",
            "time": "2026-09-27T22:36:43Z",
            "region": "us-east-1",
            "resources": [],
            "detail": detail
        })
    }

    fn provision(v: &Value) -> Request {
        match recognise(v).unwrap() {
            Recognised::Provision(r) => r,
            other => panic!("expected a request, got {other:?}"),
        }
    }

    #[test]
    fn instance_created_takes_the_identifier_from_the_arn() {
        let r = provision(&rds_event(
            "RDS DB Instance Event",
            json!({"EventID": "RDS-EVENT-0005", "SourceArn": "arn:aws:rds:eu-west-1:111122223333:db:orders-db",
                   "SourceIdentifier": "rds:something-else"}),
        ));
        assert_eq!(r.target, Target::DbInstance("orders-db".into()));
        assert_eq!(r.trigger, Trigger::RdsInstanceCreated);
        assert_eq!(r.region.as_deref(), Some("eu-west-1"));
        assert_eq!(r.account.as_deref(), Some("111122223333"));
        assert_eq!(
            r.event_id.as_deref(),
            Some("68f6e973-1a0c-d37b-f2f2-94a7f62ffd4e")
        );
    }

    #[test]
    fn cluster_created() {
        let r = provision(&rds_event(
            "RDS DB Cluster Event",
            json!({"EventID": "RDS-EVENT-0170", "SourceArn": "arn:aws:rds:us-east-1:123456789012:cluster:aurora-1"}),
        ));
        assert_eq!(r.target, Target::DbCluster("aurora-1".into()));
        assert_eq!(r.trigger, Trigger::RdsClusterCreated);
    }

    #[test]
    fn restores_are_creations() {
        for code in ["RDS-EVENT-0043", "RDS-EVENT-0019"] {
            let r = provision(&rds_event(
                "RDS DB Instance Event",
                json!({"EventID": code, "SourceArn": "arn:aws:rds:us-east-1:123456789012:db:restored"}),
            ));
            assert_eq!(r.trigger, Trigger::RdsInstanceRestored);
        }
    }

    #[test]
    fn falls_back_to_source_identifier_without_the_rds_prefix() {
        for sid in ["rds:legacy-db", "legacy-db"] {
            let r = provision(&rds_event(
                "RDS DB Instance Event",
                json!({"EventID": "RDS-EVENT-0005", "SourceIdentifier": sid}),
            ));
            assert_eq!(r.target, Target::DbInstance("legacy-db".into()));
            assert_eq!(r.region.as_deref(), Some("us-east-1"), "from the envelope");
        }
    }

    #[test]
    fn other_events_are_ignored() {
        let ignored = [
            json!("a string"),
            json!([1, 2]),
            json!({"hello": "world"}),
            json!({"source": "aws.ec2", "detail-type": "EC2 Instance State-change Notification", "detail": {}}),
            rds_event(
                "RDS DB Instance Event",
                json!({"EventID": "RDS-EVENT-0016", "SourceArn": "arn:aws:rds:us-east-1:1:db:x"}),
            ),
            rds_event(
                "RDS DB Cluster Event",
                json!({"EventID": "RDS-EVENT-0005", "SourceArn": "arn:aws:rds:us-east-1:1:cluster:x"}),
            ),
            rds_event(
                "RDS DB Snapshot Event",
                json!({"EventID": "RDS-EVENT-0042"}),
            ),
        ];
        for e in ignored {
            match recognise(&e).unwrap() {
                Recognised::Ignored(reason) => assert!(!reason.is_empty()),
                other => panic!("{e}: expected ignored, got {other:?}"),
            }
        }
    }

    #[test]
    fn malformed_trigger_events_are_invalid() {
        let cases = [
            (
                rds_event("RDS DB Instance Event", json!("text")),
                "detail must be an object",
            ),
            (
                rds_event(
                    "RDS DB Instance Event",
                    json!({"SourceArn": "arn:aws:rds:us-east-1:1:db:x"}),
                ),
                "EventID is missing",
            ),
            (
                rds_event("RDS DB Instance Event", json!({"EventID": 5})),
                "EventID must be a string",
            ),
            (
                rds_event(
                    "RDS DB Instance Event",
                    json!({"EventID": "RDS-EVENT-0005"}),
                ),
                "SourceIdentifier is missing",
            ),
            (
                rds_event(
                    "RDS DB Instance Event",
                    json!({"EventID": "RDS-EVENT-0005", "SourceArn": "arn:aws:s3:::bucket"}),
                ),
                "not an AWS ARN",
            ),
            (
                rds_event(
                    "RDS DB Instance Event",
                    json!({"EventID": "RDS-EVENT-0005", "SourceArn": "arn:aws:rds:us-east-1:1:cluster:x"}),
                ),
                "not an RDS db ARN",
            ),
            (
                rds_event(
                    "RDS DB Instance Event",
                    json!({"EventID": "RDS-EVENT-0005", "SourceArn": "arn:aws:rds:us-east-1:1:db:bad/name"}),
                ),
                "not a valid RDS identifier",
            ),
            (
                rds_event(
                    "RDS DB Instance Event",
                    json!({"EventID": "RDS-EVENT-0005", "SourceArn": 7}),
                ),
                "SourceArn must be a string",
            ),
            (
                json!({"source": 1, "detail-type": "x", "detail": {}}),
                "malformed EventBridge envelope",
            ),
        ];
        for (event, needle) in cases {
            let err = recognise(&event).unwrap_err();
            assert_eq!(err.error_type(), "InvalidEvent");
            assert!(err.to_string().contains(needle), "{event}: {err}");
        }
    }

    fn envelope(source: &str, detail_type: &str, detail: Value) -> Value {
        json!({"id": "e", "source": source, "detail-type": detail_type, "account": "123456789012",
               "region": "us-east-1", "resources": [], "detail": detail})
    }

    fn cloudtrail(source: &str, event_source: &str, name: &str, params: Value) -> Value {
        envelope(
            source,
            CLOUDTRAIL_DETAIL_TYPE,
            json!({
                "eventSource": event_source, "eventName": name, "awsRegion": "eu-central-1",
                "requestParameters": params, "responseElements": null
            }),
        )
    }

    #[test]
    fn cloudtrail_create_calls() {
        let r = provision(&cloudtrail(
            "aws.rds",
            "rds.amazonaws.com",
            "CreateDBInstance",
            json!({"dBInstanceIdentifier": "Mixed-Case", "masterUsername": "root", "masterUserPassword": "****"}),
        ));
        assert_eq!(
            r.target,
            Target::DbInstance("mixed-case".into()),
            "RDS stores identifiers lowercased"
        );
        assert!(r.wait);
        assert_eq!(r.master_username_hint.as_deref(), Some("root"));
        assert_eq!(r.region.as_deref(), Some("eu-central-1"));
        let r = provision(&cloudtrail(
            "aws.rds",
            "rds.amazonaws.com",
            "CreateDBCluster",
            json!({"dBClusterIdentifier": "c1"}),
        ));
        assert_eq!(r.target, Target::DbCluster("c1".into()));
        let r = provision(&cloudtrail(
            "aws.redshift",
            "redshift.amazonaws.com",
            "CreateCluster",
            json!({"clusterIdentifier": "wh", "dBName": "dev"}),
        ));
        assert_eq!(r.target, Target::RedshiftCluster("wh".into()));
        let r = provision(&cloudtrail(
            "aws.redshift-serverless",
            "redshift-serverless.amazonaws.com",
            "CreateWorkgroup",
            json!({"workgroupName": "wg-1"}),
        ));
        assert_eq!(r.target, Target::Workgroup("wg-1".into()));
    }

    #[test]
    fn cloudtrail_failed_and_unrelated_calls_are_ignored() {
        let mut failed = cloudtrail(
            "aws.rds",
            "rds.amazonaws.com",
            "CreateDBInstance",
            json!({"dBInstanceIdentifier": "x"}),
        );
        failed["detail"]["errorCode"] = json!("DBInstanceAlreadyExists");
        for e in [
            failed,
            cloudtrail(
                "aws.rds",
                "rds.amazonaws.com",
                "DeleteDBInstance",
                json!({"dBInstanceIdentifier": "x"}),
            ),
            cloudtrail("aws.s3", "s3.amazonaws.com", "CreateBucket", json!({})),
            // a CreateCluster from the wrong source is not Redshift's
            cloudtrail(
                "aws.rds",
                "redshift.amazonaws.com",
                "CreateCluster",
                json!({"clusterIdentifier": "x"}),
            ),
        ] {
            assert!(
                matches!(recognise(&e).unwrap(), Recognised::Ignored(_)),
                "{e}"
            );
        }
        let e = recognise(&cloudtrail(
            "aws.rds",
            "rds.amazonaws.com",
            "CreateDBInstance",
            json!({}),
        ))
        .unwrap_err();
        assert!(e.to_string().contains("dBInstanceIdentifier"));
    }

    #[test]
    fn serverless_native_event_by_name_or_arn() {
        let r = provision(&envelope(
            "aws.redshift-serverless",
            "Redshift Serverless Management",
            json!({"eventId": "REDSHIFT-SERVERLESS-EVENT-1008", "workgroupName": "bi-wg"}),
        ));
        assert_eq!(r.target, Target::Workgroup("bi-wg".into()));
        assert!(!r.wait);
        let mut e = envelope(
            "aws.redshift-serverless",
            "Redshift Serverless Management",
            json!({"EventID": "REDSHIFT-SERVERLESS-EVENT-1008"}),
        );
        e["resources"] =
            json!(["arn:aws:redshift-serverless:us-east-1:123456789012:workgroup/0f8c2b1e-6a3d"]);
        assert_eq!(
            provision(&e).target,
            Target::WorkgroupArn(
                "arn:aws:redshift-serverless:us-east-1:123456789012:workgroup/0f8c2b1e-6a3d".into()
            )
        );
        let other = envelope(
            "aws.redshift-serverless",
            "Redshift Serverless Monitoring",
            json!({"eventId": "REDSHIFT-SERVERLESS-EVENT-1003"}),
        );
        assert!(matches!(recognise(&other).unwrap(), Recognised::Ignored(_)));
        let nameless = envelope(
            "aws.redshift-serverless",
            "Redshift Serverless Management",
            json!({"eventId": "REDSHIFT-SERVERLESS-EVENT-1008"}),
        );
        assert_eq!(
            recognise(&nameless).unwrap_err().error_type(),
            "InvalidEvent"
        );
    }

    fn user(detail: Value) -> Result<Recognised> {
        recognise(&envelope(
            "com.example.pipeline",
            USER_CREATED_DETAIL_TYPE,
            detail,
        ))
    }

    #[test]
    fn user_events() {
        let Recognised::Provision(r) = user(json!({"workgroupName": "bi-wg", "username": "etl",
            "passwordParameter": "/custom/etl", "secretName": "apps/etl", "dbname": "dev"}))
        .unwrap() else {
            panic!()
        };
        assert_eq!(r.target, Target::Workgroup("bi-wg".into()));
        let u = r.user.unwrap();
        assert_eq!(
            (u.password_parameter.as_deref(), u.secret_name.as_deref()),
            (Some("/custom/etl"), Some("apps/etl"))
        );
        for (key, target) in [
            ("dbInstanceIdentifier", Target::DbInstance("d1".into())),
            ("dbClusterIdentifier", Target::DbCluster("d1".into())),
            ("clusterIdentifier", Target::RedshiftCluster("d1".into())),
        ] {
            let mut detail = json!({"username": "u"});
            detail[key] = json!("d1");
            let Recognised::Provision(r) = user(detail).unwrap() else {
                panic!()
            };
            assert_eq!(r.target, target);
        }
    }

    #[test]
    fn invalid_user_events_name_the_field() {
        for (detail, needle) in [
            (json!({"username": "u"}), "found none"),
            (
                json!({"username": "u", "dbInstanceIdentifier": "a", "clusterIdentifier": "b"}),
                "dbInstanceIdentifier and clusterIdentifier",
            ),
            (
                json!({"dbInstanceIdentifier": "a"}),
                "detail.username is missing",
            ),
            (
                json!({"dbInstanceIdentifier": "a", "username": ""}),
                "detail.username is empty",
            ),
            (
                json!({"dbInstanceIdentifier": "a", "username": "bad/user"}),
                "detail.username",
            ),
            (
                json!({"dbInstanceIdentifier": "a", "username": "u", "pasword": "x"}),
                "detail.pasword is not a field",
            ),
            (
                json!({"dbInstanceIdentifier": "a", "username": "u", "passwordParameter": "/x y"}),
                "passwordParameter",
            ),
            (
                json!({"dbInstanceIdentifier": "a", "username": "u", "secretName": "x/name-abcdef"}),
                "secretName",
            ),
            (
                json!({"dbInstanceIdentifier": "a", "username": "u", "masterSecretArn": "arn:aws:s3:us-east-1:1:x:y"}),
                "masterSecretArn",
            ),
            (
                json!({"dbInstanceIdentifier": 5, "username": "u"}),
                "dbInstanceIdentifier must be a string",
            ),
            (
                json!({"workgroupName": "UPPER", "username": "u"}),
                "workgroup name",
            ),
        ] {
            let e = user(detail.clone()).unwrap_err();
            assert_eq!(e.error_type(), "InvalidEvent");
            assert!(e.to_string().contains(needle), "{detail}: {e}");
        }
    }

    #[test]
    fn other_partitions_are_accepted() {
        let r = provision(&rds_event(
            "RDS DB Instance Event",
            json!({"EventID": "RDS-EVENT-0005", "SourceArn": "arn:aws-cn:rds:cn-north-1:123456789012:db:cn-db"}),
        ));
        assert_eq!(r.region.as_deref(), Some("cn-north-1"));
    }
}

//! Reading an EventBridge envelope and its `detail`. The envelope is `aws_lambda_events`'
//! `EventBridgeEvent`; a field-by-field type check runs first, because the crate's serde errors
//! name no field (a `Value` deserializer keeps no path) and every wrong type must be an
//! `InvalidEvent` naming it. The crate then also refuses a `time` that is not RFC 3339 and a
//! `version` that is not a string. The `detail` is not copied: it is borrowed from the payload.

use std::fmt;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use serde::de::{Deserializer, IgnoredAny, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::model::error::{Error, Result};
use crate::model::Location;

/// The EventBridge envelope: its fields from the crate's event, its `detail` borrowed from the
/// payload.
#[derive(Debug, Clone)]
pub struct Envelope<'a> {
    pub source: String,
    pub detail_type: String,
    pub account: Option<String>,
    pub region: Option<String>,
    pub resources: Vec<String>,
    /// The envelope's `time` (RFC 3339), when it has a readable one.
    pub time: Option<std::time::SystemTime>,
    pub detail: &'a Value,
}

static NULL: Value = Value::Null;

fn malformed(why: String) -> Error {
    Error::InvalidEvent(format!("malformed EventBridge envelope: {why}"))
}

/// `detail` as the crate's event sees it: skipped, not copied (the envelope borrows it). An
/// absent `detail` is accepted, as it always was; the crate's own `Value` detail would make it
/// required.
struct Unread;

impl<'de> Deserialize<'de> for Unread {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_option(UnreadVisitor)
    }
}

impl Serialize for Unread {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_unit()
    }
}

struct UnreadVisitor;

impl<'de> Visitor<'de> for UnreadVisitor {
    type Value = Unread;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any detail")
    }

    fn visit_none<E>(self) -> std::result::Result<Unread, E> {
        Ok(Unread)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Unread, D::Error> {
        IgnoredAny::deserialize(d).map(|_| Unread)
    }
}

impl<'a> Envelope<'a> {
    pub fn read(object: &'a Map<String, Value>) -> Result<Envelope<'a>> {
        check_types(object)?;
        let event = EventBridgeEvent::<Unread>::deserialize(object)
            .map_err(|e| malformed(e.to_string()))?;
        Ok(Envelope {
            source: event.source,
            detail_type: event.detail_type,
            account: event.account.filter(|a| !a.is_empty()),
            region: event.region.filter(|r| !r.is_empty()),
            resources: event.resources.unwrap_or_default(),
            time: object
                .get("time")
                .and_then(Value::as_str)
                .and_then(crate::model::timestamp::parse),
            detail: object.get("detail").unwrap_or(&NULL),
        })
    }

    /// The account and region the envelope names.
    pub fn location(&self) -> Location {
        Location {
            account: self.account.clone(),
            region: self.region.clone(),
        }
    }

    pub fn detail_object(&self) -> Result<&'a Map<String, Value>> {
        self.detail.as_object().ok_or_else(|| {
            Error::InvalidEvent(format!(
                "detail must be an object, found {}",
                json_kind(self.detail)
            ))
        })
    }
}

/// Today's field-by-field check of the envelope's types: every wrong type is an `InvalidEvent`
/// naming the field (`source` and `detail-type` required, `id`, `account`, `region` strings,
/// `resources` an array of strings).
fn check_types(object: &Map<String, Value>) -> Result<()> {
    let text = |key: &str| -> Result<Option<&str>> {
        match object.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(v) => Err(malformed(format!(
                "{key} must be a string, found {}",
                json_kind(v)
            ))),
        }
    };
    match object.get("resources") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            if let Some(v) = items.iter().find(|v| !v.is_string()) {
                return Err(malformed(format!(
                    "resources holds {}, not a string",
                    json_kind(v)
                )));
            }
        }
        Some(v) => {
            return Err(malformed(format!(
                "resources must be an array, found {}",
                json_kind(v)
            )))
        }
    }
    for key in ["id", "account", "region"] {
        text(key)?;
    }
    for key in ["source", "detail-type"] {
        text(key)?.ok_or_else(|| malformed(format!("{key} is missing")))?;
    }
    Ok(())
}

/// A required, non-empty string of `detail`.
pub fn string_field<'a>(detail: &'a Map<String, Value>, key: &str) -> Result<&'a str> {
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

/// An optional string of `detail`: absent or `null` is `None`, any other type an error.
pub fn optional_string<'a>(detail: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>> {
    match detail.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => string_field(detail, key).map(Some),
    }
}

/// An optional object of `detail`.
pub fn optional_object<'a>(
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

pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn envelopes_are_read_field_by_field() {
        let v = json!({"id": "e", "source": "aws.rds", "detail-type": "x", "account": "",
                       "region": "us-east-1", "resources": ["arn:a"], "detail": {"k": 1}});
        let e = Envelope::read(v.as_object().unwrap()).unwrap();
        assert_eq!(
            (e.source.as_str(), e.detail_type.as_str()),
            ("aws.rds", "x")
        );
        assert_eq!(e.account, None, "an empty account is no account");
        assert_eq!(e.resources, ["arn:a"]);
        assert_eq!(e.detail["k"], 1);
        for (bad, needle) in [
            (
                json!({"source": 1, "detail-type": "x"}),
                "source must be a string",
            ),
            (
                json!({"id": 7, "source": "s", "detail-type": "x"}),
                "id must be a string",
            ),
            (
                json!({"source": "s", "detail-type": {}}),
                "detail-type must be a string",
            ),
            (
                json!({"source": "s", "detail-type": "x", "resources": "a"}),
                "resources must be an array",
            ),
            (
                json!({"source": "s", "detail-type": "x", "resources": [1]}),
                "resources holds a number",
            ),
        ] {
            let err = Envelope::read(bad.as_object().unwrap()).unwrap_err();
            assert!(
                err.to_string().contains("malformed EventBridge envelope"),
                "{err}"
            );
            assert!(err.to_string().contains(needle), "{err}");
        }
    }

    #[test]
    fn the_crate_needs_only_source_and_detail_type_and_checks_time_and_version() {
        let bare = json!({"source": "aws.events", "detail-type": "Scheduled Event"});
        let e = Envelope::read(bare.as_object().unwrap()).unwrap();
        assert_eq!((e.account, e.region), (None, None));
        assert!(e.resources.is_empty() && e.detail.is_null());
        let nulls = json!({"source": "s", "detail-type": "x", "id": null, "time": null,
                           "version": null, "account": null, "region": null, "resources": null});
        Envelope::read(nulls.as_object().unwrap()).unwrap();
        for bad in [json!({"time": "yesterday"}), json!({"version": 0})] {
            let mut v = json!({"source": "s", "detail-type": "x", "detail": {}});
            v.as_object_mut()
                .unwrap()
                .extend(bad.as_object().unwrap().clone());
            let err = Envelope::read(v.as_object().unwrap()).unwrap_err();
            assert!(
                err.to_string().contains("malformed EventBridge envelope"),
                "{err}"
            );
        }
    }
}

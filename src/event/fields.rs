//! Reading an EventBridge envelope and its `detail` without copying it: every field is borrowed
//! from the payload, and every wrong type is an `InvalidEvent` naming the field.

use serde_json::{Map, Value};

use crate::model::error::{Error, Result};
use crate::model::Location;

/// The EventBridge envelope, borrowed from the payload.
#[derive(Debug, Clone)]
pub struct Envelope<'a> {
    pub source: &'a str,
    pub detail_type: &'a str,
    pub account: Option<&'a str>,
    pub region: Option<&'a str>,
    pub resources: Vec<&'a str>,
    pub detail: &'a Value,
}

static NULL: Value = Value::Null;

impl<'a> Envelope<'a> {
    pub fn read(object: &'a Map<String, Value>) -> Result<Envelope<'a>> {
        let malformed =
            |why: String| Error::InvalidEvent(format!("malformed EventBridge envelope: {why}"));
        let text = |key: &str| -> Result<Option<&'a str>> {
            match object.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.as_str())),
                Some(v) => Err(malformed(format!(
                    "{key} must be a string, found {}",
                    json_kind(v)
                ))),
            }
        };
        let required = |key: &str| -> Result<&'a str> {
            text(key)?.ok_or_else(|| malformed(format!("{key} is missing")))
        };
        let resources = match object.get("resources") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str().ok_or_else(|| {
                        malformed(format!("resources holds {}, not a string", json_kind(v)))
                    })
                })
                .collect::<Result<_>>()?,
            Some(v) => {
                return Err(malformed(format!(
                    "resources must be an array, found {}",
                    json_kind(v)
                )))
            }
        };
        // The id is only logged (from the payload, cut short); one that is no string is still a
        // malformed envelope.
        text("id")?;
        Ok(Envelope {
            source: required("source")?,
            detail_type: required("detail-type")?,
            account: text("account")?.filter(|a| !a.is_empty()),
            region: text("region")?.filter(|r| !r.is_empty()),
            resources,
            detail: object.get("detail").unwrap_or(&NULL),
        })
    }

    /// The account and region the envelope names.
    pub fn location(&self) -> Location {
        Location {
            account: self.account.map(str::to_string),
            region: self.region.map(str::to_string),
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
        assert_eq!((e.source, e.detail_type), ("aws.rds", "x"));
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
}

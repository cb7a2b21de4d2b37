//! The `resolve` action, sent by direct invocation only (an EventBridge event always carries
//! `source` and `detail-type`): `{"action": "resolve", "secret": "<name>", "use":
//! "parameter" | "current"}` settles a `flagged` secret with the password the operator knows
//! the database has. Only principals allowed to invoke the function can send it.

use serde_json::{Map, Value};

use super::Recognised;
use crate::model::error::{Error, Result};
use crate::model::identifiers::{clip, SecretName};

pub const ACTION: &str = "resolve";

/// Which password the secret keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// The initial-password parameter's: written into the secret.
    Parameter,
    /// The secret's current one: kept.
    Current,
}

/// A `resolve` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolve {
    pub secret: SecretName,
    pub use_: Use,
}

/// Reads a payload with an `action` key: exactly `action`, `secret` and `use`.
pub(super) fn recognise(object: &Map<String, Value>) -> Result<Recognised> {
    let text = |key: &str| object.get(key).and_then(Value::as_str);
    match text("action") {
        Some(ACTION) => {}
        Some(other) => {
            return Err(Error::InvalidEvent(format!(
                "unknown action {:?}; the only action is \"resolve\"",
                clip(other)
            )))
        }
        None => return Err(Error::InvalidEvent("action must be a string".into())),
    }
    if let Some(extra) = object
        .keys()
        .find(|k| !["action", "secret", "use"].contains(&k.as_str()))
    {
        return Err(Error::InvalidEvent(format!(
            "resolve takes only action, secret and use; found {:?}",
            clip(extra)
        )));
    }
    let secret = SecretName::parse(
        text("secret").ok_or_else(|| Error::InvalidEvent("resolve needs a secret name".into()))?,
    )?;
    let use_ = match text("use") {
        Some("parameter") => Use::Parameter,
        Some("current") => Use::Current,
        _ => {
            return Err(Error::InvalidEvent(
                "resolve needs \"use\": \"parameter\" or \"current\"".into(),
            ))
        }
    };
    Ok(Recognised::Resolve(Resolve { secret, use_ }))
}

#[cfg(test)]
mod tests {
    use super::super::recognise as read;
    use super::*;
    use serde_json::json;

    #[test]
    fn resolve_is_read_strictly() {
        let ok = read(
            &json!({"action": "resolve", "secret": "db-secrets/rds/a/admin", "use": "current"}),
        )
        .unwrap();
        assert_eq!(
            ok,
            Recognised::Resolve(Resolve {
                secret: SecretName::parse("db-secrets/rds/a/admin").unwrap(),
                use_: Use::Current
            })
        );
        for bad in [
            json!({"action": "resolve", "secret": "s", "use": "guess"}),
            json!({"action": "resolve", "use": "parameter"}),
            json!({"action": "resolve", "secret": "s", "use": "current", "password": "x"}),
            json!({"action": "delete", "secret": "s", "use": "current"}),
            json!({"action": 1, "secret": "s", "use": "current"}),
        ] {
            let e = read(&bad).unwrap_err();
            assert_eq!(e.error_type(), "InvalidEvent", "{bad}");
            assert!(!e.to_string().contains("\"x\""));
        }
    }
}

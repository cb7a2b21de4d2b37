//! Who may ask (pure): the function acts only for events from its own account and region, and
//! takes "Database User Created" events only from the configured sources. Checked before any
//! AWS call.
//!
//! Code cannot tell a forged `aws.*` event from a real one when it arrives by direct invocation
//! in the function's own account and region: `lambda:InvokeFunction` on this function is
//! equivalent to the right to send it any trigger (see docs/security.md).

use crate::config::Config;
use crate::error::{Error, Result};
use crate::event::{Request, Trigger};
use crate::model::Location;
use crate::names::{clip, Arn};

/// The function's own account and region, from the invoked function ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub account: String,
    pub region: String,
}

impl Identity {
    /// Reads `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`.
    pub fn from_function_arn(arn: &str) -> Result<Identity> {
        let untrusted = || {
            Error::UntrustedEvent(format!(
                "the invocation names no function ARN the function can read its own account and region from ({:?})",
                clip(arn)
            ))
        };
        let parsed = Arn::parse(arn).map_err(|_| untrusted())?;
        if parsed.service != "lambda" || parsed.account.is_empty() || parsed.region.is_empty() {
            return Err(untrusted());
        }
        Ok(Identity {
            account: parsed.account.to_string(),
            region: parsed.region.to_string(),
        })
    }

    pub fn location(&self) -> Location {
        Location {
            account: Some(self.account.clone()),
            region: Some(self.region.clone()),
        }
    }
}

/// Admits a request: its source (for user events), account and region.
pub fn admit(request: &Request, own: &Identity, config: &Config) -> Result<()> {
    if request.trigger == Trigger::DatabaseUserCreated
        && !config.user_event_sources.contains(&request.source)
    {
        return Err(Error::UntrustedEvent(format!(
            "\"Database User Created\" from source {:?}, which USER_EVENT_SOURCE does not list",
            clip(&request.source)
        )));
    }
    admit_location(&request.location, own)
}

/// Admits an event's account and region: both must be the function's own.
pub fn admit_location(location: &Location, own: &Identity) -> Result<()> {
    for (what, claimed, mine) in [
        ("account", &location.account, &own.account),
        ("region", &location.region, &own.region),
    ] {
        match claimed {
            Some(c) if c == mine => {}
            Some(c) => {
                return Err(Error::UntrustedEvent(format!(
                    "the event comes from {what} {:?}; this function acts for {what} {mine} only",
                    clip(c)
                )))
            }
            None => {
                return Err(Error::UntrustedEvent(format!(
                    "the event names no {what}; this function acts for {what} {mine} only"
                )))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{recognise, Recognised};
    use serde_json::{json, Value};

    fn own() -> Identity {
        Identity::from_function_arn("arn:aws:lambda:us-east-1:123456789012:function:f:live")
            .unwrap()
    }

    fn request(source: &str, detail_type: &str, account: Value, region: Value) -> Request {
        let detail = if detail_type == "Database User Created" {
            json!({"dbInstanceIdentifier": "db", "username": "app"})
        } else {
            json!({"EventID": "RDS-EVENT-0005", "SourceIdentifier": "db"})
        };
        let e = json!({"source": source, "detail-type": detail_type, "account": account,
                       "region": region, "detail": detail});
        match recognise(&e).unwrap() {
            Recognised::Provision(r) => r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn own_identity_from_the_invoked_arn() {
        assert_eq!(
            own(),
            Identity {
                account: "123456789012".into(),
                region: "us-east-1".into()
            }
        );
        for bad in ["", "arn:aws:s3:::bucket", "not an arn"] {
            assert_eq!(
                Identity::from_function_arn(bad).unwrap_err().error_type(),
                "UntrustedEvent"
            );
        }
    }

    #[test]
    fn sources_accounts_and_regions() {
        let config = Config::from_lookup(|_| None).unwrap();
        let ok = request(
            "com.example.provisioning",
            "Database User Created",
            json!("123456789012"),
            json!("us-east-1"),
        );
        admit(&ok, &own(), &config).unwrap();
        let native = request(
            "aws.rds",
            "RDS DB Instance Event",
            json!("123456789012"),
            json!("us-east-1"),
        );
        admit(&native, &own(), &config).unwrap();
        for (r, needle) in [
            (
                request(
                    "com.evil",
                    "Database User Created",
                    json!("123456789012"),
                    json!("us-east-1"),
                ),
                "com.evil",
            ),
            (
                request(
                    "aws.rds",
                    "RDS DB Instance Event",
                    json!("999999999999"),
                    json!("us-east-1"),
                ),
                "999999999999",
            ),
            (
                request(
                    "aws.rds",
                    "RDS DB Instance Event",
                    json!("123456789012"),
                    json!("eu-west-1"),
                ),
                "eu-west-1",
            ),
            (
                request(
                    "aws.rds",
                    "RDS DB Instance Event",
                    Value::Null,
                    json!("us-east-1"),
                ),
                "names no account",
            ),
        ] {
            let e = admit(&r, &own(), &config).unwrap_err();
            assert_eq!(e.error_type(), "UntrustedEvent");
            assert!(e.to_string().contains(needle), "{e}");
        }
    }
}

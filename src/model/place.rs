//! Where a job runs: the function's own account and region ([`Identity`], from the invoked
//! function ARN), and the [`Place`] of a database with how the function reaches it.

use crate::model::error::{Error, Result};
use crate::model::identifiers::{clip, Arn};
use crate::model::Location;

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

/// How the function reaches the account and region of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// Its own account and region: its own clients.
    Own,
    /// Its own account in another region (hub mode): its own credentials.
    OwnAccount,
    /// A member account (hub mode): the member role, assumed.
    Member,
}

/// Where a job runs: the database's account and region, and how the function gets there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub account: String,
    pub region: String,
    pub reach: Reach,
}

impl Place {
    pub fn own(identity: &Identity) -> Place {
        Place {
            account: identity.account.clone(),
            region: identity.region.clone(),
            reach: Reach::Own,
        }
    }

    pub fn location(&self) -> Location {
        Location {
            account: Some(self.account.clone()),
            region: Some(self.region.clone()),
        }
    }
}

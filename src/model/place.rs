//! Where a job runs: a [`Place`] (account and region) and how the function reaches it. The
//! function's own place comes from the invoked function ARN; every other place is decided
//! from it by [`Place::of`], the one reach decision. What an event *claims* about its account
//! and region is a [`Location`], which only the trust check turns into a place.

use crate::model::error::{Error, Result};
use crate::model::identifiers::{clip, Arn};

/// What an event says of its account and region (either may be missing). Only
/// [`crate::rules::trust`] turns it into a [`Place`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Location {
    pub account: Option<String>,
    pub region: Option<String>,
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

/// An account and region, and how the function gets there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub account: String,
    pub region: String,
    pub reach: Reach,
}

impl Place {
    /// The function's own place, from `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`.
    pub fn from_function_arn(arn: &str) -> Result<Place> {
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
        Ok(Place::own(parsed.account, parsed.region))
    }

    /// The function's own place: `account` and `region`, reached with its own clients.
    pub fn own(account: &str, region: &str) -> Place {
        Place {
            account: account.to_string(),
            region: region.to_string(),
            reach: Reach::Own,
        }
    }

    /// `account` and `region` as seen from the function's own place `own`: the one decision
    /// of how the function reaches a place. Whether it may is [`crate::rules::trust`]'s.
    pub fn of(own: &Place, account: &str, region: &str) -> Place {
        let reach = match (account == own.account, region == own.region) {
            (true, true) => Reach::Own,
            (true, false) => Reach::OwnAccount,
            (false, _) => Reach::Member,
        };
        Place {
            account: account.to_string(),
            region: region.to_string(),
            reach,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reach_follows_from_the_own_place() {
        let own = Place::own("111111111111", "us-east-1");
        for (account, region, reach) in [
            ("111111111111", "us-east-1", Reach::Own),
            ("111111111111", "eu-west-1", Reach::OwnAccount),
            ("222222222222", "us-east-1", Reach::Member),
            ("222222222222", "eu-west-1", Reach::Member),
        ] {
            assert_eq!(Place::of(&own, account, region).reach, reach);
        }
    }
}

//! Who may ask (pure): the function acts for events from its own account and region and, in hub
//! mode (`MEMBER_ACCOUNTS`), from its own account in other regions and from member accounts;
//! it takes "Database User Created" events only from the configured sources. Checked before any
//! AWS call: the answer is the [`Place`] the job runs in.
//!
//! Code cannot tell a forged `aws.*` event from a real one when it arrives by direct invocation
//! in the function's own account and region: `lambda:InvokeFunction` on this function is
//! equivalent to the right to send it any trigger (see docs/security.md).

use crate::config::{Config, SweepAccounts};
use crate::model::error::{Error, Result};
use crate::model::identifiers::{clip, is_region};
use crate::model::place::{Location, Place, Reach};
use crate::model::request::{Request, Trigger};

/// Admits a request: its source (for user events), account and region.
pub fn admit(request: &Request, own: &Place, config: &Config) -> Result<Place> {
    if request.trigger == Trigger::DatabaseUserCreated
        && !config.user_event_sources.contains(&request.source)
    {
        return Err(Error::UntrustedEvent(format!(
            "\"Database User Created\" from source {:?}, which USER_EVENT_SOURCE does not list",
            clip(&request.source)
        )));
    }
    place(&request.location, own, config)
}

/// The place of an event's account and region: the function's own; in hub mode also its own
/// account in another region, or a member account. Anything else is `UntrustedEvent`.
pub fn place(location: &Location, own: &Place, config: &Config) -> Result<Place> {
    let organization = &config.organization;
    if !organization.is_hub() {
        admit_location(location, own)?;
        return Ok(own.clone());
    }
    let account = location
        .account
        .as_deref()
        .ok_or_else(|| Error::UntrustedEvent("the event names no account".into()))?;
    let region = location
        .region
        .as_deref()
        .ok_or_else(|| Error::UntrustedEvent("the event names no region".into()))?;
    if !is_region(region) {
        return Err(Error::UntrustedEvent(format!(
            "the event's region {:?} is not an AWS region name",
            clip(region)
        )));
    }
    let place = Place::of(own, account, region);
    if place.reach == Reach::Member && !organization.is_member(account) {
        return Err(Error::UntrustedEvent(format!(
            "the event comes from account {:?}, which is not a member (MEMBER_ACCOUNTS)",
            clip(account)
        )));
    }
    Ok(place)
}

/// The place a work-queue message names (the worker): only a place the sweep covers, as the
/// planner would plan it: an account events are accepted from (the member check of [`place`])
/// that `SWEEP_ACCOUNTS` covers, in a region of `SWEEP_REGIONS` (or the function's own).
pub fn admit_place(account: &str, region: &str, own: &Place, config: &Config) -> Result<Place> {
    let organization = &config.organization;
    let place = place(
        &Location {
            account: Some(account.to_string()),
            region: Some(region.to_string()),
        },
        own,
        config,
    )?;
    let swept = match &organization.sweep_accounts {
        SweepAccounts::Own => account == own.account,
        SweepAccounts::List(list) => list.iter().any(|a| a == account),
        SweepAccounts::Organization => true,
    };
    if !swept {
        return Err(Error::UntrustedEvent(format!(
            "the place message names account {account}, which the sweep does not cover (SWEEP_ACCOUNTS)"
        )));
    }
    let in_regions = if organization.sweep_regions.is_empty() {
        region == own.region
    } else {
        organization.sweep_regions.iter().any(|r| r == region)
    };
    if !in_regions {
        return Err(Error::UntrustedEvent(format!(
            "the place message names region {region}, which the sweep does not cover (SWEEP_REGIONS)"
        )));
    }
    Ok(place)
}

/// Admits an event's account and region: both must be the function's own.
pub fn admit_location(location: &Location, own: &Place) -> Result<()> {
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

    const QUEUE_URL: &str = "https://sqs.us-east-1.amazonaws.com/123456789012/work";

    #[test]
    fn a_worker_sweeps_only_places_the_plan_could_name() {
        let worker = |sweep_accounts: Option<&str>| {
            Config::from_lookup(|k| match k {
                "MEMBER_ACCOUNTS" => Some("111111111111,222222222222".to_string()),
                "ORGANIZATION_ID" => Some("o-abcdefghij".to_string()),
                "SWEEP_REGIONS" => Some("us-east-1,eu-west-1".to_string()),
                "SWEEP_ACCOUNTS" => sweep_accounts.map(str::to_string),
                "HANDLER_MODE" => Some("worker".to_string()),
                "WORK_QUEUE_ARN" => Some("arn:aws:sqs:us-east-1:123456789012:work".to_string()),
                _ => None,
            })
            .unwrap()
        };
        let listed = worker(None);
        let p = admit_place("222222222222", "eu-west-1", &own(), &listed).unwrap();
        assert_eq!(
            (p.account.as_str(), p.reach),
            ("222222222222", Reach::Member)
        );
        for (account, region, needle) in [
            ("999999999999", "us-east-1", "not a member"),
            ("123456789012", "us-east-1", "SWEEP_ACCOUNTS"),
            ("111111111111", "ap-south-1", "SWEEP_REGIONS"),
        ] {
            let e = admit_place(account, region, &own(), &listed).unwrap_err();
            assert_eq!(e.error_type(), "UntrustedEvent");
            assert!(e.to_string().contains(needle), "{account}/{region}: {e}");
        }
        let one = worker(Some("111111111111"));
        assert!(admit_place("111111111111", "us-east-1", &own(), &one).is_ok());
        assert!(admit_place("222222222222", "us-east-1", &own(), &one).is_err());
        let org = worker(Some("organization"));
        assert!(admit_place("123456789012", "eu-west-1", &own(), &org).is_ok());
    }

    fn own() -> Place {
        Place::from_function_arn("arn:aws:lambda:us-east-1:123456789012:function:f:live").unwrap()
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
        assert_eq!(own(), Place::own("123456789012", "us-east-1"));
        for bad in ["", "arn:aws:s3:::bucket", "not an arn"] {
            assert_eq!(
                Place::from_function_arn(bad).unwrap_err().error_type(),
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

    #[test]
    fn a_hub_serves_its_members_and_its_own_account_in_every_region() {
        let hub = Config::from_lookup(|k| match k {
            "MEMBER_ACCOUNTS" => Some("111111111111,222222222222".to_string()),
            "ORGANIZATION_ID" => Some("o-abcdefghij".to_string()),
            "WORK_QUEUE_URL" => Some(QUEUE_URL.to_string()),
            _ => None,
        })
        .unwrap();
        let at = |account: &str, region: &str| {
            request(
                "aws.rds",
                "RDS DB Instance Event",
                json!(account),
                json!(region),
            )
        };
        let place = admit(&at("111111111111", "eu-west-1"), &own(), &hub).unwrap();
        assert_eq!(
            (place.account.as_str(), place.region.as_str(), place.reach),
            ("111111111111", "eu-west-1", Reach::Member)
        );
        assert_eq!(
            admit(&at("123456789012", "eu-west-1"), &own(), &hub)
                .unwrap()
                .reach,
            Reach::OwnAccount
        );
        assert_eq!(
            admit(&at("123456789012", "us-east-1"), &own(), &hub)
                .unwrap()
                .reach,
            Reach::Own
        );
        let e = admit(&at("999999999999", "us-east-1"), &own(), &hub).unwrap_err();
        assert_eq!(e.error_type(), "UntrustedEvent");
        assert!(e.to_string().contains("not a member"), "{e}");
        let single = Config::from_lookup(|_| None).unwrap();
        assert_eq!(
            admit(&at("111111111111", "us-east-1"), &own(), &single)
                .unwrap_err()
                .error_type(),
            "UntrustedEvent"
        );
    }
}

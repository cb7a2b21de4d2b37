//! AWS Organizations with the function's own credentials (hub mode): whether an account is in
//! the organization (`DescribeAccount`, kept [`MEMBERSHIP_TTL`]), and the organization's
//! accounts for the sweep (`ListAccounts` with `DescribeOrganization`). Both work only from the
//! management account, a delegated administrator, or an account an Organizations
//! resource-based delegation policy allows; elsewhere they are refused, and the callers
//! degrade (the member session proves membership; the sweep covers the own account and the
//! listed members).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;

use crate::model::error::{sdk_error_code, Error, Result};

/// How long a membership answer of Organizations (an account is, or is not, in the
/// organization; the hub may not ask) is kept.
pub const MEMBERSHIP_TTL: Duration = Duration::from_secs(15 * 60);
/// Membership answers kept before those past their time are dropped.
const MEMBERSHIP_KEPT: usize = 4096;
/// `ListAccounts` page size: the most the API allows (`MaxResults` 1–20, Organizations API
/// Reference, *ListAccounts*).
const LIST_ACCOUNTS_PAGE: i32 = 20;

/// What Organizations said about an account's membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    Member,
    NotMember,
    /// The hub may not call `organizations:DescribeAccount`: the member session proves it
    /// instead (`DescribeOrganization`, which any member account may call).
    CannotAsk,
}

/// The organization as the hub lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrganizationAccounts {
    pub id: Option<String>,
    /// `DescribeOrganization.MasterAccountId`.
    pub management_account: Option<String>,
    /// Every account, sorted, with its state (`ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`, ...;
    /// `State`, or the deprecated `Status` where `State` is absent).
    pub accounts: Vec<(String, String)>,
}

/// The Organizations client, built once, and the membership answers.
#[derive(Debug, Clone)]
pub struct Organizations {
    client: aws_sdk_organizations::Client,
    membership: Arc<Mutex<HashMap<String, (Instant, Membership)>>>,
}

impl Organizations {
    pub fn new(sdk: &SdkConfig) -> Self {
        Organizations {
            client: aws_sdk_organizations::Client::new(sdk),
            membership: Arc::default(),
        }
    }

    /// Whether `account` is in the organization (`org`, for the message), as
    /// `organizations:DescribeAccount` says: `AccountNotFoundException` is not a member; a
    /// refusal (`AccessDeniedException`, `AWSOrganizationsNotInUseException`) is
    /// [`Membership::CannotAsk`].
    pub async fn membership(&self, account: &str, org: &str) -> Result<Membership> {
        {
            let cache = self.membership.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((at, m)) = cache.get(account) {
                if at.elapsed() < MEMBERSHIP_TTL {
                    return Ok(*m);
                }
            }
        }
        let answer = match self
            .client
            .describe_account()
            .account_id(account)
            .send()
            .await
        {
            Ok(_) => Membership::Member,
            Err(e) => match sdk_error_code(&e).unwrap_or("") {
                "AccountNotFoundException" => Membership::NotMember,
                "AccessDeniedException" | "AccessDenied" | "AWSOrganizationsNotInUseException" => {
                    Membership::CannotAsk
                }
                _ => {
                    return Err(Error::aws_on(
                        "Organizations",
                        "DescribeAccount",
                        &format!("{account} in {org}"),
                        &e,
                    ))
                }
            },
        };
        self.remember(account, answer);
        Ok(answer)
    }

    fn remember(&self, account: &str, m: Membership) {
        let mut cache = self.membership.lock().unwrap_or_else(|e| e.into_inner());
        // Bounded by the organization's size; answers past their time are dropped as it fills.
        if cache.len() >= MEMBERSHIP_KEPT {
            cache.retain(|_, (at, _)| at.elapsed() < MEMBERSHIP_TTL);
        }
        cache.insert(account.to_string(), (Instant::now(), m));
    }

    /// The organization's accounts with their state (`ListAccounts`, paginated), then its
    /// id and management account (`DescribeOrganization`; `None` when refused). The listing is
    /// refused with `UntrustedEvent` when the organization is not `expected` (the hub sits in
    /// another organization than `ORGANIZATION_ID`); only a listing of `expected` fills the
    /// membership cache.
    pub async fn accounts(&self, expected: Option<&str>) -> Result<OrganizationAccounts> {
        let client = &self.client;
        // Without MaxResults the page size is the operation's own; 2,000 accounts: 100 pages.
        let mut pages = client
            .list_accounts()
            .max_results(LIST_ACCOUNTS_PAGE)
            .into_paginator()
            .send();
        let mut accounts: Vec<(String, String)> = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| Error::aws("Organizations", "ListAccounts", &e))?;
            accounts.extend(page.accounts().iter().filter_map(|a| {
                let state = a
                    .state()
                    .map(|s| s.as_str().to_string())
                    .or_else(|| a.status().map(|s| s.as_str().to_string()))
                    .unwrap_or_else(|| "ACTIVE".into());
                a.id().map(|id| (id.to_string(), state))
            }));
        }
        accounts.sort();
        let organization = client.describe_organization().send().await.ok();
        let organization = organization.as_ref().and_then(|o| o.organization());
        let id = organization.and_then(|o| o.id()).map(str::to_string);
        if let (Some(expected), Some(id)) = (expected, id.as_deref()) {
            if id != expected {
                return Err(Error::UntrustedEvent(format!(
                    "the hub lists organization {id}, not {expected} (ORGANIZATION_ID): its accounts are not swept"
                )));
            }
        }
        if id.is_some() {
            for (account, _) in &accounts {
                self.remember(account, Membership::Member);
            }
        }
        Ok(OrganizationAccounts {
            id,
            management_account: organization
                .and_then(|o| o.master_account_id())
                .map(str::to_string),
            accounts,
        })
    }
}

/// Whether an Organizations error is a refusal (the hub is not the management account, a
/// delegated administrator or allowed by a delegation policy; or it is in no organization),
/// which the callers degrade from, rather than a fault a retry may fix.
pub fn is_refusal(e: &Error) -> bool {
    matches!(
        e,
        Error::AwsService { code: Some(c), .. }
            if c.starts_with("AccessDenied") || c == "AWSOrganizationsNotInUseException"
    ) || matches!(e, Error::UntrustedEvent(_))
}

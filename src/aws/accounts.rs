//! Reaching the account and region of a job (hub mode): clients per (account, region), built
//! once and kept; a member account's credentials from AssumeRole of `MEMBER_ROLE_NAME` through
//! the regional STS endpoint of the function's own region, cached per account until shortly
//! before they expire. Only talks to AWS: who may be reached is decided in [`crate::rules::trust`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_config::{Region, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{future, ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;

use crate::aws::Clients;
use crate::model::error::{Error, Result};
use crate::model::place::{Place, Reach};

/// The session name of every member session (CloudTrail in the member account shows it).
pub const SESSION_NAME: &str = "db-secret-provisioner";
/// Credentials are renewed when they have less than this left.
const RENEW_BEFORE: Duration = Duration::from_secs(300);
const SESSION_SECONDS: i32 = 3600;

/// Clients for every place the function reaches.
#[derive(Debug, Clone)]
pub struct Accounts {
    own: Clients,
    role_name: String,
    clients: Arc<Mutex<HashMap<(String, String), Clients>>>,
    members: Arc<Mutex<HashMap<String, MemberCredentials>>>,
}

impl Accounts {
    /// `own`: the function's own clients (their SDK configuration is the base of every other).
    pub fn new(own: Clients, role_name: &str) -> Self {
        Accounts {
            own,
            role_name: role_name.to_string(),
            clients: Arc::default(),
            members: Arc::default(),
        }
    }

    /// The clients for `place`. A member account's first job assumes its role (one STS call);
    /// later jobs reuse the credentials until shortly before they expire.
    pub async fn clients_for(&self, place: &Place) -> Result<Clients> {
        let credentials = match place.reach {
            Reach::Own => return Ok(self.own.clone()),
            Reach::OwnAccount => None,
            Reach::Member => {
                let member = self.member(&place.account)?;
                member.get().await?;
                Some(SharedCredentialsProvider::new(member))
            }
        };
        let key = (place.account.clone(), place.region.clone());
        let mut cache = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = cache.get(&key) {
            return Ok(c.clone());
        }
        let base = self.base()?;
        let mut builder = base.to_builder();
        builder.set_region(Some(Region::new(place.region.clone())));
        if let Some(p) = credentials {
            builder.set_credentials_provider(Some(p));
        }
        let clients = Clients {
            // The seal key is the function's own, in its own account and region.
            kms: self.own.kms.clone(),
            ..Clients::new(&builder.build())
        };
        cache.insert(key, clients.clone());
        Ok(clients)
    }

    fn base(&self) -> Result<&SdkConfig> {
        self.own.sdk.as_ref().ok_or_else(|| {
            Error::config(
                "MEMBER_ACCOUNTS",
                "other accounts and regions need the SDK configuration the function loads at init",
            )
        })
    }

    /// The credentials holder of a member account (one per account, shared by its regions).
    fn member(&self, account: &str) -> Result<MemberCredentials> {
        let mut members = self.members.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(m) = members.get(account) {
            return Ok(m.clone());
        }
        let base = self.base()?;
        let partition = partition_of(base.region().map(|r| r.as_ref()).unwrap_or("us-east-1"));
        let m = MemberCredentials {
            account: account.to_string(),
            role_name: self.role_name.clone(),
            role_arn: format!("arn:{partition}:iam::{account}:role/{}", self.role_name),
            // The regional endpoint of the function's own region.
            sts: aws_sdk_sts::Client::new(base),
            current: Arc::default(),
        };
        members.insert(account.to_string(), m.clone());
        Ok(m)
    }

    /// The organization's active accounts (`organizations:ListAccounts`, paginated), with the
    /// function's own credentials: a delegated administrator or the management account.
    pub async fn organization_accounts(&self) -> Result<Vec<String>> {
        let client = aws_sdk_organizations::Client::new(self.base()?);
        let mut pages = client.list_accounts().into_paginator().send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| Error::aws("Organizations", "ListAccounts", &e))?;
            out.extend(
                page.accounts()
                    .iter()
                    .filter(|a| {
                        a.state().is_none_or(|s| s.as_str() == "ACTIVE")
                            && a.status().is_none_or(|s| s.as_str() == "ACTIVE")
                    })
                    .filter_map(|a| a.id().map(str::to_string)),
            );
        }
        out.sort();
        Ok(out)
    }
}

/// `aws`, `aws-cn` or `aws-us-gov`, from a region name.
fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// A member account's role credentials: assumed on first use and again when less than
/// [`RENEW_BEFORE`] is left; every client of the account reads them from here.
#[derive(Debug, Clone)]
struct MemberCredentials {
    account: String,
    role_name: String,
    role_arn: String,
    sts: aws_sdk_sts::Client,
    current: Arc<tokio::sync::Mutex<Option<Credentials>>>,
}

impl MemberCredentials {
    async fn get(&self) -> Result<Credentials> {
        let mut current = self.current.lock().await;
        if let Some(c) = current.as_ref() {
            if c.expiry()
                .is_some_and(|e| e > SystemTime::now() + RENEW_BEFORE)
            {
                return Ok(c.clone());
            }
        }
        let assumed = self.assume().await?;
        *current = Some(assumed.clone());
        Ok(assumed)
    }

    async fn assume(&self) -> Result<Credentials> {
        let out = self
            .sts
            .assume_role()
            .role_arn(&self.role_arn)
            .role_session_name(SESSION_NAME)
            .duration_seconds(SESSION_SECONDS)
            .send()
            .await
            .map_err(|e| {
                use aws_smithy_types::error::metadata::ProvideErrorMetadata;
                let code = e.as_service_error().and_then(|s| s.code()).unwrap_or("");
                if code == "AccessDenied" || code == "AccessDeniedException" {
                    Error::MemberAccessDenied {
                        account: self.account.clone(),
                        role: self.role_name.clone(),
                        message: crate::model::error::describe_sdk_error(&e),
                    }
                } else {
                    Error::aws_on("STS", "AssumeRole", &self.role_arn, &e)
                }
            })?;
        let c = out.credentials().ok_or_else(|| Error::AwsService {
            code: None,
            service: "STS",
            operation: "AssumeRole",
            message: format!("{}: the answer carries no credentials", self.role_arn),
        })?;
        let expiry = SystemTime::try_from(*c.expiration())
            .unwrap_or_else(|_| SystemTime::now() + Duration::from_secs(SESSION_SECONDS as u64));
        Ok(Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_string()),
            Some(expiry),
            "db-secret-provisioner member role",
        ))
    }
}

impl ProvideCredentials for MemberCredentials {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            self.get()
                .await
                .map_err(|e| CredentialsError::provider_error(e.to_string()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions() {
        assert_eq!(partition_of("eu-west-1"), "aws");
        assert_eq!(partition_of("cn-north-1"), "aws-cn");
        assert_eq!(partition_of("us-gov-west-1"), "aws-us-gov");
    }
}

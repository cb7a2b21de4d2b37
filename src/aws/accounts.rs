//! Reaching the account and region of a job (hub mode): clients per (account, region), built
//! once and kept; a member account's credentials from AssumeRole of `MEMBER_ROLE_NAME` through
//! the regional STS endpoint of the function's own region, one session per event (its
//! `RoleSessionName` is the event's id, its `SourceIdentity` the function's name, so the
//! member's CloudTrail shows which event acted), reused by that event's calls until shortly
//! before it expires. With `MEMBER_ACCOUNTS=organization` an account's membership is proven
//! before anything is written there: by `organizations:DescribeAccount` where the hub may call
//! it, else by `DescribeOrganization` with the member session. Only talks to AWS: who may be
//! reached is decided in [`crate::rules::trust`], what a proof must show in
//! [`crate::config::organization`].

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_config::identity::IdentityCache;
use aws_config::{Region, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{future, ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;

use crate::aws::organizations::{Membership, OrganizationAccounts, Organizations};
use crate::aws::recent::Recent;
use crate::aws::Clients;
use crate::config::{organization, Members, Organization};
use crate::model::error::{sdk_error_code, Error, Result};
use crate::model::place::{Place, Reach};

/// The `SourceIdentity` of every member session, and the session name when the event has no
/// id (tools, tests). The member trust policy allows `sts:SetSourceIdentity` with this value.
pub const SESSION_NAME: &str = "db-secret-provisioner";
/// Credentials are renewed when they have less than this left.
const RENEW_BEFORE: Duration = Duration::from_secs(300);
const SESSION_SECONDS: i32 = 3600;

/// The `RoleSessionName` of the session an event acts in: its id, in the characters STS
/// accepts (`[\w+=,.@-]`, 2 to 64), or [`SESSION_NAME`] without one.
pub fn session_name(event_id: &str) -> String {
    let name: String = event_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(*c))
        .take(64)
        .collect();
    if name.len() < 2 {
        SESSION_NAME.to_string()
    } else {
        name
    }
}

/// Clients for every place the function reaches.
#[derive(Debug, Clone)]
pub struct Accounts {
    own: Clients,
    role_name: String,
    /// `ORGANIZATION_ID` (what a listing of the organization must show).
    organization_id: Option<String>,
    /// The organization every member must be proven in (`MEMBER_ACCOUNTS=organization`; a
    /// list is checked before any AWS call, and bound in IAM by `aws:ResourceAccount`).
    prove_in: Option<String>,
    organizations: Option<Organizations>,
    /// Clients per (account, region), with the credentials holder a member's were built on.
    clients: Arc<Mutex<Recent<(String, String), PlaceClients>>>,
    members: Arc<Mutex<Recent<String, MemberCredentials>>>,
}

/// A place's clients, and the member credentials holder they read (`None` for the own account).
type PlaceClients = (Clients, Option<MemberCredentials>);

/// Places whose clients are kept, and member accounts whose credentials holders are kept: the
/// most recently used, so that a worker's memory does not grow with the places it has served.
pub const PLACES_KEPT: usize = 32;
pub const MEMBERS_KEPT: usize = 32;

impl Accounts {
    /// `own`: the function's own clients (their SDK configuration is the base of every other).
    pub fn new(own: Clients, organization: &Organization) -> Self {
        Accounts {
            organizations: own.sdk.as_ref().map(Organizations::new),
            own,
            role_name: organization.member_role_name.clone(),
            organization_id: organization.organization_id.clone(),
            prove_in: (organization.members == Members::Organization)
                .then(|| organization.organization_id.clone())
                .flatten(),
            clients: Arc::new(Mutex::new(Recent::new(PLACES_KEPT))),
            members: Arc::new(Mutex::new(Recent::new(MEMBERS_KEPT))),
        }
    }

    /// The clients for `place`, acting in the session `session` ([`session_name`]). A member
    /// account's first job of an event proves its membership where needed and assumes its
    /// role (one STS call); the event's later jobs there reuse the session.
    pub async fn clients_for(&self, place: &Place, session: &str) -> Result<Clients> {
        let member = match place.reach {
            Reach::Own => return Ok(self.own.clone()),
            Reach::OwnAccount => None,
            Reach::Member => {
                let member = self.member(&place.account)?;
                self.session(&member, session).await?;
                Some(member)
            }
        };
        let key = (place.account.clone(), place.region.clone());
        let mut cache = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((c, built_on)) = cache.get(&key) {
            // Clients built on a holder since evicted would read a session nobody renews.
            let same = match (&built_on, &member) {
                (Some(a), Some(b)) => Arc::ptr_eq(&a.current, &b.current),
                (None, None) => true,
                _ => false,
            };
            if same {
                return Ok(c);
            }
        }
        let credentials = member.clone().map(SharedCredentialsProvider::new);
        let base = self.base()?;
        let mut builder = base.to_builder();
        builder.set_region(Some(Region::new(place.region.clone())));
        if let Some(p) = credentials {
            builder.set_credentials_provider(Some(p));
            // The session changes with each event: the SDK asks the holder every time (a lock
            // and a clone), rather than keep an earlier event's credentials in its cache.
            builder.set_identity_cache(Some(IdentityCache::no_cache()));
        }
        let clients = Clients {
            // The seal key is the function's own, in its own account and region.
            kms: self.own.kms.clone(),
            ..Clients::new(&builder.build())
        };
        cache.insert(key, (clients.clone(), member));
        Ok(clients)
    }

    /// Places and member accounts currently kept (for the tests of the bound).
    pub fn kept(&self) -> (usize, usize) {
        let places = self.clients.lock().unwrap_or_else(|e| e.into_inner()).len();
        let members = self.members.lock().unwrap_or_else(|e| e.into_inner()).len();
        (places, members)
    }

    fn base(&self) -> Result<&SdkConfig> {
        self.own.sdk.as_ref().ok_or_else(|| {
            Error::config(
                "MEMBER_ACCOUNTS",
                "other accounts and regions need the SDK configuration the function loads at init",
            )
        })
    }

    /// Makes `member` hold credentials of session `session`, proving membership first (or,
    /// where the hub may not ask Organizations, with the new session) when it must.
    async fn session(&self, member: &MemberCredentials, session: &str) -> Result<()> {
        let membership = match self.prove_in.as_deref() {
            Some(org) => Some((
                self.organizations()?
                    .membership(&member.account, org)
                    .await?,
                org,
            )),
            None => None,
        };
        if let Some((Membership::NotMember, org)) = membership {
            return Err(organization::not_in_organization(&member.account, org));
        }
        let prove = match membership {
            Some((Membership::CannotAsk, org)) => Some(org),
            _ => None,
        };
        member.get_for(session, prove).await
    }

    fn organizations(&self) -> Result<&Organizations> {
        self.organizations.as_ref().ok_or_else(|| {
            Error::config(
                "MEMBER_ACCOUNTS",
                "the organization needs the SDK configuration the function loads at init",
            )
        })
    }

    /// The organization's accounts with their state and its management account, with the
    /// function's own credentials ([`Organizations::accounts`]).
    pub async fn organization_accounts(&self) -> Result<OrganizationAccounts> {
        self.organizations()?
            .accounts(self.organization_id.as_deref())
            .await
    }

    /// The credentials holder of a member account (one per account, shared by its regions).
    fn member(&self, account: &str) -> Result<MemberCredentials> {
        let mut members = self.members.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(m) = members.get(&account.to_string()) {
            return Ok(m);
        }
        let base = self.base()?;
        let partition = partition_of(base.region().map(|r| r.as_ref()).unwrap_or("us-east-1"));
        let m = MemberCredentials {
            account: account.to_string(),
            role_name: self.role_name.clone(),
            role_arn: format!("arn:{partition}:iam::{account}:role/{}", self.role_name),
            // The regional endpoint of the function's own region.
            sts: aws_sdk_sts::Client::new(base),
            base: base.clone(),
            current: Arc::default(),
        };
        members.insert(account.to_string(), m.clone());
        Ok(m)
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
    base: SdkConfig,
    /// The current session's name and credentials.
    current: Arc<tokio::sync::Mutex<Option<(String, Credentials)>>>,
}

impl MemberCredentials {
    /// The current session's credentials, renewed under the same name when they are about to
    /// expire. Never a session of its own: only [`Accounts::clients_for`] opens one (after
    /// the membership proof), and a refused proof leaves none.
    async fn get(&self) -> Result<Credentials> {
        let no_session = || Error::MemberAccessDenied {
            account: self.account.clone(),
            role: self.role_name.clone(),
            message: "no member session is open".into(),
        };
        let session = {
            let current = self.current.lock().await;
            current
                .as_ref()
                .map(|(s, _)| s.clone())
                .ok_or_else(no_session)?
        };
        self.get_for(&session, None).await?;
        let current = self.current.lock().await;
        current
            .as_ref()
            .map(|(_, c)| c.clone())
            .ok_or_else(no_session)
    }

    /// Holds credentials of session `session`: kept when they are that session's and not
    /// about to expire, else assumed; a new session is first proven to be in organization
    /// `prove`, when given. Under the lock: no job of the account (another region's) uses a
    /// session before its proof.
    async fn get_for(&self, session: &str, prove: Option<&str>) -> Result<()> {
        let mut current = self.current.lock().await;
        if let Some((s, c)) = current.as_ref() {
            if s == session
                && c.expiry()
                    .is_some_and(|e| e > SystemTime::now() + RENEW_BEFORE)
            {
                return Ok(());
            }
        }
        // The previous session stays until this one is assumed and proven: a failed renewal
        // answers its own error, not "no session" to another region's job.
        let assumed = self.assume(session).await?;
        if let Some(org) = prove {
            self.prove_organization(&assumed, org).await?;
        }
        *current = Some((session.to_string(), assumed));
        Ok(())
    }

    /// Proves with the member session `credentials` that the account is in organization
    /// `expected` (`organizations:DescribeOrganization`, which any member account may call).
    async fn prove_organization(&self, credentials: &Credentials, expected: &str) -> Result<()> {
        let mut builder = self.base.to_builder();
        builder.set_credentials_provider(Some(SharedCredentialsProvider::new(credentials.clone())));
        let client = aws_sdk_organizations::Client::new(&builder.build());
        match client.describe_organization().send().await {
            Ok(out) => organization::same_organization(
                &self.account,
                expected,
                out.organization().and_then(|o| o.id()),
            ),
            Err(e) => match sdk_error_code(&e).unwrap_or("") {
                "AWSOrganizationsNotInUseException" => {
                    organization::same_organization(&self.account, expected, None)
                }
                "AccessDeniedException" | "AccessDenied" => Err(Error::MemberAccessDenied {
                    account: self.account.clone(),
                    role: self.role_name.clone(),
                    message: format!(
                        "the member role may not call organizations:DescribeOrganization, which proves the account is in {expected}: update the member stack ({})",
                        crate::model::error::describe_sdk_error(&e)
                    ),
                }),
                _ => Err(Error::aws_on(
                    "Organizations",
                    "DescribeOrganization",
                    &self.account,
                    &e,
                )),
            },
        }
    }

    async fn assume(&self, session: &str) -> Result<Credentials> {
        let out = self
            .sts
            .assume_role()
            .role_arn(&self.role_arn)
            .role_session_name(session)
            .source_identity(SESSION_NAME)
            .duration_seconds(SESSION_SECONDS)
            .send()
            .await
            .map_err(|e| match sdk_error_code(&e).unwrap_or("") {
                "AccessDenied" | "AccessDeniedException" => Error::MemberAccessDenied {
                    account: self.account.clone(),
                    role: self.role_name.clone(),
                    message: crate::model::error::describe_sdk_error(&e),
                },
                // STS answers this when the role's account has deactivated STS in the region
                // whose endpoint is asked (the hub's). No fallback endpoint: the member decides.
                "RegionDisabledException" => {
                    let region = self.base.region().map(|r| r.as_ref()).unwrap_or("");
                    Error::MemberAccessDenied {
                    account: self.account.clone(),
                    role: self.role_name.clone(),
                    message: format!(
                        "STS is deactivated in {} for account {}: activate the {} STS endpoint in that account (IAM, Account settings, Security Token Service (STS)), since the hub assumes member roles through its own region's endpoint",
                        region, self.account, region
                    ),
                }
                }
                _ => Error::aws_on("STS", "AssumeRole", &self.role_arn, &e),
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
    fn session_names_are_the_event_id_in_sts_characters() {
        assert_eq!(
            session_name("6a7e8feb-b491-4cf7-a9f1-bf3703467718"),
            "6a7e8feb-b491-4cf7-a9f1-bf3703467718"
        );
        assert_eq!(session_name("a b/c\"d"), "abcd");
        assert_eq!(session_name(""), SESSION_NAME);
        assert_eq!(session_name("x"), SESSION_NAME);
        assert_eq!(session_name(&"9".repeat(100)).len(), 64);
    }

    #[test]
    fn partitions() {
        assert_eq!(partition_of("eu-west-1"), "aws");
        assert_eq!(partition_of("cn-north-1"), "aws-cn");
        assert_eq!(partition_of("us-gov-west-1"), "aws-us-gov");
    }
}

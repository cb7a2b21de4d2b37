//! Hub mode: one deployment serving member accounts (through an assumed role) and other regions,
//! and the organization sweep.

use super::{list, SecretOptions};
use crate::model::error::{Error, Result};
use crate::model::identifiers::{is_account_id, is_organization_id, is_region, is_role_name};

pub const DEFAULT_MEMBER_ROLE_NAME: &str = "db-secret-provisioner-member";

/// Which accounts besides its own the function acts for (`MEMBER_ACCOUNTS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Members {
    /// Unset: the function's own account and region only.
    None,
    /// `organization`: the accounts of `ORGANIZATION_ID`. The hub bus's policy
    /// (`aws:PrincipalOrgID`) keeps other organizations' events out, and the function proves
    /// each account's membership before it writes there ([`crate::aws::accounts`]).
    Organization,
    /// These account ids only: an event from any other account is `UntrustedEvent`.
    Accounts(Vec<String>),
}

/// Which accounts the sweep covers (`SWEEP_ACCOUNTS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SweepAccounts {
    /// The function's own account only (the default without a member list).
    Own,
    /// The organization's active accounts, from `organizations:ListAccounts` (a delegated
    /// administrator, the management account, or a resource-based delegation policy); with a
    /// `MEMBER_ACCOUNTS` list, only those of them that are listed. The management account is
    /// skipped (the StackSet gives it no member role) unless it is the function's own.
    Organization,
    /// These accounts; the function's own account only if listed.
    List(Vec<String>),
}

/// The hub options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub members: Members,
    /// `MEMBER_ROLE_NAME`: the role the function assumes in a member account.
    pub member_role_name: String,
    pub sweep_accounts: SweepAccounts,
    /// `SWEEP_REGIONS`: the regions the sweep covers in each account; empty means the function's
    /// own region.
    pub sweep_regions: Vec<String>,
    /// `ORGANIZATION_ID` (required in hub mode): the organization every member account must
    /// belong to. The function checks it before it writes anything in a member account.
    pub organization_id: Option<String>,
}

impl Default for Organization {
    fn default() -> Self {
        Organization {
            members: Members::None,
            member_role_name: DEFAULT_MEMBER_ROLE_NAME.into(),
            sweep_accounts: SweepAccounts::Own,
            sweep_regions: Vec::new(),
            organization_id: None,
        }
    }
}

impl Organization {
    /// Hub mode: events of other accounts (members) and regions are served.
    pub fn is_hub(&self) -> bool {
        self.members != Members::None
    }

    /// Whether `account` is a member (the function's own account is not asked about here).
    pub fn is_member(&self, account: &str) -> bool {
        match &self.members {
            Members::None => false,
            Members::Organization => is_account_id(account),
            Members::Accounts(list) => list.iter().any(|a| a == account),
        }
    }

    /// Whether the sweep covers more than the function's own account and region.
    pub fn sweeps_organization(&self) -> bool {
        self.sweep_accounts != SweepAccounts::Own || !self.sweep_regions.is_empty()
    }
}

fn accounts(variable: &str, value: &str) -> Result<Vec<String>> {
    let mut accounts: Vec<String> = Vec::new();
    for a in list(Some(value)) {
        if !is_account_id(a) {
            return Err(Error::config(
                variable,
                format!("{a:?} is not a 12-digit account id (or use `organization`)"),
            ));
        }
        if !accounts.iter().any(|x| x == a) {
            accounts.push(a.to_string());
        }
    }
    if accounts.is_empty() {
        return Err(Error::config(variable, "lists no account"));
    }
    Ok(accounts)
}

pub(super) fn organization(get: &impl Fn(&str) -> Option<String>) -> Result<Organization> {
    let members = match get("MEMBER_ACCOUNTS").as_deref() {
        None => Members::None,
        Some("organization") => Members::Organization,
        Some(list) => Members::Accounts(accounts("MEMBER_ACCOUNTS", list)?),
    };
    let member_role_name = match get("MEMBER_ROLE_NAME") {
        None => DEFAULT_MEMBER_ROLE_NAME.to_string(),
        Some(n) if is_role_name(&n) => n,
        Some(n) => {
            return Err(Error::config(
                "MEMBER_ROLE_NAME",
                format!("{n:?} is not an IAM role name (1-64 of letters, digits and +=,.@_-)"),
            ))
        }
    };
    let sweep_accounts = match (get("SWEEP_ACCOUNTS").as_deref(), &members) {
        (Some("organization"), _) => SweepAccounts::Organization,
        (Some(list), _) => SweepAccounts::List(accounts("SWEEP_ACCOUNTS", list)?),
        (None, Members::Accounts(list)) => SweepAccounts::List(list.clone()),
        (None, _) => SweepAccounts::Own,
    };
    let mut sweep_regions: Vec<String> = Vec::new();
    for r in list(get("SWEEP_REGIONS").as_deref()) {
        if !is_region(r) {
            return Err(Error::config(
                "SWEEP_REGIONS",
                format!("{r:?} is not an AWS region name"),
            ));
        }
        if !sweep_regions.iter().any(|x| x == r) {
            sweep_regions.push(r.to_string());
        }
    }
    if members == Members::None && sweep_accounts != SweepAccounts::Own {
        return Err(Error::config(
            "SWEEP_ACCOUNTS",
            "sweeping other accounts needs hub mode: set MEMBER_ACCOUNTS",
        ));
    }
    // The sweep trusts what events trust: it acts only where an event would be accepted from.
    if let (SweepAccounts::List(sweep), Members::Accounts(listed)) = (&sweep_accounts, &members) {
        let outside: Vec<&str> = sweep
            .iter()
            .filter(|a| !listed.contains(a))
            .map(String::as_str)
            .collect();
        if !outside.is_empty() {
            return Err(Error::config(
                "SWEEP_ACCOUNTS",
                format!(
                    "{} not in MEMBER_ACCOUNTS: the sweep acts only in accounts whose events are accepted",
                    outside.join(", ")
                ),
            ));
        }
    }
    let organization_id = match get("ORGANIZATION_ID") {
        Some(id) if is_organization_id(&id) => Some(id),
        Some(id) => {
            return Err(Error::config(
                "ORGANIZATION_ID",
                format!("{id:?} is not an organization id (o- and 10 to 32 lowercase letters or digits)"),
            ))
        }
        None if members != Members::None => {
            return Err(Error::config(
                "ORGANIZATION_ID",
                "hub mode (MEMBER_ACCOUNTS) needs the organization id: every member account is checked against it",
            ))
        }
        None => None,
    };
    Ok(Organization {
        members,
        member_role_name,
        sweep_accounts,
        sweep_regions,
        organization_id,
    })
}

/// In hub mode a job runs in many accounts and regions: a KMS key or rotation function named by
/// id or ARN exists in one of them only. Keys are given as aliases (`alias/NAME`), which each
/// account and region resolves to its own key; rotation stays per account.
pub(super) fn check_hub_options(options: &SecretOptions) -> Result<()> {
    let alias = |k: &Option<String>| k.as_deref().is_none_or(|k| k.starts_with("alias/"));
    if !alias(&options.kms_key_id) {
        return Err(Error::config(
            "KMS_KEY_ID",
            "in hub mode (MEMBER_ACCOUNTS) the key must be an alias (alias/NAME) that exists in every member account and region: a key id or ARN names one account's key",
        ));
    }
    if let Some(r) = options.replicas.iter().find(|r| !alias(&r.kms_key_id)) {
        return Err(Error::config(
            if r.kms_key_id.as_deref().is_some_and(|k| k.starts_with("arn:")) { "REPLICA_KMS_KEY_ARNS" } else { "REPLICA_REGIONS" },
            format!("in hub mode (MEMBER_ACCOUNTS) the key of replica region {} must be an alias (REPLICA_REGIONS={}=alias/NAME)", r.region, r.region),
        ));
    }
    if options.rotation.is_some() {
        return Err(Error::config(
            "ROTATION_LAMBDA_ARNS",
            "rotation functions live in one account and region; in hub mode (MEMBER_ACCOUNTS) turn rotation on per account",
        ));
    }
    Ok(())
}

/// An account Organizations says is not in `organization` (`MEMBER_ACCOUNTS=organization`):
/// nothing is asked of it, not even its role.
pub fn not_in_organization(account: &str, organization: &str) -> Error {
    Error::UntrustedEvent(format!(
        "account {account} is not in organization {organization} (organizations:DescribeAccount): MEMBER_ACCOUNTS=organization acts for that organization's accounts only"
    ))
}

/// What the member session's `DescribeOrganization` showed (`None`: no organization), against
/// `ORGANIZATION_ID`. A same-named role in another organization's account is refused before
/// the function writes anything there.
pub fn same_organization(account: &str, expected: &str, shown: Option<&str>) -> Result<()> {
    match shown {
        Some(id) if id == expected => Ok(()),
        Some(id) => Err(Error::UntrustedEvent(format!(
            "account {account} belongs to organization {}, not {expected} (ORGANIZATION_ID): nothing is written there",
            crate::model::identifiers::clip(id)
        ))),
        None => Err(Error::UntrustedEvent(format!(
            "account {account} belongs to no organization, not {expected} (ORGANIZATION_ID): nothing is written there"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read(vars: &[(&str, &str)]) -> Result<Organization> {
        let mut map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        map.entry("ORGANIZATION_ID".into())
            .or_insert_with(|| "o-abcdefghij".into());
        organization(&|k: &str| map.get(k).cloned().filter(|v| !v.is_empty()))
    }

    #[test]
    fn single_account_by_default_and_members_as_configured() {
        let o = read(&[]).unwrap();
        assert!(!o.is_hub() && !o.sweeps_organization());
        assert!(!o.is_member("111111111111"));
        let o = read(&[("MEMBER_ACCOUNTS", "111111111111, 222222222222")]).unwrap();
        assert!(o.is_hub() && o.is_member("222222222222") && !o.is_member("333333333333"));
        assert_eq!(
            o.sweep_accounts,
            SweepAccounts::List(vec!["111111111111".into(), "222222222222".into()]),
            "the sweep defaults to the member list"
        );
        let o = read(&[
            ("MEMBER_ACCOUNTS", "organization"),
            ("SWEEP_ACCOUNTS", "organization"),
            ("SWEEP_REGIONS", "us-east-1,eu-west-1"),
            ("MEMBER_ROLE_NAME", "dsp-member"),
        ])
        .unwrap();
        assert!(o.is_member("333333333333") && !o.is_member("not-an-id"));
        assert_eq!(o.organization_id.as_deref(), Some("o-abcdefghij"));
        assert_eq!(o.sweep_accounts, SweepAccounts::Organization);
        assert_eq!(o.sweep_regions, ["us-east-1", "eu-west-1"]);
        assert_eq!(o.member_role_name, "dsp-member");
    }

    #[test]
    fn invalid_values_name_their_variable() {
        for (vars, variable) in [
            (vec![("MEMBER_ACCOUNTS", "12345")], "MEMBER_ACCOUNTS"),
            (vec![("MEMBER_ACCOUNTS", ",")], "MEMBER_ACCOUNTS"),
            (vec![("MEMBER_ROLE_NAME", "no spaces")], "MEMBER_ROLE_NAME"),
            (vec![("SWEEP_REGIONS", "mars-1")], "SWEEP_REGIONS"),
            (vec![("SWEEP_ACCOUNTS", "111111111111")], "SWEEP_ACCOUNTS"),
            (
                vec![
                    ("MEMBER_ACCOUNTS", "111111111111"),
                    ("SWEEP_ACCOUNTS", "111111111111,222222222222"),
                ],
                "SWEEP_ACCOUNTS",
            ),
            (
                vec![("MEMBER_ACCOUNTS", "organization"), ("ORGANIZATION_ID", "")],
                "ORGANIZATION_ID",
            ),
            (
                vec![
                    ("MEMBER_ACCOUNTS", "organization"),
                    ("ORGANIZATION_ID", "o-ABCDEFGHIJ"),
                ],
                "ORGANIZATION_ID",
            ),
        ] {
            let e = read(&vars).unwrap_err();
            assert_eq!(e.error_type(), "ConfigurationError");
            assert!(e.to_string().contains(variable), "{e}");
        }
    }

    #[test]
    fn a_member_session_must_show_the_configured_organization() {
        assert!(same_organization("111111111111", "o-aaaaaaaaaa", Some("o-aaaaaaaaaa")).is_ok());
        for shown in [Some("o-bbbbbbbbbb"), None] {
            let e = same_organization("111111111111", "o-aaaaaaaaaa", shown).unwrap_err();
            assert_eq!(e.error_type(), "UntrustedEvent");
            assert!(e.to_string().contains("111111111111"), "{e}");
        }
        let e = not_in_organization("111111111111", "o-aaaaaaaaaa");
        assert_eq!(e.error_type(), "UntrustedEvent");
    }
}

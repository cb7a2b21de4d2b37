//! Which accounts an organization sweep covers (pure): `SWEEP_ACCOUNTS` against what
//! Organizations listed. The sweep acts only where events would be accepted from
//! (`MEMBER_ACCOUNTS`); the management account is skipped unless it is the function's own or
//! listed by name (service-managed StackSets deploy no stack instance, so no member role, to
//! it); an account that is not `ACTIVE` is skipped. A refused listing degrades: the function's
//! own account and the listed members are still swept.

use crate::config::{Members, Organization, SweepAccounts};
use crate::model::outcome::SkippedAccount;

/// The listing's name in `failedListings`.
pub const ORGANIZATION_LISTING: &str = "organization-accounts";

/// What Organizations showed: every account with its state, and the management account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listed<'a> {
    pub accounts: &'a [(String, String)],
    pub management_account: Option<&'a str>,
}

/// The accounts to sweep, in order, and those skipped with why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweptAccounts {
    pub accounts: Vec<String>,
    pub skipped: Vec<SkippedAccount>,
}

/// The accounts of one organization sweep from `own`. `listed` is `None` when the sweep does
/// not list the organization, or the listing failed.
pub fn swept_accounts(
    organization: &Organization,
    own: &str,
    listed: Option<&Listed>,
) -> SweptAccounts {
    let mut out = SweptAccounts::default();
    match (&organization.sweep_accounts, listed) {
        (SweepAccounts::Own, _) => out.accounts.push(own.to_string()),
        (SweepAccounts::List(list), _) => out.accounts.extend(list.iter().cloned()),
        (SweepAccounts::Organization, None) => {
            out.accounts.push(own.to_string());
            if let Members::Accounts(list) = &organization.members {
                out.accounts
                    .extend(list.iter().filter(|a| *a != own).cloned());
            }
        }
        (SweepAccounts::Organization, Some(listed)) => {
            let trusted = |a: &str| match &organization.members {
                Members::Accounts(list) => a == own || list.iter().any(|m| m == a),
                _ => true,
            };
            for (account, state) in listed.accounts {
                if !trusted(account) {
                    continue;
                }
                let reason = if state != "ACTIVE" {
                    Some(format!("state {state}"))
                } else if listed.management_account == Some(account.as_str()) && account != own {
                    Some("management-account".to_string())
                } else {
                    None
                };
                match reason {
                    Some(reason) => out.skipped.push(SkippedAccount {
                        account: account.clone(),
                        reason,
                    }),
                    None => out.accounts.push(account.clone()),
                }
            }
            if !out.accounts.iter().any(|a| a == own) {
                out.accounts.insert(0, own.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: &str = "999999999999";
    const MANAGEMENT: &str = "000000000000";

    fn org(members: Members, sweep: SweepAccounts) -> Organization {
        Organization {
            members,
            sweep_accounts: sweep,
            organization_id: Some("o-abcdefghij".into()),
            ..Organization::default()
        }
    }

    fn accounts() -> Vec<(String, String)> {
        [
            (MANAGEMENT, "ACTIVE"),
            ("111111111111", "ACTIVE"),
            ("222222222222", "SUSPENDED"),
            ("333333333333", "ACTIVE"),
            (OWN, "ACTIVE"),
        ]
        .iter()
        .map(|(a, s)| (a.to_string(), s.to_string()))
        .collect()
    }

    #[test]
    fn the_management_account_and_inactive_accounts_are_skipped() {
        let all = accounts();
        let listed = Listed {
            accounts: &all,
            management_account: Some(MANAGEMENT),
        };
        let o = org(Members::Organization, SweepAccounts::Organization);
        let s = swept_accounts(&o, OWN, Some(&listed));
        assert_eq!(s.accounts, ["111111111111", "333333333333", OWN]);
        let skipped: Vec<(&str, &str)> = s
            .skipped
            .iter()
            .map(|k| (k.account.as_str(), k.reason.as_str()))
            .collect();
        assert_eq!(
            skipped,
            [
                (MANAGEMENT, "management-account"),
                ("222222222222", "state SUSPENDED")
            ]
        );
        // The hub is the management account: swept with its own role.
        let s = swept_accounts(&o, MANAGEMENT, Some(&listed));
        assert!(s.accounts.contains(&MANAGEMENT.to_string()), "{s:?}");
        // Listed by name: swept.
        let o = org(
            Members::Accounts(vec![MANAGEMENT.into()]),
            SweepAccounts::List(vec![MANAGEMENT.into()]),
        );
        assert_eq!(swept_accounts(&o, OWN, None).accounts, [MANAGEMENT]);
    }

    #[test]
    fn the_sweep_stays_within_the_member_list_and_degrades_without_a_listing() {
        let all = accounts();
        let listed = Listed {
            accounts: &all,
            management_account: Some(MANAGEMENT),
        };
        let o = org(
            Members::Accounts(vec!["111111111111".into(), "444444444444".into()]),
            SweepAccounts::Organization,
        );
        assert_eq!(
            swept_accounts(&o, OWN, Some(&listed)).accounts,
            ["111111111111", OWN],
            "listed members only, and the own account"
        );
        assert_eq!(
            swept_accounts(&o, OWN, None).accounts,
            [OWN, "111111111111", "444444444444"],
            "a refused listing: the own account and the listed members"
        );
        let o = org(Members::Organization, SweepAccounts::Organization);
        assert_eq!(swept_accounts(&o, OWN, None).accounts, [OWN]);
    }
}

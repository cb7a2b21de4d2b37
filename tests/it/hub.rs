//! Hub mode as deployed (issue "Hub mode that works as deployed, and trusts no more than one
//! account does"): the built function through the Runtime API, against one moto running
//! several accounts. What moto answers differently from AWS is played by the test proxy in the
//! documented shape (`Mode::Deny`: Organizations' `AccessDeniedException`; `Mode::FailWhere`:
//! STS's `RegionDisabledException`, which moto never answers). moto evaluates no IAM: the
//! `aws:ResourceOrgID` and `aws:ResourceAccount` conditions are checked statically
//! (tests/deploy/iam_contract.py); here the function's own membership proof is played.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::accounts::{clients_in, create_account, create_organization, create_role};
use crate::support::events::{self, instance_created_in};
use crate::support::fixtures::{self, Db, Service};
use crate::support::proxy::{Mode, Proxy};
use crate::support::queue::Hub;
use crate::support::runtime_api::Answer;
use crate::support::*;

const ROLE: &str = "db-secret-provisioner-member";
const ORG_ID: &str = "o-exampleorg1";
const M1: &str = "111111111111";
const M2: &str = "222222222222";
const M3: &str = "333333333333";
const OUTSIDER: &str = "555555555555";
const OTHER_ORG: &str = "666666666666";

async fn seed(m: &str, account: &str, region: &str, id: &str) -> Clients {
    let c = clients_in(m, account, region).await;
    create_instance(&c, id, "postgres", "admin").await;
    Db::new("instance", Service::Rds, id, "admin")
        .put_password(&c, &format!("pw-{account}"))
        .await;
    c
}

fn admin_secret(id: &str) -> String {
    fixtures::secret_name(Service::Rds, id, "admin")
}

/// Creates a symmetric key with `alias` in `account` and `region`; its ARN.
async fn key_with_alias(m: &str, account: &str, region: &str, alias: &str) -> String {
    let c = clients_in(m, account, region).await;
    let key = c.kms.create_key().send().await.unwrap();
    let meta = key.key_metadata().unwrap();
    c.kms
        .create_alias()
        .alias_name(alias)
        .target_key_id(meta.key_id())
        .send()
        .await
        .unwrap();
    meta.arn().unwrap().to_string()
}

#[tokio::test]
async fn keys_by_alias_resolve_to_each_members_own_key() {
    let moto = start_moto(None);
    let m = &moto.endpoint;
    create_role(m, M1, ROLE).await;
    let key = key_with_alias(m, M1, "us-east-1", "alias/db-secrets").await;
    let replica_key = key_with_alias(m, M1, "eu-west-1", "alias/db-secrets-replica").await;
    let c = seed(m, M1, "us-east-1", "alias-db").await;
    let env = [
        ("MEMBER_ACCOUNTS", M1),
        ("ORGANIZATION_ID", ORG_ID),
        ("KMS_KEY_ID", "alias/db-secrets"),
        ("REPLICA_REGIONS", "eu-west-1"),
        (
            "REPLICA_KMS_KEY_ALIASES",
            "eu-west-1=alias/db-secrets-replica",
        ),
    ];
    let proxy = Proxy::start(m);
    let hub = Hub::start(m, &proxy.endpoint(), &env, 0).await;
    let f = &hub.planner;
    let o = f.invoke(&instance_created_in("alias-db", M1, "us-east-1"));
    assert_eq!(o.response()["outcome"], "created", "{o:?}");
    let d = describe_secret(&c, &admin_secret("alias-db")).await;
    // The alias is what the function passes; Secrets Manager resolves it in the member account
    // and region that holds the secret, never the hub's, and reports the alias ARN (the
    // launcher plays that; moto echoes the name).
    let kms = d.kms_key_id().unwrap_or_default().to_string();
    assert_eq!(kms, format!("arn:aws:kms:us-east-1:{M1}:alias/db-secrets"));
    let resolved = c.kms.describe_key().key_id(&kms).send().await.unwrap();
    assert_eq!(
        resolved.key_metadata().and_then(|k| k.arn()),
        Some(key.as_str()),
        "the member's own key"
    );
    let replica = d
        .replication_status()
        .iter()
        .find(|r| r.region() == Some("eu-west-1"))
        .expect("replicated");
    let replica_kms = replica.kms_key_id().unwrap_or_default();
    assert_eq!(
        replica_kms,
        format!("arn:aws:kms:eu-west-1:{M1}:alias/db-secrets-replica")
    );
    let in_eu = clients_in(m, M1, "eu-west-1").await;
    let resolved = in_eu
        .kms
        .describe_key()
        .key_id(replica_kms)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resolved.key_metadata().and_then(|k| k.arn()),
        Some(replica_key.as_str()),
        "the member's own replica key"
    );
    let hub = Clients::new(&sdk_config(m, REGION).await);
    assert!(secret_json(&hub, &admin_secret("alias-db")).await.is_none());

    // The hub's own account, with its own keys under the same aliases.
    key_with_alias(m, ACCOUNT, "eu-west-1", "alias/db-secrets-replica").await;
    create_instance(&hub, "alias-own", "postgres", "admin").await;
    Db::new("instance", Service::Rds, "alias-own", "admin")
        .put_password(&hub, "pw-own")
        .await;
    let o = f.invoke(&events::instance_created("alias-own"));
    assert_eq!(o.response()["outcome"], "created", "{o:?}");
    let d = describe_secret(&hub, &admin_secret("alias-own")).await;
    assert_eq!(
        d.kms_key_id().unwrap_or_default(),
        format!("arn:aws:kms:us-east-1:{ACCOUNT}:alias/db-secrets")
    );

    // Created again with a new password: the key check resolves both names in the member
    // account (DescribeKey with the member session) to the member's key, and writes.
    delete_instance(&c, "alias-db").await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    Db::new("instance", Service::Rds, "alias-db", "admin")
        .put_password(&c, "pw-again")
        .await;
    create_instance(&c, "alias-db", "postgres", "admin").await;
    proxy.clear_operations();
    let o = f.invoke(&instance_created_in("alias-db", M1, "us-east-1"));
    let described = proxy
        .operations()
        .iter()
        .filter(|op| *op == "DescribeKey")
        .count();
    assert_eq!(described, 2, "{:?}", proxy.operations());
    let o = o.response();
    assert_eq!(o["outcome"], "created", "{o}");
    assert!(
        o["reason"].as_str().unwrap().contains("created again"),
        "{o}"
    );
    let secret = secret_json(&c, &admin_secret("alias-db")).await.unwrap();
    assert_eq!(secret["password"], "pw-again");
}

#[tokio::test]
async fn a_refused_organization_listing_still_sweeps_the_own_account_and_listed_members() {
    let moto = start_moto(None);
    let m = &moto.endpoint;
    for account in [M1, M2] {
        create_role(m, account, ROLE).await;
        seed(m, account, REGION, &format!("list-{}", &account[..3])).await;
    }
    let own = Clients::new(&sdk_config(m, REGION).await);
    create_instance(&own, "list-own", "postgres", "admin").await;
    Db::new("instance", Service::Rds, "list-own", "admin")
        .put_password(&own, "pw-own")
        .await;
    // Not a delegated administrator: Organizations refuses ListAccounts (moto lets anyone).
    let proxy = Proxy::start(m);
    proxy.set_mode(Mode::Deny("ListAccounts"));
    let members = format!("{M1},{M2}");
    let env = [
        ("MEMBER_ACCOUNTS", members.as_str()),
        ("ORGANIZATION_ID", ORG_ID),
        ("SWEEP_ACCOUNTS", "organization"),
    ];
    let hub = Hub::start(m, &proxy.endpoint(), &env, 2).await;
    let s = &hub.sweep().await;
    assert_eq!(
        s["failedListings"][0]["listing"], "organization-accounts",
        "{s}"
    );
    assert_eq!(s["plan"]["planned"], 3, "{s}");
    let mut swept: Vec<&str> = s["accounts"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    swept.sort();
    assert_eq!(swept, [M1, ACCOUNT, M2], "{s}");
    assert_eq!(s["created"], 3, "{s}");
    assert_eq!(s["failedPlaces"], 0, "{s}");
}

#[tokio::test]
async fn with_organization_members_an_account_outside_is_refused_and_nothing_is_written() {
    let moto = start_moto(None);
    let m = &moto.endpoint;
    let org_id = create_organization(&sdk_config(m, REGION).await).await;
    let member = create_account(&sdk_config(m, REGION).await, "member").await;
    // Another organization, with the same-named role in one of its accounts.
    let other = clients_in(m, OTHER_ORG, REGION).await;
    create_organization(other.sdk.as_ref().unwrap()).await;
    let mut seeded = Vec::new();
    for account in [member.as_str(), OUTSIDER, OTHER_ORG] {
        create_role(m, account, ROLE).await;
        let id = format!("org-{}", &account[..3]);
        seeded.push((
            account.to_string(),
            id.clone(),
            seed(m, account, REGION, &id).await,
        ));
    }
    let env = [
        ("MEMBER_ACCOUNTS", "organization"),
        ("ORGANIZATION_ID", org_id.as_str()),
    ];

    // The hub may ask Organizations (here it is the management account): an account outside
    // is refused before its role is assumed.
    let proxy = Proxy::start(m);
    let hub = Hub::start(m, &proxy.endpoint(), &env, 0).await;
    let f = &hub.planner;
    for (account, id, _) in &seeded[1..] {
        proxy.clear_operations();
        let answer = f.invoke(&instance_created_in(id, account, REGION));
        let o = answer.response();
        assert_eq!(o["outcome"], "refused", "{account}: {o}");
        assert_eq!(o["errorType"], "UntrustedEvent", "{o}");
        assert!(proxy.assume_role_requests().is_empty(), "{account}");
        assert!(proxy.operations().iter().any(|op| op == "DescribeAccount"));
    }
    let (account, id, c) = &seeded[0];
    let o = f.invoke(&instance_created_in(id, account, REGION));
    assert_eq!(o.response()["outcome"], "created", "{o:?}");
    assert!(secret_json(c, &admin_secret(id)).await.is_some());

    // The hub may not ask (DescribeAccount refused): the member session proves it, right
    // after AssumeRole and before anything is read or written there.
    let proxy = Proxy::start(m);
    proxy.set_mode(Mode::Deny("DescribeAccount"));
    let hub = Hub::start(m, &proxy.endpoint(), &env, 0).await;
    let f = &hub.planner;
    for (account, id, c) in &seeded[1..] {
        proxy.clear_operations();
        let answer = f.invoke(&instance_created_in(id, account, REGION));
        let o = answer.response();
        assert_eq!(o["outcome"], "refused", "{account}: {o}");
        assert_eq!(o["errorType"], "UntrustedEvent", "{o}");
        let reason = o["reason"].as_str().unwrap();
        assert!(reason.contains(account.as_str()), "{reason}");
        let ops = proxy.operations();
        let after: Vec<&String> = ops
            .iter()
            .skip_while(|op| *op != "AssumeRole")
            .skip(1)
            .collect();
        assert_eq!(after, ["DescribeOrganization"], "{account}: {ops:?}");
        assert!(
            secret_json(c, &admin_secret(id)).await.is_none(),
            "nothing written in {account}"
        );
    }
    let (account, _, c) = &seeded[0];
    create_instance(c, "org-again", "postgres", "admin").await;
    Db::new("instance", Service::Rds, "org-again", "admin")
        .put_password(c, "pw")
        .await;
    let o = f.invoke(&instance_created_in("org-again", account, REGION));
    assert_eq!(o.response()["outcome"], "created", "{o:?}");
}

#[tokio::test]
async fn sts_deactivated_in_the_hubs_region_is_member_access_denied_with_the_remedy() {
    let moto = start_moto(None);
    let m = &moto.endpoint;
    create_role(m, M1, ROLE).await;
    seed(m, M1, REGION, "sts-off").await;
    let proxy = Proxy::start(m);
    proxy.set_mode(Mode::FailWhere(&[(
        "AssumeRole",
        "",
        "RegionDisabledException",
    )]));
    let env = [("MEMBER_ACCOUNTS", M1), ("ORGANIZATION_ID", ORG_ID)];
    let hub = Hub::start(m, &proxy.endpoint(), &env, 0).await;
    let answer = hub
        .planner
        .invoke(&instance_created_in("sts-off", M1, REGION));
    assert_eq!(answer.error_type(), "MemberAccessDenied");
    let Answer::Error(body) = &answer else {
        unreachable!()
    };
    let message = body["errorMessage"].as_str().unwrap();
    for needle in [M1, REGION, "activate", "STS"] {
        assert!(message.contains(needle), "{needle}: {message}");
    }
}

#[test]
fn a_sweep_beyond_the_member_accounts_is_refused_at_init() {
    let members = M1.to_string();
    let sweep = format!("{M1},{M2}");
    let f = Function::start_default(&[
        ("MEMBER_ACCOUNTS", members.as_str()),
        ("ORGANIZATION_ID", ORG_ID),
        ("SWEEP_ACCOUNTS", sweep.as_str()),
    ]);
    let err = f
        .api
        .wait_init_error(Duration::from_secs(30))
        .expect("an init error");
    assert_eq!(err["errorType"], "ConfigurationError", "{err}");
    let message = err["errorMessage"].as_str().unwrap();
    assert!(
        message.contains("SWEEP_ACCOUNTS") && message.contains(M2),
        "{message}"
    );
}

#[tokio::test]
async fn each_place_retires_at_most_its_share_and_an_empty_listing_retires_nothing() {
    let moto = start_moto(None);
    let m = &moto.endpoint;
    let accounts = [M1, M2, M3];
    let regions = ["us-east-1", "eu-west-1"];
    let mut places = Vec::new();
    for account in accounts {
        create_role(m, account, ROLE).await;
        for region in regions {
            let c = clients_in(m, account, region).await;
            for id in ["keep", "gone-1", "gone-2", "gone-3"] {
                create_instance(&c, id, "postgres", "admin").await;
                Db::new("instance", Service::Rds, id, "admin")
                    .put_password(&c, "pw")
                    .await;
            }
            places.push((account, region, c));
        }
    }
    let members = accounts.join(",");
    let env = [
        ("MEMBER_ACCOUNTS", members.as_str()),
        ("ORGANIZATION_ID", ORG_ID),
        ("SWEEP_REGIONS", "us-east-1,eu-west-1"),
        ("MAX_RETIRE_PER_RUN", "2"),
        ("MAX_RETIRE_FRACTION", "1"),
    ];
    let hub = Hub::start(m, m, &env, 3).await;
    let first = hub.sweep().await;
    assert_eq!(first["created"], 24, "{first}");
    // Three databases gone everywhere; in one place, every database.
    let guarded = (M3, "eu-west-1");
    for (account, region, c) in &places {
        for id in ["gone-1", "gone-2", "gone-3"] {
            delete_instance(c, id).await;
        }
        if (*account, *region) == guarded {
            delete_instance(c, "keep").await;
        }
    }
    let s = &hub.sweep().await;
    let retired: usize = s["accounts"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|a| a["regions"].as_object().unwrap().values())
        .map(|r| r["retired"].as_array().unwrap().len())
        .sum();
    assert_eq!(
        retired, 10,
        "2 in each of 5 places, none in the guarded: {s}"
    );
    for (account, region, _) in &places {
        let r = &s["accounts"][account]["regions"][region];
        let retired = r["retired"].as_array().unwrap().len();
        if (*account, *region) == guarded {
            assert_eq!(retired, 0, "{r}");
            assert_eq!(r["retireGuard"], "empty-listing", "{r}");
            assert_eq!(r["retireGuarded"], json!(["rds/instance"]), "{r}");
        } else {
            assert_eq!(retired, 2, "{account}/{region}: {r}");
            assert_eq!(r["retireDeferred"].as_array().unwrap().len(), 1, "{r}");
            assert_eq!(r["retireLimit"], 2, "{r}");
        }
    }
}

#[tokio::test]
async fn a_flood_of_bad_user_events_is_answered_not_retried() {
    let moto = start_moto(None);
    let m = &moto.endpoint;
    create_role(m, M1, ROLE).await;
    let env = [("MEMBER_ACCOUNTS", M1), ("ORGANIZATION_ID", ORG_ID)];
    let hub = Hub::start(m, m, &env, 0).await;
    let f = &hub.planner;
    for n in 0..60 {
        let mut e =
            events::user(json!({"dbInstanceIdentifier": format!("nope-{n}"), "username": "app"}));
        e["account"] = json!(M1);
        e["id"] = json!(format!("flood-{n}"));
        let answer = f.invoke(&e);
        let Answer::Response(o) = &answer else {
            panic!("event {n}: an error answer, which Lambda would retry: {answer:?}");
        };
        assert_eq!(o["outcome"], "refused", "{o}");
        assert_eq!(o["errorType"], "DatabaseNotFound", "{o}");
    }
    // Untrusted and malformed events too; the log line still carries the errorType the
    // alarms' metric filters match.
    let mut outsider = events::user(json!({"dbInstanceIdentifier": "x", "username": "app"}));
    outsider["account"] = json!(OUTSIDER);
    let o = f.invoke(&outsider);
    assert_eq!(o.response()["errorType"], "UntrustedEvent", "{o:?}");
    let malformed = json!({"source": "aws.rds", "detail-type": "RDS DB Instance Event", "account": M1, "region": REGION, "detail": "not an object"});
    let o = f.invoke(&malformed);
    assert_eq!(o.response()["outcome"], "refused", "{o:?}");
    let logs = f.logs_with("invocation finished", 62);
    let line = logs
        .lines()
        .find(|l| l.contains("invocation finished") && l.contains("UntrustedEvent"))
        .unwrap_or_else(|| panic!("{logs}"));
    let v: Value = serde_json::from_str(line).unwrap();
    assert_eq!(v["fields"]["error_type"], "UntrustedEvent", "{line}");
    assert_eq!(v["fields"]["outcome"], "refused", "{line}");
    assert_eq!(v["level"], "WARN", "kept with LogLevel=WARN: {line}");
}

//! Organization scale: the built function as a hub, through the Runtime API, against one moto
//! running several accounts (credentials from AssumeRole act in the role's account). Three
//! member accounts × two regions, an account that is not a member, and a member without the
//! member role (the test launcher makes the function's AssumeRole fail where the role does not
//! exist, as IAM would; moto alone lets anyone assume anything).

use serde_json::{json, Value};

use crate::support::accounts::{clients_in, create_account, create_organization, create_role};
use crate::support::events::{self, instance_created_in};
use crate::support::fixtures::{Db, Service};
use crate::support::proxy::Proxy;
use crate::support::queue::Hub;
use crate::support::*;

const MEMBERS: [&str; 3] = ["111111111111", "222222222222", "333333333333"];
const NO_ROLE: &str = "444444444444";
const OUTSIDER: &str = "999999999999";
const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];
const ROLE: &str = "db-secret-provisioner-member";
/// `ORGANIZATION_ID` of the member-list tests (a list is checked by the function and bound by
/// `aws:ResourceAccount` in IAM; the id is what IAM's `aws:ResourceOrgID` compares).
const ORG_ID: &str = "o-exampleorg1";

fn id_of(account: &str, region: &str) -> String {
    format!("db-{}-{region}", &account[..3])
}

async fn seed(endpoint: &str, account: &str, region: &str, id: &str) -> Clients {
    let c = clients_in(endpoint, account, region).await;
    create_instance(&c, id, "postgres", "admin").await;
    Db::new("instance", Service::Rds, id, "admin")
        .put_password(&c, &format!("pw-{account}"))
        .await;
    c
}

#[tokio::test]
async fn a_hub_serves_member_accounts_and_regions_through_their_role() {
    let moto = start_moto(None);
    let m = &moto.endpoint;
    for account in MEMBERS {
        create_role(m, account, ROLE).await;
    }
    let mut seeded = Vec::new();
    for account in MEMBERS.iter().chain([NO_ROLE].iter()) {
        for region in REGIONS {
            let id = id_of(account, region);
            seeded.push((
                account.to_string(),
                region,
                id.clone(),
                seed(m, account, region, &id).await,
            ));
        }
    }
    let proxy = Proxy::start(m);
    let members = format!("{},{NO_ROLE}", MEMBERS.join(","));
    let env = [
        ("MEMBER_ACCOUNTS", members.as_str()),
        ("ORGANIZATION_ID", ORG_ID),
        ("SWEEP_REGIONS", "us-east-1,eu-west-1"),
    ];
    let deployed = Hub::start(m, &proxy.endpoint(), &env, 3).await;
    let function = &deployed.planner;

    // Events from each member account and region: the secret lands there, and only there.
    for (account, region, id, c) in seeded.iter().filter(|s| s.0 != NO_ROLE) {
        proxy.clear_operations();
        let answer = function.invoke(&instance_created_in(id, account, region));
        let o = answer.response();
        assert_eq!(o["outcome"], "created", "{account}/{region}: {o}");
        assert_eq!(
            (
                o["database"]["account"].clone(),
                o["database"]["region"].clone()
            ),
            (json!(account), json!(region))
        );
        let name = fixtures::secret_name(Service::Rds, id, "admin");
        let secret = secret_json(c, &name)
            .await
            .expect("in the member account and region");
        assert_eq!(secret["password"], format!("pw-{account}"));
        // One session per event, named after it, with the function's source identity: the
        // member's CloudTrail shows which event acted.
        let assumed = proxy.assume_role_requests();
        assert_eq!(assumed.len(), 1, "{account}/{region}: {assumed:?}");
        assert_eq!(
            assumed[0]["RoleArn"],
            format!("arn:aws:iam::{account}:role/{ROLE}")
        );
        assert_eq!(assumed[0]["RoleSessionName"], format!("evt-{id}"));
        assert_eq!(assumed[0]["SourceIdentity"], "db-secret-provisioner");
    }
    let hub = Clients::new(&sdk_config(m, REGION).await);
    for (account, region, id, _) in &seeded {
        let name = fixtures::secret_name(Service::Rds, id, "admin");
        assert!(
            secret_json(&hub, &name).await.is_none(),
            "nothing in the hub account"
        );
        let other = REGIONS.iter().find(|r| *r != region).unwrap();
        let elsewhere = clients_in(m, account, other).await;
        assert!(
            secret_json(&elsewhere, &name).await.is_none(),
            "nothing in {account}/{other}"
        );
    }

    // Not a member: refused before any AWS call, answered (not thrown: no retry can fix it).
    proxy.clear_operations();
    let outsider = function.invoke(&instance_created_in("db-999", OUTSIDER, "us-east-1"));
    assert_eq!(outsider.response()["outcome"], "refused", "{outsider:?}");
    assert_eq!(outsider.response()["errorType"], "UntrustedEvent");
    assert_eq!(proxy.operations(), Vec::<String>::new());
    // A member without the role: MemberAccessDenied, nothing written anywhere.
    let (_, _, id, c) = seeded.iter().find(|s| s.0 == NO_ROLE).unwrap();
    let denied = function.invoke(&instance_created_in(id, NO_ROLE, "us-east-1"));
    assert_eq!(denied.error_type(), "MemberAccessDenied");
    let crate::support::runtime_api::Answer::Error(body) = &denied else {
        unreachable!()
    };
    let message = body["errorMessage"].as_str().unwrap();
    assert!(
        message.contains(NO_ROLE) && message.contains(ROLE),
        "{message}"
    );
    assert!(
        secret_json(c, &fixtures::secret_name(Service::Rds, id, "admin"))
            .await
            .is_none()
    );

    // The organization sweep: a database each member region got without its event.
    for account in MEMBERS {
        for region in REGIONS {
            seed(
                m,
                account,
                region,
                &format!("late-{}-{region}", &account[..3]),
            )
            .await;
        }
    }
    // Planned into the work queue, one message per place; the workers sweep them.
    let s = &deployed.sweep().await;
    assert_eq!(s["plan"]["planned"], 8, "{s}");
    assert_eq!(s["created"], 6, "{s}");
    assert_eq!(s["alreadyPresent"], 6, "{s}");
    assert_eq!(
        s["failedPlaces"], 2,
        "the member without the role, in each region: {s}"
    );
    assert_eq!(s["left"], json!([]), "{s}");
    let accounts = s["accounts"].as_object().unwrap();
    let mut listed: Vec<&str> = accounts.keys().map(String::as_str).collect();
    listed.sort();
    assert_eq!(
        listed,
        [MEMBERS[0], MEMBERS[1], MEMBERS[2], NO_ROLE],
        "the hub account is not listed, so not swept"
    );
    for account in MEMBERS {
        for region in REGIONS {
            let r: &Value = &accounts[account]["regions"][region];
            assert_eq!(
                r["created"],
                json!([fixtures::secret_name(
                    Service::Rds,
                    &format!("late-{}-{region}", &account[..3]),
                    "admin"
                )]),
                "{account}/{region}: {r}"
            );
            assert_eq!(r["databases"], 2);
        }
    }
    let failed = accounts[NO_ROLE]["failed"].as_array().unwrap();
    assert!(
        failed
            .iter()
            .all(|f| f["errorType"] == "MemberAccessDenied"),
        "{s}"
    );

    // The invocation log line names the account and region.
    let logs = function.logs();
    assert!(
        logs.lines().any(|l| l.contains("invocation finished")
            && l.contains(r#""account":"222222222222""#)
            && l.contains(r#""region":"eu-west-1""#)),
        "{logs}"
    );
}

/// `event` as sent from `account` and `region`.
fn from(mut event: Value, account: &str, region: &str) -> Value {
    event["account"] = json!(account);
    event["region"] = json!(region);
    if let Some(detail) = event["detail"].as_object_mut() {
        if detail.contains_key("awsRegion") {
            detail.insert("awsRegion".into(), json!(region));
        }
    }
    event
}

#[tokio::test]
async fn every_job_runs_in_a_member_account_with_the_member_role() {
    // Every kind of job, with every option the member stack can grant on, in one member account:
    // the IAM contract checks deploy/member.yaml's role against what this records.
    let moto = start_moto(None);
    let m = &moto.endpoint;
    let (account, region) = (MEMBERS[0], "us-east-1");
    create_role(m, account, ROLE).await;
    let c = seed(m, account, region, "life-db").await;
    let env = [
        ("MEMBER_ACCOUNTS", account),
        ("ORGANIZATION_ID", ORG_ID),
        ("SWEEP_REGIONS", region),
        ("EXISTING_SECRET", "update"),
        ("DELETE_PASSWORD_PARAMETER", "true"),
        ("ON_DATABASE_DELETED", "schedule-deletion"),
        ("REPLICA_REGIONS", "us-west-2"),
        (
            "RESOURCE_POLICY",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"secretsmanager:DeleteResourcePolicy","Resource":"*"}]}"#,
        ),
    ];
    let hub = Hub::start(m, m, &env, 1).await;
    let f = &hub.planner;
    let life = Db::new("instance", Service::Rds, "life-db", "admin");
    let name = &life.secret_name();
    let created = f.invoke(&instance_created_in("life-db", account, region));
    assert_eq!(created.response()["outcome"], "created", "{created:?}");
    let replay = f.invoke(&instance_created_in("life-db", account, region));
    assert_eq!(replay.response()["outcome"], "unchanged", "{replay:?}");

    // A port change.
    c.rds
        .modify_db_instance()
        .db_instance_identifier("life-db")
        .db_port_number(6543)
        .apply_immediately(true)
        .send()
        .await
        .unwrap();
    let moved = f.invoke(&from(
        events::modify_port_call("life-db", 6543),
        account,
        region,
    ));
    assert_eq!(moved.response()["outcome"], "updated", "{moved:?}");
    assert_eq!(secret_json(&c, name).await.unwrap()["port"], 6543);

    // A replica gone: the organization sweep re-creates it.
    c.secrets
        .remove_regions_from_replication()
        .secret_id(name)
        .remove_replica_regions("us-west-2")
        .send()
        .await
        .unwrap();
    let swept = hub.sweep().await;
    assert_eq!(
        swept["accounts"][account]["regions"][region]["replicasRepaired"],
        json!([format!("{name}:us-west-2")]),
        "{swept}"
    );

    // Deleted: retired and scheduled for deletion, replicas removed first.
    c.rds
        .delete_db_instance()
        .db_instance_identifier("life-db")
        .skip_final_snapshot(true)
        .send()
        .await
        .unwrap();
    let retired = f.invoke(&from(
        events::delete_instance_call("life-db"),
        account,
        region,
    ));
    assert_eq!(retired.response()["outcome"], "retired", "{retired:?}");

    // Created again (CloudTrail, which names the master user): the secret comes back.
    create_instance(&c, "life-db", "postgres", "admin").await;
    life.put_password(&c, "second-pw").await;
    let again = f.invoke(&from(
        events::create_db_instance_call("life-db"),
        account,
        region,
    ));
    assert_eq!(again.response()["outcome"], "created", "{again:?}");
    assert_eq!(
        secret_json(&c, name).await.unwrap()["password"],
        "second-pw"
    );

    // A Redshift Serverless workgroup in the member account.
    create_workgroup(&c, "life-ns", "life-wg", "dev", None).await;
    Db::new("workgroup", Service::RedshiftServerless, "life-wg", "admin")
        .put_password(&c, "wg-pw")
        .await;
    let wg = f.invoke(&events::serverless_in(
        json!({"eventId": "REDSHIFT-SERVERLESS-EVENT-1008", "workgroupName": "life-wg"}),
        account,
        region,
    ));
    assert_eq!(wg.response()["outcome"], "created", "{wg:?}");
}

#[tokio::test]
async fn the_organization_sweep_can_take_its_accounts_from_organizations() {
    // SWEEP_ACCOUNTS=organization: organizations:ListAccounts (the hub account manages the
    // organization here). The new accounts have no member role: each is reported, the hub's own
    // account is swept.
    let moto = start_moto(None);
    let m = &moto.endpoint;
    let conf = sdk_config(m, REGION).await;
    let org_id = create_organization(&conf).await;
    for n in ["alpha", "beta"] {
        create_account(&conf, n).await;
    }
    let org = aws_sdk_organizations::Client::new(&conf);
    let listed: Vec<String> = org
        .list_accounts()
        .send()
        .await
        .unwrap()
        .accounts()
        .iter()
        .map(|a| a.id().unwrap().to_string())
        .collect();
    assert_eq!(listed.len(), 3);
    let env = [
        ("MEMBER_ACCOUNTS", "organization"),
        ("ORGANIZATION_ID", org_id.as_str()),
        ("SWEEP_ACCOUNTS", "organization"),
    ];
    let hub = Hub::start(m, m, &env, 3).await;
    let o = hub.sweep().await;
    let accounts = o["accounts"].as_object().unwrap();
    let mut keys: Vec<&String> = accounts.keys().collect();
    keys.sort();
    let mut expected: Vec<&String> = listed.iter().collect();
    expected.sort();
    assert_eq!(keys, expected, "{o}");
    assert!(accounts[ACCOUNT]["regions"][REGION].is_object(), "{o}");
    assert_eq!(o["failedPlaces"], 2, "{o}");
}

#[tokio::test]
async fn restores_in_a_member_account_read_their_snapshots_with_the_member_role() {
    // The restore evidence's reads (snapshot times, version dates) in a member account: the IAM
    // contract checks deploy/member.yaml's role against what this records.
    let moto = start_moto(None);
    let m = &moto.endpoint;
    let (account, region) = (MEMBERS[0], "us-east-1");
    create_role(m, account, ROLE).await;
    let c = seed(m, account, region, "rst-db").await;
    let env = [
        ("MEMBER_ACCOUNTS", account),
        ("ORGANIZATION_ID", ORG_ID),
        ("SWEEP_REGIONS", region),
    ];
    let hub = Hub::start(m, m, &env, 1).await;
    let f = &hub.planner;
    let call = |name: &str, source: &str, params: Value| {
        let service = source.trim_start_matches("aws.");
        from(
            events::cloudtrail(source, &format!("{service}.amazonaws.com"), name, params),
            account,
            region,
        )
    };
    let tick = || std::thread::sleep(std::time::Duration::from_millis(1100));

    // An instance with a user secret, snapshotted, deleted, restored.
    let db = Db::new("instance", Service::Rds, "rst-db", "admin");
    let create = from(events::create_db_instance_call("rst-db"), account, region);
    assert_eq!(f.invoke(&create).response()["outcome"], "created");
    db.put_password_of(&c, "app_user", "user-pw").await;
    let mut user = events::user(json!({"dbInstanceIdentifier": "rst-db", "username": "app_user"}));
    user["account"] = json!(account);
    assert_eq!(f.invoke(&user).response()["outcome"], "created");
    tick();
    c.rds
        .create_db_snapshot()
        .db_instance_identifier("rst-db")
        .db_snapshot_identifier("rst-db-final")
        .send()
        .await
        .unwrap();
    c.rds
        .delete_db_instance()
        .db_instance_identifier("rst-db")
        .skip_final_snapshot(true)
        .send()
        .await
        .unwrap();
    let delete = from(events::delete_instance_call("rst-db"), account, region);
    assert_eq!(f.invoke(&delete).response()["outcome"], "retired");
    let restore = call(
        "RestoreDBInstanceFromDBSnapshot",
        "aws.rds",
        json!({"dBInstanceIdentifier": "rst-db", "dBSnapshotIdentifier": "rst-db-final"}),
    );
    assert_eq!(f.invoke(&restore).response()["outcome"], "updated");
    create_instance(&c, "rst-db", "postgres", "admin").await;
    let back = f.invoke(&create);
    assert_eq!(back.response()["outcome"], "updated", "{back:?}");
    let user_name = db.secret_name_of("app_user");
    let d = describe_secret(&c, &user_name).await;
    assert!(
        !d.tags()
            .iter()
            .any(|t| t.key() == Some("db-secret-provisioner:database-deleted")),
        "the user secret is live again"
    );

    // A cluster, snapshotted, deleted, restored.
    create_cluster(&c, "rst-cl", "aurora-postgresql", "admin", None).await;
    let cl = Db::new("cluster", Service::Rds, "rst-cl", "admin");
    cl.put_password(&c, "cluster-pw").await;
    let create = call(
        "CreateDBCluster",
        "aws.rds",
        json!({"dBClusterIdentifier": "rst-cl", "masterUsername": "admin"}),
    );
    assert_eq!(f.invoke(&create).response()["outcome"], "created");
    tick();
    c.rds
        .create_db_cluster_snapshot()
        .db_cluster_identifier("rst-cl")
        .db_cluster_snapshot_identifier("rst-cl-final")
        .send()
        .await
        .unwrap();
    c.rds
        .delete_db_cluster()
        .db_cluster_identifier("rst-cl")
        .skip_final_snapshot(true)
        .send()
        .await
        .unwrap();
    let delete = call(
        "DeleteDBCluster",
        "aws.rds",
        json!({"dBClusterIdentifier": "rst-cl"}),
    );
    assert_eq!(f.invoke(&delete).response()["outcome"], "retired");
    let restore = call(
        "RestoreDBClusterFromSnapshot",
        "aws.rds",
        json!({"dBClusterIdentifier": "rst-cl", "snapshotIdentifier": "rst-cl-final"}),
    );
    assert_eq!(f.invoke(&restore).response()["outcome"], "updated");
    let automated = c
        .rds
        .describe_db_cluster_snapshots()
        .db_cluster_identifier("rst-cl")
        .snapshot_type("automated")
        .send()
        .await
        .unwrap();
    for s in automated.db_cluster_snapshots() {
        c.rds
            .delete_db_cluster_snapshot()
            .db_cluster_snapshot_identifier(s.db_cluster_snapshot_identifier().unwrap())
            .send()
            .await
            .unwrap();
    }
    create_cluster(&c, "rst-cl", "aurora-postgresql", "admin", None).await;
    let back = f.invoke(&create);
    assert_eq!(back.response()["outcome"], "updated", "{back:?}");

    // A Redshift cluster: the sweep reads the hint.
    create_redshift_cluster(&c, "rst-wh", "awsuser").await;
    let wh = Db::new("redshift", Service::Redshift, "rst-wh", "awsuser");
    wh.put_password(&c, "Warehouse-pw1").await;
    let create = call(
        "CreateCluster",
        "aws.redshift",
        json!({"clusterIdentifier": "rst-wh", "masterUsername": "awsuser"}),
    );
    assert_eq!(f.invoke(&create).response()["outcome"], "created");
    tick();
    c.redshift
        .create_cluster_snapshot()
        .cluster_identifier("rst-wh")
        .snapshot_identifier("rst-wh-final")
        .send()
        .await
        .unwrap();
    c.redshift
        .delete_cluster()
        .cluster_identifier("rst-wh")
        .skip_final_cluster_snapshot(true)
        .send()
        .await
        .unwrap();
    let delete = call(
        "DeleteCluster",
        "aws.redshift",
        json!({"clusterIdentifier": "rst-wh"}),
    );
    assert_eq!(f.invoke(&delete).response()["outcome"], "retired");
    let restore = call(
        "RestoreFromClusterSnapshot",
        "aws.redshift",
        json!({"clusterIdentifier": "rst-wh", "snapshotIdentifier": "rst-wh-final"}),
    );
    assert_eq!(f.invoke(&restore).response()["outcome"], "updated");
    create_redshift_cluster(&c, "rst-wh", "awsuser").await;
    let swept = hub.sweep().await;
    let report = &swept["accounts"][account]["regions"][region];
    assert_eq!(report["flagged"], json!([]), "{swept:?}");
    assert_eq!(report["failed"], json!([]), "{swept:?}");
    let d = describe_secret(&c, &wh.secret_name()).await;
    assert!(d.deleted_date().is_none(), "the warehouse's secret is live");
}

#[tokio::test]
async fn a_recreation_in_a_member_account_looks_for_a_blue_green_switchover() {
    // A live secret whose database id is no longer the name's: the recreation rule reads
    // DescribeBlueGreenDeployments with the member role (the IAM contract checks
    // deploy/member.yaml's role against what this records).
    let moto = start_moto(None);
    let m = &moto.endpoint;
    let (account, region) = (MEMBERS[0], "us-east-1");
    create_role(m, account, ROLE).await;
    let c = seed(m, account, region, "bg-db").await;
    let env = [
        ("MEMBER_ACCOUNTS", account),
        ("ORGANIZATION_ID", ORG_ID),
        ("SWEEP_REGIONS", region),
    ];
    let hub = Hub::start(m, m, &env, 0).await;
    let f = &hub.planner;
    let create = from(events::create_db_instance_call("bg-db"), account, region);
    assert_eq!(f.invoke(&create).response()["outcome"], "created");
    // Deleted and created again while no event reached the function.
    delete_instance(&c, "bg-db").await;
    create_instance(&c, "bg-db", "postgres", "admin").await;
    let again = f.invoke(&create);
    // No switchover: the recreation rule decides (the parameter still holds the secret's
    // password, so the value is kept).
    assert_eq!(again.response()["outcome"], "updated", "{again:?}");
    let reason = again.response()["reason"].as_str().unwrap_or_default();
    assert!(!reason.contains("Blue/Green"), "{reason}");
}

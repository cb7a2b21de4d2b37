//! Resets and take-overs, through the built binary against moto (docs/triggers.md, "Resets and
//! take-overs"). A reset (`RDS-EVENT-0016` "Reset master credentials.") writes the
//! initial-password parameter's password only when the parameter was written after the secret
//! last changed and before the reset; otherwise the secret is tagged stale and `flagged`. A
//! take-over (`ManageMasterUserPassword: true`) tags the admin secret superseded, keeps it
//! through a deletion, and points the user secrets' `masterarn` at the managed secret.
//! A Blue/Green switchover re-stamps the secrets with the green database's id and keeps them.

use std::time::{Duration, SystemTime};

use serde_json::{json, Value};

use crate::support::events;
use crate::support::fixtures::{self, Db};
use crate::support::*;

const STALE: &str = "db-secret-provisioner:password-stale";
const SUPERSEDED: &str = "db-secret-provisioner:superseded-by";

/// Apart from the timestamps moto keeps (to the second, or finer), so that "after" is after.
fn tick() {
    std::thread::sleep(Duration::from_millis(1100));
}

/// `RDS-EVENT-0016` for `db`, happening now.
fn reset_event(db: &Db) -> Value {
    let mut e = events::rds("instance", &db.id, "RDS-EVENT-0016");
    e["detail"]["EventCategories"] = json!(["configuration change"]);
    e["detail"]["Message"] = json!("Reset master credentials.");
    e["time"] = json!(db_secret_provisioner::model::timestamp::rfc3339(
        SystemTime::now()
    ));
    e
}

use crate::support::secret_tag as tag;

/// ModifyDBInstance with `ManageMasterUserPassword`; the managed secret's ARN Describe shows.
async fn rds_manages_the_password(c: &Clients, id: &str) -> String {
    c.rds
        .modify_db_instance()
        .db_instance_identifier(id)
        .manage_master_user_password(true)
        .apply_immediately(true)
        .send()
        .await
        .unwrap();
    describe_instance(c, id)
        .await
        .master_user_secret()
        .and_then(|s| s.secret_arn())
        .expect("moto shows the managed secret")
        .to_string()
}

#[tokio::test]
async fn a_reset_is_flagged_without_a_fresh_parameter_and_written_with_one() {
    let c = clients().await;
    let db = fixtures::instance(&c, "reset", "postgres", "admin", Some("First-Passw0rd")).await;
    tick();
    let f = Function::start_default(&[]);
    assert_eq!(f.invoke(&db.event()).response()["outcome"], "created");
    tick();

    // The parameter still holds the first password: nothing proves the new one.
    let o = f.invoke(&reset_event(&db));
    assert_eq!(o.response()["outcome"], "flagged", "{o:?}");
    assert!(tag(&c, &db.secret_name(), STALE).await.is_some());
    let secret = db.secret(&c).await.unwrap();
    assert_eq!(secret["password"], "First-Passw0rd");

    // The operator writes the new password to the parameter, then resets.
    tick();
    db.put_password(&c, "Second-Passw0rd").await;
    tick();
    let o = f.invoke(&reset_event(&db));
    assert_eq!(o.response()["outcome"], "updated", "{o:?}");
    let after = db.secret(&c).await.unwrap();
    assert_eq!(after["password"], "Second-Passw0rd");
    for key in [
        "engine",
        "host",
        "port",
        "username",
        "dbname",
        "dbInstanceIdentifier",
    ] {
        assert_eq!(after[key], secret[key], "{key} kept");
    }
    assert_eq!(
        tag(&c, &db.secret_name(), STALE).await,
        None,
        "no longer stale"
    );
    assert!(!f.logs().contains("Second-Passw0rd"));
    assert!(!o.response().to_string().contains("Second-Passw0rd"));

    // A parameter written after the reset was not written for it.
    tick();
    let event = reset_event(&db);
    tick();
    db.put_password(&c, "Third-Passw0rd").await;
    let o = f.invoke(&event);
    assert_eq!(o.response()["outcome"], "flagged", "{o:?}");
    assert_eq!(db.secret(&c).await.unwrap()["password"], "Second-Passw0rd");
}

#[tokio::test]
async fn a_take_over_supersedes_the_admin_secret_and_repoints_the_users() {
    let moto = start_moto(None);
    let c = Clients::new(&sdk_config(&moto.endpoint, REGION).await);
    let db = fixtures::instance(&c, "takeover", "postgres", "admin", Some("Admin-Passw0rd")).await;
    let f = Function::start(
        &built_binary(),
        &moto.endpoint,
        &[("ON_DATABASE_DELETED", "schedule-deletion")],
    );
    assert_eq!(f.invoke(&db.event()).response()["outcome"], "created");
    let admin = describe_secret(&c, &db.secret_name()).await;
    let admin_arn = admin.arn().unwrap().to_string();
    db.put_password_of(&c, "app_user", "User-Passw0rd").await;
    let user = events::user(json!({
        "dbInstanceIdentifier": db.id, "username": "app_user", "dbname": "appdb",
        "masterSecretArn": admin_arn,
    }));
    assert_eq!(f.invoke(&user).response()["outcome"], "created");
    let user_name = db.secret_name_of("app_user");
    assert_eq!(
        secret_json(&c, &user_name).await.unwrap()["masterarn"],
        admin_arn
    );

    // RDS takes the master password over.
    let managed = rds_manages_the_password(&c, &db.id).await;
    let call = events::cloudtrail(
        "aws.rds",
        "rds.amazonaws.com",
        "ModifyDBInstance",
        json!({"dBInstanceIdentifier": db.id, "manageMasterUserPassword": true, "applyImmediately": true}),
    );
    let o = f.invoke(&call);
    assert_eq!(o.response()["outcome"], "updated", "{o:?}");
    assert_eq!(
        tag(&c, &db.secret_name(), SUPERSEDED).await.as_deref(),
        Some(managed.as_str())
    );
    let user_value = secret_json(&c, &user_name).await.unwrap();
    assert_eq!(user_value["masterarn"], managed);
    assert_eq!(
        user_value["password"], "User-Passw0rd",
        "every other key kept"
    );
    // A replay changes nothing.
    assert_eq!(f.invoke(&call).response()["outcome"], "unchanged");

    // The database goes: the superseded admin secret is tagged, never scheduled for deletion.
    delete_instance(&c, &db.id).await;
    let o = f.invoke(&events::rds("instance", &db.id, "RDS-EVENT-0003"));
    assert_eq!(o.response()["outcome"], "retired", "{o:?}");
    assert!(describe_secret(&c, &db.secret_name())
        .await
        .deleted_date()
        .is_none());
    assert!(describe_secret(&c, &user_name)
        .await
        .deleted_date()
        .is_some());
}

#[tokio::test]
async fn the_sweep_finds_a_take_over_its_event_missed() {
    let moto = start_moto(None);
    let c = Clients::new(&sdk_config(&moto.endpoint, REGION).await);
    let db = fixtures::instance(
        &c,
        "swept-takeover",
        "postgres",
        "admin",
        Some("Admin-Passw0rd"),
    )
    .await;
    let f = Function::start(&built_binary(), &moto.endpoint, &[]);
    assert_eq!(f.invoke(&db.event()).response()["outcome"], "created");
    rds_manages_the_password(&c, &db.id).await;
    let s = f.invoke(&events::scheduled());
    let sweep = &s.response()["sweep"];
    assert_eq!(sweep["takenOver"], json!([db.secret_name()]), "{sweep}");
    assert!(tag(&c, &db.secret_name(), SUPERSEDED).await.is_some());
    let again = f.invoke(&events::scheduled());
    assert_eq!(
        again.response()["sweep"]["takenOver"],
        json!([]),
        "{again:?}"
    );
}

/// A Blue/Green switchover, with moto's own deployments (CreateBlueGreenDeployment,
/// SwitchoverBlueGreenDeployment): the green database takes the production name with its own
/// `DbiResourceId` (AWS: "each resource keeps the same resource ID"). The sweep finds the name's
/// id changed; DescribeBlueGreenDeployments shows the completed switchover, so the secrets keep
/// their values and are stamped with the green database's id, even though a newer
/// initial-password parameter would otherwise be written.
#[tokio::test]
async fn a_blue_green_switchover_restamps_the_secrets_and_keeps_their_values() {
    let moto = start_moto(None);
    let c = Clients::new(&sdk_config(&moto.endpoint, REGION).await);
    let db = Db::new("instance", fixtures::Service::Rds, "bgd-prod", "admin");
    create_instance(&c, &db.id, "postgres", "admin").await;
    db.put_password(&c, "Blue-Passw0rd").await;
    tick();
    let f = Function::start(&built_binary(), &moto.endpoint, &[]);
    assert_eq!(f.invoke(&db.event()).response()["outcome"], "created");
    db.put_password_of(&c, "app_user", "User-Passw0rd").await;
    let user = events::user(
        json!({"dbInstanceIdentifier": db.id, "username": "app_user", "dbname": "appdb"}),
    );
    assert_eq!(f.invoke(&user).response()["outcome"], "created");
    let blue = describe_instance(&c, &db.id).await;
    let blue_id = blue.dbi_resource_id().unwrap().to_string();
    tick();

    let created = c
        .rds
        .create_blue_green_deployment()
        .blue_green_deployment_name("bgd-upgrade")
        .source(blue.db_instance_arn().unwrap())
        .send()
        .await
        .unwrap();
    let deployment = created
        .blue_green_deployment()
        .and_then(|d| d.blue_green_deployment_identifier())
        .unwrap()
        .to_string();
    c.rds
        .switchover_blue_green_deployment()
        .blue_green_deployment_identifier(&deployment)
        .send()
        .await
        .unwrap();
    let green_id = describe_instance(&c, &db.id)
        .await
        .dbi_resource_id()
        .unwrap()
        .to_string();
    assert_ne!(
        green_id, blue_id,
        "moto gives the green database its own id"
    );
    // A newer parameter: without the switchover, the recreation rule would write it.
    tick();
    db.put_password(&c, "Not-The-Passw0rd").await;

    let s = f.invoke(&events::scheduled());
    let sweep = &s.response()["sweep"];
    for key in ["created", "flagged", "failed", "stuck"] {
        assert_eq!(sweep[key], json!([]), "{key}: {sweep}");
    }
    let admin = db.secret(&c).await.unwrap();
    assert_eq!(admin["password"], "Blue-Passw0rd", "the value was kept");
    const ID: &str = "db-secret-provisioner:database-id";
    assert_eq!(
        tag(&c, &db.secret_name(), ID).await.as_deref(),
        Some(green_id.as_str())
    );
    let user_name = db.secret_name_of("app_user");
    assert_eq!(
        tag(&c, &user_name, ID).await.as_deref(),
        Some(green_id.as_str())
    );
    assert_eq!(
        secret_json(&c, &user_name).await.unwrap()["password"],
        "User-Passw0rd"
    );
    assert!(tag(&c, &db.secret_name(), STALE).await.is_none());
    // The next sweep finds everything in place.
    let again = f.invoke(&events::scheduled());
    assert_eq!(again.response()["sweep"]["alreadyPresent"], 1, "{again:?}");
}

/// A Serverless `UpdateNamespace` with `adminUserPassword` (CloudTrail, masked) resets the
/// namespace's workgroup's admin secret under the same rule (its workgroup found with
/// ListWorkgroups; Serverless is emulated in the test launcher).
#[tokio::test]
async fn a_serverless_admin_password_update_is_a_reset_of_its_workgroup() {
    let c = clients().await;
    let (ns, wg) = (unique("reset-ns"), unique("reset-wg"));
    create_workgroup(&c, &ns, &wg, "dev", None).await;
    let db = Db::new(
        "workgroup",
        fixtures::Service::RedshiftServerless,
        &wg,
        "admin",
    );
    db.put_password(&c, "First-Passw0rd").await;
    tick();
    let f = Function::start_default(&[]);
    let created = events::serverless(
        json!({"eventId": "REDSHIFT-SERVERLESS-EVENT-1008", "workgroupName": wg}),
        json!([]),
    );
    assert_eq!(f.invoke(&created).response()["outcome"], "created");
    tick();
    let update = || {
        let mut e = events::cloudtrail(
            "aws.redshift-serverless",
            "redshift-serverless.amazonaws.com",
            "UpdateNamespace",
            json!({"namespaceName": ns, "adminUserPassword": "****"}),
        );
        e["time"] = json!(db_secret_provisioner::model::timestamp::rfc3339(
            SystemTime::now()
        ));
        e
    };
    let o = f.invoke(&update());
    assert_eq!(o.response()["outcome"], "flagged", "{o:?}");
    tick();
    db.put_password(&c, "Second-Passw0rd").await;
    tick();
    let o = f.invoke(&update());
    assert_eq!(o.response()["outcome"], "updated", "{o:?}");
    assert_eq!(db.secret(&c).await.unwrap()["password"], "Second-Passw0rd");
    // An UpdateNamespace that changes no admin password is nothing to follow.
    let other = events::cloudtrail(
        "aws.redshift-serverless",
        "redshift-serverless.amazonaws.com",
        "UpdateNamespace",
        json!({"namespaceName": ns, "logExports": ["userlog"]}),
    );
    assert_eq!(f.invoke(&other).response()["outcome"], "ignored");
}

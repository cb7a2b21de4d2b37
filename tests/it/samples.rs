//! Every sample in `events/` parses into the trigger its name promises (pure; no AWS).

use db_secret_provisioner::event::{recognise, Recognised, Trigger};
use db_secret_provisioner::model::Target;

use crate::support::events::sample as load;

#[test]
fn every_sample_event_is_recognised_as_named() {
    let expected: &[(&str, Option<(Trigger, Target)>)] = &[
        (
            "rds-instance-created.json",
            Some((
                Trigger::RdsInstanceCreated,
                Target::DbInstance("orders-db".into()),
            )),
        ),
        (
            "aurora-cluster-created.json",
            Some((
                Trigger::RdsClusterCreated,
                Target::DbCluster("inventory-aurora".into()),
            )),
        ),
        (
            "docdb-cluster-created.json",
            Some((
                Trigger::RdsClusterCreated,
                Target::DbCluster("catalog-docdb".into()),
            )),
        ),
        (
            "rds-instance-restored.json",
            Some((
                Trigger::RdsInstanceRestored,
                Target::DbInstance("orders-db-restored".into()),
            )),
        ),
        (
            "cloudtrail-create-db-instance.json",
            Some((
                Trigger::CloudTrailCreateDbInstance,
                Target::DbInstance("billing-db".into()),
            )),
        ),
        (
            "cloudtrail-create-db-cluster.json",
            Some((
                Trigger::CloudTrailCreateDbCluster,
                Target::DbCluster("reports-aurora".into()),
            )),
        ),
        (
            "cloudtrail-redshift-create-cluster.json",
            Some((
                Trigger::CloudTrailCreateRedshiftCluster,
                Target::RedshiftCluster("analytics-warehouse".into()),
            )),
        ),
        (
            "cloudtrail-redshift-serverless-create-workgroup.json",
            Some((
                Trigger::CloudTrailCreateWorkgroup,
                Target::Workgroup("bi-workgroup".into()),
            )),
        ),
        (
            "redshift-serverless-workgroup-created.json",
            Some((
                Trigger::ServerlessWorkgroupCreated,
                Target::Workgroup("bi-workgroup".into()),
            )),
        ),
        (
            "database-user-created.json",
            Some((
                Trigger::DatabaseUserCreated,
                Target::DbCluster("inventory-aurora".into()),
            )),
        ),
        (
            "cloudtrail-modify-db-instance-port.json",
            Some((
                Trigger::CloudTrailModifyDbInstance,
                Target::DbInstance("orders-db".into()),
            )),
        ),
        (
            "cloudtrail-modify-db-cluster-port.json",
            Some((
                Trigger::CloudTrailModifyDbCluster,
                Target::DbCluster("inventory-aurora".into()),
            )),
        ),
        (
            "cloudtrail-redshift-modify-cluster-port.json",
            Some((
                Trigger::CloudTrailModifyRedshiftCluster,
                Target::RedshiftCluster("analytics-warehouse".into()),
            )),
        ),
        (
            "cloudtrail-redshift-serverless-update-workgroup-port.json",
            Some((
                Trigger::CloudTrailUpdateWorkgroup,
                Target::Workgroup("bi-workgroup".into()),
            )),
        ),
        (
            "cloudtrail-delete-db-instance.json",
            Some((
                Trigger::CloudTrailDeleteDbInstance,
                Target::DbInstance("orders-db".into()),
            )),
        ),
        (
            "cloudtrail-delete-db-cluster.json",
            Some((
                Trigger::CloudTrailDeleteDbCluster,
                Target::DbCluster("inventory-aurora".into()),
            )),
        ),
        (
            "cloudtrail-redshift-delete-cluster.json",
            Some((
                Trigger::CloudTrailDeleteRedshiftCluster,
                Target::RedshiftCluster("analytics-warehouse".into()),
            )),
        ),
        (
            "cloudtrail-redshift-serverless-delete-workgroup.json",
            Some((
                Trigger::CloudTrailDeleteWorkgroup,
                Target::Workgroup("bi-workgroup".into()),
            )),
        ),
        (
            "rds-instance-deleted.json",
            Some((
                Trigger::RdsInstanceDeleted,
                Target::DbInstance("orders-db".into()),
            )),
        ),
        (
            "rds-cluster-deleted.json",
            Some((
                Trigger::RdsClusterDeleted,
                Target::DbCluster("inventory-aurora".into()),
            )),
        ),
        (
            "redshift-serverless-workgroup-deleted.json",
            Some((
                Trigger::ServerlessWorkgroupDeleted,
                Target::Workgroup("bi-workgroup".into()),
            )),
        ),
        ("scheduled-reconcile.json", None),
        ("ignored-ec2-state-change.json", None),
        (
            "rds-instance-password-reset.json",
            Some((
                Trigger::RdsInstancePasswordReset,
                Target::DbInstance("orders-db".into()),
            )),
        ),
    ];
    let mut files: Vec<String> =
        std::fs::read_dir(format!("{}/events", env!("CARGO_MANIFEST_DIR")))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
    files.sort();
    let mut listed: Vec<String> = expected.iter().map(|(f, _)| f.to_string()).collect();
    listed.sort();
    assert_eq!(
        files, listed,
        "every file in events/ has an expectation here"
    );

    for (file, want) in expected {
        let got = recognise(&load(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        match (want, got) {
            (Some((trigger, target)), Recognised::Provision(r)) => {
                assert_eq!((&r.trigger, &r.target), (trigger, target), "{file}");
            }
            (None, Recognised::Ignored(reason)) => {
                assert!(!reason.is_empty() && file.starts_with("ignored-"))
            }
            (None, Recognised::Sweep(location)) => {
                assert_eq!(*file, "scheduled-reconcile.json");
                assert_eq!(
                    (location.region.as_deref(), location.account.as_deref()),
                    (Some("us-east-1"), Some("123456789012"))
                );
            }
            (want, got) => panic!("{file}: expected {want:?}, got {got:?}"),
        }
    }
}

#[test]
fn cloudtrail_samples_ask_to_wait_and_carry_the_master_username() {
    let Recognised::Provision(r) = recognise(&load("cloudtrail-create-db-instance.json")).unwrap()
    else {
        panic!()
    };
    assert!(r.wait);
    assert_eq!(r.master_username_hint.as_deref(), Some("billing_admin"));
    let Recognised::Provision(r) = recognise(&load("rds-instance-created.json")).unwrap() else {
        panic!()
    };
    assert!(
        !r.wait,
        "native creation events arrive when the database is available"
    );
}

#[test]
fn the_user_sample_carries_the_user() {
    let Recognised::Provision(r) = recognise(&load("database-user-created.json")).unwrap() else {
        panic!()
    };
    let user = r.user.unwrap();
    assert_eq!(&*user.username, "app_user");
    assert_eq!(user.dbname.as_deref(), Some("inventory"));
    assert_eq!(
        user.master_secret_arn, None,
        "a sample cannot know the suffix AWS gives the master secret's ARN"
    );
}

#[test]
fn every_sample_speaks_for_the_account_and_region_the_stamp_script_replaces() {
    for entry in std::fs::read_dir(format!("{}/events", env!("CARGO_MANIFEST_DIR"))).unwrap() {
        let file = entry.unwrap().file_name().into_string().unwrap();
        let event = load(&file);
        assert_eq!(
            (event["account"].as_str(), event["region"].as_str()),
            (Some("123456789012"), Some("us-east-1")),
            "{file}: scripts/stamp-event.sh replaces exactly these"
        );
    }
}

/// The RDS event ids the samples carry, with their category in AWS's "Amazon RDS event
/// categories and event messages" tables (RDS user guide for DB instances, Aurora user guide for
/// DB clusters): 0043 ("Restored from snapshot") and 0019 ("Restored from DB instance … to …")
/// are `restoration`, not `creation`; AWS's cluster table has no restoration category, so a
/// restored cluster's event is 0170 `creation`.
const RDS_EVENT_CATEGORIES: &[(&str, &str)] = &[
    ("RDS-EVENT-0003", "deletion"),
    ("RDS-EVENT-0005", "creation"),
    ("RDS-EVENT-0016", "configuration change"),
    ("RDS-EVENT-0019", "restoration"),
    ("RDS-EVENT-0043", "restoration"),
    ("RDS-EVENT-0170", "creation"),
    ("RDS-EVENT-0171", "deletion"),
];

#[test]
fn every_rds_sample_carries_the_category_aws_gives_its_event_id() {
    let dir = format!("{}/events", crate::support::project_dir().display());
    let mut wrong = Vec::new();
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let Some(id) = v["detail"]["EventID"].as_str() else {
            continue;
        };
        seen += 1;
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        match RDS_EVENT_CATEGORIES.iter().find(|(e, _)| *e == id) {
            None => wrong.push(format!(
                "{file}: {id} is not in the table; add it from AWS's"
            )),
            Some((_, category))
                if v["detail"]["EventCategories"] != serde_json::json!([category]) =>
            {
                wrong.push(format!(
                    "{file}: {id} is {category} in AWS's table, the sample says {}",
                    v["detail"]["EventCategories"]
                ))
            }
            Some(_) => {}
        }
    }
    assert!(seen >= 6, "{seen} RDS samples");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

//! The rotation guard, read fresh before every write (docs/triggers.md), played with the
//! responses AWS documents through `aws-smithy-mocks`: ListSecrets "might not reflect changes
//! from the last five minutes", so its entry shows no AWSPENDING while DescribeSecret does; and
//! a failed rotation leaves AWSPENDING on a version for ever, which moto cannot age.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_sdk_rds::operation::describe_db_instances::DescribeDbInstancesOutput;
use aws_sdk_rds::types::{DbInstance, Endpoint};
use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput;
use aws_sdk_secretsmanager::operation::list_secret_version_ids::ListSecretVersionIdsOutput;
use aws_sdk_secretsmanager::operation::list_secrets::ListSecretsOutput;
use aws_sdk_secretsmanager::operation::put_secret_value::PutSecretValueOutput;
use aws_sdk_secretsmanager::operation::tag_resource::TagResourceOutput;
use aws_sdk_secretsmanager::types::{
    RotationRulesType, SecretListEntry, SecretVersionsListEntry, Tag,
};
use aws_smithy_mocks::{mock, Rule};
use aws_smithy_types::DateTime;
use serde_json::json;

use crate::support::events;
use crate::support::mocks;
use crate::support::{handler_with, here};

const ARN: &str =
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-secrets/rds/orders/admin-AbCdEf";
const NAME: &str = "db-secrets/rds/orders/admin";

fn tags() -> Option<Vec<Tag>> {
    tags_with(None)
}

/// The ownership tags, and `extra` (a key and value) when given.
fn tags_with(extra: Option<(&str, &str)>) -> Option<Vec<Tag>> {
    Some(
        [
            ("managed-by", "db-secret-provisioner"),
            ("db-secret-provisioner:database", "rds/instance/orders"),
            ("db-secret-provisioner:username", "admin"),
        ]
        .into_iter()
        .chain(extra)
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect(),
    )
}

const STUCK_TAG: &str = "db-secret-provisioner:rotation-stuck";

/// A port change of `orders` to 6543 (applied), whose one secret ListSecrets shows without a
/// rotation; DescribeSecret shows AWSPENDING on `v2`, created `pending_age` ago.
async fn play(pending_age: Duration) -> (String, usize) {
    let (e, writes, _) = play_reported(pending_age, None).await;
    (e, writes)
}

/// [`play`], with DescribeSecret showing the rotation-stuck tag `reported` when given; also
/// how many TagResource calls recorded a report.
async fn play_reported(pending_age: Duration, reported: Option<String>) -> (String, usize, usize) {
    let describe = mock!(aws_sdk_rds::Client::describe_db_instances).then_output(|| {
        DescribeDbInstancesOutput::builder()
            .db_instances(
                DbInstance::builder()
                    .db_instance_identifier("orders")
                    .engine("postgres")
                    .db_instance_status("available")
                    .master_username("admin")
                    .endpoint(
                        Endpoint::builder()
                            .address("orders.x.rds.amazonaws.com")
                            .port(6543)
                            .build(),
                    )
                    .build(),
            )
            .build()
    });
    let list: Rule = mock!(aws_sdk_secretsmanager::Client::list_secrets).then_output(|| {
        ListSecretsOutput::builder()
            .secret_list(
                SecretListEntry::builder()
                    .arn(ARN)
                    .name(NAME)
                    .set_tags(tags())
                    .secret_versions_to_stages("v1", vec!["AWSCURRENT".to_string()])
                    .build(),
            )
            .build()
    });
    let fresh = mock!(aws_sdk_secretsmanager::Client::describe_secret).then_output(move || {
        DescribeSecretOutput::builder()
            .arn(ARN)
            .name(NAME)
            .set_tags(tags_with(reported.as_deref().map(|r| (STUCK_TAG, r))))
            .rotation_enabled(true)
            .rotation_rules(
                RotationRulesType::builder()
                    .schedule_expression("rate(30 days)")
                    .duration("3h")
                    .build(),
            )
            .version_ids_to_stages("v1", vec!["AWSCURRENT".to_string()])
            .version_ids_to_stages("v2", vec!["AWSPENDING".to_string()])
            .build()
    });
    let created = DateTime::from(SystemTime::now() - pending_age);
    let versions =
        mock!(aws_sdk_secretsmanager::Client::list_secret_version_ids).then_output(move || {
            ListSecretVersionIdsOutput::builder()
                .versions(
                    SecretVersionsListEntry::builder()
                        .version_id("v1")
                        .version_stages("AWSCURRENT")
                        .created_date(DateTime::from_secs(1_700_000_000))
                        .build(),
                )
                .versions(
                    SecretVersionsListEntry::builder()
                        .version_id("v2")
                        .version_stages("AWSPENDING")
                        .created_date(created)
                        .build(),
                )
                .build()
        });
    let written: Arc<Mutex<usize>> = Arc::default();
    let w = written.clone();
    let put = mock!(aws_sdk_secretsmanager::Client::put_secret_value)
        .match_requests(move |_| {
            *w.lock().unwrap() += 1;
            true
        })
        .then_output(|| PutSecretValueOutput::builder().build());
    let reports: Arc<Mutex<usize>> = Arc::default();
    let r = reports.clone();
    let tag = mock!(aws_sdk_secretsmanager::Client::tag_resource)
        .match_requests(move |req| {
            if req.tags().iter().any(|t| t.key() == Some(STUCK_TAG)) {
                *r.lock().unwrap() += 1;
            }
            true
        })
        .then_output(|| TagResourceOutput::builder().build());
    let clients = mocks::clients(&mocks::Rules {
        rds: vec![&describe],
        secrets: vec![&list, &fresh, &versions, &put, &tag],
        ..Default::default()
    });
    let event = events::cloudtrail(
        "aws.rds",
        "rds.amazonaws.com",
        "ModifyDBInstance",
        json!({"dBInstanceIdentifier": "orders", "dBPortNumber": 6543}),
    );
    let e = handler_with(clients, &[])
        .handle(&event, &here())
        .await
        .unwrap_err();
    let count = *written.lock().unwrap();
    let reported = *reports.lock().unwrap();
    (format!("{}: {e}", e.error_type()), count, reported)
}

#[tokio::test]
async fn a_rotation_listsecrets_misses_is_seen_by_describesecret() {
    let (e, writes) = play(Duration::from_secs(10 * 60)).await;
    assert!(e.starts_with("RotationInProgress"), "{e}");
    assert_eq!(writes, 0);
}

#[tokio::test]
async fn a_pending_version_two_days_old_is_a_stuck_rotation_with_its_remedy() {
    let (e, writes) = play(Duration::from_secs(2 * 86_400)).await;
    assert!(e.starts_with("RotationStuck"), "{e}");
    assert!(
        e.contains("update-secret-version-stage") && e.contains("--remove-from-version-id v2"),
        "{e}"
    );
    assert_eq!(writes, 0);
}

#[tokio::test]
async fn a_stuck_rotation_is_reported_once_per_secret_and_day() {
    let two_days = Duration::from_secs(2 * 86_400);
    let (e, _, reports) = play_reported(two_days, None).await;
    assert!(e.starts_with("RotationStuck"), "{e}");
    assert_eq!(
        reports, 1,
        "first seen today: reported, and the day recorded"
    );
    let today = db_secret_provisioner::model::timestamp::rfc3339(SystemTime::now());
    let mark = format!("{} v2", &today[..10]);
    let (e, _, reports) = play_reported(two_days, Some(mark)).await;
    assert!(e.starts_with("RotationStuck"), "still the answer: {e}");
    assert_eq!(reports, 0, "already reported today");
    let (_, _, reports) = play_reported(two_days, Some("2026-01-01 v2".into())).await;
    assert_eq!(reports, 1, "reported on an earlier day: reported again");
    let (_, _, reports) = play_reported(two_days, Some(format!("{} v1", &today[..10]))).await;
    assert_eq!(reports, 1, "another version is another rotation");
}

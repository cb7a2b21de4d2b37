//! The rule for writing a password into a secret that already exists (docs/triggers.md,
//! "Recreations and restores"), played with the responses AWS documents, through
//! `aws-smithy-mocks`: moto's DescribeEvents records no restoration events, its secrets have
//! second-granular dates and no `LastChangedDate` worth trusting, and its DescribeSecret never
//! reports another account's KMS key. Each case is an instance `rot` whose creation event
//! (RDS-EVENT-0005, or 0043 for a restore) meets the function's secret for it.

use std::sync::{Arc, Mutex};

use aws_sdk_kms::operation::describe_key::DescribeKeyOutput;
use aws_sdk_kms::operation::generate_mac::GenerateMacOutput;
use aws_sdk_kms::operation::verify_mac::VerifyMacOutput;
use aws_sdk_kms::types::KeyMetadata;
use aws_sdk_rds::operation::describe_db_instances::DescribeDbInstancesOutput;
use aws_sdk_rds::operation::describe_db_snapshots::DescribeDbSnapshotsOutput;
use aws_sdk_rds::operation::describe_events::DescribeEventsOutput;
use aws_sdk_rds::types::{DbInstance, DbSnapshot, Endpoint, Event, SourceType};
use aws_sdk_secretsmanager::operation::create_secret::CreateSecretError;
use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput;
use aws_sdk_secretsmanager::operation::get_resource_policy::GetResourcePolicyOutput;
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueOutput;
use aws_sdk_secretsmanager::operation::list_secrets::ListSecretsOutput;
use aws_sdk_secretsmanager::operation::put_secret_value::PutSecretValueOutput;
use aws_sdk_secretsmanager::operation::restore_secret::RestoreSecretOutput;
use aws_sdk_secretsmanager::operation::tag_resource::TagResourceOutput;
use aws_sdk_secretsmanager::operation::untag_resource::UntagResourceOutput;
use aws_sdk_secretsmanager::types::error::{InvalidRequestException, ResourceExistsException};
use aws_sdk_secretsmanager::types::Tag;
use aws_sdk_ssm::operation::get_parameter::GetParameterOutput;
use aws_sdk_ssm::types::{Parameter, ParameterType};
use aws_smithy_mocks::mock;
use aws_smithy_types::DateTime;
use serde_json::{json, Value};

use crate::support::events;
use crate::support::mocks;
use crate::support::{handler_with, here};

const ARN: &str =
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-secrets/rds/rot/admin-AbCdEf";
const NAME: &str = "db-secrets/rds/rot/admin";
const OUR_KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/11111111-1111-1111-1111-111111111111";
const THEIR_KEY: &str =
    "arn:aws:kms:us-east-1:123456789012:key/99999999-9999-9999-9999-999999999999";

/// Seconds on a shared clock: the database was retired at 1000, etc.
fn at(s: i64) -> DateTime {
    DateTime::from_secs(1_790_000_000 + s)
}

fn rfc3339(s: i64) -> String {
    db_secret_provisioner::model::timestamp::rfc3339(
        std::time::SystemTime::try_from(at(s)).unwrap(),
    )
}

/// One case: what AWS answers.
#[derive(Clone)]
struct Case {
    /// The deleted tag (the retirement), and whether the deletion is scheduled.
    retired: Option<i64>,
    scheduled: bool,
    /// The database-id tag on the secret (the new database's is `db-NEW`).
    database_id: Option<&'static str>,
    seal: Seal,
    kms_key_id: Option<&'static str>,
    kms_config: Option<&'static str>,
    policy: Option<&'static str>,
    /// LastChangedDate of the secret.
    changed: i64,
    /// The current value's password and its version's CreatedDate.
    current: (&'static str, i64),
    /// The parameter's password and LastModifiedDate; `None`: no parameter.
    parameter: Option<(&'static str, i64)>,
    /// DescribeEvents' "restoration" messages for `rot`.
    restorations: Vec<&'static str>,
    /// The restore hint tag.
    hint: Option<String>,
    /// SnapshotCreateTime of the snapshot `rot-final`.
    snapshot: Option<i64>,
    vars: Vec<(&'static str, &'static str)>,
    /// DescribeSecret shows a rotation in progress (AWSPENDING, created just now).
    rotating: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Seal {
    Valid,
    Invalid,
    Absent,
}

impl Default for Case {
    /// Retired at 1000 (not scheduled), sealed, the parameter written at 2000 for a new
    /// database: a write.
    fn default() -> Self {
        Case {
            retired: Some(1000),
            scheduled: false,
            database_id: Some("db-OLD"),
            seal: Seal::Valid,
            kms_key_id: None,
            kms_config: None,
            policy: None,
            changed: 1000,
            current: ("rotated-pw", 500),
            parameter: Some(("new-initial-pw", 2000)),
            restorations: Vec::new(),
            hint: None,
            snapshot: None,
            vars: Vec::new(),
            rotating: false,
        }
    }
}

/// What the function did.
#[derive(Debug)]
struct Played {
    result: Result<Value, String>,
    written: Option<Value>,
    restored: usize,
    tagged: Vec<String>,
    untagged: Vec<String>,
    describe_events: usize,
}

type Log = Arc<Mutex<Vec<String>>>;

async fn play(case: &Case, event: &Value) -> Played {
    let c = case.clone();
    let describe = mock!(aws_sdk_rds::Client::describe_db_instances).then_output(|| {
        DescribeDbInstancesOutput::builder()
            .db_instances(
                DbInstance::builder()
                    .db_instance_identifier("rot")
                    .engine("postgres")
                    .db_instance_status("available")
                    .master_username("admin")
                    .dbi_resource_id("db-NEW")
                    .instance_create_time(at(1500))
                    .endpoint(
                        Endpoint::builder()
                            .address("rot.x.rds.amazonaws.com")
                            .port(5432)
                            .build(),
                    )
                    .build(),
            )
            .build()
    });
    let messages = c.restorations.clone();
    // No Blue/Green deployment in the account: the name's other id is no switchover.
    let deployments = mock!(aws_sdk_rds::Client::describe_blue_green_deployments).then_output(|| {
        aws_sdk_rds::operation::describe_blue_green_deployments::DescribeBlueGreenDeploymentsOutput::builder().build()
    });
    let events = mock!(aws_sdk_rds::Client::describe_events)
        .match_requests(|r| {
            r.source_identifier() == Some("rot")
                && r.source_type() == Some(&SourceType::DbInstance)
                && r.event_categories() == ["restoration"]
                && r.start_time().is_some()
        })
        .then_output(move || {
            DescribeEventsOutput::builder()
                .set_events(Some(
                    messages
                        .iter()
                        .map(|m| {
                            Event::builder()
                                .source_identifier("rot")
                                .source_type(SourceType::DbInstance)
                                .event_categories("restoration")
                                .message(*m)
                                .date(at(1800))
                                .build()
                        })
                        .collect(),
                ))
                .build()
        });
    let snapshot_time = c.snapshot;
    let snapshots = mock!(aws_sdk_rds::Client::describe_db_snapshots)
        .match_requests(|r| r.db_snapshot_identifier() == Some("rot-final"))
        .then_output(move || {
            DescribeDbSnapshotsOutput::builder()
                .set_db_snapshots(snapshot_time.map(|t| {
                    vec![DbSnapshot::builder()
                        .db_snapshot_identifier("rot-final")
                        .snapshot_create_time(at(t))
                        .build()]
                }))
                .build()
        });
    let parameter = c.parameter;
    let ssm = mock!(aws_sdk_ssm::Client::get_parameter).then_output(move || match parameter {
        Some((value, modified)) => GetParameterOutput::builder()
            .parameter(
                Parameter::builder()
                    .name("p")
                    .r#type(ParameterType::SecureString)
                    .value(value)
                    .last_modified_date(at(modified))
                    .build(),
            )
            .build(),
        None => GetParameterOutput::builder().build(),
    });
    let ssm_missing = mock!(aws_sdk_ssm::Client::get_parameter)
        .match_requests(move |_| parameter.is_none())
        .then_error(|| {
            aws_sdk_ssm::operation::get_parameter::GetParameterError::ParameterNotFound(
                aws_sdk_ssm::types::error::ParameterNotFound::builder().build(),
            )
        });
    let scheduled = c.scheduled;
    let create = mock!(aws_sdk_secretsmanager::Client::create_secret).then_error(move || {
        if scheduled {
            CreateSecretError::InvalidRequestException(
                InvalidRequestException::builder()
                    .message("You can't create this secret because a secret with this name is already scheduled for deletion.")
                    .build(),
            )
        } else {
            CreateSecretError::ResourceExistsException(
                ResourceExistsException::builder().message("exists").build(),
            )
        }
    });
    let mut tags = vec![
        (
            "managed-by".to_string(),
            "db-secret-provisioner".to_string(),
        ),
        (
            "db-secret-provisioner:database".into(),
            "rds/instance/rot".into(),
        ),
        ("db-secret-provisioner:username".into(), "admin".into()),
    ];
    if let Some(r) = c.retired {
        tags.push(("db-secret-provisioner:database-deleted".into(), rfc3339(r)));
    }
    if let Some(id) = c.database_id {
        tags.push(("db-secret-provisioner:database-id".into(), id.into()));
    }
    if c.seal != Seal::Absent {
        tags.push((
            "db-secret-provisioner:seal".into(),
            "v1 2026-10-01T00:00:00Z c2VhbA==".into(),
        ));
    }
    if let Some(h) = &c.hint {
        tags.push(("db-secret-provisioner:restore-hint".into(), h.clone()));
    }
    let (kms_key_id, changed, rotating) = (c.kms_key_id, c.changed, c.rotating);
    let describe_secret =
        mock!(aws_sdk_secretsmanager::Client::describe_secret).then_output(move || {
            DescribeSecretOutput::builder()
                .arn(ARN)
                .name(NAME)
                .set_kms_key_id(kms_key_id.map(str::to_string))
                .last_changed_date(at(changed))
                .created_date(at(100))
                .set_deleted_date(scheduled.then(|| at(1000)))
                .set_version_ids_to_stages(
                    rotating.then(|| {
                        [("v-pending".to_string(), vec!["AWSPENDING".to_string()])].into()
                    }),
                )
                .set_tags(Some(
                    tags.iter()
                        .map(|(k, v)| Tag::builder().key(k).value(v).build())
                        .collect(),
                ))
                .build()
        });
    let policy = c.policy;
    let get_policy =
        mock!(aws_sdk_secretsmanager::Client::get_resource_policy).then_output(move || {
            GetResourcePolicyOutput::builder()
                .arn(ARN)
                .set_resource_policy(policy.map(str::to_string))
                .build()
        });
    let restore = mock!(aws_sdk_secretsmanager::Client::restore_secret)
        .then_output(|| RestoreSecretOutput::builder().build());
    let (current_pw, current_at) = c.current;
    let get_value =
        mock!(aws_sdk_secretsmanager::Client::get_secret_value).then_output(move || {
            GetSecretValueOutput::builder()
                .arn(ARN)
                .version_id("v-current")
                .created_date(at(current_at))
                .secret_string(
                    json!({"engine": "postgres", "host": "rot.x.rds.amazonaws.com", "port": 5432,
                       "username": "admin", "password": current_pw, "dbInstanceIdentifier": "rot",
                       "added-by-a-person": "kept"})
                    .to_string(),
                )
                .build()
        });
    let written: Arc<Mutex<Option<String>>> = Arc::default();
    let w = written.clone();
    let put = mock!(aws_sdk_secretsmanager::Client::put_secret_value)
        .match_requests(move |r| {
            *w.lock().unwrap() = r.secret_string().map(str::to_string);
            true
        })
        .then_output(|| PutSecretValueOutput::builder().build());
    let tagged: Log = Arc::default();
    let t = tagged.clone();
    let tag = mock!(aws_sdk_secretsmanager::Client::tag_resource)
        .match_requests(move |r| {
            t.lock().unwrap().extend(
                r.tags()
                    .iter()
                    .map(|t| t.key().unwrap_or_default().to_string()),
            );
            true
        })
        .then_output(|| TagResourceOutput::builder().build());
    let untagged: Log = Arc::default();
    let u = untagged.clone();
    let untag = mock!(aws_sdk_secretsmanager::Client::untag_resource)
        .match_requests(move |r| {
            u.lock().unwrap().extend(r.tag_keys().iter().cloned());
            true
        })
        .then_output(|| UntagResourceOutput::builder().build());
    let versions = mock!(aws_sdk_secretsmanager::Client::list_secret_version_ids).then_output(|| {
        aws_sdk_secretsmanager::operation::list_secret_version_ids::ListSecretVersionIdsOutput::builder()
            .versions(
                aws_sdk_secretsmanager::types::SecretVersionsListEntry::builder()
                    .version_id("v-pending")
                    .version_stages("AWSPENDING")
                    .created_date(DateTime::from(std::time::SystemTime::now()))
                    .build(),
            )
            .build()
    });
    let put_policy = mock!(aws_sdk_secretsmanager::Client::put_resource_policy).then_output(|| {
        aws_sdk_secretsmanager::operation::put_resource_policy::PutResourcePolicyOutput::builder()
            .build()
    });
    let list = mock!(aws_sdk_secretsmanager::Client::list_secrets)
        .then_output(|| ListSecretsOutput::builder().build());
    let valid = c.seal == Seal::Valid;
    let verify = mock!(aws_sdk_kms::Client::verify_mac)
        .then_output(move || VerifyMacOutput::builder().mac_valid(valid).build());
    let generate = mock!(aws_sdk_kms::Client::generate_mac).then_output(|| {
        GenerateMacOutput::builder()
            .mac(aws_sdk_kms::primitives::Blob::new(vec![7; 32]))
            .build()
    });
    let describe_key = mock!(aws_sdk_kms::Client::describe_key).then_compute_output(|r| {
        let arn = match r.key_id() {
            Some("alias/db-secrets") | Some(OUR_KEY) => OUR_KEY,
            _ => THEIR_KEY,
        };
        DescribeKeyOutput::builder()
            .key_metadata(KeyMetadata::builder().key_id(arn).arn(arn).build().unwrap())
            .build()
    });
    let rules = [
        &describe_secret,
        &get_policy,
        &restore,
        &get_value,
        &put,
        &tag,
        &untag,
        &list,
        &create,
        &put_policy,
        &versions,
    ];
    let clients = mocks::clients(&mocks::Rules {
        rds: vec![&describe, &events, &snapshots, &deployments],
        ssm: vec![&ssm_missing, &ssm],
        secrets: rules.to_vec(),
        kms: vec![&verify, &generate, &describe_key],
        ..Default::default()
    });
    let mut vars = vec![("SEAL_KEY_ID", "alias/db-secret-provisioner-seal")];
    if let Some(k) = c.kms_config {
        vars.push(("KMS_KEY_ID", k));
    }
    vars.extend(c.vars.iter().cloned());
    let result = handler_with(clients, &vars)
        .handle(event, &here())
        .await
        .map(|o| serde_json::to_value(o).unwrap())
        .map_err(|e| e.error_type().to_string());
    let written = written
        .lock()
        .unwrap()
        .as_deref()
        .map(|s| serde_json::from_str(s).unwrap());
    let tagged = tagged.lock().unwrap().clone();
    let untagged = untagged.lock().unwrap().clone();
    Played {
        result,
        written,
        restored: restore.num_calls(),
        tagged,
        untagged,
        describe_events: events.num_calls(),
    }
}

fn created() -> Value {
    events::instance_created("rot")
}

fn restored() -> Value {
    events::rds("instance", "rot", "RDS-EVENT-0043")
}

fn outcome(p: &Played) -> &Value {
    p.result.as_ref().unwrap_or_else(|e| panic!("{e}: {p:?}"))
}

/// Nothing was written, and the secret is tagged stale.
fn assert_flagged(p: &Played) {
    let o = outcome(p);
    assert_eq!(o["outcome"], "flagged", "{o}");
    assert!(p.written.is_none(), "{p:?}");
    assert!(
        p.tagged
            .contains(&"db-secret-provisioner:password-stale".to_string()),
        "{p:?}"
    );
    assert!(
        o["reason"]
            .as_str()
            .unwrap()
            .contains("\"action\": \"resolve\""),
        "{o}"
    );
    assert!(
        !o.to_string().contains("pw\""),
        "no password in the answer: {o}"
    );
}

#[tokio::test]
async fn a_fresh_parameter_after_the_retirement_is_written_keeping_every_key() {
    let p = play(
        &Case {
            scheduled: true,
            ..Case::default()
        },
        &created(),
    )
    .await;
    let o = outcome(&p);
    assert_eq!(o["outcome"], "created", "{o}");
    assert_eq!(p.restored, 1);
    let v = p.written.as_ref().unwrap();
    assert_eq!(v["password"], "new-initial-pw");
    assert_eq!(
        v["added-by-a-person"], "kept",
        "no key the previous version had is dropped"
    );
    assert!(
        p.untagged
            .contains(&"db-secret-provisioner:database-deleted".to_string()),
        "{p:?}"
    );
    for k in [
        "db-secret-provisioner:database-id",
        "db-secret-provisioner:seal",
        "db-secret-provisioner:endpoint",
    ] {
        assert!(p.tagged.contains(&k.to_string()), "{k}: {p:?}");
    }
}

#[tokio::test]
async fn deleted_and_recreated_unseen_the_creation_event_writes_the_new_password() {
    // The deletion was never seen: the secret is live, with the earlier database's id.
    let p = play(
        &Case {
            retired: None,
            changed: 800,
            ..Case::default()
        },
        &created(),
    )
    .await;
    let o = outcome(&p);
    assert_eq!(o["outcome"], "created", "never unchanged: {o}");
    assert_eq!(p.written.as_ref().unwrap()["password"], "new-initial-pw");
    // The same database (its own id): a replay changes nothing.
    let same = play(
        &Case {
            retired: None,
            database_id: Some("db-NEW"),
            ..Case::default()
        },
        &created(),
    )
    .await;
    assert_eq!(outcome(&same)["outcome"], "unchanged");
    assert!(same.written.is_none());
}

#[tokio::test]
async fn a_parameter_older_than_the_secret_is_never_written() {
    // Restored from the final snapshot with no hint and no event seen: the parameter is the
    // months-old initial password, the secret holds the rotated one.
    for parameter in [
        Some(("old-initial-pw", 50)),
        Some(("old-initial-pw", 900)),
        None,
    ] {
        let p = play(
            &Case {
                scheduled: true,
                parameter,
                ..Case::default()
            },
            &created(),
        )
        .await;
        assert_flagged(&p);
    }
}

#[tokio::test]
async fn an_equal_password_is_kept_and_the_secret_is_live_again() {
    let p = play(
        &Case {
            parameter: Some(("rotated-pw", 50)),
            scheduled: true,
            ..Case::default()
        },
        &created(),
    )
    .await;
    let o = outcome(&p);
    assert_eq!(o["outcome"], "updated", "{o}");
    assert!(p.written.is_none());
    assert_eq!(p.restored, 1);
    assert!(p
        .untagged
        .contains(&"db-secret-provisioner:database-deleted".to_string()));
}

#[tokio::test]
async fn a_restore_from_the_final_snapshot_keeps_the_rotated_password() {
    // RDS-EVENT-0043, and DescribeEvents' record of it ("Restored from snapshot rot-final"):
    // the snapshot was taken at 990, after the rotation at 500.
    for vars in [
        vec![],
        vec![
            ("ON_DATABASE_DELETED", "schedule-deletion"),
            ("DELETE_PASSWORD_PARAMETER", "true"),
        ],
    ] {
        let case = Case {
            scheduled: !vars.is_empty(),
            parameter: if vars.is_empty() {
                Some(("old-initial-pw", 50))
            } else {
                None
            },
            restorations: vec!["Restored from snapshot rot-final"],
            snapshot: Some(990),
            vars: vars.clone(),
            ..Case::default()
        };
        let p = play(&case, &restored()).await;
        let o = outcome(&p);
        assert_eq!(o["outcome"], "updated", "{vars:?}: {o}");
        assert!(o["reason"].as_str().unwrap().contains("kept"), "{o}");
        assert!(p.written.is_none(), "{p:?}");
        assert_eq!(p.describe_events, 1);
        assert_eq!(
            p.restored,
            usize::from(case.scheduled),
            "the admin secret is live"
        );
        assert!(p
            .untagged
            .contains(&"db-secret-provisioner:database-deleted".to_string()));
    }
}

#[tokio::test]
async fn a_restore_hint_keeps_the_value_without_any_event() {
    let now = std::time::SystemTime::now();
    let hint = db_secret_provisioner::model::restore_hint::RestoreHint {
        seen: now,
        point: db_secret_provisioner::model::restore_hint::RestorePoint::Snapshot(
            "rot-final".into(),
        ),
    }
    .tag_value();
    let p = play(
        &Case {
            hint: Some(hint.clone()),
            snapshot: Some(990),
            parameter: Some(("old", 50)),
            ..Case::default()
        },
        &created(),
    )
    .await;
    assert_eq!(outcome(&p)["outcome"], "updated", "{p:?}");
    assert!(p.written.is_none());
    assert_eq!(p.describe_events, 0, "the hint is evidence enough");
    assert!(p
        .untagged
        .contains(&"db-secret-provisioner:restore-hint".to_string()));
    // A hint older than 24 hours is ignored: the old parameter is then flagged.
    let old = db_secret_provisioner::model::restore_hint::RestoreHint {
        seen: now - std::time::Duration::from_secs(25 * 3600),
        point: db_secret_provisioner::model::restore_hint::RestorePoint::Snapshot(
            "rot-final".into(),
        ),
    }
    .tag_value();
    let p = play(
        &Case {
            hint: Some(old),
            snapshot: Some(990),
            parameter: Some(("old", 50)),
            ..Case::default()
        },
        &created(),
    )
    .await;
    assert_flagged(&p);
    // A hint never writes, however fresh the parameter.
    let p = play(
        &Case {
            hint: Some(hint),
            snapshot: Some(100),
            ..Case::default()
        },
        &created(),
    )
    .await;
    assert_flagged(&p);
}

#[tokio::test]
async fn restoring_a_snapshot_older_than_the_rotation_is_flagged() {
    let p = play(
        &Case {
            restorations: vec!["Restored from snapshot rot-final"],
            snapshot: Some(400),
            ..Case::default()
        },
        &restored(),
    )
    .await;
    assert_flagged(&p);
    // A point-in-time restore (RDS-EVENT-0019) names no snapshot: no restore point, flagged.
    let p = play(
        &Case {
            restorations: vec!["Restored from DB instance rot to rot"],
            ..Case::default()
        },
        &restored(),
    )
    .await;
    assert_flagged(&p);
}

#[tokio::test]
async fn a_squat_with_a_foreign_key_or_policy_is_refused_before_restore() {
    // The attacker's secret carries a seal that verifies (the worst case), but their key or
    // their resource policy: SecretConflict, and nothing restored or written.
    for case in [
        Case {
            kms_key_id: Some(THEIR_KEY),
            scheduled: true,
            ..Case::default()
        },
        Case {
            kms_key_id: Some(THEIR_KEY),
            kms_config: Some("alias/db-secrets"),
            scheduled: true,
            ..Case::default()
        },
        Case {
            kms_key_id: None,
            kms_config: Some("alias/db-secrets"),
            ..Case::default()
        },
        Case {
            policy: Some(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}"#,
            ),
            scheduled: true,
            ..Case::default()
        },
    ] {
        let p = play(&case, &created()).await;
        assert_eq!(p.result.as_ref().unwrap_err(), "SecretConflict", "{p:?}");
        assert_eq!((p.restored, p.written.is_none()), (0, true), "{p:?}");
        assert!(p.tagged.is_empty() && p.untagged.is_empty(), "{p:?}");
    }
    // The same key by another name, and the configured policy: a write.
    let same = Case {
        kms_key_id: Some(OUR_KEY),
        kms_config: Some("alias/db-secrets"),
        ..Case::default()
    };
    assert_eq!(
        outcome(&play(&same, &created()).await)["outcome"],
        "created"
    );
    let policy = r#"{"Version":"2012-10-17","Statement":[]}"#;
    let ours = Case {
        policy: Some(r#"{"Statement": [], "Version": "2012-10-17"}"#),
        vars: vec![("RESOURCE_POLICY", policy)],
        ..Case::default()
    };
    assert_eq!(
        outcome(&play(&ours, &created()).await)["outcome"],
        "created"
    );
}

#[tokio::test]
async fn a_forged_or_missing_seal_never_receives_a_password() {
    let p = play(
        &Case {
            seal: Seal::Invalid,
            scheduled: true,
            ..Case::default()
        },
        &created(),
    )
    .await;
    assert_eq!(p.result.as_ref().unwrap_err(), "SecretConflict", "{p:?}");
    assert_eq!((p.restored, p.written.is_none()), (0, true));
    let p = play(
        &Case {
            seal: Seal::Absent,
            scheduled: true,
            ..Case::default()
        },
        &created(),
    )
    .await;
    let o = outcome(&p);
    assert_eq!(o["outcome"], "flagged", "{o}");
    assert_eq!((p.restored, p.written.is_none()), (0, true));
}

#[tokio::test]
async fn a_recreation_never_writes_while_the_secret_is_being_rotated() {
    // The guard reads the DescribeSecret this invocation made: AWSPENDING, just created.
    let p = play(
        &Case {
            rotating: true,
            ..Case::default()
        },
        &created(),
    )
    .await;
    assert_eq!(
        p.result.as_ref().unwrap_err(),
        "RotationInProgress",
        "{p:?}"
    );
    assert!(p.written.is_none(), "{p:?}");
}

//! Paths moto cannot produce, covered with aws-smithy-mocks: engines moto rejects (`db2-*`,
//! `sqlserver-dev-ee`, `-cdb` and `custom-*` Oracle/SQL Server), a database still `creating`
//! without an endpoint, and the exact AWS calls one event makes.

use aws_smithy_mocks::mock;
use db_secret_provisioner::lambda::handler::Handler;
use serde_json::{json, Value};

use crate::support::fixtures::{self, Service};
use crate::support::mocks::{self, capture_create, describe_output, handler, instance, secure};
use crate::support::{handler_with, here};

fn event(id: &str) -> Value {
    crate::support::events::instance_created(id)
}

#[tokio::test]
async fn engines_moto_rejects_are_shaped_from_the_table() {
    for (engine, secret_engine, port) in [
        ("db2-se", "db2", 50000),
        ("db2-ae", "db2", 50000),
        ("sqlserver-dev-ee", "sqlserver", 1433),
        ("custom-sqlserver-ee", "sqlserver", 1433),
        ("oracle-ee-cdb", "oracle", 1521),
        ("custom-oracle-se2-cdb", "oracle", 1521),
    ] {
        let db = instance(
            "legacy",
            engine,
            Some(("legacy.example.internal", port)),
            "available",
        );
        let describe = mocks::describe(db);
        let ssm = secure("mocked-pw");
        let (create, stored) = capture_create();
        let clients = mocks::rds_clients(&describe, &ssm, &create);
        let outcome = handler(clients)
            .handle(&event("legacy"), &here())
            .await
            .unwrap();
        assert_eq!(
            serde_json::to_value(&outcome).unwrap()["outcome"],
            "created",
            "{engine}"
        );
        let (name, value) = stored.lock().unwrap().clone().unwrap();
        assert_eq!(name, fixtures::secret_name(Service::Rds, "legacy", "admin"));
        let secret: Value = serde_json::from_str(&value).unwrap();
        assert_eq!(
            secret,
            json!({"engine": secret_engine, "host": "legacy.example.internal", "username": "admin",
                   "password": "mocked-pw", "port": port, "dbname": "ORCL", "dbInstanceIdentifier": "legacy"}),
            "{engine}"
        );
        // One Describe, one GetParameter, one CreateSecret: nothing else.
        assert_eq!(
            (describe.num_calls(), ssm.num_calls(), create.num_calls()),
            (1, 1, 1)
        );
    }
}

#[tokio::test]
async fn a_database_still_creating_is_not_ready_and_nothing_is_stored() {
    let describe = mocks::describe(instance("fresh", "postgres", None, "creating"));
    let ssm = secure("pw");
    let (create, _) = capture_create();
    let clients = mocks::rds_clients(&describe, &ssm, &create);
    let err = handler(clients)
        .handle(&event("fresh"), &here())
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "DatabaseNotReady");
    assert!(err.to_string().contains("fresh") && err.to_string().contains("creating"));
    assert_eq!(create.num_calls(), 0);
}

// --- Redshift Serverless (moto has none) -------------------------------------------------------

use aws_sdk_redshiftserverless::operation::get_namespace::GetNamespaceOutput;
use aws_sdk_redshiftserverless::operation::get_workgroup::GetWorkgroupOutput;
use aws_sdk_redshiftserverless::operation::list_workgroups::ListWorkgroupsOutput;
use aws_sdk_redshiftserverless::types::{Namespace, Workgroup, WorkgroupStatus};

const WG_ARN: &str = "arn:aws:redshift-serverless:us-east-1:123456789012:workgroup/0f8c2b1e-6a3d-4c5e-9b7a-2d4f6e8a0c1b";

fn workgroup(status: WorkgroupStatus) -> Workgroup {
    Workgroup::builder()
        .workgroup_name("bi-workgroup")
        .workgroup_arn(WG_ARN)
        .namespace_name("bi-namespace")
        .status(status)
        .endpoint(
            aws_sdk_redshiftserverless::types::Endpoint::builder()
                .address("bi-workgroup.123456789012.us-east-1.redshift-serverless.amazonaws.com")
                .port(5439)
                .build(),
        )
        .build()
}

fn namespace(managed: bool) -> Namespace {
    Namespace::builder()
        .namespace_name("bi-namespace")
        .admin_username("admin")
        .db_name("analytics")
        .set_admin_password_secret_arn(managed.then(|| "arn:aws:secretsmanager:us-east-1:123456789012:secret:redshift!bi-namespace-admin-AbCdEf".to_string()))
        .build()
}

fn serverless_event(detail: Value, resources: Value) -> Value {
    crate::support::events::serverless(detail, resources)
}

#[tokio::test]
async fn serverless_workgroup_gets_a_redshift_secret_with_the_namespace() {
    let by_name = serverless_event(
        json!({"eventId": "REDSHIFT-SERVERLESS-EVENT-1008", "workgroupName": "bi-workgroup"}),
        json!([]),
    );
    let by_arn_only = serverless_event(
        json!({"eventId": "REDSHIFT-SERVERLESS-EVENT-1008"}),
        json!([WG_ARN]),
    );
    let cloudtrail =
        crate::support::events::sample("cloudtrail-redshift-serverless-create-workgroup.json");
    for event in [by_name, by_arn_only, cloudtrail] {
        let get_wg = mock!(aws_sdk_redshiftserverless::Client::get_workgroup)
            .match_requests(|r| r.workgroup_name() == Some("bi-workgroup"))
            .then_output(|| {
                GetWorkgroupOutput::builder()
                    .workgroup(workgroup(WorkgroupStatus::Available))
                    .build()
            });
        let get_ns = mock!(aws_sdk_redshiftserverless::Client::get_namespace)
            .match_requests(|r| r.namespace_name() == Some("bi-namespace"))
            .then_output(|| {
                GetNamespaceOutput::builder()
                    .namespace(namespace(false))
                    .build()
            });
        let list = mock!(aws_sdk_redshiftserverless::Client::list_workgroups).then_output(|| {
            ListWorkgroupsOutput::builder()
                .workgroups(
                    Workgroup::builder()
                        .workgroup_name("other")
                        .workgroup_arn(
                            "arn:aws:redshift-serverless:us-east-1:123456789012:workgroup/other",
                        )
                        .build(),
                )
                .workgroups(workgroup(WorkgroupStatus::Available))
                .build()
                .unwrap()
        });
        let ssm = secure("serverless-pw");
        let (create, stored) = capture_create();
        let clients = mocks::clients(&mocks::Rules {
            serverless: vec![&get_wg, &get_ns, &list],
            ssm: vec![&ssm],
            secrets: vec![&create],
            ..Default::default()
        });
        let outcome =
            serde_json::to_value(handler(clients).handle(&event, &here()).await.unwrap()).unwrap();
        assert_eq!(outcome["outcome"], "created", "{event}: {outcome}");
        assert_eq!(
            outcome["database"],
            json!({"service": "redshift-serverless", "identifier": "bi-workgroup", "engine": "redshift",
                   "account": "123456789012", "region": "us-east-1"})
        );
        let (name, value) = stored.lock().unwrap().clone().unwrap();
        assert_eq!(
            name,
            fixtures::secret_name(Service::RedshiftServerless, "bi-workgroup", "admin")
        );
        assert_eq!(
            serde_json::from_str::<Value>(&value).unwrap(),
            json!({"engine": "redshift", "host": "bi-workgroup.123456789012.us-east-1.redshift-serverless.amazonaws.com",
                   "username": "admin", "password": "serverless-pw", "port": 5439, "dbname": "analytics",
                   "namespaceName": "bi-namespace"})
        );
        assert_eq!((get_wg.num_calls(), get_ns.num_calls()), (1, 1));
    }
}

#[tokio::test]
async fn serverless_managed_admin_password_is_skipped_and_creating_is_not_ready() {
    for (status, managed, expect) in [
        (WorkgroupStatus::Available, true, "skipped"),
        (WorkgroupStatus::Creating, false, "DatabaseNotReady"),
    ] {
        let mut wg = workgroup(status.clone());
        if status == WorkgroupStatus::Creating {
            wg = Workgroup::builder()
                .workgroup_name("bi-workgroup")
                .namespace_name("bi-namespace")
                .status(status)
                .build();
        }
        let get_wg = mock!(aws_sdk_redshiftserverless::Client::get_workgroup)
            .then_output(move || GetWorkgroupOutput::builder().workgroup(wg.clone()).build());
        let get_ns =
            mock!(aws_sdk_redshiftserverless::Client::get_namespace).then_output(move || {
                GetNamespaceOutput::builder()
                    .namespace(namespace(managed))
                    .build()
            });
        let ssm = secure("pw");
        let (create, _) = capture_create();
        let clients = mocks::clients(&mocks::Rules {
            serverless: vec![&get_wg, &get_ns],
            ssm: vec![&ssm],
            secrets: vec![&create],
            ..Default::default()
        });
        let event = serverless_event(
            json!({"eventId": "REDSHIFT-SERVERLESS-EVENT-1008", "workgroupName": "bi-workgroup"}),
            json!([]),
        );
        match handler(clients).handle(&event, &here()).await {
            Ok(o) => {
                let o = serde_json::to_value(o).unwrap();
                assert_eq!(o["outcome"], expect);
                assert!(o["reason"]
                    .as_str()
                    .unwrap()
                    .contains("redshift!bi-namespace-admin"));
            }
            Err(e) => assert_eq!(e.error_type(), expect),
        }
        assert_eq!(create.num_calls(), 0);
    }
}

// --- waiting for a database that is still being created ----------------------------------------

fn cloudtrail_create_instance(id: &str) -> Value {
    crate::support::events::create_db_instance_call(id)
}

fn handler_waiting(clients: db_secret_provisioner::aws::Clients, seconds: &'static str) -> Handler {
    handler_with(clients, &[("WAIT_FOR_AVAILABLE_SECONDS", seconds)])
}

#[tokio::test]
async fn cloudtrail_waits_with_the_sdk_waiter_then_stores_the_secret() {
    // Describe (creating), waiter poll 1 (creating), waiter poll 2 (available), final Describe.
    let describe = mock!(aws_sdk_rds::Client::describe_db_instances)
        .sequence()
        .output(|| describe_output(instance("fresh", "postgres", None, "creating")))
        .times(2)
        .output(|| {
            describe_output(instance(
                "fresh",
                "postgres",
                Some(("fresh.x.rds.amazonaws.com", 5432)),
                "available",
            ))
        })
        .times(2)
        .build();
    let ssm = secure("pw");
    let (create, stored) = capture_create();
    let clients = mocks::rds_clients(&describe, &ssm, &create);
    let started = std::time::Instant::now();
    let outcome = handler_waiting(clients, "3")
        .handle(&cloudtrail_create_instance("fresh"), &here())
        .await
        .unwrap();
    assert_eq!(serde_json::to_value(outcome).unwrap()["outcome"], "created");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(describe.num_calls(), 4);
    let (_, value) = stored.lock().unwrap().clone().unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&value).unwrap()["host"],
        "fresh.x.rds.amazonaws.com"
    );
}

#[tokio::test]
async fn cloudtrail_wait_is_bounded_then_database_not_ready() {
    let describe = mock!(aws_sdk_rds::Client::describe_db_instances)
        .then_output(|| describe_output(instance("slow", "postgres", None, "creating")));
    let ssm = secure("pw");
    let (create, _) = capture_create();
    let clients = mocks::rds_clients(&describe, &ssm, &create);
    let started = std::time::Instant::now();
    // The invocation's own deadline is tighter than the configured wait: it wins.
    let remaining =
        db_secret_provisioner::jobs::DEADLINE_MARGIN + std::time::Duration::from_secs(2);
    let err = handler_waiting(clients, "600")
        .handle(
            &cloudtrail_create_instance("slow"),
            &here().with_remaining(remaining),
        )
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(err.error_type(), "DatabaseNotReady");
    assert!(
        err.to_string().contains("slow") && err.to_string().contains("creating"),
        "{err}"
    );
    assert!(
        elapsed >= std::time::Duration::from_secs(2) && elapsed < std::time::Duration::from_secs(8),
        "{elapsed:?}"
    );
    assert_eq!(create.num_calls(), 0);
}

// --- rotation and the real "scheduled for deletion" answer (moto can do neither) --------------

/// The default secret name of `rot`'s master user.
fn rot_secret() -> String {
    fixtures::secret_name(Service::Rds, "rot", "admin")
}

/// That secret's ARN, as AWS suffixes it.
fn rot_arn() -> String {
    format!(
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:{}-AbCdEf",
        rot_secret()
    )
}

fn available_instance_rules() -> (aws_smithy_mocks::Rule, aws_smithy_mocks::Rule) {
    let describe = mocks::describe(instance(
        "rot",
        "postgres",
        Some(("rot.x.rds.amazonaws.com", 5432)),
        "available",
    ));
    (describe, secure("pw"))
}

#[tokio::test]
async fn rotation_is_turned_on_right_after_create() {
    let (describe, ssm) = available_instance_rules();
    let (create, _) = capture_create();
    let rotate = mock!(aws_sdk_secretsmanager::Client::rotate_secret)
        .match_requests(|r| {
            r.secret_id().is_some_and(|s| s.contains(&rot_secret()))
                && r.rotation_lambda_arn()
                    == Some("arn:aws:lambda:us-east-1:123456789012:function:rotate-postgres")
                && r.rotation_rules().and_then(|rr| rr.schedule_expression())
                    == Some("rate(30 days)")
                && r.rotate_immediately() == Some(false)
        })
        .then_output(|| {
            aws_sdk_secretsmanager::operation::rotate_secret::RotateSecretOutput::builder().build()
        });
    let clients = mocks::clients(&mocks::Rules {
        rds: vec![&describe],
        ssm: vec![&ssm],
        secrets: vec![&create, &rotate],
        ..Default::default()
    });
    let h = handler_with(
        clients,
        &[
            (
                "ROTATION_LAMBDA_ARNS",
                "postgres=arn:aws:lambda:us-east-1:123456789012:function:rotate-postgres",
            ),
            ("ROTATION_SCHEDULE", "rate(30 days)"),
        ],
    );
    let o = h.handle(&event("rot"), &here()).await.unwrap();
    assert_eq!(serde_json::to_value(o).unwrap()["outcome"], "created");
    assert_eq!((create.num_calls(), rotate.num_calls()), (1, 1));
}

#[tokio::test]
async fn create_secret_answering_scheduled_for_deletion_is_a_clear_error() {
    // AWS answers InvalidRequestException for a name scheduled for deletion (moto answers
    // ResourceExistsException). Scheduled by someone else than the function (no deleted tag):
    // an operator's decision, never reversed silently.
    let (describe, ssm) = available_instance_rules();
    let create = scheduled_create();
    let describe_secret = scheduled_secret(false);
    let clients = mocks::clients(&mocks::Rules {
        rds: vec![&describe],
        ssm: vec![&ssm],
        secrets: vec![&create, &describe_secret],
        ..Default::default()
    });
    let e = handler(clients)
        .handle(&event("rot"), &here())
        .await
        .unwrap_err();
    assert_eq!(e.error_type(), "SecretScheduledForDeletion");
    assert!(e.to_string().contains(&rot_secret()));
}

fn scheduled_create() -> aws_smithy_mocks::Rule {
    use aws_sdk_secretsmanager::operation::create_secret::CreateSecretError;
    use aws_sdk_secretsmanager::types::error::InvalidRequestException;
    mock!(aws_sdk_secretsmanager::Client::create_secret).then_error(|| {
        CreateSecretError::InvalidRequestException(
            InvalidRequestException::builder()
                .message("You can't create this secret because a secret with this name is already scheduled for deletion.")
                .build(),
        )
    })
}

/// DescribeSecret of the function's own secret for `rot`, scheduled for deletion, with the
/// deleted tag (and a seal) when `retired`.
fn scheduled_secret(retired: bool) -> aws_smithy_mocks::Rule {
    use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput;
    use aws_sdk_secretsmanager::types::Tag;
    mock!(aws_sdk_secretsmanager::Client::describe_secret).then_output(move || {
        let mut tags = vec![
            ("managed-by", "db-secret-provisioner"),
            ("db-secret-provisioner:database", "rds/instance/rot"),
            ("db-secret-provisioner:username", "admin"),
        ];
        if retired {
            tags.push(("db-secret-provisioner:database-deleted", "2026-11-01"));
            tags.push((
                "db-secret-provisioner:seal",
                "v1 2026-10-01T00:00:00Z c2VhbA==",
            ));
        }
        DescribeSecretOutput::builder()
            .arn(rot_arn())
            .name(rot_secret())
            .deleted_date(aws_smithy_types::DateTime::from_secs(1_795_000_000))
            .set_tags(Some(
                tags.into_iter()
                    .map(|(k, v)| Tag::builder().key(k).value(v).build())
                    .collect(),
            ))
            .build()
    })
}

#[tokio::test]
async fn redshift_managed_admin_password_is_skipped() {
    // moto has no ManageMasterPassword for Redshift: MasterPasswordSecretArn comes from a mock.
    use aws_sdk_redshift::operation::describe_clusters::DescribeClustersOutput;
    use aws_sdk_redshift::types::{Cluster, Endpoint as RedshiftEndpoint};
    let describe = mock!(aws_sdk_redshift::Client::describe_clusters).then_output(|| {
        DescribeClustersOutput::builder()
            .clusters(
                Cluster::builder()
                    .cluster_identifier("wh")
                    .cluster_status("available")
                    .master_username("awsuser")
                    .db_name("dev")
                    .endpoint(RedshiftEndpoint::builder().address("wh.x.redshift.amazonaws.com").port(5439).build())
                    .master_password_secret_arn("arn:aws:secretsmanager:us-east-1:123456789012:secret:redshift!wh-awsuser-AbCdEf")
                    .build(),
            )
            .build()
    });
    let ssm = secure("pw");
    let (create, _) = capture_create();
    let clients = mocks::clients(&mocks::Rules {
        redshift: vec![&describe],
        ssm: vec![&ssm],
        secrets: vec![&create],
        ..Default::default()
    });
    let event = crate::support::events::cloudtrail(
        "aws.redshift",
        "redshift.amazonaws.com",
        "CreateCluster",
        json!({"clusterIdentifier": "wh", "masterUsername": "awsuser", "manageMasterPassword": true}),
    );
    let o = serde_json::to_value(handler(clients).handle(&event, &here()).await.unwrap()).unwrap();
    assert_eq!(o["outcome"], "skipped", "{o}");
    assert!(o["reason"]
        .as_str()
        .unwrap()
        .contains("redshift!wh-awsuser"));
    assert_eq!(create.num_calls(), 0);
}

#[tokio::test]
async fn each_replica_is_reported_as_aws_reports_it() {
    use aws_sdk_secretsmanager::operation::create_secret::CreateSecretOutput;
    use aws_sdk_secretsmanager::types::{ReplicationStatusType, StatusType};
    let (describe, ssm) = available_instance_rules();
    let create = mock!(aws_sdk_secretsmanager::Client::create_secret).then_output(|| {
        CreateSecretOutput::builder()
            .arn(rot_arn())
            .name(rot_secret())
            .replication_status(
                ReplicationStatusType::builder()
                    .region("us-west-2")
                    .status(StatusType::InProgress)
                    .build(),
            )
            .replication_status(
                ReplicationStatusType::builder()
                    .region("eu-west-1")
                    .status(StatusType::Failed)
                    .status_message("Access denied to the KMS key")
                    .build(),
            )
            .build()
    });
    let clients = mocks::rds_clients(&describe, &ssm, &create);
    let h = handler_with(clients, &[("REPLICA_REGIONS", "us-west-2,eu-west-1")]);
    let o = serde_json::to_value(h.handle(&event("rot"), &here()).await.unwrap()).unwrap();
    assert_eq!(o["outcome"], "created");
    assert_eq!(
        o["replicas"],
        json!([
            {"region": "us-west-2", "status": "InProgress"},
            {"region": "eu-west-1", "status": "Failed", "message": "Access denied to the KMS key"}
        ]),
        "InProgress is reported as InProgress, not as InSync"
    );
}

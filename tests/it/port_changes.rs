//! Port changes are never missed (docs/triggers.md, "Secrets follow their databases"), played
//! with the responses AWS documents through `aws-smithy-mocks`: moto applies a port change at
//! once, while RDS answers `available` with the old port until it starts applying it (the
//! instance's `PendingModifiedValues.Port` holds the new one; a cluster's pending values carry
//! no port).

use std::sync::{Arc, Mutex};

use aws_sdk_rds::operation::describe_db_clusters::DescribeDbClustersOutput;
use aws_sdk_rds::operation::describe_db_instances::DescribeDbInstancesOutput;
use aws_sdk_rds::types::{DbCluster, DbInstance, Endpoint, PendingModifiedValues};
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueOutput;
use aws_sdk_secretsmanager::operation::list_secrets::ListSecretsOutput;
use aws_sdk_secretsmanager::operation::put_secret_value::PutSecretValueOutput;
use aws_sdk_secretsmanager::operation::tag_resource::TagResourceOutput;
use aws_sdk_secretsmanager::types::{SecretListEntry, Tag};
use aws_smithy_mocks::{mock, Rule};
use serde_json::{json, Value};

use crate::support::events;
use crate::support::mocks;
use crate::support::{handler_with, here};

const OLD: i32 = 27017;
const NEW: i32 = 27018;

/// The function's secret for `database` (`docdb/cluster/docs` or `rds/instance/orders`).
fn listed(database: &'static str, name: &'static str) -> Rule {
    mock!(aws_sdk_secretsmanager::Client::list_secrets).then_output(move || {
        ListSecretsOutput::builder()
            .secret_list(
                SecretListEntry::builder()
                    .arn(format!(
                        "arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}-AbCdEf"
                    ))
                    .name(name)
                    .set_tags(Some(
                        [
                            ("managed-by", "db-secret-provisioner"),
                            ("db-secret-provisioner:database", database),
                            ("db-secret-provisioner:username", "admin"),
                        ]
                        .into_iter()
                        .map(|(k, v)| Tag::builder().key(k).value(v).build())
                        .collect(),
                    ))
                    .build(),
            )
            .build()
    })
}

fn current(host: &'static str) -> Rule {
    mock!(aws_sdk_secretsmanager::Client::get_secret_value).then_output(move || {
        GetSecretValueOutput::builder()
            .version_id("v1")
            .secret_string(
                json!({"engine": "mongo", "host": host, "port": OLD, "username": "admin",
                       "password": "rotated", "ssl": true})
                .to_string(),
            )
            .build()
    })
}

struct Writes {
    put: Rule,
    tag: Rule,
    /// DescribeSecret right before the write (the rotation guard): no rotation.
    fresh: Rule,
    written: Arc<Mutex<Option<Value>>>,
}

fn writes() -> Writes {
    let written: Arc<Mutex<Option<Value>>> = Arc::default();
    let w = written.clone();
    let put = mock!(aws_sdk_secretsmanager::Client::put_secret_value)
        .match_requests(move |r| {
            *w.lock().unwrap() = r.secret_string().map(|s| serde_json::from_str(s).unwrap());
            true
        })
        .then_output(|| PutSecretValueOutput::builder().build());
    let tag = mock!(aws_sdk_secretsmanager::Client::tag_resource)
        .then_output(|| TagResourceOutput::builder().build());
    let fresh = mock!(aws_sdk_secretsmanager::Client::describe_secret).then_output(|| {
        aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput::builder()
            .arn("arn:aws:secretsmanager:us-east-1:123456789012:secret:s-AbCdEf")
            .name("s")
            .build()
    });
    Writes {
        put,
        tag,
        fresh,
        written,
    }
}

fn cluster(port: i32) -> DescribeDbClustersOutput {
    DescribeDbClustersOutput::builder()
        .db_clusters(
            DbCluster::builder()
                .db_cluster_identifier("docs")
                .engine("docdb")
                .status("available")
                .master_username("admin")
                .endpoint("docs.cluster-x.docdb.amazonaws.com")
                .port(port)
                .build(),
        )
        .build()
}

#[tokio::test]
async fn a_documentdb_port_change_without_apply_immediately_is_followed_once_applied() {
    // The AWS CLI's default is --no-apply-immediately; DocumentDB's ApplyImmediately "affects
    // only the NewDBClusterIdentifier and MasterUserPassword values". Describe shows the old
    // port twice, then the new one.
    let describe = mock!(aws_sdk_rds::Client::describe_db_clusters)
        .sequence()
        .output(|| cluster(OLD))
        .times(2)
        .output(|| cluster(NEW))
        .repeatedly()
        .build();
    let list = listed("docdb/cluster/docs", "db-secrets/docdb/docs/admin");
    let value = current("docs.cluster-x.docdb.amazonaws.com");
    let w = writes();
    let clients = mocks::clients(&mocks::Rules {
        rds: vec![&describe],
        secrets: vec![&list, &value, &w.put, &w.tag, &w.fresh],
        ..Default::default()
    });
    let event = events::cloudtrail(
        "aws.rds",
        "rds.amazonaws.com",
        "ModifyDBCluster",
        json!({"dBClusterIdentifier": "docs", "port": NEW}),
    );
    let o = handler_with(clients, &[])
        .handle(&event, &here())
        .await
        .unwrap();
    let o = serde_json::to_value(o).unwrap();
    assert_eq!(o["outcome"], "updated", "{o}");
    assert_eq!(describe.num_calls(), 3, "polled until the new port shows");
    let v = w.written.lock().unwrap().clone().unwrap();
    assert_eq!(
        (v["port"].clone(), v["password"].clone()),
        (json!(NEW), json!("rotated"))
    );
}

#[tokio::test]
async fn an_instance_port_pending_is_waited_for_and_a_port_never_applied_is_not_ready() {
    let instance = |port: i32, pending: Option<i32>| {
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
                            .port(port)
                            .build(),
                    )
                    .set_pending_modified_values(
                        pending.map(|p| PendingModifiedValues::builder().port(p).build()),
                    )
                    .build(),
            )
            .build()
    };
    // The event names no port: the pending one is the target.
    let describe = mock!(aws_sdk_rds::Client::describe_db_instances)
        .sequence()
        .output(move || instance(5432, Some(6543)))
        .times(2)
        .output(move || instance(6543, None))
        .repeatedly()
        .build();
    let list = listed("rds/instance/orders", "db-secrets/rds/orders/admin");
    let value = current("orders.x.rds.amazonaws.com");
    let w = writes();
    let clients = mocks::clients(&mocks::Rules {
        rds: vec![&describe],
        secrets: vec![&list, &value, &w.put, &w.tag, &w.fresh],
        ..Default::default()
    });
    let event = events::cloudtrail(
        "aws.rds",
        "rds.amazonaws.com",
        "ModifyDBInstance",
        json!({"dBInstanceIdentifier": "orders", "dbPortNumber": 6543}),
    );
    let o = handler_with(clients, &[])
        .handle(&event, &here())
        .await
        .unwrap();
    assert_eq!(serde_json::to_value(&o).unwrap()["outcome"], "updated");
    assert_eq!(w.written.lock().unwrap().clone().unwrap()["port"], 6543);

    // Never applied within PORT_CHANGE_WAIT_SECONDS: DatabaseNotReady, nothing written.
    let stuck = mock!(aws_sdk_rds::Client::describe_db_instances)
        .sequence()
        .output(move || instance(5432, Some(6543)))
        .repeatedly()
        .build();
    let w = writes();
    let clients = mocks::clients(&mocks::Rules {
        rds: vec![&stuck],
        secrets: vec![&list, &value, &w.put, &w.tag, &w.fresh],
        ..Default::default()
    });
    let e = handler_with(clients, &[("PORT_CHANGE_WAIT_SECONDS", "2")])
        .handle(&event, &here())
        .await
        .unwrap_err();
    assert_eq!(e.error_type(), "DatabaseNotReady", "{e}");
    assert!(e.to_string().contains("6543"), "{e}");
    assert!(w.written.lock().unwrap().is_none());
}

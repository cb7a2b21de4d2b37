//! Retirement edge cases, played with the responses AWS documents through `aws-smithy-mocks`:
//! moto deletes a Redshift cluster at once (AWS passes through `final-snapshot`), and moto's
//! ListSecrets is never stale (AWS's "might not reflect changes from the last five minutes").

use std::sync::{Arc, Mutex};

use aws_sdk_rds::operation::describe_db_instances::DescribeDBInstancesError;
use aws_sdk_redshift::operation::describe_clusters::DescribeClustersOutput;
use aws_sdk_redshift::types::Cluster;
use aws_sdk_secretsmanager::operation::delete_secret::DeleteSecretError;
use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput;
use aws_sdk_secretsmanager::operation::list_secrets::ListSecretsOutput;
use aws_sdk_secretsmanager::operation::tag_resource::TagResourceOutput;
use aws_sdk_secretsmanager::types::error::InvalidRequestException;
use aws_sdk_secretsmanager::types::{SecretListEntry, Tag};
use aws_smithy_mocks::{mock, Rule};
use aws_smithy_types::DateTime;
use serde_json::json;

use crate::support::events;
use crate::support::mocks;
use crate::support::{handler_with, here};

fn entry(database: &str, name: &str) -> SecretListEntry {
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
        .build()
}

fn tagged() -> (Rule, Arc<Mutex<usize>>) {
    let n: Arc<Mutex<usize>> = Arc::default();
    let c = n.clone();
    let rule = mock!(aws_sdk_secretsmanager::Client::tag_resource)
        .match_requests(move |_| {
            *c.lock().unwrap() += 1;
            true
        })
        .then_output(|| TagResourceOutput::builder().build());
    (rule, n)
}

#[tokio::test]
async fn a_redshift_cluster_taking_its_final_snapshot_is_gone() {
    // DeleteCluster with a final snapshot (the default): `final-snapshot`, then `deleting`.
    let describe = mock!(aws_sdk_redshift::Client::describe_clusters).then_output(|| {
        DescribeClustersOutput::builder()
            .clusters(
                Cluster::builder()
                    .cluster_identifier("wh")
                    .cluster_status("final-snapshot")
                    .master_username("awsuser")
                    .build(),
            )
            .build()
    });
    let list = mock!(aws_sdk_secretsmanager::Client::list_secrets).then_output(|| {
        ListSecretsOutput::builder()
            .secret_list(entry(
                "redshift/cluster/wh",
                "db-secrets/redshift/wh/awsuser",
            ))
            .build()
    });
    let (tag, tags) = tagged();
    let clients = mocks::clients(&mocks::Rules {
        redshift: vec![&describe],
        secrets: vec![&list, &tag],
        ..Default::default()
    });
    let event = events::cloudtrail(
        "aws.redshift",
        "redshift.amazonaws.com",
        "DeleteCluster",
        json!({"clusterIdentifier": "wh"}),
    );
    let o = handler_with(clients, &[])
        .handle(&event, &here())
        .await
        .unwrap();
    let o = serde_json::to_value(o).unwrap();
    assert_eq!(o["outcome"], "retired", "{o}");
    assert_eq!(*tags.lock().unwrap(), 1);
}

#[tokio::test]
async fn a_second_deletion_event_changes_nothing_and_fails_nothing() {
    // The native and the CloudTrail deletion events race: ListSecrets (minutes old) still
    // shows the secret live; DescribeSecret, read fresh, shows it scheduled; and a DeleteSecret
    // that loses the race answers "marked for deletion".
    let gone = mock!(aws_sdk_rds::Client::describe_db_instances).then_error(|| {
        DescribeDBInstancesError::DbInstanceNotFoundFault(
            aws_sdk_rds::types::error::DbInstanceNotFoundFault::builder().build(),
        )
    });
    let list = mock!(aws_sdk_secretsmanager::Client::list_secrets).then_output(|| {
        ListSecretsOutput::builder()
            .secret_list(entry("rds/instance/orders", "db-secrets/rds/orders/admin"))
            .build()
    });
    let env = [("ON_DATABASE_DELETED", "schedule-deletion")];
    for scheduled_already in [true, false] {
        let fresh = mock!(aws_sdk_secretsmanager::Client::describe_secret).then_output(move || {
            DescribeSecretOutput::builder()
                .arn("arn:aws:secretsmanager:us-east-1:123456789012:secret:db-secrets/rds/orders/admin-AbCdEf")
                .name("db-secrets/rds/orders/admin")
                .set_deleted_date(scheduled_already.then(|| DateTime::from_secs(1_796_000_000)))
                .build()
        });
        let delete = mock!(aws_sdk_secretsmanager::Client::delete_secret).then_error(|| {
            DeleteSecretError::InvalidRequestException(
                InvalidRequestException::builder()
                    .message("You can't perform this operation on the secret because it was marked for deletion.")
                    .build(),
            )
        });
        let (tag, _) = tagged();
        let clients = mocks::clients(&mocks::Rules {
            rds: vec![&gone],
            secrets: vec![&list, &fresh, &delete, &tag],
            ..Default::default()
        });
        let o = handler_with(clients, &env)
            .handle(&events::delete_instance_call("orders"), &here())
            .await
            .unwrap_or_else(|e| panic!("a second retirement is no error: {e}"));
        assert_eq!(serde_json::to_value(o).unwrap()["outcome"], "retired");
        assert_eq!(delete.num_calls(), usize::from(!scheduled_already));
    }
}

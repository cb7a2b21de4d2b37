//! The RDS / Aurora path against moto (the local AWS): the handler and each AWS adapter.

use std::collections::BTreeSet;

use aws_sdk_ssm::types::ParameterType;
use db_secret_provisioner::aws::database;
use db_secret_provisioner::aws::parameters;
use db_secret_provisioner::aws::secrets;
use db_secret_provisioner::lambda::handler::Handler;
use db_secret_provisioner::model::Target;
use db_secret_provisioner::Error;
use secrecy::ExposeSecret;
use serde_json::{json, Value};

use crate::support::fixtures::{Db, Service};
use crate::support::*;

async fn handler() -> Handler {
    handler_with(function_clients(&moto().endpoint).await, &[])
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn set(keys: &[&str]) -> BTreeSet<String> {
    keys.iter().map(|k| k.to_string()).collect()
}

/// Creates an instance of `engine`, its password parameter, runs the handler on the
/// instance-created event and returns (outcome, stored secret).
async fn provision_instance(engine: &str, username: &str) -> (String, Value, Value) {
    let c = clients().await;
    let db = fixtures::instance(&c, engine, engine, username, Some("S3cret-pw!")).await;
    let outcome = outcome(&db.event()).await;
    let secret = db.secret(&c).await.expect("secret stored");
    (db.id, outcome, secret)
}

#[tokio::test]
async fn instances_of_every_moto_engine_get_a_correctly_shaped_secret() {
    let cases = [
        ("mysql", "mysql", 3306),
        ("postgres", "postgres", 5432),
        ("mariadb", "mariadb", 3306),
        ("oracle-ee", "oracle", 1521),
        ("oracle-se2", "oracle", 1521),
        ("sqlserver-ee", "sqlserver", 1433),
        ("sqlserver-web", "sqlserver", 1433),
    ];
    for (engine, secret_engine, port) in cases {
        let (id, outcome, secret) = provision_instance(engine, "admin").await;
        assert_eq!(outcome["outcome"], "created", "{engine}: {outcome}");
        assert_eq!(
            outcome["secretName"],
            fixtures::secret_name(Service::Rds, &id, "admin")
        );
        assert!(outcome["secretArn"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:secretsmanager:"));
        assert_eq!(
            outcome["database"],
            json!({"service": "rds", "identifier": id, "engine": engine,
                   "account": ACCOUNT, "region": REGION})
        );
        assert!(outcome.get("password").is_none());

        let mut expected = set(&[
            "engine",
            "host",
            "username",
            "password",
            "port",
            "dbInstanceIdentifier",
        ]);
        if secret.get("dbname").is_some() {
            expected.insert("dbname".into());
            assert!(secret["dbname"].as_str().is_some_and(|d| !d.is_empty()));
        }
        assert_eq!(keys(&secret), expected, "{engine}: {secret}");
        assert_eq!(secret["engine"], secret_engine, "{engine}");
        assert_eq!(
            secret["port"],
            json!(port),
            "{engine}: port must be a JSON number"
        );
        assert_eq!(secret["username"], "admin");
        assert_eq!(secret["password"], "S3cret-pw!");
        assert_eq!(secret["dbInstanceIdentifier"], id.as_str());
        assert!(secret["host"].as_str().unwrap().contains(&id), "{secret}");
    }
}

#[tokio::test]
async fn aurora_clusters_get_a_cluster_secret_with_the_writer_endpoint() {
    let c = clients().await;
    for (engine, secret_engine, port) in [
        ("aurora-postgresql", "postgres", 5432),
        ("aurora-mysql", "mysql", 3306),
    ] {
        let db = fixtures::cluster(
            &c,
            "aurora",
            engine,
            "clusteradmin",
            Some("appdb"),
            Some("cluster-pw"),
        )
        .await;
        let id = db.id.clone();
        assert_eq!(outcome(&db.event()).await["outcome"], "created");
        let secret = db.secret(&c).await.unwrap();
        assert_eq!(
            keys(&secret),
            set(&[
                "engine",
                "host",
                "username",
                "password",
                "port",
                "dbname",
                "dbClusterIdentifier",
                "readerHost"
            ])
        );
        assert_eq!(secret["engine"], secret_engine);
        assert_eq!(secret["port"], json!(port));
        assert_eq!(secret["dbname"], "appdb");
        assert_eq!(secret["dbClusterIdentifier"], id.as_str());
        let writer = c
            .rds
            .describe_db_clusters()
            .db_cluster_identifier(&id)
            .send()
            .await
            .unwrap()
            .db_clusters()[0]
            .clone();
        assert_eq!(secret["host"], writer.endpoint().unwrap());
        assert_eq!(secret["readerHost"], writer.reader_endpoint().unwrap());
    }
}

#[tokio::test]
async fn aurora_member_instance_is_skipped() {
    let c = clients().await;
    let cluster = unique("aurora-m");
    create_cluster(&c, &cluster, "aurora-postgresql", "admin", None).await;
    let member = Db::new("instance", Service::Rds, &unique("aurora-m-i"), "admin");
    create_member_instance(&c, &member.id, &cluster).await;
    member.put_password(&c, "pw").await;
    let v = outcome(&events::instance_created(&member.id)).await;
    assert_eq!(v["outcome"], "skipped", "{v}");
    assert!(v["reason"].as_str().unwrap().contains(&cluster));
    assert!(member.secret(&c).await.is_none());
}

#[tokio::test]
async fn managed_master_password_is_skipped_with_the_managed_secret_arn() {
    let c = clients().await;
    let db = Db::new("instance", Service::Rds, &unique("managed"), "admin");
    create_managed_instance(&c, &db.id).await;
    db.put_password(&c, "pw").await;
    let v = outcome(&events::instance_created(&db.id)).await;
    assert_eq!(v["outcome"], "skipped", "{v}");
    let reason = v["reason"].as_str().unwrap();
    assert!(reason.contains("arn:aws:secretsmanager:"), "{reason}");
    assert!(db.secret(&c).await.is_none());
}

#[tokio::test]
async fn unsupported_engines_are_skipped() {
    let c = clients().await;
    let db = fixtures::instance(&c, "neptune", "neptune", "admin", Some("pw")).await;
    let v = outcome(&db.event()).await;
    assert_eq!(v["outcome"], "skipped", "{v}");
    assert!(v["reason"].as_str().unwrap().contains("neptune"));
    assert!(db.secret(&c).await.is_none());
}

#[tokio::test]
async fn missing_or_plain_parameters_fail_and_create_nothing() {
    // With MISSING_PASSWORD_PARAMETER=error; the default (skip) is in `real_account.rs`.
    let c = clients().await;
    let db = fixtures::instance(&c, "noparam", "mysql", "admin", None).await;
    let (event, name) = (db.event(), db.secret_name());
    let handler = || async {
        handler_with(
            function_clients(&moto().endpoint).await,
            &[("MISSING_PASSWORD_PARAMETER", "error")],
        )
    };

    let e = handler().await.handle(&event, &here()).await.unwrap_err();
    assert_eq!(e.error_type(), "PasswordParameterNotFound");
    assert!(e.to_string().contains(&db.parameter()));
    assert!(secret_json(&c, &name).await.is_none());

    for kind in [ParameterType::String, ParameterType::StringList] {
        put_parameter(&c, &db.parameter(), "plain-pw-value", kind.clone()).await;
        let e = handler().await.handle(&event, &here()).await.unwrap_err();
        assert_eq!(e.error_type(), "PasswordParameterNotSecure", "{kind:?}");
        assert!(e.to_string().contains(kind.as_str()));
        assert!(!e.to_string().contains("plain-pw-value"));
        assert!(secret_json(&c, &name).await.is_none());
    }
}

#[tokio::test]
async fn unknown_databases_are_not_found() {
    for (kind, code) in [
        ("instance", "RDS-EVENT-0005"),
        ("cluster", "RDS-EVENT-0170"),
    ] {
        let id = unique("ghost");
        let e = handler()
            .await
            .handle(&events::rds(kind, &id, code), &here())
            .await
            .unwrap_err();
        assert_eq!(e.error_type(), "DatabaseNotFound", "{kind}");
        assert!(e.to_string().contains(&id));
    }
}

#[tokio::test]
async fn an_existing_secret_is_left_untouched_and_a_replay_is_unchanged() {
    let c = clients().await;
    let db = fixtures::instance(&c, "existing", "postgres", "admin", Some("initial-pw")).await;
    let (event, name) = (db.event(), db.secret_name());

    let first = outcome(&event).await;
    assert_eq!(first["outcome"], "created");

    // The password was rotated since: a replay must not write the initial one back.
    c.secrets
        .put_secret_value()
        .secret_id(&name)
        .secret_string(r#"{"username":"admin","password":"rotated"}"#)
        .send()
        .await
        .unwrap();
    let replay = outcome(&event).await;
    assert_eq!(replay["outcome"], "unchanged", "{replay}");
    assert_eq!(replay["secretName"], name.as_str());
    assert_eq!(secret_json(&c, &name).await.unwrap()["password"], "rotated");
    assert_eq!(
        version_count(&c, &name).await,
        2,
        "the replay added no version"
    );
}

#[tokio::test]
async fn invalid_rendered_names_fail_before_any_secret_is_created() {
    let c = clients().await;
    // A master username ending in '-' and six letters or digits renders a name Secrets Manager
    // would confuse with an ARN suffix.
    let db = fixtures::instance(&c, "badname", "mysql", "admin-abc123", Some("pw")).await;
    let h = handler_with(function_clients(&moto().endpoint).await, &[]);
    let e = h.handle(&db.event(), &here()).await.unwrap_err();
    assert_eq!(e.error_type(), "InvalidSecretName");
    assert!(e.to_string().contains(&db.secret_name()));
    assert!(db.secret(&c).await.is_none());
}

#[tokio::test]
async fn ignored_events_touch_nothing() {
    let c = clients().await;
    let db = fixtures::instance(&c, "reset", "mysql", "admin", Some("pw")).await;
    // A failed master-password reset (RDS-EVENT-0067) is no trigger.
    for event in [
        events::rds("instance", &db.id, "RDS-EVENT-0067"),
        json!({"source": "aws.ec2", "detail-type": "EC2 Instance State-change Notification", "detail": {}}),
    ] {
        let v = outcome(&event).await;
        assert_eq!(v["outcome"], "ignored", "{v}");
        assert!(!v["reason"].as_str().unwrap().is_empty());
    }
    assert!(db.secret(&c).await.is_none());
}

#[tokio::test]
async fn custom_templates_with_account_region_and_engine_apply() {
    let c = clients().await;
    let id = unique("custom");
    create_instance(&c, &id, "mariadb", "root").await;
    put_password(
        &c,
        &format!("/db-secrets/{ACCOUNT}/{REGION}/{id}/root"),
        "custom-pw",
    )
    .await;
    let h = handler_with(
        function_clients(&moto().endpoint).await,
        &[
            (
                "PASSWORD_PARAMETER_TEMPLATE",
                "/db-secrets/{account}/{region}/{identifier}/{username}",
            ),
            (
                "SECRET_NAME_TEMPLATE",
                "db-secrets/{engine}/{identifier}/{username}",
            ),
            ("SECRET_DESCRIPTION_TEMPLATE", "custom {identifier}"),
        ],
    );
    let v = serde_json::to_value(
        h.handle(&events::instance_created(&id), &here())
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(v["outcome"], "created");
    let name = format!("db-secrets/mariadb/{id}/root");
    assert_eq!(
        secret_json(&c, &name).await.unwrap()["password"],
        "custom-pw"
    );
    let d = describe_secret(&c, &name).await;
    assert_eq!(d.description(), Some(format!("custom {id}").as_str()));
}

// --- the adapters on their own ----------------------------------------------------------------

#[tokio::test]
async fn describe_adapter_reads_instances_and_clusters() {
    let c = clients().await;
    let id = unique("adapter");
    create_instance(&c, &id, "postgres", "pgadmin").await;
    let db = database::describe(&c, &Target::DbInstance(id.as_str().into()))
        .await
        .unwrap();
    assert_eq!(db.engine, "postgres");
    assert_eq!(db.master_username.as_deref(), Some("pgadmin"));
    assert_eq!(db.port, Some(5432));
    assert!(db.host.is_some());
    assert_eq!(db.cluster, None);
    assert_eq!(db.managed_secret_arn, None);

    let cid = unique("adapter-c");
    create_cluster(&c, &cid, "aurora-mysql", "admin", Some("shop")).await;
    let db = database::describe(&c, &Target::DbCluster(cid.as_str().into()))
        .await
        .unwrap();
    assert_eq!(db.engine, "aurora-mysql");
    assert_eq!(db.dbname.as_deref(), Some("shop"));
}

#[tokio::test]
async fn password_adapter_accepts_only_non_empty_secure_strings() {
    let c = clients().await;
    let base = format!("/adapter/{}", unique("pw"));
    put_password(&c, &format!("{base}/secure"), "v4lue").await;
    let pw = parameters::read(&c.ssm, &format!("{base}/secure"))
        .await
        .unwrap();
    assert_eq!(pw.value.expose_secret(), "v4lue");
    assert!(!format!("{pw:?}").contains("v4lue"));
    assert!(
        pw.modified.is_some(),
        "GetParameter gives LastModifiedDate: the freshness rule reads it"
    );

    let e = parameters::read(&c.ssm, &format!("{base}/missing"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::PasswordParameterNotFound { .. }));
}

#[tokio::test]
async fn store_adapter_creates_once_and_tags_the_secret_as_ours() {
    use db_secret_provisioner::model::engine::engine_rule;
    use db_secret_provisioner::model::identifiers::SecretName;
    use db_secret_provisioner::model::{Database, Service};
    use db_secret_provisioner::rules::secret_value;
    let c = clients().await;
    let name = SecretName::parse(&format!("adapter/{}", unique("store"))).unwrap();
    let db = Database {
        identifier: "adapter".into(),
        host: Some("h".into()),
        port: None,
        ..Database::sample()
    };
    let value = secret_value::shape(
        &db,
        engine_rule("mysql").unwrap(),
        "h",
        "admin",
        &"x".to_string().into(),
        None,
    )
    .unwrap();
    let options = db_secret_provisioner::config::Config::from_lookup(|_| None)
        .unwrap()
        .options;
    let owner = db_secret_provisioner::model::tags::Owner::new(
        Service::Rds,
        db_secret_provisioner::model::DbKind::Instance,
        "adapter",
        "admin",
    );
    let tags = owner.tags();
    let first = secrets::create(&c.secrets, &options, &name, "d", &value, &tags)
        .await
        .unwrap();
    assert!(
        matches!(first, secrets::Created::New { ref arn, .. } if arn.contains(name.as_str())),
        "{first:?}"
    );
    let second = secrets::create(&c.secrets, &options, &name, "d", &value, &tags)
        .await
        .unwrap();
    assert_eq!(second, secrets::Created::Exists);
    assert_eq!(version_count(&c, name.as_str()).await, 1);
    let d = secrets::describe(&c.secrets, name.as_str())
        .await
        .unwrap()
        .unwrap();
    assert!(d.is_managed());
    assert!(d.is_owned_by(&owner, Some(REGION)));
    assert!(secrets::describe(&c.secrets, "adapter/none")
        .await
        .unwrap()
        .is_none());
}

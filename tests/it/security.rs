//! The trust boundary: each attack of the security review, played against the built binary
//! through the Runtime API (as an event sender with only `events:PutEvents` could, or by direct
//! invocation), on a moto of its own. Each attack is refused with its stated errorType or gets
//! its stated outcome; afterwards every secret (value, versions, tags) and every parameter of the
//! account is as it was; no planted password is in any answer or log line (the function logs at
//! `trace`). Attack 6 needs a response moto cannot give: it runs in-process against
//! aws-smithy-mocks with every log line captured.

use std::sync::OnceLock;

use aws_smithy_mocks::mock;
use serde_json::{json, Value};

use crate::support::events::{envelope, instance_created, user};
use crate::support::fixtures::{self, Db, Service};
use crate::support::runtime_api::Answer;
use crate::support::snapshot::Snapshot;
use crate::support::{logs, mocks, *};

/// Planted passwords: none may appear in an answer, a log line or a tag.
const PW_APP_ADMIN: &str = "Sec-App-Admin-7f3e";
const PW_PROD_ADMIN: &str = "Sec-Prod-Admin-91ab";
const PW_APP_USER: &str = "Sec-App-User-c04d";
const PW_OTHER: &str = "Sec-Other-5e22";
const PLANTED: [&str; 4] = [PW_APP_ADMIN, PW_PROD_ADMIN, PW_APP_USER, PW_OTHER];

/// The moto of the attacks: nothing else runs in it.
fn attack_moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| start_moto(None))
}

/// The account, seeded once: `app-db` (its admin secret already made by a legitimate event, an
/// application user's parameter), `prod-db` (pending: its admin parameter waits for its
/// creation event), `orders` as both an instance (with its secret) and a cluster, `squat-db`
/// (someone else made a secret at its name), a managed-password instance and an Aurora member.
async fn seeded() -> Clients {
    static SEEDED: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    let c = Clients::new(&sdk_config(&attack_moto().endpoint, REGION).await);
    SEEDED
        .get_or_init(|| async {
            let app = Db::new("instance", Service::Rds, "app-db", "admin");
            create_instance(&c, &app.id, "mysql", "admin").await;
            app.put_password(&c, PW_APP_ADMIN).await;
            app.put_password_of(&c, "app", PW_APP_USER).await;
            let prod = Db::new("instance", Service::Rds, "prod-db", "admin");
            create_instance(&c, &prod.id, "postgres", "admin").await;
            prod.put_password(&c, PW_PROD_ADMIN).await;
            let orders = Db::new("instance", Service::Rds, "orders", "admin");
            create_instance(&c, &orders.id, "postgres", "admin").await;
            create_cluster(&c, &orders.id, "aurora-postgresql", "admin", None).await;
            orders.put_password(&c, PW_OTHER).await;
            let squat = Db::new("instance", Service::Rds, "squat-db", "admin");
            create_instance(&c, &squat.id, "mysql", "admin").await;
            squat.put_password(&c, PW_OTHER).await;
            c.secrets
                .create_secret()
                .name(squat.secret_name())
                .secret_string(r#"{"host":"attacker.example.com","username":"admin"}"#)
                .send()
                .await
                .unwrap();
            let managed = Db::new("instance", Service::Rds, "managed-db", "admin");
            create_managed_instance(&c, &managed.id).await;
            managed.put_password(&c, PW_OTHER).await;
            create_cluster(&c, "member-cluster", "aurora-postgresql", "admin", None).await;
            let member = Db::new("instance", Service::Rds, "member-db", "admin");
            create_member_instance(&c, &member.id, "member-cluster").await;
            member.put_password(&c, PW_OTHER).await;
            // Legitimate events made these two secrets.
            let f = Function::start(&built_binary(), &attack_moto().endpoint, &[]);
            for id in ["app-db", "orders"] {
                assert_eq!(
                    f.invoke(&instance_created(id)).response()["outcome"],
                    "created"
                );
            }
        })
        .await;
    c
}

/// What an attack must get.
#[derive(Debug, Clone)]
enum Expect {
    Error(&'static str, String),
    Outcome(&'static str),
}

/// One test at a time in the attack account: each compares the whole account before and after.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Plays `events` against a fresh function process configured with `env`; checks each answer,
/// that the account is unchanged, and that no planted password leaked.
async fn play(attack: &str, env: &[(&str, &str)], events: Vec<(Value, Expect)>) {
    let c = seeded().await;
    let _turn = TURN.lock().await;
    let before = Snapshot::take(&c).await;
    let f = Function::start(&built_binary(), &attack_moto().endpoint, env);
    // Every event is played and checked; the attack fails with each wrong answer at once.
    let mut wrong: Vec<String> = Vec::new();
    for (event, expect) in &events {
        let answer = f.invoke(event);
        match (expect, &answer) {
            (Expect::Error(t, needle), Answer::Error(e)) => {
                if e["errorType"] != *t {
                    wrong.push(format!("{event}: expected {t}, got {e}"));
                }
                if !e["errorMessage"].as_str().unwrap_or("").contains(needle) {
                    wrong.push(format!("{event}: {e} should name {needle}"));
                }
            }
            (Expect::Outcome(o), Answer::Response(v)) => {
                if v["outcome"] != *o {
                    wrong.push(format!("{event}: expected {o}, got {v}"));
                }
            }
            (expect, answer) => wrong.push(format!("{event}: expected {expect:?}, got {answer:?}")),
        }
        let text = format!("{answer:?}");
        if PLANTED.iter().any(|pw| text.contains(pw)) {
            wrong.push(format!("{event}: a password is in the answer"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{attack}: {} wrong answer(s):\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    let after = Snapshot::take(&c).await;
    assert_eq!(after, before, "{attack}: the account changed");
    let logs = f.logs();
    assert!(logs.contains("invocation"), "{attack}: the function logged");
    for pw in PLANTED {
        assert!(!logs.contains(pw), "{attack}: a password is in the logs");
        assert!(!after.tags_contain(pw), "{attack}: a password is in a tag");
    }
}

fn invalid(field: &'static str) -> Expect {
    Expect::Error("InvalidEvent", field.into())
}

#[tokio::test]
async fn attack_1_password_copying_names_another_databases_parameter() {
    play(
        "password copying",
        &[],
        vec![
            (
                user(json!({"dbInstanceIdentifier": "app-db", "username": "copy",
                            "passwordParameter": fixtures::parameter(Service::Rds, "prod-db", "admin")})),
                invalid("passwordParameter"),
            ),
            (
                user(json!({"dbInstanceIdentifier": "app-db", "username": "copy",
                            "secretName": "leaked/prod-admin"})),
                invalid("secretName"),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn attack_2_squatting_a_databases_secret_name() {
    play(
        "squatting",
        &[],
        vec![
            // The event can no longer name the secret of a database without one...
            (
                user(json!({"dbInstanceIdentifier": "app-db", "username": "x",
                            "secretName": fixtures::secret_name(Service::Rds, "prod-db", "admin")})),
                invalid("secretName"),
            ),
            // ...and a secret someone else made first is a conflict, not a quiet `unchanged`.
            (
                instance_created("squat-db"),
                Expect::Error(
                    "SecretConflict",
                    fixtures::secret_name(Service::Rds, "squat-db", "admin"),
                ),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn attack_3_hijack_of_another_databases_secret_with_update() {
    // Instance `orders` and cluster `orders` render the same secret name: the cluster's event
    // finds the instance's secret, whose tags name another database.
    play(
        "hijack",
        &[("EXISTING_SECRET", "update")],
        vec![(
            crate::support::events::rds("cluster", "orders", "RDS-EVENT-0170"),
            Expect::Error("SecretConflict", "rds/instance/orders".into()),
        )],
    )
    .await;
}

#[tokio::test]
async fn attack_4_foreign_deletion_of_a_pending_databases_parameter() {
    play(
        "foreign deletion",
        &[("DELETE_PASSWORD_PARAMETER", "true")],
        vec![
            (
                user(json!({"dbInstanceIdentifier": "app-db", "username": "x",
                            "passwordParameter": fixtures::parameter(Service::Rds, "prod-db", "admin")})),
                invalid("passwordParameter"),
            ),
            // A replay finds the secret made: the parameter is not deleted.
            (instance_created("app-db"), Expect::Outcome("unchanged")),
            // A conflict deletes nothing either.
            (
                instance_created("squat-db"),
                Expect::Error("SecretConflict", "squat-db".into()),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn attack_5_master_secret_arn_from_anywhere() {
    let c = seeded().await;
    let other_db = describe_secret(&c, &fixtures::secret_name(Service::Rds, "orders", "admin"))
        .await
        .arn()
        .unwrap()
        .to_string();
    let app = |arn: &str| {
        user(json!({"dbInstanceIdentifier": "app-db", "username": "app", "masterSecretArn": arn}))
    };
    let name = fixtures::secret_name(Service::Rds, "app-db", "admin");
    play(
        "masterSecretArn",
        &[],
        vec![
            (
                app(&format!(
                    "arn:aws:secretsmanager:{REGION}:999999999999:secret:{name}-AbCdEf"
                )),
                invalid("masterSecretArn"),
            ),
            (
                app(&format!(
                    "arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:{name}-AbCdEf"
                )),
                invalid("masterSecretArn"),
            ),
            (app(&other_db), invalid("masterSecretArn")),
            (
                app(&format!(
                    "arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}-Zz9Zz9"
                )),
                invalid("masterSecretArn"),
            ),
            (
                app(&format!("arn:aws:rds:{REGION}:{ACCOUNT}:db:app-db")),
                invalid("masterSecretArn"),
            ),
            (
                app(&format!(
                    "arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{}",
                    "x".repeat(5000)
                )),
                invalid("masterSecretArn"),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn attack_6_a_malformed_response_holding_the_password_stays_out_of_errors_and_logs() {
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_types::body::SdkBody;
    const PW: &str = "Malformed-Body-Pw-6a1f";
    let logs = logs::captured();
    let describe = mocks::describe(mocks::instance(
        "mal",
        "postgres",
        Some(("mal.x.rds.amazonaws.com", 5432)),
        "available",
    ));
    // A 200 whose JSON breaks off right after the decrypted value.
    let parameter = fixtures::parameter(Service::Rds, "mal", "admin");
    let broken = mock!(aws_sdk_ssm::Client::get_parameter).then_http_response(move || {
        HttpResponse::new(
            200.try_into().unwrap(),
            SdkBody::from(format!(
                r#"{{"Parameter":{{"Name":"{parameter}","Type":"SecureString","Value":"{PW}","Version":"#
            )),
        )
    });
    let (create, _) = mocks::capture_create();
    let handler = mocks::handler(mocks::rds_clients(&describe, &broken, &create));
    let mut context = lambda_runtime::Context::default();
    context.invoked_function_arn =
        format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:db-secret-provisioner");
    let err = handler
        .invoke(lambda_runtime::LambdaEvent::new(
            instance_created("mal"),
            context,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "AwsServiceError");
    let diagnostic: lambda_runtime::Diagnostic = err.into();
    assert!(
        diagnostic
            .error_message
            .contains("could not be read or parsed"),
        "{}",
        diagnostic.error_message
    );
    assert!(
        !diagnostic.error_message.contains(PW),
        "the password is in the errorMessage"
    );
    assert_eq!(create.num_calls(), 0);
    let text = logs.text();
    assert!(
        text.contains("invocation failed"),
        "logs were captured at trace level"
    );
    let leaked: Vec<String> = text
        .lines()
        .filter(|l| l.contains(PW))
        .map(|l| l.replace(PW, "<planted>").chars().take(3000).collect())
        .collect();
    assert!(
        leaked.is_empty(),
        "the password is in log lines: {leaked:#?}"
    );
}

#[tokio::test]
async fn attack_7_wrong_source_account_or_region() {
    let mut other_account = instance_created("app-db");
    other_account["account"] = json!("999999999999");
    let mut other_region = instance_created("app-db");
    other_region["region"] = json!("eu-west-1");
    let mut arn_elsewhere = instance_created("prod-db");
    arn_elsewhere["detail"]["SourceArn"] = json!("arn:aws:rds:us-east-1:999999999999:db:prod-db");
    let mut no_account = instance_created("prod-db");
    no_account.as_object_mut().unwrap().remove("account");
    let mut sweep_elsewhere = crate::support::events::scheduled();
    sweep_elsewhere["account"] = json!("999999999999");
    play(
        "source, account and region",
        &[],
        vec![
            (
                envelope(
                    "com.attacker",
                    "Database User Created",
                    json!({"dbInstanceIdentifier": "prod-db", "username": "admin"}),
                ),
                Expect::Error("UntrustedEvent", "com.attacker".into()),
            ),
            (
                other_account,
                Expect::Error("UntrustedEvent", "999999999999".into()),
            ),
            (
                other_region,
                Expect::Error("UntrustedEvent", "eu-west-1".into()),
            ),
            (
                arn_elsewhere,
                Expect::Error("UntrustedEvent", "SourceArn".into()),
            ),
            (
                no_account,
                Expect::Error("UntrustedEvent", "names none".into()),
            ),
            (
                sweep_elsewhere,
                Expect::Error("UntrustedEvent", "999999999999".into()),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn attack_8_a_user_event_for_the_master_user_keeps_the_admin_guards() {
    play(
        "master user",
        &[],
        vec![
            (
                user(json!({"dbInstanceIdentifier": "managed-db", "username": "admin"})),
                Expect::Outcome("skipped"),
            ),
            (
                user(json!({"dbInstanceIdentifier": "member-db", "username": "admin"})),
                Expect::Outcome("skipped"),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn legitimate_events_still_work_inside_the_boundary() {
    // The application user of app-db, with the master secret this function made for it.
    let c = seeded().await;
    let _turn = TURN.lock().await;
    let master = describe_secret(&c, &fixtures::secret_name(Service::Rds, "app-db", "admin"))
        .await
        .arn()
        .unwrap()
        .to_string();
    let f = Function::start(&built_binary(), &attack_moto().endpoint, &[]);
    let answer = f.invoke(&user(
        json!({"dbInstanceIdentifier": "app-db", "username": "app", "masterSecretArn": master}),
    ));
    assert_eq!(answer.response()["outcome"], "created", "{answer:?}");
    let app = fixtures::secret_name(Service::Rds, "app-db", "app");
    let secret = secret_json(&c, &app).await.unwrap();
    assert_eq!(secret["masterarn"], master.as_str());
    assert_eq!(secret["password"], PW_APP_USER);
    let tags: Vec<String> = Snapshot::take(&c)
        .await
        .secrets
        .into_iter()
        .find(|(n, ..)| *n == app)
        .unwrap()
        .3;
    assert!(tags.contains(&"db-secret-provisioner:database=rds/instance/app-db".to_string()));
    assert!(tags.contains(&"db-secret-provisioner:username=app".to_string()));
    assert!(!f.logs().contains(PW_APP_USER));
}

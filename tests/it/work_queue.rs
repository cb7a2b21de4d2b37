//! Organization at any size (issue "the hub plans its sweep, and workers sweep one
//! account-region per SQS message"): the built binary as the planner and as workers
//! (`HANDLER_MODE=worker`), through the Runtime API, against one moto running several
//! accounts, with its SQS as the work queue. The test poller
//! ([`crate::support::queue::WorkQueue::drain`]) plays Lambda's event source mapping with
//! Lambda's documented rules (moto's own mapping ignores `batchItemFailures`); what moto's SQS
//! answers differently from AWS (a batch with `Failed` entries) is played by the test proxy in
//! AWS's shape (`Mode::RefuseEntriesWhere`). The queue policy's deny is checked statically
//! (tests/deploy/check_template.py): moto evaluates no resource policy.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::accounts::{clients_in, create_role};
use crate::support::events::{self, instance_created_in};
use crate::support::fixtures::{self, Db, Service};
use crate::support::proxy::{Mode, Proxy};
use crate::support::queue::{
    failed_items, place_lines, Hub, PlaceLine, Received, MAX_RECEIVE_COUNT,
};
use crate::support::runtime_api::Answer;
use crate::support::*;

const ROLE: &str = "db-secret-provisioner-member";
const ORG_ID: &str = "o-exampleorg1";
const M1: &str = "111111111111";
const M2: &str = "222222222222";
const NO_ROLE: &str = "444444444444";
const OUTSIDER: &str = "999999999999";
const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];

fn admin_secret(id: &str) -> String {
    fixtures::secret_name(Service::Rds, id, "admin")
}

async fn seed(m: &str, account: &str, region: &str, id: &str) -> Clients {
    let c = clients_in(m, account, region).await;
    create_instance(&c, id, "postgres", "admin").await;
    Db::new("instance", Service::Rds, id, "admin")
        .put_password(&c, &format!("pw-{account}"))
        .await;
    c
}

/// The scheduled event with an id of its own (the plan id).
fn plan_event() -> Value {
    let mut e = events::scheduled();
    e["id"] = json!(unique("plan"));
    e
}

fn place_of(body: &str) -> (String, String) {
    let v: Value = serde_json::from_str(body).unwrap();
    (
        v["account"].as_str().unwrap().to_string(),
        v["region"].as_str().unwrap().to_string(),
    )
}

/// The workers' place lines once there are `n`: a process writes its line before it answers,
/// but its output reaches the test a moment later.
fn wait_lines(workers: &[&Function], n: usize) -> Vec<PlaceLine> {
    let until = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let lines = place_lines(workers);
        if lines.len() >= n || std::time::Instant::now() >= until {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The worker's place line number `n` (0-based), once written.
fn line_after(worker: &Function, n: usize) -> PlaceLine {
    wait_lines(&[worker], n + 1)
        .into_iter()
        .nth(n)
        .unwrap_or_else(|| panic!("no place line {n}"))
}

/// The worker's last place line about message `id`, once written.
fn line_of(worker: &Function, id: &str) -> PlaceLine {
    let until = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(l) = place_lines(&[worker])
            .into_iter()
            .rev()
            .find(|l| l.message_id == id)
        {
            return l;
        }
        assert!(std::time::Instant::now() < until, "no place line for {id}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test]
async fn a_hub_plans_one_message_per_place_and_the_workers_sweep_each_once() {
    let moto = start_moto(None);
    let m = &moto.endpoint;
    let mut seeded = BTreeMap::new();
    for account in [M1, M2, NO_ROLE] {
        if account != NO_ROLE {
            create_role(m, account, ROLE).await;
        }
        for region in REGIONS {
            let id = format!("wq-{}-{region}", &account[..3]);
            let c = seed(m, account, region, &id).await;
            seeded.insert((account.to_string(), region.to_string()), (id, c));
        }
    }
    let proxy = Proxy::start(m);
    let members = format!("{M1},{M2},{NO_ROLE}");
    let env = [
        ("MEMBER_ACCOUNTS", members.as_str()),
        ("ORGANIZATION_ID", ORG_ID),
        ("SWEEP_REGIONS", "us-east-1,eu-west-1"),
    ];
    let hub = Hub::start(m, &proxy.endpoint(), &env, 3).await;

    // The plan: one message per place, and nothing done in any member account.
    let plan = hub.planner.invoke(&plan_event());
    let plan = plan.response();
    assert_eq!(plan["outcome"], "reconciled", "{plan}");
    let p = &plan["sweep"];
    assert_eq!(
        (
            &p["planned"],
            &p["planFailed"],
            &p["accounts"],
            &p["regions"]
        ),
        (&json!(6), &json!(0), &json!(3), &json!(2)),
        "{p}"
    );
    let ops = proxy.operations();
    assert_eq!(ops, ["SendMessageBatch"], "the planner only sends: {ops:?}");
    assert_eq!(hub.queue.depth(&hub.queue.url).await, (6, 0));

    // Delivered: each place with a role is swept once; the place without one fails each time
    // it is delivered, and ends in the DLQ after maxReceiveCount receives.
    let deliveries = hub
        .queue
        .drain(&hub.workers(), 1, Duration::from_secs(120))
        .await;
    let mut per_place: BTreeMap<(String, String), Vec<bool>> = BTreeMap::new();
    for d in &deliveries {
        assert_eq!(d.messages.len(), 1, "batch size 1");
        let message = &d.messages[0];
        let (account, region) = place_of(&message.body);
        assert_eq!(
            message.group(),
            Some(account.as_str()),
            "MessageGroupId is the account"
        );
        let failed = !d.failed.is_empty();
        let answer = d.answer.response();
        if failed {
            assert_eq!(
                answer,
                &json!({"batchItemFailures": [{"itemIdentifier": message.message_id}]})
            );
        } else {
            assert_eq!(answer, &json!({"batchItemFailures": []}));
        }
        per_place.entry((account, region)).or_default().push(failed);
    }
    assert_eq!(per_place.len(), 6, "{per_place:?}");
    for ((account, region), fates) in &per_place {
        if account == NO_ROLE {
            assert_eq!(
                fates,
                &vec![true; MAX_RECEIVE_COUNT as usize],
                "{account}/{region}: delivered maxReceiveCount times"
            );
        } else {
            assert_eq!(fates, &vec![false], "{account}/{region}: swept once");
        }
    }
    let mut dead: Vec<(String, String)> = hub
        .queue
        .dead_letters(2)
        .await
        .iter()
        .map(|b| place_of(b))
        .collect();
    dead.sort();
    assert_eq!(
        dead,
        [
            (NO_ROLE.to_string(), "eu-west-1".to_string()),
            (NO_ROLE.to_string(), "us-east-1".to_string())
        ]
    );
    assert_eq!(hub.queue.depth(&hub.queue.url).await, (0, 0));

    // Each place's secret, in its own account and region; one line per delivered record.
    for ((account, region), (id, c)) in &seeded {
        let secret = secret_json(c, &admin_secret(id)).await;
        assert_eq!(secret.is_some(), account != NO_ROLE, "{account}/{region}");
    }
    let lines = wait_lines(&hub.workers(), deliveries.len());
    assert_eq!(lines.len(), deliveries.len());
    for l in &lines {
        if l.account == NO_ROLE {
            assert_eq!(
                (l.outcome.as_str(), l.error_type.as_str()),
                ("failed", "MemberAccessDenied")
            );
        } else {
            let report = l.report.as_ref().expect("a swept place's report");
            let (id, _) = &seeded[&(l.account.clone(), l.region.clone())];
            assert_eq!(report["created"], json!([admin_secret(id)]), "{report}");
            assert_eq!(l.line["fields"]["trigger"], "place-message");
        }
    }
    // Every member session is named after the plan, with the function's source identity.
    let plan_id = p["planId"].as_str().unwrap();
    for assumed in proxy.assume_role_requests() {
        assert_eq!(assumed["RoleSessionName"], plan_id);
        assert_eq!(assumed["SourceIdentity"], "db-secret-provisioner");
    }
}

#[tokio::test]
async fn the_same_place_delivered_twice_at_once_is_created_once_without_error() {
    let moto = start_moto(None);
    let m = &moto.endpoint;
    create_role(m, M1, ROLE).await;
    let c = clients_in(m, M1, REGIONS[0]).await;
    let ids: Vec<String> = (0..6).map(|n| format!("twice-{n}")).collect();
    for id in &ids {
        create_instance(&c, id, "postgres", "admin").await;
        Db::new("instance", Service::Rds, id, "admin")
            .put_password(&c, "pw-twice")
            .await;
    }
    let env = [
        ("MEMBER_ACCOUNTS", M1),
        ("ORGANIZATION_ID", ORG_ID),
        ("SWEEP_REGIONS", REGIONS[0]),
        ("REPLICA_REGIONS", "us-west-2"),
        ("ON_DATABASE_DELETED", "schedule-deletion"),
        ("MAX_RETIRE_FRACTION", "1"),
        ("MAX_RETIRE_PER_RUN", "10"),
    ];
    let hub = Hub::start(m, m, &env, 2).await;
    let plan = hub.planner.invoke(&plan_event());
    assert_eq!(plan.response()["sweep"]["planned"], 1, "{plan:?}");
    let received: Vec<Received> = hub.queue.receive(1).await;
    assert_eq!(received.len(), 1);
    // A standard queue may hand one message to two workers at once.
    let event = hub.queue.event(&received, &hub.queue.arn);
    let answers: Vec<Answer> = std::thread::scope(|s| {
        let handles: Vec<_> = hub
            .workers
            .iter()
            .map(|w| {
                let event = &event;
                s.spawn(move || w.invoke(event))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for a in &answers {
        assert_eq!(a.response(), &json!({"batchItemFailures": []}), "{a:?}");
    }
    let lines = wait_lines(&hub.workers(), 2);
    assert_eq!(lines.len(), 2, "{lines:?}");
    let mut created: Vec<String> = Vec::new();
    for l in &lines {
        let r = l.report.as_ref().expect("swept");
        for key in ["failed", "stuck", "flagged", "left"] {
            assert_eq!(r[key], json!([]), "{key}: {r}");
        }
        created.extend(
            r["created"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_str().unwrap().to_string()),
        );
    }
    created.sort();
    let mut expected: Vec<String> = ids.iter().map(|id| admin_secret(id)).collect();
    expected.sort();
    assert_eq!(created, expected, "each secret created exactly once");
    for id in &ids {
        let secret = secret_json(&c, &admin_secret(id)).await.unwrap();
        assert_eq!(secret["password"], "pw-twice");
        assert_eq!(version_count(&c, &admin_secret(id)).await, 1, "{id}");
    }
    // Delivered once more, later (yesterday's message overlapping today's plan): nothing to do.
    let again = hub.workers[0].invoke(&event);
    assert_eq!(again.response(), &json!({"batchItemFailures": []}));
    let last = line_after(&hub.workers[0], 1);
    let r = last.report.unwrap();
    assert_eq!(
        (&r["created"], &r["alreadyPresent"]),
        (&json!([]), &json!(6)),
        "{r}"
    );
}

#[tokio::test]
async fn only_place_messages_of_the_work_queue_naming_places_it_sweeps_are_swept() {
    let moto = start_moto(None);
    let m = &moto.endpoint;
    create_role(m, M1, ROLE).await;
    seed(m, M1, REGIONS[0], "trusted-db").await;
    let proxy = Proxy::start(m);
    let members = format!("{M1},{M2}");
    let env = [
        ("MEMBER_ACCOUNTS", members.as_str()),
        ("ORGANIZATION_ID", ORG_ID),
        ("SWEEP_REGIONS", REGIONS[0]),
    ];
    let hub = Hub::start(m, &proxy.endpoint(), &env, 1).await;
    let worker = &hub.workers[0];
    let now = db_secret_provisioner::model::timestamp::rfc3339(std::time::SystemTime::now());
    let body = |account: &str, region: &str, planned_at: &str| {
        json!({"v": 1, "account": account, "region": region, "planId": "p-test",
               "plannedAt": planned_at})
        .to_string()
    };
    let record = |id: &str, body: &str, source: &str, arn: &str| {
        json!({"messageId": id, "receiptHandle": "rh", "body": body, "attributes": {},
               "messageAttributes": {}, "md5OfBody": "", "eventSource": source,
               "eventSourceARN": arn, "awsRegion": REGION})
    };
    let other_queue = format!("arn:aws:sqs:{REGION}:{ACCOUNT}:someone-elses-queue");
    let marker = "LEAK-MARKER-7f3a";
    let mut envelope = instance_created_in("trusted-db", M1, REGIONS[0]);
    envelope["detail"]["Message"] = json!(marker);
    let two_days_ago = db_secret_provisioner::model::timestamp::rfc3339(
        std::time::SystemTime::now() - Duration::from_secs(2 * 86_400),
    );
    let arn = hub.queue.arn.as_str();
    for (name, rec, outcome) in [
        (
            "an aws.rds envelope as the body",
            record("m1", &envelope.to_string(), "aws:sqs", arn),
            "refused",
        ),
        (
            "another queue",
            record("m2", &body(M1, REGIONS[0], &now), "aws:sqs", &other_queue),
            "refused",
        ),
        (
            "not from SQS",
            record("m3", &body(M1, REGIONS[0], &now), "aws:sns", arn),
            "refused",
        ),
        (
            "an account that is no member",
            record("m4", &body(OUTSIDER, REGIONS[0], &now), "aws:sqs", arn),
            "refused",
        ),
        (
            "the hub's own account, which the sweep does not list",
            record("m5", &body(ACCOUNT, REGIONS[0], &now), "aws:sqs", arn),
            "refused",
        ),
        (
            "a region the sweep does not cover",
            record("m6", &body(M1, "eu-west-1", &now), "aws:sqs", arn),
            "refused",
        ),
        (
            "an extra key",
            record(
                "m7",
                &body(M1, REGIONS[0], &now).replace('}', &format!(r#","note":"{marker}"}}"#)),
                "aws:sqs",
                arn,
            ),
            "refused",
        ),
        (
            "planned two days ago",
            record("m8", &body(M1, REGIONS[0], &two_days_ago), "aws:sqs", arn),
            "ignored",
        ),
    ] {
        proxy.clear_operations();
        let id = rec["messageId"].as_str().unwrap().to_string();
        let answer = worker.invoke(&json!({"Records": [rec]}));
        assert_eq!(
            answer.response(),
            &json!({"batchItemFailures": []}),
            "{name}: answered, so that the message is deleted"
        );
        let line = line_of(worker, &id);
        assert_eq!(line.outcome, outcome, "{name}: {:?}", line.line);
        if outcome == "refused" {
            assert_eq!(line.error_type, "UntrustedEvent", "{name}");
            assert_eq!(line.line["level"], "WARN", "{name}");
        }
        assert_eq!(
            proxy.operations(),
            Vec::<String>::new(),
            "{name}: no AWS call"
        );
    }
    let leaked: Vec<String> = worker
        .logs()
        .lines()
        .filter(|l| l.contains(marker))
        .map(str::to_string)
        .collect();
    assert!(leaked.is_empty(), "a body is never quoted: {leaked:?}");

    // Not an SQS batch at all (an EventBridge event invoked directly): a failed invocation.
    let direct = worker.invoke(&instance_created_in("trusted-db", M1, REGIONS[0]));
    assert_eq!(direct.error_type(), "UntrustedEvent");

    // A place that fails (M2 has no role) in a record without a messageId cannot be named in
    // batchItemFailures: the whole batch fails, as Lambda documents.
    let mut nameless = record("", &body(M2, REGIONS[0], &now), "aws:sqs", arn);
    nameless["messageId"] = Value::Null;
    let answer = worker.invoke(&json!({"Records": [nameless]}));
    assert_eq!(answer.error_type(), "MemberAccessDenied");
    let batch = [Received {
        message_id: String::new(),
        receipt_handle: String::new(),
        body: String::new(),
        md5_of_body: String::new(),
        attributes: Default::default(),
    }];
    assert_eq!(failed_items(&batch, &answer).len(), 1, "the batch failed");

    // Through the queue: a body the planner would never write is delivered once, refused and
    // deleted (a retry cannot fix it), and never reaches the DLQ.
    hub.queue.send_raw(r#"{"sweep":"everything"}"#).await;
    let deliveries = hub
        .queue
        .drain(&hub.workers(), 1, Duration::from_secs(30))
        .await;
    assert_eq!(deliveries.len(), 1);
    assert!(deliveries[0].failed.is_empty());
    assert!(hub.queue.dead_letters(0).await.is_empty());
    // The one good message still sweeps.
    let good = record("m9", &body(M1, REGIONS[0], &now), "aws:sqs", arn);
    let answer = worker.invoke(&json!({"Records": [good]}));
    assert_eq!(answer.response(), &json!({"batchItemFailures": []}));
    let last = line_of(worker, "m9");
    assert_eq!(
        last.report.unwrap()["created"],
        json!([admin_secret("trusted-db")])
    );
}

#[tokio::test]
async fn entries_the_queue_refuses_are_sent_again_twice_then_counted() {
    let moto = start_moto(None);
    let m = &moto.endpoint;
    // Six members × 2 regions: 12 places, two batches; the last member's places are the
    // second batch's.
    const LAST: &str = "666666666666";
    let accounts = [
        "111111111111",
        "222222222222",
        "333333333333",
        "444444444444",
        "555555555555",
        LAST,
    ];
    let members = accounts.join(",");
    let env = [
        ("MEMBER_ACCOUNTS", members.as_str()),
        ("ORGANIZATION_ID", ORG_ID),
        ("SWEEP_REGIONS", "us-east-1,eu-west-1"),
    ];
    let proxy = Proxy::start(m);
    let hub = Hub::start(m, &proxy.endpoint(), &env, 0).await;
    let sends = |p: &Proxy| {
        p.operations()
            .iter()
            .filter(|o| *o == "SendMessageBatch")
            .count()
    };
    let mut queued = 0;
    for (times, sender_fault, planned, failed, calls) in [
        // Refused twice, queued on the second retry.
        (2, false, 12, 0, 4),
        // Refused three times: given up after two retries.
        (3, false, 10, 2, 4),
        // The sender's fault: it would fail the same way again, so no retry.
        (1, true, 10, 2, 2),
    ] {
        proxy.clear_operations();
        proxy.set_mode(Mode::RefuseEntriesWhere {
            marker: LAST,
            times,
            sender_fault,
        });
        let before = hub.planner.logs().lines().count();
        let answer = hub.planner.invoke(&plan_event());
        let o = answer.response();
        assert_eq!(o["outcome"], "reconciled", "{o}");
        assert_eq!(
            (&o["sweep"]["planned"], &o["sweep"]["planFailed"]),
            (&json!(planned), &json!(failed)),
            "{times} × sender_fault={sender_fault}: {o}"
        );
        assert_eq!(sends(&proxy), calls, "{:?}", proxy.operations());
        queued += planned;
        assert_eq!(hub.queue.depth(&hub.queue.url).await.0, queued as u64);
        let logs = hub.planner.logs_with("could not be queued", failed);
        let refused: Vec<&str> = logs
            .lines()
            .skip(before)
            .filter(|l| l.contains("could not be queued"))
            .collect();
        assert_eq!(refused.len(), failed, "{logs}");
        let code = if sender_fault {
            "InvalidParameterValue"
        } else {
            "InternalError"
        };
        let regions: HashSet<&str> = refused
            .iter()
            .map(|l| {
                assert!(l.contains(LAST) && l.contains(code), "{l}");
                if l.contains("eu-west-1") {
                    "eu-west-1"
                } else {
                    "us-east-1"
                }
            })
            .collect();
        assert_eq!(regions.len(), failed, "one line per place");
    }
    // The whole call refused (e.g. the queue policy's deny): nothing queued, the invocation
    // fails (Lambda retries the scheduled event, the errors alarm counts it).
    proxy.set_mode(Mode::Deny("SendMessageBatch"));
    let answer = hub.planner.invoke(&plan_event());
    assert_eq!(answer.error_type(), "AwsServiceError", "{answer:?}");
}

#[tokio::test]
async fn a_place_that_runs_out_of_time_succeeds_and_reports_what_it_left() {
    let moto = start_moto(None);
    let m = &moto.endpoint;
    create_role(m, M1, ROLE).await;
    let c = clients_in(m, M1, REGIONS[0]).await;
    for n in 0..12 {
        let id = format!("slow-{n}");
        create_instance(&c, &id, "postgres", "admin").await;
        Db::new("instance", Service::Rds, &id, "admin")
            .put_password(&c, "pw")
            .await;
    }
    let proxy = Proxy::start(m);
    let env = [
        ("MEMBER_ACCOUNTS", M1),
        ("ORGANIZATION_ID", ORG_ID),
        ("SWEEP_REGIONS", REGIONS[0]),
    ];
    let hub = Hub::start(m, &proxy.endpoint(), &env, 1).await;
    hub.planner.invoke(&plan_event());
    let received = hub.queue.receive(1).await;
    let event = hub.queue.event(&received, &hub.queue.arn);
    // Every request takes 250 ms, and the invocation has 27 s: 2 s before the worker stops
    // starting tasks (25 s before its deadline).
    proxy.set_delay(Duration::from_millis(250));
    let answer = hub.workers[0].api.invoke_with_deadline(
        &event,
        Duration::from_secs(27),
        Duration::from_secs(60),
    );
    assert_eq!(answer.response(), &json!({"batchItemFailures": []}));
    let line = line_after(&hub.workers[0], 0);
    let r = line.report.expect("the place's report");
    let created = r["created"].as_array().unwrap().len();
    let left = r["left"].as_array().unwrap().len();
    assert!(created > 0 && left > 0 && created + left == 12, "{r}");
    assert_eq!(r["outOfTime"], json!(["create"]), "{r}");
}

/// A place whose listing is still throttled after the SDK's retries was not swept whole: the
/// worker hands it back (`batchItemFailures`, so SQS delivers it again and the DLQ gets it
/// after `maxReceiveCount`). A listing refused for good (AccessDenied: the member role lacks
/// the permission) is reported, and the record succeeds: no retry fixes it. RDS is a query
/// protocol: the proxy answers its errors as AWS does (an XML `Code`), which moto never does.
#[tokio::test]
async fn a_place_with_a_throttled_listing_is_delivered_again_one_refused_is_not() {
    let moto = start_moto(None);
    let m = &moto.endpoint;
    create_role(m, M1, ROLE).await;
    seed(m, M1, REGIONS[0], "listed").await;
    let proxy = Proxy::start(m);
    let env = [
        ("MEMBER_ACCOUNTS", M1),
        ("ORGANIZATION_ID", ORG_ID),
        ("SWEEP_REGIONS", REGIONS[0]),
    ];
    let hub = Hub::start(m, &proxy.endpoint(), &env, 1).await;
    hub.planner.invoke(&plan_event());
    let received = hub.queue.receive(1).await;
    assert_eq!(received.len(), 1);
    let event = hub.queue.event(&received, &hub.queue.arn);
    let message_id = event["Records"][0]["messageId"]
        .as_str()
        .unwrap()
        .to_string();

    for (code, retried) in [("Throttling", true), ("AccessDenied", false)] {
        proxy.set_mode(Mode::FailWhere(match code {
            "Throttling" => &[("DescribeDBInstances", "DescribeDBInstances", "Throttling")],
            _ => &[("DescribeDBInstances", "DescribeDBInstances", "AccessDenied")],
        }));
        let n = place_lines(&[&hub.workers[0]]).len();
        let answer = hub.workers[0].api.invoke(&event, Duration::from_secs(60));
        let want = if retried {
            json!({"batchItemFailures": [{"itemIdentifier": message_id}]})
        } else {
            json!({"batchItemFailures": []})
        };
        assert_eq!(answer.response(), &want, "{code}");
        let line = line_after(&hub.workers[0], n);
        let r = line.report.expect("the place's report");
        assert_eq!(
            r["failedListings"][0]["listing"],
            json!("rds-instances"),
            "{code}: {r}"
        );
        assert!(
            r["failedListings"][0]["message"]
                .as_str()
                .unwrap()
                .contains(code),
            "{code}: {r}"
        );
        assert_eq!(
            line.outcome,
            if retried { "failed" } else { "reconciled" },
            "{code}"
        );
        assert!(r["failedListings"][0].get("transient").is_none(), "{r}");
    }
}

/// The test poller reads an answer as Lambda documents (*Reporting batch item failures*), and
/// never more leniently: the rules the tests above rely on.
#[test]
fn the_test_poller_reads_answers_as_lambda_documents() {
    let received = |id: &str| Received {
        message_id: id.into(),
        receipt_handle: String::new(),
        body: String::new(),
        md5_of_body: String::new(),
        attributes: Default::default(),
    };
    let batch = [received("a"), received("b")];
    let failed = |v: Value| failed_items(&batch, &Answer::Response(v));
    let none: Vec<String> = Vec::new();
    let all = vec!["a".to_string(), "b".to_string()];
    // Complete success: an empty or null list, an empty or null response.
    assert_eq!(failed(json!({"batchItemFailures": []})), none);
    assert_eq!(failed(json!({"batchItemFailures": null})), none);
    assert_eq!(failed(json!({})), none);
    assert_eq!(failed(Value::Null), none);
    // Partial: the named records only.
    assert_eq!(
        failed(json!({"batchItemFailures": [{"itemIdentifier": "b"}]})),
        ["b"]
    );
    // Complete failure: an empty, null or unknown identifier, a bad key, an invalid response,
    // a thrown error.
    for bad in [
        json!({"batchItemFailures": [{"itemIdentifier": ""}]}),
        json!({"batchItemFailures": [{"itemIdentifier": null}]}),
        json!({"batchItemFailures": [{"itemIdentifier": "c"}]}),
        json!({"batchItemFailures": [{"messageId": "a"}]}),
        json!({"batchItemFailures": "a"}),
        json!("ok"),
        json!([]),
    ] {
        assert_eq!(failed(bad.clone()), all, "{bad}");
    }
    assert_eq!(
        failed_items(&batch, &Answer::Error(json!({"errorType": "X"}))),
        all
    );
}

/// A plan that would outlive its invocation stops starting batches 30 s before the deadline
/// and answers: the unsent places are counted in `planFailed` and logged (`PlanOutOfTime`),
/// and the invocation succeeds, so that Lambda does not run the scheduled event again and
/// queue the same places twice more. 20 members × 10 regions: 20 batches, 16 at once; each
/// call held 2 s, and the invocation has 31 s, so the first 16 start and the last 4 do not.
#[tokio::test]
async fn a_plan_near_its_deadline_stops_sending_and_answers() {
    let moto = start_moto(None);
    let m = &moto.endpoint;
    let accounts: Vec<String> = (0..20)
        .map(|i| format!("{:012}", 700_000_000_000u64 + i))
        .collect();
    let members = accounts.join(",");
    let regions = "us-east-1,us-east-2,us-west-1,us-west-2,eu-west-1,eu-west-2,eu-central-1,ap-southeast-1,ap-northeast-1,sa-east-1";
    let env = [
        ("MEMBER_ACCOUNTS", members.as_str()),
        ("ORGANIZATION_ID", ORG_ID),
        ("SWEEP_REGIONS", regions),
    ];
    let proxy = Proxy::start(m);
    let hub = Hub::start(m, &proxy.endpoint(), &env, 0).await;
    proxy.set_mode(Mode::DelayWhere(
        &[("SendMessageBatch", "")],
        Duration::from_secs(2),
    ));
    let answer = hub.planner.api.invoke_with_deadline(
        &plan_event(),
        Duration::from_secs(31),
        Duration::from_secs(60),
    );
    let o = answer.response();
    assert_eq!(o["outcome"], "reconciled", "{o}");
    assert_eq!(
        (&o["sweep"]["planned"], &o["sweep"]["planFailed"]),
        (&json!(160), &json!(40)),
        "{o}"
    );
    let sends = proxy
        .operations()
        .iter()
        .filter(|o| *o == "SendMessageBatch")
        .count();
    assert_eq!(sends, 16);
    assert_eq!(hub.queue.depth(&hub.queue.url).await.0, 160);
    let logs = hub.planner.logs_with("PlanOutOfTime", 40);
    assert_eq!(logs.matches("PlanOutOfTime").count(), 40, "{logs}");
}

//! The hub's work queue in moto, and a poller that plays Lambda's SQS event source mapping for
//! the worker binaries (moto's own mapping ignores `batchItemFailures` and `ScalingConfig`, so
//! none is created).
//!
//! The poller follows Lambda's documented rules (docs/aws-behaviour.md, "The work queue"):
//! - batches of at most `batch_size` records (the deployments use 1), in the SQS record shape
//!   Lambda sends (`messageId`, `receiptHandle`, `body`, `attributes`, `md5OfBody`,
//!   `eventSource: aws:sqs`, `eventSourceARN`, `awsRegion`);
//! - as many batches at once as there are workers (the mapping's maximum concurrency);
//! - a thrown error, an answer that is not JSON, or an `itemIdentifier` that is empty, null or
//!   not a message of the batch fails the whole batch; an empty or missing
//!   `batchItemFailures` is complete success;
//! - the messages of a successful batch (all but the failed items) are deleted; failed ones
//!   stay invisible until the queue's visibility timeout ends, and SQS moves a message to the
//!   DLQ once it has been received `maxReceiveCount` times.
//!
//! Deviation, named: the test queue's visibility timeout is seconds, not 6 × the worker's
//! timeout, so that redelivery and the DLQ are reached within a test.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use serde_json::{json, Value};

use crate::runtime_api::Answer;
use crate::{sdk_config, Function, REGION};

/// The work queue and its DLQ, in the hub account (123456789012) and region.
#[derive(Debug, Clone)]
pub struct WorkQueue {
    pub url: String,
    pub arn: String,
    pub dlq_url: String,
    pub dlq_arn: String,
    pub client: aws_sdk_sqs::Client,
}

/// The deployments' `maxReceiveCount` (AWS recommends at least 5).
pub const MAX_RECEIVE_COUNT: u32 = 5;

/// Creates the work queue `name` (and `name-dlq`) with a `visibility` timeout in seconds.
pub async fn create_work_queue(endpoint: &str, name: &str, visibility: u32) -> WorkQueue {
    let client = aws_sdk_sqs::Client::new(&sdk_config(endpoint, REGION).await);
    let dlq_url = client
        .create_queue()
        .queue_name(format!("{name}-dlq"))
        .attributes(QueueAttributeName::MessageRetentionPeriod, "1209600")
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_string();
    let dlq_arn = arn_of(&client, &dlq_url).await;
    let redrive = json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT});
    let url = client
        .create_queue()
        .queue_name(name)
        .attributes(
            QueueAttributeName::VisibilityTimeout,
            visibility.to_string(),
        )
        .attributes(QueueAttributeName::MessageRetentionPeriod, "86400")
        .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_string();
    let arn = arn_of(&client, &url).await;
    WorkQueue {
        url,
        arn,
        dlq_url,
        dlq_arn,
        client,
    }
}

async fn arn_of(client: &aws_sdk_sqs::Client, url: &str) -> String {
    client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .unwrap()
        .clone()
}

/// One message as the poller received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    pub md5_of_body: String,
    pub attributes: HashMap<String, String>,
}

impl Received {
    pub fn group(&self) -> Option<&str> {
        self.attributes.get("MessageGroupId").map(String::as_str)
    }
}

/// One batch handed to a worker, and its fate.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub messages: Vec<Received>,
    pub answer: Answer,
    /// Message ids Lambda would treat as failed (all of them for a failed batch).
    pub failed: Vec<String>,
}

impl WorkQueue {
    /// Receives up to `max` messages (all attributes), without a wait.
    pub async fn receive(&self, max: i32) -> Vec<Received> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(max.clamp(1, 10))
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .unwrap();
        out.messages()
            .iter()
            .map(|m| Received {
                message_id: m.message_id().unwrap_or_default().to_string(),
                receipt_handle: m.receipt_handle().unwrap_or_default().to_string(),
                body: m.body().unwrap_or_default().to_string(),
                md5_of_body: m.md5_of_body().unwrap_or_default().to_string(),
                attributes: m
                    .attributes()
                    .map(|a| {
                        a.iter()
                            .map(|(k, v)| (k.as_str().to_string(), v.clone()))
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect()
    }

    /// Messages waiting and in flight in `url` (the work queue or the DLQ).
    pub async fn depth(&self, url: &str) -> (u64, u64) {
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .unwrap();
        let get = |n: QueueAttributeName| {
            out.attributes()
                .and_then(|a| a.get(&n))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        (
            get(QueueAttributeName::ApproximateNumberOfMessages),
            get(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        )
    }

    /// The bodies in the DLQ, once `expect` are there (or after 10 s): each received once, with a
    /// visibility timeout that keeps it from being received again by this call.
    pub async fn dead_letters(&self, expect: usize) -> Vec<String> {
        let until = Instant::now() + Duration::from_secs(10);
        let mut bodies = Vec::new();
        while bodies.len() < expect.max(1) && Instant::now() < until {
            let out = self
                .client
                .receive_message()
                .queue_url(&self.dlq_url)
                .max_number_of_messages(10)
                .visibility_timeout(300)
                .send()
                .await
                .unwrap();
            bodies.extend(
                out.messages()
                    .iter()
                    .map(|m| m.body().unwrap_or_default().to_string()),
            );
            if expect == 0 {
                break;
            }
            if bodies.len() < expect {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        bodies
    }

    /// Sends `body` as the tests (not the planner): only for bodies the planner would never write.
    pub async fn send_raw(&self, body: &str) {
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await
            .unwrap();
    }

    /// The SQS event Lambda would hand a worker for `messages`, as if from queue `arn`.
    pub fn event(&self, messages: &[Received], arn: &str) -> Value {
        let records: Vec<Value> = messages
            .iter()
            .map(|m| {
                json!({
                    "messageId": m.message_id,
                    "receiptHandle": m.receipt_handle,
                    "body": m.body,
                    "attributes": m.attributes,
                    "messageAttributes": {},
                    "md5OfBody": m.md5_of_body,
                    "eventSource": "aws:sqs",
                    "eventSourceARN": arn,
                    "awsRegion": REGION,
                })
            })
            .collect();
        json!({ "Records": records })
    }

    /// Plays the event source mapping until the work queue is empty (nothing waiting or in
    /// flight) or `timeout` passes: batches of `batch_size`, one per worker at a time.
    pub async fn drain(
        &self,
        workers: &[&Function],
        batch_size: usize,
        timeout: Duration,
    ) -> Vec<Delivery> {
        let until = Instant::now() + timeout;
        let mut deliveries = Vec::new();
        loop {
            let want = (workers.len() * batch_size).min(10) as i32;
            let received = self.receive(want).await;
            if received.is_empty() {
                let (waiting, in_flight) = self.depth(&self.url).await;
                if waiting + in_flight == 0 || Instant::now() >= until {
                    return deliveries;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            let batches: Vec<Vec<Received>> = received
                .chunks(batch_size)
                .map(<[Received]>::to_vec)
                .collect();
            let answers: Vec<(Vec<Received>, Answer)> = std::thread::scope(|s| {
                let handles: Vec<_> = batches
                    .into_iter()
                    .zip(workers.iter().cycle())
                    .map(|(batch, worker)| {
                        let event = self.event(&batch, &self.arn);
                        s.spawn(move || (batch, worker.invoke(&event)))
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            for (messages, answer) in answers {
                let failed = failed_items(&messages, &answer);
                for m in messages.iter().filter(|m| !failed.contains(&m.message_id)) {
                    self.client
                        .delete_message()
                        .queue_url(&self.url)
                        .receipt_handle(&m.receipt_handle)
                        .send()
                        .await
                        .unwrap();
                }
                deliveries.push(Delivery {
                    messages,
                    answer,
                    failed,
                });
            }
        }
    }
}

/// The message ids Lambda treats as failed for `answer` (ReportBatchItemFailures on). Lambda
/// (*Reporting batch item failures*): an empty or null `batchItemFailures`, or an empty or
/// null response, is a complete success; an invalid response, an empty, null or unknown
/// `itemIdentifier`, or a thrown error, a complete failure. A JSON answer that is not an
/// object (`"ok"`, `[]`) is taken as invalid: the poller is never more lenient than Lambda.
pub fn failed_items(messages: &[Received], answer: &Answer) -> Vec<String> {
    let all = || messages.iter().map(|m| m.message_id.clone()).collect();
    let Answer::Response(v) = answer else {
        return all();
    };
    let response = match v {
        Value::Null => return Vec::new(),
        Value::Object(o) => o,
        _ => return all(),
    };
    let items = match response.get("batchItemFailures") {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(items)) => items,
        Some(_) => return all(),
    };
    let mut failed = Vec::new();
    for item in items {
        match item.get("itemIdentifier").and_then(Value::as_str) {
            Some(id) if !id.is_empty() && messages.iter().any(|m| m.message_id == id) => {
                failed.push(id.to_string())
            }
            _ => return all(),
        }
    }
    failed
}

/// A worker: the built binary with `HANDLER_MODE=worker`, reading `queue`, signing with the
/// worker's own access key, configured like the planner otherwise (`env`).
pub fn start_worker(endpoint: &str, queue: &WorkQueue, env: &[(&str, &str)]) -> Function {
    start_worker_of(&crate::built_binary(), endpoint, queue, env)
}

/// [`start_worker`] of another build of the function (the benchmark's release builds).
pub fn start_worker_of(
    binary: &std::path::Path,
    endpoint: &str,
    queue: &WorkQueue,
    env: &[(&str, &str)],
) -> Function {
    let mut all: Vec<(&str, &str)> = env
        .iter()
        .filter(|(k, _)| *k != "WORK_QUEUE_URL")
        .copied()
        .collect();
    all.extend([
        ("HANDLER_MODE", "worker"),
        ("WORK_QUEUE_ARN", queue.arn.as_str()),
        ("AWS_ACCESS_KEY_ID", WORKER_KEY),
    ]);
    Function::start(binary, endpoint, &all)
}

/// The access key the worker signs with (the launcher records its calls as `worker`).
pub const WORKER_KEY: &str = "worker";

/// One place line a worker logged (`place swept`, `place dropped`, `place refused`, `place
/// failed`), with its report when it was swept.
#[derive(Debug, Clone)]
pub struct PlaceLine {
    pub message_id: String,
    pub account: String,
    pub region: String,
    pub outcome: String,
    pub error_type: String,
    pub report: Option<Value>,
    pub line: Value,
}

/// Every place line the `workers` logged, in order per worker.
pub fn place_lines(workers: &[&Function]) -> Vec<PlaceLine> {
    let mut out = Vec::new();
    for w in workers {
        for line in w.logs().lines() {
            let Ok(v) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            let f = &v["fields"];
            let message = f["message"].as_str().unwrap_or("");
            if !message.starts_with("place ") {
                continue;
            }
            let s = |k: &str| f[k].as_str().unwrap_or("").to_string();
            out.push(PlaceLine {
                message_id: s("message_id"),
                account: s("account"),
                region: s("region"),
                outcome: s("outcome"),
                error_type: s("error_type"),
                report: f["report"]
                    .as_str()
                    .and_then(|r| serde_json::from_str(r).ok()),
                line: v.clone(),
            });
        }
    }
    out
}

/// A hub as deployed: the planner (the events function, `WORK_QUEUE_URL` set), its work queue
/// in moto, and workers, all through `endpoint` (moto, or a proxy in front of it).
pub struct Hub {
    pub planner: Function,
    pub workers: Vec<Function>,
    pub queue: WorkQueue,
}

/// The test queue's visibility timeout in seconds (see the module's deviation).
pub const TEST_VISIBILITY_SECONDS: u32 = 1;

impl Hub {
    /// `moto`: where the queue is created; `endpoint`: what the functions talk to; `env`: the
    /// hub's configuration (MEMBER_ACCOUNTS, ...), shared by the planner and the workers.
    pub async fn start(moto: &str, endpoint: &str, env: &[(&str, &str)], workers: usize) -> Hub {
        let name = format!("work-{}", crate::unique("q"));
        let queue = create_work_queue(moto, &name, TEST_VISIBILITY_SECONDS).await;
        let mut planner_env: Vec<(&str, &str)> = env.to_vec();
        planner_env.push(("WORK_QUEUE_URL", queue.url.as_str()));
        let planner = Function::start(&crate::built_binary(), endpoint, &planner_env);
        let workers = (0..workers)
            .map(|_| start_worker(endpoint, &queue, env))
            .collect();
        Hub {
            planner,
            workers,
            queue,
        }
    }

    pub fn workers(&self) -> Vec<&Function> {
        self.workers.iter().collect()
    }

    /// Plans (the scheduled event) and drains the queue through the workers; returns the plan
    /// and the places in the shape of the former in-process organization sweep:
    /// `{"plan", "accounts": {account: {"regions": {region: report}, "failed": [...]}},
    /// "created", "alreadyPresent", "failedPlaces", "failedListings", "skippedAccounts"}`
    /// (`created` and `alreadyPresent` summed over the places' reports).
    pub async fn sweep(&self) -> Value {
        // A plan id of its own (the scheduled event's id), so that each plan's lines are told
        // apart in the workers' logs.
        let mut event = crate::events::scheduled();
        event["id"] = json!(crate::unique("plan"));
        let plan = self.planner.invoke(&event);
        let plan = plan.response().clone();
        assert_eq!(plan["outcome"], "reconciled", "{plan}");
        let deliveries = self
            .queue
            .drain(&self.workers(), 1, Duration::from_secs(120))
            .await;
        let plan_id = plan["sweep"]["planId"].as_str().unwrap_or("").to_string();
        let lines: Vec<PlaceLine> = place_lines(&self.workers())
            .into_iter()
            .filter(|l| l.line["fields"]["plan_id"] == plan_id.as_str())
            .collect();
        let mut accounts = serde_json::Map::new();
        let (mut created, mut present) = (0, 0);
        let mut left: Vec<String> = Vec::new();
        let mut failed_places = std::collections::BTreeSet::new();
        for l in &lines {
            let entry = accounts
                .entry(l.account.clone())
                .or_insert_with(|| json!({"regions": {}, "failed": []}));
            match &l.report {
                Some(r) => {
                    created += r["created"].as_array().map_or(0, Vec::len);
                    present += r["alreadyPresent"].as_u64().unwrap_or(0);
                    for item in r["left"].as_array().into_iter().flatten() {
                        left.push(format!(
                            "{}/{}: {}",
                            l.account,
                            l.region,
                            item.as_str().unwrap_or("")
                        ));
                    }
                    entry["regions"][&l.region] = r.clone();
                }
                None if l.outcome == "failed"
                    && failed_places.insert((l.account.clone(), l.region.clone())) =>
                {
                    entry["failed"]
                        .as_array_mut()
                        .unwrap()
                        .push(json!({"region": l.region, "errorType": l.error_type}));
                }
                None => {}
            }
        }
        json!({
            "plan": plan["sweep"],
            "deliveries": deliveries.len(),
            "accounts": accounts,
            "created": created,
            "alreadyPresent": present,
            "failedPlaces": failed_places.len(),
            "failedListings": plan["sweep"]["failedListings"].as_array().cloned().unwrap_or_default(),
            "skippedAccounts": plan["sweep"]["skippedAccounts"].as_array().cloned().unwrap_or_default(),
            "left": left,
        })
    }
}

//! The benchmark (`make bench`): cold start, warm latency, sequential AWS round trips, AWS
//! requests per event, peak RSS and artifact sizes of the release binary, against moto behind a
//! delay-injecting proxy. Not a test: it measures and prints, with the budgets next to each
//! figure.
//!
//! Usage: bench [RELEASE_BINARY] [ARM64_BOOTSTRAP_DIR]
//!
//! `BENCH_BEFORE=<dir>` (`make bench BEFORE=<dir>`): <dir> is the root of another checkout that
//! has `target/release/db-secret-provisioner` and
//! `target/lambda/db-secret-provisioner/{bootstrap,bootstrap.zip}`. Every figure is then measured
//! for those "before" binaries too, in the same run (cold starts and warm invocations alternate
//! before, after, before, after), the table has the columns `figure | before | after | budget`
//! (the budget marks are the after column's), and the differences after − before follow it,
//! flagged where outside their tolerance. An answer of either build that is not the expected one
//! is listed at the end, not hidden.
//!
//! `SWEEP_BEFORE=<binary>` (the older switch, still honoured): the before column for the
//! reconcile sweep only; BENCH_BEFORE supersedes it (it measures its own binary's sweep).

use it_support as support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::proxy::Proxy;
use support::queue::{create_work_queue, place_lines, PlaceLine, Received, WorkQueue};
use support::runtime_api::Answer;
use support::*;

const COLD_STARTS: usize = 25;
/// The sweep benchmark: this many databases that all have correct secrets, this delay per AWS
/// request.
const SWEEP_DATABASES: usize = 1000;
/// Of them, this many have a cross-region read replica in SWEEP_REPLICA_REGION, so that their
/// secrets carry regional keys (correct ones, like the rest).
const SWEEP_REPLICATED: usize = 100;
const SWEEP_REPLICA_REGION: &str = "eu-west-1";
const SWEEP_DELAY: Duration = Duration::from_millis(40);
/// The organization sweep benchmark: accounts × regions × databases, all with correct secrets.
const ORG_ACCOUNTS: usize = 20;
const ORG_REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];
const ORG_DATABASES: usize = 50;
/// Workers of the organization sweep (the deployments' WorkerMaxConcurrency default).
const ORG_WORKERS: usize = 10;
/// Accounts of the organization whose two places the worker sample sweeps, with SWEEP_DELAY
/// and with SLOW_DELAY per request.
const SAMPLE_ACCOUNTS: usize = 8;
const SLOW_SAMPLE_ACCOUNTS: usize = 4;
/// The delay for the plan at scale (realistic cross-region latency).
const SLOW_DELAY: Duration = Duration::from_millis(300);
/// The plan at scale: accounts in the organization (the hub's included) × regions.
const PLAN_ACCOUNTS: usize = 2000;
const PLAN_REGIONS: [&str; 4] = ["us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1"];
/// The worker's peak RSS: one worker sweeps RSS_ACCOUNTS × RSS_REGIONS places.
const RSS_ACCOUNTS: usize = 50;
const RSS_REGIONS: [&str; 10] = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "eu-west-2",
    "eu-central-1",
    "ap-southeast-1",
    "ap-northeast-1",
    "sa-east-1",
];
const RSS_CHECKPOINTS: [usize; 5] = [1, 50, 100, 250, 500];
/// The work queue's visibility timeout: 6 × the worker's default timeout (120 s), as deployed.
const WORK_QUEUE_VISIBILITY: u32 = 720;
const WARM_RUNS: usize = 15;
/// Measured sweeps per build (sweep and organization sweep): their median wall time counts.
const MEASURED_SWEEPS: usize = 5;
const DELAY: Duration = Duration::from_millis(200);

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn file_size(p: &Path) -> Option<u64> {
    std::fs::metadata(p).ok().map(|m| m.len())
}

fn mb(bytes: u64) -> String {
    format!("{:.2} MB", bytes as f64 / 1_000_000.0)
}

fn counts_text(counts: &BTreeMap<String, usize>) -> String {
    counts
        .iter()
        .map(|(k, v)| format!("{k} ×{v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One build under measurement: its x86_64 release binary and its arm64 artifact folder.
struct Build {
    name: &'static str,
    binary: PathBuf,
    arm64_dir: PathBuf,
}

/// Answers that are not the ones the benchmark expects, by build, scenario and answer, counted.
#[derive(Default)]
struct Notes(BTreeMap<String, usize>);

impl Notes {
    /// The response of `answer`, or Null (noted) when the function answered with an error.
    fn response(&mut self, build: &str, scenario: &str, answer: &Answer) -> Value {
        match answer {
            Answer::Response(v) => v.clone(),
            Answer::Error(e) => {
                self.note(build, scenario, format!("answered an error: {e}"));
                Value::Null
            }
        }
    }

    /// Notes `got` when it is not `want`.
    fn expect(&mut self, build: &str, scenario: &str, what: &str, got: &Value, want: &Value) {
        if got != want {
            self.note(build, scenario, format!("{what} is {got}, expected {want}"));
        }
    }

    fn note(&mut self, build: &str, scenario: &str, text: String) {
        let mut text: String = text.chars().take(400).collect();
        text = text.replace('\n', " ");
        *self
            .0
            .entry(format!("{build}: {scenario}: {text}"))
            .or_default() += 1;
    }
}

struct SweepFigures {
    calls: usize,
    by_operation: String,
    decrypting_reads: usize,
    wall: Duration,
}

/// Seeds SWEEP_DATABASES instances with their parameters in a moto of their own, lets the
/// binary's own sweep create every secret, then times one more sweep with SWEEP_DELAY per
/// request.
async fn sweep_bench(build: &Build, notes: &mut Notes) -> SweepFigures {
    use futures_util::{stream, StreamExt as _};
    let moto = start_moto(None);
    let proxy = Proxy::start(&moto.endpoint);
    let clients = Clients::new(&sdk_config(&moto.endpoint, REGION).await);
    let c = &clients;
    stream::iter(0..SWEEP_DATABASES)
        .for_each_concurrent(16, |i| async move {
            let id = format!("sweep-{i:04}");
            create_instance(c, &id, "postgres", "admin").await;
            put_password(c, &format!("/db-secrets/rds/{id}/admin"), "bench-Passw0rd").await;
        })
        .await;
    let replicas = Clients::new(&sdk_config(&moto.endpoint, SWEEP_REPLICA_REGION).await);
    let r = &replicas;
    stream::iter(0..SWEEP_REPLICATED)
        .for_each_concurrent(16, |i| async move {
            let source = format!("arn:aws:rds:{REGION}:{ACCOUNT}:db:sweep-{i:04}");
            r.rds
                .create_db_instance_read_replica()
                .db_instance_identifier(format!("sweep-{i:04}-eu"))
                .source_db_instance_identifier(source)
                .db_instance_class("db.t3.micro")
                .send()
                .await
                .unwrap_or_else(|e| panic!("create replica {i}: {e:?}"));
        })
        .await;
    let f = Function::start(&build.binary, &proxy.endpoint(), &[]);
    let sweep = |notes: &mut Notes, scenario: &str| {
        let answer = f.api.invoke(&events::scheduled(), Duration::from_secs(300));
        notes.response(build.name, scenario, &answer)["sweep"].clone()
    };
    // The binary's own sweeps create the secrets (each stops before its deadline).
    for _ in 0..10 {
        if sweep(notes, "reconcile sweep (creating the secrets)")["left"]
            .as_array()
            .is_none_or(|l| l.is_empty())
        {
            break;
        }
    }
    // A replicated database's secret carries its regional keys (a build from before issue 22
    // writes none: only the build under test is held to it).
    if build.name != "before" {
        let replicated = secret_json(c, "db-secrets/rds/sweep-0000/admin").await;
        let regions = replicated.map_or(json!(null), |s| s["regions"].clone());
        notes.expect(
            build.name,
            "reconcile sweep (creating the secrets)",
            "sweep-0000's regions",
            &regions,
            &json!(format!("{REGION},{SWEEP_REPLICA_REGION}")),
        );
    }
    // Five measured sweeps (nothing left to do, so each is the same): the wall time is their
    // median, the requests those of the first.
    proxy.set_delay(SWEEP_DELAY);
    let mut walls = Vec::new();
    let mut report = json!(null);
    let mut operations = Vec::new();
    for i in 0..MEASURED_SWEEPS {
        proxy.clear_operations();
        let t = Instant::now();
        let r = sweep(notes, "reconcile sweep (measured)");
        walls.push(t.elapsed());
        if i == 0 {
            report = r;
            operations = proxy.operations();
        }
    }
    let wall = median(walls);
    proxy.set_delay(Duration::ZERO);
    notes.expect(
        build.name,
        "reconcile sweep (measured)",
        "sweep.created",
        &report["created"],
        &json!([]),
    );
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for op in &operations {
        *counts.entry(op.clone()).or_default() += 1;
    }
    let decrypting_reads = ["GetParameter", "GetParametersByPath", "GetSecretValue"]
        .iter()
        .map(|op| counts.get(*op).copied().unwrap_or(0))
        .sum();
    SweepFigures {
        calls: operations.len(),
        by_operation: counts_text(&counts),
        decrypting_reads,
        wall,
    }
}

/// One sample of places, each swept by a worker as one SQS record: the time from handing the
/// record to the worker to its answer, and the AWS requests of all of them, by operation.
#[derive(Default)]
struct PlaceSample {
    times: Vec<Duration>,
    counts: BTreeMap<String, usize>,
}

impl PlaceSample {
    fn places(&self) -> usize {
        self.times.len()
    }

    fn median(&self) -> Duration {
        median(self.times.clone())
    }

    /// Requests per place (the sample's mean), in all and of one operation.
    fn per_place(&self) -> f64 {
        self.counts.values().sum::<usize>() as f64 / self.places().max(1) as f64
    }

    fn of(&self, op: &str) -> f64 {
        self.counts.get(op).copied().unwrap_or(0) as f64 / self.places().max(1) as f64
    }

    /// `7 (AssumeRole ×1, DescribeDBInstances ×1, …)`, per place.
    fn text(&self) -> String {
        let n = self.places().max(1) as f64;
        let each = |c: usize| {
            let v = c as f64 / n;
            if v.fract() == 0.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.2}")
            }
        };
        let ops = self
            .counts
            .iter()
            .map(|(k, v)| format!("{k} ×{}", each(*v)))
            .collect::<Vec<_>>()
            .join(", ");
        let total = self.counts.values().sum::<usize>();
        format!("{} ({ops})", each(total))
    }
}

/// A build that plans (issue 21): its plan and workers over the organization sweep's places.
struct WorkerFigures {
    /// A fresh planner's scheduled invocation, SWEEP_DELAY per request (median of
    /// MEASURED_SWEEPS), and the requests of the first.
    plan_wall: Duration,
    plan_counts: BTreeMap<String, usize>,
    /// Places of one plan, SWEEP_DELAY per request: each account's first region by a fresh
    /// worker (cold: it assumes the member role), its second region by the same worker in the
    /// same plan (warm: the member session is reused).
    cold: PlaceSample,
    warm: PlaceSample,
    /// The same with SLOW_DELAY per request, SLOW_SAMPLE_ACCOUNTS accounts.
    slow_cold: PlaceSample,
    slow_warm: PlaceSample,
    /// A plan and its places by ORG_WORKERS workers through the test poller, SWEEP_DELAY per
    /// request: wall time and requests (planner and workers).
    polled_wall: Duration,
    polled_counts: BTreeMap<String, usize>,
}

impl WorkerFigures {
    /// The method of docs/performance.md: the plan, then the places by ORG_WORKERS workers, each
    /// place taking the sample's median cold-worker time.
    fn extrapolated(&self, places: usize, plan: Duration, per_place: Duration) -> Duration {
        plan + per_place.mul_f64(places as f64 / ORG_WORKERS as f64)
    }
}

struct OrgFigures {
    first_trips: f64,
    next_trips: f64,
    /// The organization sweep's AWS requests: the before build's one in-process invocation;
    /// a planning build's plan and its places through the test poller.
    calls: usize,
    assume_role: usize,
    by_operation: String,
    /// The organization sweep's wall time: the before build's one in-process invocation
    /// (median of MEASURED_SWEEPS); a planning build's plan + extrapolated worker time.
    wall: Duration,
    /// Only for a build that plans.
    workers: Option<WorkerFigures>,
}

/// A worker of `binary` (the build under measurement), started and at its first `/next`.
fn start_worker_of(
    binary: &Path,
    endpoint: &str,
    queue: &WorkQueue,
    env: &[(&str, &str)],
) -> Function {
    let f = support::queue::start_worker_of(binary, endpoint, queue, env);
    f.api.wait_first_next(Duration::from_secs(10));
    f
}

/// The scheduled event with a plan id of its own.
fn plan_event() -> Value {
    let mut e = events::scheduled();
    e["id"] = json!(unique("plan"));
    e
}

/// Receives `n` messages from the work queue (fewer if it runs dry); they stay invisible for
/// the queue's visibility timeout, until [`delete`] or a worker's answer deletes them.
async fn receive_all(queue: &WorkQueue, n: usize) -> Vec<Received> {
    let mut got = Vec::new();
    let mut empty = 0;
    while got.len() < n && empty < 20 {
        let batch = queue.receive(10).await;
        if batch.is_empty() {
            empty += 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        got.extend(batch);
    }
    got
}

async fn delete(queue: &WorkQueue, messages: &[Received]) {
    for m in messages {
        queue
            .client
            .delete_message()
            .queue_url(&queue.url)
            .receipt_handle(&m.receipt_handle)
            .send()
            .await
            .unwrap();
    }
}

/// The place (account, region) of a place message.
fn place_of(body: &str) -> (String, String) {
    let v: Value = serde_json::from_str(body).unwrap_or_default();
    let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
    (s("account"), s("region"))
}

/// The workers' place lines once there are `n` (a line reaches the bench a moment after the
/// answer), or after 10 s.
fn wait_place_lines(workers: &[&Function], n: usize) -> Vec<PlaceLine> {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let lines = place_lines(workers);
        if lines.len() >= n || Instant::now() >= until {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Notes every place line that is not a swept place with `present` secrets already there and
/// none created; returns the sum of `alreadyPresent`.
fn check_lines(
    notes: &mut Notes,
    build: &str,
    scenario: &str,
    lines: &[PlaceLine],
    present: u64,
) -> u64 {
    let mut sum = 0;
    for l in lines {
        match &l.report {
            Some(r) => {
                let p = r["alreadyPresent"].as_u64().unwrap_or(0);
                sum += p;
                if p != present || r["created"] != json!([]) {
                    notes.note(
                        build,
                        scenario,
                        format!(
                            "place {}/{}: alreadyPresent {p}, created {}",
                            l.account, l.region, r["created"]
                        ),
                    );
                }
            }
            None => notes.note(
                build,
                scenario,
                format!(
                    "place {}/{}: {} {}",
                    l.account, l.region, l.outcome, l.error_type
                ),
            ),
        }
    }
    sum
}

/// Sweeps places of one plan (`messages`) one record at a time with `delay` per request: for
/// each of the first `accounts` accounts (that have two places in `messages`), its first region by a fresh worker (cold), then its
/// second by the same worker (warm).
async fn sample_places(
    build: &Build,
    proxy: &Proxy,
    queue: &WorkQueue,
    env: &[(&str, &str)],
    messages: &[Received],
    (accounts, delay): (usize, Duration),
    notes: &mut Notes,
) -> (PlaceSample, PlaceSample) {
    let scenario = format!("worker sample (+{} per request)", ms(delay));
    let mut by_account: BTreeMap<String, Vec<&Received>> = BTreeMap::new();
    for m in messages {
        by_account.entry(place_of(&m.body).0).or_default().push(m);
    }
    let (mut cold, mut warm) = (PlaceSample::default(), PlaceSample::default());
    for places in by_account.values().filter(|p| p.len() >= 2).take(accounts) {
        let worker = start_worker_of(&build.binary, &proxy.endpoint(), queue, env);
        for (n, m) in places.iter().take(2).enumerate() {
            let event = queue.event(std::slice::from_ref(*m), &queue.arn);
            proxy.set_delay(delay);
            proxy.clear_operations();
            let t = Instant::now();
            let answer = worker.api.invoke(&event, Duration::from_secs(300));
            let took = t.elapsed();
            let operations = proxy.operations();
            proxy.set_delay(Duration::ZERO);
            let response = notes.response(build.name, &scenario, &answer);
            notes.expect(
                build.name,
                &scenario,
                "the answer",
                &response,
                &json!({"batchItemFailures": []}),
            );
            let sample = if n == 0 { &mut cold } else { &mut warm };
            sample.times.push(took);
            for op in operations {
                *sample.counts.entry(op).or_default() += 1;
            }
        }
        let lines = wait_place_lines(&[&worker], 2);
        check_lines(notes, build.name, &scenario, &lines, ORG_DATABASES as u64);
    }
    delete(queue, messages).await;
    (cold, warm)
}

/// Seeds ORG_ACCOUNTS member accounts (each with the member role) × ORG_REGIONS × ORG_DATABASES,
/// lets a hub's own sweeps create every secret, then measures: round trips of a first and a next
/// event from a new member account, and the organization sweep: for a build that sweeps
/// in-process, one invocation by a fresh function; for a build that plans, the plan, a sample of
/// places by workers, and a plan drained by ORG_WORKERS workers through the test poller.
async fn org_bench(build: &Build, notes: &mut Notes) -> OrgFigures {
    use futures_util::{stream, StreamExt as _};
    use support::accounts::{clients_in, create_role};
    let binary = build.binary.as_path();
    let moto = start_moto(None);
    let proxy = Proxy::start(&moto.endpoint);
    let m = moto.endpoint.as_str();
    let accounts: Vec<String> = (0..ORG_ACCOUNTS)
        .map(|i| format!("{:012}", 100_000_000_000u64 + i as u64))
        .collect();
    for a in &accounts {
        create_role(m, a, "db-secret-provisioner-member").await;
    }
    let places: Vec<(String, &str)> = accounts
        .iter()
        .flat_map(|a| ORG_REGIONS.iter().map(move |r| (a.clone(), *r)))
        .collect();
    for (account, region) in &places {
        let c = clients_in(m, account, region).await;
        let c = &c;
        stream::iter(0..ORG_DATABASES)
            .for_each_concurrent(16, |i| async move {
                let id = format!("org-{i:03}");
                create_instance(c, &id, "postgres", "admin").await;
                put_password(c, &format!("/db-secrets/rds/{id}/admin"), "bench-Passw0rd").await;
            })
            .await;
    }
    // The work queue, as deployed: a build that plans needs WORK_QUEUE_URL in hub mode; the
    // before build ignores the variable and sweeps in-process.
    let queue = create_work_queue(m, &unique("work"), WORK_QUEUE_VISIBILITY).await;
    let members = accounts.join(",");
    let env = [
        ("MEMBER_ACCOUNTS", members.as_str()),
        ("ORGANIZATION_ID", "o-exampleorg1"),
        ("SWEEP_REGIONS", "us-east-1,eu-west-1"),
        ("WORK_QUEUE_URL", queue.url.as_str()),
    ];
    // Round trips of events from a member account the function has not seen, then has: each
    // measured in a fresh function, without and with the delay.
    let extra = "999999999900";
    create_role(m, extra, "db-secret-provisioner-member").await;
    let c = clients_in(m, extra, REGION).await;
    let with_extra = format!("{members},{extra}");
    let mut latencies = Vec::new(); // [(first, next)] without, then with the delay
    for (round, delay) in [(0, Duration::ZERO), (1, DELAY)] {
        let f = Function::start(
            binary,
            &proxy.endpoint(),
            &[
                ("MEMBER_ACCOUNTS", with_extra.as_str()),
                ("ORGANIZATION_ID", "o-exampleorg1"),
                ("WORK_QUEUE_URL", queue.url.as_str()),
            ],
        );
        let mut pair = Vec::new();
        for n in 0..2 {
            let id = format!("trip-{round}-{n}");
            create_instance(&c, &id, "postgres", "admin").await;
            put_password(&c, &format!("/db-secrets/rds/{id}/admin"), "bench-Passw0rd").await;
            let mut event = events::instance_created(&id);
            event["account"] = json!(extra);
            event["detail"]["SourceArn"] = json!(format!("arn:aws:rds:{REGION}:{extra}:db:{id}"));
            proxy.set_delay(delay);
            let t = Instant::now();
            let answer = f.api.invoke(&event, Duration::from_secs(60));
            pair.push(t.elapsed());
            proxy.set_delay(Duration::ZERO);
            let scenario = "hub: event from a member account";
            let response = notes.response(build.name, scenario, &answer);
            notes.expect(
                build.name,
                scenario,
                "outcome",
                &response["outcome"],
                &json!("created"),
            );
        }
        latencies.push(pair);
    }
    let trips = |i: usize| {
        latencies[1][i]
            .saturating_sub(latencies[0][i])
            .as_secs_f64()
            / DELAY.as_secs_f64()
    };
    let trips = [trips(0), trips(1)];

    // The secrets, by the hub's own sweeps: in-process, or planned and drained by workers.
    let f = Function::start(binary, &proxy.endpoint(), &env);
    let mut plans = false;
    for _ in 0..10 {
        let answer = f.api.invoke(&plan_event(), Duration::from_secs(300));
        let scenario = "organization sweep (creating the secrets)";
        let response = notes.response(build.name, scenario, &answer);
        if response["sweep"]["planned"].is_number() {
            plans = true;
            let workers: Vec<Function> = (0..ORG_WORKERS)
                .map(|_| start_worker_of(binary, &proxy.endpoint(), &queue, &env))
                .collect();
            let workers: Vec<&Function> = workers.iter().collect();
            queue.drain(&workers, 1, Duration::from_secs(600)).await;
            let lines = wait_place_lines(&workers, places.len());
            let created: usize = lines
                .iter()
                .filter_map(|l| l.report.as_ref())
                .map(|r| r["created"].as_array().map_or(0, Vec::len))
                .sum();
            if created != places.len() * ORG_DATABASES {
                notes.note(
                    build.name,
                    scenario,
                    format!("the workers created {created} secrets"),
                );
            }
            break;
        }
        if response["sweep"]["left"]
            .as_array()
            .is_none_or(|l| l.is_empty())
        {
            break;
        }
    }
    drop(f);
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    if !plans {
        // Five measured sweeps, each by a fresh function (its AssumeRoles included): the wall
        // time is their median, the requests and the answer those of the first.
        proxy.set_delay(SWEEP_DELAY);
        let mut walls = Vec::new();
        let mut first = None;
        for _ in 0..MEASURED_SWEEPS {
            let f = Function::start(binary, &proxy.endpoint(), &env);
            f.api.wait_first_next(Duration::from_secs(10));
            proxy.clear_operations();
            let t = Instant::now();
            let answer = f.api.invoke(&events::scheduled(), Duration::from_secs(300));
            walls.push(t.elapsed());
            if first.is_none() {
                first = Some((answer, proxy.operations()));
            }
        }
        let wall = median(walls);
        proxy.set_delay(Duration::ZERO);
        let (answer, operations) = first.expect("a measured sweep");
        let scenario = "organization sweep (measured)";
        let report = notes.response(build.name, scenario, &answer)["sweep"].clone();
        notes.expect(
            build.name,
            scenario,
            "sweep.created",
            &report["created"],
            &json!(0),
        );
        notes.expect(
            build.name,
            scenario,
            "sweep.alreadyPresent",
            &report["alreadyPresent"],
            &json!(places.len() * ORG_DATABASES),
        );
        for op in &operations {
            *counts.entry(op.clone()).or_default() += 1;
        }
        return OrgFigures {
            first_trips: trips[0],
            next_trips: trips[1],
            calls: operations.len(),
            assume_role: counts.get("AssumeRole").copied().unwrap_or(0),
            by_operation: counts_text(&counts),
            wall,
            workers: None,
        };
    }

    // A build that plans. Five measured plans, each by a fresh planner: the wall time is their
    // median, the requests those of the first; the first two plans' messages are the samples.
    let scenario = "organization plan (measured)";
    let mut plan_walls = Vec::new();
    let mut plan_counts = BTreeMap::new();
    let mut planned_messages = Vec::new();
    for i in 0..MEASURED_SWEEPS {
        let f = Function::start(binary, &proxy.endpoint(), &env);
        f.api.wait_first_next(Duration::from_secs(10));
        proxy.set_delay(SWEEP_DELAY);
        proxy.clear_operations();
        let t = Instant::now();
        let answer = f.api.invoke(&plan_event(), Duration::from_secs(300));
        plan_walls.push(t.elapsed());
        let operations = proxy.operations();
        proxy.set_delay(Duration::ZERO);
        let response = notes.response(build.name, scenario, &answer);
        notes.expect(
            build.name,
            scenario,
            "sweep.planned",
            &response["sweep"]["planned"],
            &json!(places.len()),
        );
        if i == 0 {
            for op in operations {
                *plan_counts.entry(op).or_default() += 1;
            }
        }
        let received = receive_all(&queue, places.len()).await;
        if i < 2 {
            planned_messages.push(received);
        } else {
            delete(&queue, &received).await;
        }
    }
    let (cold, warm) = sample_places(
        build,
        &proxy,
        &queue,
        &env,
        &planned_messages[0],
        (SAMPLE_ACCOUNTS, SWEEP_DELAY),
        notes,
    )
    .await;
    let (slow_cold, slow_warm) = sample_places(
        build,
        &proxy,
        &queue,
        &env,
        &planned_messages[1],
        (SLOW_SAMPLE_ACCOUNTS, SLOW_DELAY),
        notes,
    )
    .await;

    // A plan drained by ORG_WORKERS fresh workers through the test poller (which receives and
    // deletes directly in moto, so only the planner's and the workers' requests are counted).
    let scenario = "organization plan drained by workers (measured)";
    let planner = Function::start(binary, &proxy.endpoint(), &env);
    planner.api.wait_first_next(Duration::from_secs(10));
    let workers: Vec<Function> = (0..ORG_WORKERS)
        .map(|_| start_worker_of(binary, &proxy.endpoint(), &queue, &env))
        .collect();
    let workers: Vec<&Function> = workers.iter().collect();
    proxy.set_delay(SWEEP_DELAY);
    proxy.clear_operations();
    let t = Instant::now();
    let answer = planner.api.invoke(&plan_event(), Duration::from_secs(300));
    let deliveries = queue.drain(&workers, 1, Duration::from_secs(600)).await;
    let polled_wall = t.elapsed();
    let operations = proxy.operations();
    proxy.set_delay(Duration::ZERO);
    let response = notes.response(build.name, scenario, &answer);
    notes.expect(
        build.name,
        scenario,
        "sweep.planned",
        &response["sweep"]["planned"],
        &json!(places.len()),
    );
    if deliveries.len() != places.len() || deliveries.iter().any(|d| !d.failed.is_empty()) {
        notes.note(
            build.name,
            scenario,
            format!(
                "{} deliveries, {} failed",
                deliveries.len(),
                deliveries.iter().filter(|d| !d.failed.is_empty()).count()
            ),
        );
    }
    let lines = wait_place_lines(&workers, places.len());
    check_lines(notes, build.name, scenario, &lines, ORG_DATABASES as u64);
    for op in &operations {
        *counts.entry(op.clone()).or_default() += 1;
    }
    let figures = WorkerFigures {
        plan_wall: median(plan_walls),
        plan_counts,
        cold,
        warm,
        slow_cold,
        slow_warm,
        polled_wall,
        polled_counts: counts.clone(),
    };
    OrgFigures {
        first_trips: trips[0],
        next_trips: trips[1],
        calls: operations.len(),
        assume_role: counts.get("AssumeRole").copied().unwrap_or(0),
        by_operation: counts_text(&counts),
        wall: figures.extrapolated(places.len(), figures.plan_wall, figures.cold.median()),
        workers: Some(figures),
    }
}

/// The plan at scale (a build that plans only): PLAN_ACCOUNTS accounts (the hub's and
/// PLAN_ACCOUNTS − 1 created in moto's Organizations) × PLAN_REGIONS, planned in one invocation
/// with SLOW_DELAY per AWS request.
struct PlanScale {
    /// Creating the accounts in moto (not measured figure, a note).
    seeding: Duration,
    wall: Duration,
    counts: BTreeMap<String, usize>,
    planned: u64,
    plan_failed: u64,
    accounts: u64,
    regions: u64,
    /// The work queue's depth after the plan (waiting, in flight).
    depth: (u64, u64),
}

async fn plan_scale_bench(build: &Build, notes: &mut Notes) -> PlanScale {
    use futures_util::{stream, StreamExt as _};
    use support::accounts::{create_account, create_organization};
    let moto = start_moto(None);
    let proxy = Proxy::start(&moto.endpoint);
    let m = moto.endpoint.as_str();
    let conf = sdk_config(m, REGION).await;
    let seeding = Instant::now();
    let org_id = create_organization(&conf).await;
    let conf = &conf;
    let created: Vec<String> = stream::iter(1..PLAN_ACCOUNTS)
        .map(|i| async move { create_account(conf, &format!("bench-{i:04}")).await })
        .buffer_unordered(32)
        .collect()
        .await;
    let seeding = seeding.elapsed();
    eprintln!(
        "  {} accounts created in moto in {:.1} s",
        created.len(),
        seeding.as_secs_f64()
    );
    let queue = create_work_queue(m, &unique("work"), WORK_QUEUE_VISIBILITY).await;
    let regions = PLAN_REGIONS.join(",");
    let env = [
        ("MEMBER_ACCOUNTS", "organization"),
        ("SWEEP_ACCOUNTS", "organization"),
        ("ORGANIZATION_ID", org_id.as_str()),
        ("SWEEP_REGIONS", regions.as_str()),
        ("WORK_QUEUE_URL", queue.url.as_str()),
    ];
    let f = Function::start(&build.binary, &proxy.endpoint(), &env);
    f.api.wait_first_next(Duration::from_secs(10));
    proxy.set_delay(SLOW_DELAY);
    proxy.clear_operations();
    let t = Instant::now();
    // The planner's timeout as deployed: 900 s.
    let answer = f.api.invoke_with_deadline(
        &plan_event(),
        Duration::from_secs(900),
        Duration::from_secs(900),
    );
    let wall = t.elapsed();
    let operations = proxy.operations();
    proxy.set_delay(Duration::ZERO);
    let scenario = "plan at scale";
    let response = notes.response(build.name, scenario, &answer);
    let sweep = &response["sweep"];
    let want = PLAN_ACCOUNTS * PLAN_REGIONS.len();
    notes.expect(
        build.name,
        scenario,
        "sweep.planned",
        &sweep["planned"],
        &json!(want),
    );
    let mut counts = BTreeMap::new();
    for op in operations {
        *counts.entry(op).or_default() += 1;
    }
    eprintln!(
        "  planned in {:.1} s: {}",
        wall.as_secs_f64(),
        counts_text(&counts)
    );
    let depth = queue.depth(&queue.url).await;
    PlanScale {
        seeding,
        wall,
        counts,
        planned: sweep["planned"].as_u64().unwrap_or(0),
        plan_failed: sweep["planFailed"].as_u64().unwrap_or(0),
        accounts: sweep["accounts"].as_u64().unwrap_or(0),
        regions: sweep["regions"].as_u64().unwrap_or(0),
        depth,
    }
}

/// One worker's peak RSS over RSS_ACCOUNTS × RSS_REGIONS places (a build that plans only).
struct WorkerRss {
    places: usize,
    /// VmHWM after the first n places, for each n of RSS_CHECKPOINTS.
    checkpoints: Vec<(usize, u64)>,
    created: usize,
}

async fn worker_rss_bench(build: &Build, notes: &mut Notes) -> WorkerRss {
    use support::accounts::{clients_in, create_role};
    let moto = start_moto(None);
    let m = moto.endpoint.as_str();
    let accounts: Vec<String> = (0..RSS_ACCOUNTS)
        .map(|i| format!("{:012}", 200_000_000_000u64 + i as u64))
        .collect();
    for a in &accounts {
        create_role(m, a, "db-secret-provisioner-member").await;
        // One database per account, in its first region: the rest of its places are empty.
        let c = clients_in(m, a, RSS_REGIONS[0]).await;
        create_instance(&c, "rss-db", "postgres", "admin").await;
        put_password(&c, "/db-secrets/rds/rss-db/admin", "bench-Passw0rd").await;
    }
    let queue = create_work_queue(m, &unique("work"), WORK_QUEUE_VISIBILITY).await;
    let members = accounts.join(",");
    let regions = RSS_REGIONS.join(",");
    let env = [
        ("MEMBER_ACCOUNTS", members.as_str()),
        ("ORGANIZATION_ID", "o-exampleorg1"),
        ("SWEEP_REGIONS", regions.as_str()),
        ("WORK_QUEUE_URL", queue.url.as_str()),
    ];
    let scenario = "worker RSS";
    let planner = Function::start(&build.binary, m, &env);
    let answer = planner.api.invoke(&plan_event(), Duration::from_secs(300));
    let response = notes.response(build.name, scenario, &answer);
    let want = RSS_ACCOUNTS * RSS_REGIONS.len();
    notes.expect(
        build.name,
        scenario,
        "sweep.planned",
        &response["sweep"]["planned"],
        &json!(want),
    );
    let worker = start_worker_of(&build.binary, m, &queue, &env);
    let mut checkpoints = Vec::new();
    let mut places = 0;
    loop {
        let received = receive_all(&queue, 10).await;
        if received.is_empty() {
            break;
        }
        for message in &received {
            let answer = worker.api.invoke(
                &queue.event(std::slice::from_ref(message), &queue.arn),
                Duration::from_secs(300),
            );
            let response = notes.response(build.name, scenario, &answer);
            notes.expect(
                build.name,
                scenario,
                "the answer",
                &response,
                &json!({"batchItemFailures": []}),
            );
            places += 1;
            if RSS_CHECKPOINTS.contains(&places) {
                checkpoints.push((places, peak_rss_kb(worker.pid()).unwrap_or(0)));
            }
        }
        delete(&queue, &received).await;
    }
    let lines = wait_place_lines(&[&worker], places);
    let swept = lines.iter().filter(|l| l.report.is_some()).count();
    if swept != want {
        notes.note(
            build.name,
            scenario,
            format!("{swept} places swept of {want}"),
        );
    }
    let created = lines
        .iter()
        .filter_map(|l| l.report.as_ref())
        .map(|r| r["created"].as_array().map_or(0, Vec::len))
        .sum();
    if checkpoints.last().is_none_or(|(n, _)| *n != places) {
        checkpoints.push((places, peak_rss_kb(worker.pid()).unwrap_or(0)));
    }
    WorkerRss {
        places,
        checkpoints,
        created,
    }
}

/// Everything measured for one build.
#[derive(Default)]
struct Measured {
    inits: Vec<Duration>,
    /// Per warm scenario: the median latency without delay, and the sequential round trips.
    warm: Vec<Duration>,
    trips: Vec<f64>,
    /// The AWS requests of one new-secret event (default templates).
    operations: BTreeMap<String, usize>,
    peak_kb: u64,
    sweep: Option<SweepFigures>,
    org: Option<OrgFigures>,
    /// Only for a build that plans.
    plan_scale: Option<PlanScale>,
    worker_rss: Option<WorkerRss>,
    size: Option<u64>,
    bootstrap: Option<u64>,
    zip: Option<u64>,
}

impl Measured {
    fn init(&self) -> Duration {
        median(self.inits.clone())
    }
}

struct Row {
    figure: String,
    before: Option<String>,
    after: String,
    budget: String,
    /// The after column against the budget.
    met: Option<bool>,
}

/// The before cell (when measured) and the after cell of one figure.
fn cells<T>(before: Option<&T>, after: &T, f: impl Fn(&T) -> String) -> (Option<String>, String) {
    (before.map(&f), f(after))
}

fn row(
    figure: impl Into<String>,
    (before, after): (Option<String>, String),
    budget: impl Into<String>,
    met: Option<bool>,
) -> Row {
    Row {
        figure: figure.into(),
        before,
        after,
        budget: budget.into(),
        met,
    }
}

/// How far after may be from before before the difference is flagged.
#[derive(Clone, Copy)]
enum Tolerance {
    /// In the figure's unit.
    Absolute(f64),
    /// In percent of before.
    Relative(f64),
}

/// One numeric figure of both builds, in `unit`.
struct Difference {
    figure: String,
    before: f64,
    after: f64,
    unit: &'static str,
    decimals: usize,
    tolerance: Tolerance,
}

impl Difference {
    fn outside(&self) -> bool {
        let delta = self.after - self.before;
        match self.tolerance {
            Tolerance::Absolute(t) => delta.abs() > t,
            Tolerance::Relative(pct) => {
                if self.before == 0.0 {
                    self.after != 0.0
                } else {
                    (delta / self.before * 100.0).abs() > pct
                }
            }
        }
    }

    fn print(&self) {
        let d = self.decimals;
        let unit = if self.unit.is_empty() {
            String::new()
        } else {
            format!(" {}", self.unit)
        };
        let delta = self.after - self.before;
        let relative = if self.before == 0.0 {
            (if self.after == 0.0 { "±0.0 %" } else { "n/a" }).to_string()
        } else {
            format!("{:+.1} %", delta / self.before * 100.0)
        };
        let tolerance = match self.tolerance {
            Tolerance::Absolute(t) => format!("±{t}{unit}"),
            Tolerance::Relative(p) => format!("±{p} %"),
        };
        println!(
            "| {} | {:.d$}{unit} | {:.d$}{unit} | {:+.d$}{unit} | {relative} | {tolerance} | {} |",
            self.figure,
            self.before,
            self.after,
            delta,
            if self.outside() { "OUTSIDE" } else { "ok" },
        );
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let run_started = Instant::now();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let after = Build {
        name: "after",
        binary: PathBuf::from(
            args.first()
                .cloned()
                .unwrap_or_else(|| "target/release/db-secret-provisioner".into()),
        ),
        arm64_dir: PathBuf::from(
            args.get(1)
                .cloned()
                .unwrap_or_else(|| "target/lambda/db-secret-provisioner".into()),
        ),
    };
    assert!(
        after.binary.exists(),
        "{} is missing: run `make bench`",
        after.binary.display()
    );
    let env_path = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let before = env_path("BENCH_BEFORE").map(|dir| {
        let dir = PathBuf::from(dir);
        Build {
            name: "before",
            binary: dir.join("target/release/db-secret-provisioner"),
            arm64_dir: dir.join("target/lambda/db-secret-provisioner"),
        }
    });
    if let Some(b) = &before {
        assert!(
            b.binary.exists(),
            "BENCH_BEFORE: {} is missing (cargo build --release there)",
            b.binary.display()
        );
    }
    // SWEEP_BEFORE=<binary>: the before column of the reconcile sweep only.
    let sweep_before = match (&before, env_path("SWEEP_BEFORE")) {
        (None, Some(binary)) => Some(Build {
            name: "before",
            binary: PathBuf::from(binary),
            arm64_dir: PathBuf::new(),
        }),
        (Some(_), Some(_)) => {
            eprintln!("SWEEP_BEFORE is ignored: BENCH_BEFORE measures its binary's sweep too");
            None
        }
        _ => None,
    };
    for b in before.iter().chain(sweep_before.iter()).chain([&after]) {
        eprintln!("{}: {}", b.name, b.binary.display());
    }
    // The builds in their measuring order, alternating: before (A), after (B), A, B, …
    let builds: Vec<&Build> = before.iter().chain([&after]).collect();
    let mut measured: Vec<Measured> = builds.iter().map(|_| Measured::default()).collect();
    let mut notes = Notes::default();
    // Production-like logging for every function started here.
    std::env::set_var("FUNCTION_RUST_LOG", "info");

    let moto = start_moto(None);
    let proxy = Proxy::start(&moto.endpoint);
    let clients = Clients::new(&sdk_config(&moto.endpoint, REGION).await);

    // 1. Cold start: process start → first /invocation/next (init done, every client built).
    eprintln!("cold starts…");
    for _ in 0..COLD_STARTS {
        for (k, build) in builds.iter().enumerate() {
            let f = Function::start(&build.binary, &proxy.endpoint(), &[]);
            let first = f
                .api
                .wait_first_next(Duration::from_secs(10))
                .expect("the function reached /next");
            measured[k].inits.push(first - f.started);
        }
    }

    // 2. Warm latency and sequential round trips, for two parameter templates; each event goes
    // to one function per build in turn, so both see the same moto state size.
    // (label, the event for a database id)
    type EventFor = fn(&str) -> Value;
    let scenarios: [(&str, EventFor); 2] = [
        (
            "native RDS event, default templates (Describe ∥ GetParametersByPath)",
            events::instance_created,
        ),
        (
            "CloudTrail CreateDBInstance, which names the master user (Describe ∥ GetParameter)",
            events::create_db_instance_call,
        ),
    ];
    eprintln!("warm invocations…");
    for (n, (label, event_for)) in scenarios.iter().enumerate() {
        let functions: Vec<Function> = builds
            .iter()
            .map(|b| Function::start(&b.binary, &proxy.endpoint(), &[]))
            .collect();
        for f in &functions {
            f.api.wait_first_next(Duration::from_secs(10));
        }
        let mut latencies = vec![Vec::new(); builds.len()];
        let mut delayed = vec![Vec::new(); builds.len()];
        for i in 0..(WARM_RUNS * 2) {
            // Alternate plain and delayed runs so both see the same moto state size.
            let delay = if i % 2 == 0 { Duration::ZERO } else { DELAY };
            for (k, f) in functions.iter().enumerate() {
                let id = unique(&format!("bench{n}"));
                create_instance(&clients, &id, "postgres", "admin").await;
                let parameter = format!("/db-secrets/rds/{id}/admin");
                put_password(&clients, &parameter, "bench-Passw0rd").await;
                proxy.set_delay(delay);
                proxy.clear_operations();
                let event = event_for(&id);
                let t = Instant::now();
                let answer = f.api.invoke(&event, Duration::from_secs(60));
                let took = t.elapsed();
                let response = notes.response(builds[k].name, label, &answer);
                notes.expect(
                    builds[k].name,
                    label,
                    "outcome",
                    &response["outcome"],
                    &json!("created"),
                );
                if delay.is_zero() {
                    latencies[k].push(took);
                    if n == 0 && measured[k].operations.is_empty() {
                        for op in proxy.operations() {
                            *measured[k].operations.entry(op).or_default() += 1;
                        }
                    }
                } else {
                    delayed[k].push(took);
                }
            }
        }
        proxy.set_delay(Duration::ZERO);
        for (k, f) in functions.iter().enumerate() {
            let warm = median(latencies[k].clone());
            let slow = median(delayed[k].clone());
            let m = &mut measured[k];
            m.warm.push(warm);
            m.trips
                .push(slow.saturating_sub(warm).as_secs_f64() / DELAY.as_secs_f64());
            m.peak_kb = m.peak_kb.max(peak_rss_kb(f.pid()).unwrap_or(0));
        }
    }

    // 3. The reconcile sweep over SWEEP_DATABASES databases that all have correct secrets, with
    // SWEEP_DELAY per AWS request.
    for (k, build) in builds.iter().enumerate() {
        eprintln!("reconcile sweep, {}…", build.name);
        measured[k].sweep = Some(sweep_bench(build, &mut notes).await);
    }
    let sweep_before = match &sweep_before {
        Some(b) => {
            eprintln!("reconcile sweep, SWEEP_BEFORE…");
            Some(sweep_bench(b, &mut notes).await)
        }
        None => None,
    };

    // 4. Hub mode: the first event from a member account adds one round trip (AssumeRole), the
    // next none; the organization sweep over ORG_ACCOUNTS × ORG_REGIONS × ORG_DATABASES.
    for (k, build) in builds.iter().enumerate() {
        eprintln!("hub and organization sweep, {}…", build.name);
        measured[k].org = Some(org_bench(build, &mut notes).await);
    }

    // 5. A build that plans (issue 21): the plan at scale, and one worker over 500 places.
    for (k, build) in builds.iter().enumerate() {
        if measured[k]
            .org
            .as_ref()
            .is_some_and(|o| o.workers.is_some())
        {
            eprintln!(
                "plan of {PLAN_ACCOUNTS} accounts × {} regions, {}…",
                PLAN_REGIONS.len(),
                build.name
            );
            measured[k].plan_scale = Some(plan_scale_bench(build, &mut notes).await);
            eprintln!(
                "one worker over {} places, {}…",
                RSS_ACCOUNTS * RSS_REGIONS.len(),
                build.name
            );
            measured[k].worker_rss = Some(worker_rss_bench(build, &mut notes).await);
        }
    }

    // 6. Sizes.
    for (k, build) in builds.iter().enumerate() {
        measured[k].size = file_size(&build.binary);
        measured[k].bootstrap = file_size(&build.arm64_dir.join("bootstrap"));
        measured[k].zip = file_size(&build.arm64_dir.join("bootstrap.zip"));
    }

    // The table.
    let a = &measured[builds.len() - 1];
    let b: Option<&Measured> = before.as_ref().map(|_| &measured[0]);
    let mut rows: Vec<Row> = Vec::new();
    let init = a.init();
    rows.push(row(
        format!("init: process start → first /next (median of {COLD_STARTS})"),
        cells(b, a, |m| {
            format!(
                "{} (min {}, max {})",
                ms(m.init()),
                ms(*m.inits.iter().min().unwrap()),
                ms(*m.inits.iter().max().unwrap())
            )
        }),
        "≤ 20 ms",
        Some(init <= Duration::from_millis(20)),
    ));
    for (n, (label, _)) in scenarios.iter().enumerate() {
        rows.push(row(
            format!("warm invocation, new secret, {label} (median of {WARM_RUNS})"),
            cells(b, a, |m| ms(m.warm[n])),
            "—",
            None,
        ));
        rows.push(row(
            format!("sequential AWS round trips, {label} ((latency with +{} per request − without) ÷ delay)", ms(DELAY)),
            cells(b, a, |m| format!("{:.2}", m.trips[n])),
            // Describe ∥ the password read, CreateSecret, then the seal (GenerateMac, its tag):
            // the seal covers the new ARN, which exists only after CreateSecret.
            "≤ 4 (2 of them the seal)",
            Some(a.trips[n].round() <= 4.0),
        ));
    }
    rows.push(row(
        "AWS requests per new-secret event (default templates)",
        cells(b, a, |m| counts_text(&m.operations)),
        "—",
        None,
    ));
    rows.push(row(
        "peak RSS (VmHWM) after the warm runs",
        cells(b, a, |m| format!("{:.1} MB", m.peak_kb as f64 / 1024.0)),
        "≤ 25 MB",
        Some(a.peak_kb <= 25 * 1024),
    ));

    let sa = a.sweep.as_ref().unwrap();
    let sb = b.and_then(|m| m.sweep.as_ref()).or(sweep_before.as_ref());
    let per_db = |s: &SweepFigures| s.calls as f64 / SWEEP_DATABASES as f64;
    rows.push(row(
        format!(
            "reconcile sweep, {SWEEP_DATABASES} databases with correct secrets, +{} per request: AWS requests",
            ms(SWEEP_DELAY)
        ),
        cells(sb, sa, |s| {
            format!("{} ({:.3} per database: {})", s.calls, per_db(s), s.by_operation)
        }),
        "≤ 0.05 per database",
        Some(per_db(sa) <= 0.05),
    ));
    rows.push(row(
        "reconcile sweep: reads that decrypt (GetParameter, GetParametersByPath, GetSecretValue)",
        cells(sb, sa, |s| s.decrypting_reads.to_string()),
        "0",
        Some(sa.decrypting_reads == 0),
    ));
    rows.push(row(
        "reconcile sweep: wall time (median of 5)",
        cells(sb, sa, |s| format!("{:.2} s", s.wall.as_secs_f64())),
        "≤ 10 s",
        Some(sa.wall <= Duration::from_secs(10)),
    ));

    let oa = a.org.as_ref().unwrap();
    let ob = b.and_then(|m| m.org.as_ref());
    rows.push(row(
        format!(
            "hub: sequential AWS round trips, first event from a member account / next event from it (+{} per request)",
            ms(DELAY)
        ),
        cells(ob, oa, |o| format!("{:.2} / {:.2}", o.first_trips, o.next_trips)),
        // Each event acts in its own member session (RoleSessionName = the event id), so
        // every event from a member account makes its AssumeRole.
        "+1 / +1 (AssumeRole: a session per event) over a same-account event (4)",
        Some(oa.first_trips.round() <= 5.0 && oa.next_trips.round() <= 5.0),
    ));
    let places = ORG_ACCOUNTS * ORG_REGIONS.len();
    let databases = places * ORG_DATABASES;
    let in_process_budget = 6.0 * places as f64 + ORG_ACCOUNTS as f64 + 0.02 * databases as f64;
    // A planning build: 6 per place, an AssumeRole per place at worst (each a cold worker's
    // first place of its account), one SendMessageBatch per 10 places.
    let planned_budget = 7 * places + places.div_ceil(10);
    let org_requests = |o: &OrgFigures| {
        let sent = o
            .workers
            .as_ref()
            .and_then(|w| w.polled_counts.get("SendMessageBatch").copied())
            .unwrap_or(0);
        let besides = (o.calls - o.assume_role - sent) as f64 / places as f64;
        match &o.workers {
            None => format!(
                "{} in one invocation ({} AssumeRole, {besides:.2} per account-region besides: {})",
                o.calls, o.assume_role, o.by_operation
            ),
            Some(_) => format!(
                "{} by the plan and {ORG_WORKERS} workers ({sent} SendMessageBatch, {} AssumeRole, {besides:.2} per account-region besides: {})",
                o.calls, o.assume_role, o.by_operation
            ),
        }
    };
    rows.push(row(
        format!(
            "organization sweep, {ORG_ACCOUNTS} accounts × {} regions × {ORG_DATABASES} databases with correct secrets, +{} per request: AWS requests (before: one in-process invocation by a fresh function; after: a plan by a fresh planner, then its {places} places by {ORG_WORKERS} fresh workers through the test poller)",
            ORG_REGIONS.len(),
            ms(SWEEP_DELAY),
        ),
        cells(ob, oa, org_requests),
        if oa.workers.is_some() {
            format!("≤ 6 per place + 1 AssumeRole per place (a cold worker) + 1 SendMessageBatch per 10 places = {planned_budget} (in-process: ≤ 6 per place + 1 AssumeRole per account + 0.02 per database = {in_process_budget:.0})")
        } else {
            format!("≤ 6 per account-region + 1 AssumeRole per account + 0.02 per database = {in_process_budget:.0}")
        },
        Some(if oa.workers.is_some() {
            oa.calls <= planned_budget
        } else {
            oa.calls as f64 <= in_process_budget
        }),
    ));
    let org_wall = |o: &OrgFigures| {
        match &o.workers {
        None => format!("{:.2} s (one in-process invocation)", o.wall.as_secs_f64()),
        Some(w) => format!(
            "{:.2} s (plan {:.2} s + {:.3} s per place × {places} ÷ {ORG_WORKERS} workers, extrapolated; measured through the test poller with {ORG_WORKERS} workers on this machine: {:.2} s)",
            o.wall.as_secs_f64(),
            w.plan_wall.as_secs_f64(),
            w.cold.median().as_secs_f64(),
            w.polled_wall.as_secs_f64()
        ),
    }
    };
    rows.push(row(
        format!("organization sweep: wall time (before: one in-process invocation, median of {MEASURED_SWEEPS}, each a fresh function; after: the plan, median of {MEASURED_SWEEPS} fresh planners, + the sample's median time per place with a cold worker × places ÷ {ORG_WORKERS} workers, extrapolated: docs/performance.md)"),
        cells(ob, oa, org_wall),
        "≤ 60 s",
        Some(oa.wall <= Duration::from_secs(60)),
    ));

    // The figures of a build that plans; the before cell says why it has none.
    let no_plan = "— (sweeps in-process: no plan, no worker)";
    let planning_cells = |f: &dyn Fn(&Measured) -> Option<String>| -> (Option<String>, String) {
        (
            b.map(|m| f(m).unwrap_or_else(|| no_plan.to_string())),
            f(a).unwrap_or_else(|| no_plan.to_string()),
        )
    };
    if let Some(w) = oa.workers.as_ref() {
        fn workers(m: &Measured) -> Option<&WorkerFigures> {
            m.org.as_ref().and_then(|o| o.workers.as_ref())
        }
        rows.push(row(
            format!(
                "worker: AWS requests of a place with {ORG_DATABASES} correct databases, after the first sweep, +{} per request, per place: cold worker (the account's first place: AssumeRole) / warm worker (the account's next place in the same plan: no AssumeRole), mean of {} / {} places",
                ms(SWEEP_DELAY),
                w.cold.places(),
                w.warm.places()
            ),
            planning_cells(&|m| workers(m).map(|w| format!("{} / {}", w.cold.text(), w.warm.text()))),
            "≤ 6 (+1 AssumeRole for a cold worker)",
            Some(
                w.cold.per_place() - w.cold.of("AssumeRole") <= 6.0
                    && w.cold.of("AssumeRole") <= 1.0
                    && w.warm.per_place() <= 6.0,
            ),
        ));
        rows.push(row(
            format!(
                "worker: time per place with {ORG_DATABASES} correct databases (record handed over → answer), median, cold / warm worker: +{} per request ({} / {} places); +{} per request ({} / {} places)",
                ms(SWEEP_DELAY),
                w.cold.places(),
                w.warm.places(),
                ms(SLOW_DELAY),
                w.slow_cold.places(),
                w.slow_warm.places()
            ),
            planning_cells(&|m| {
                workers(m).map(|w| {
                    format!(
                        "{} / {}; {} / {}",
                        ms(w.cold.median()),
                        ms(w.warm.median()),
                        ms(w.slow_cold.median()),
                        ms(w.slow_warm.median())
                    )
                })
            }),
            "—",
            None,
        ));
        rows.push(row(
            format!(
                "worker: requests per place at +{}, cold / warm (the same places' sweep)",
                ms(SLOW_DELAY)
            ),
            planning_cells(&|m| {
                workers(m).map(|w| format!("{} / {}", w.slow_cold.text(), w.slow_warm.text()))
            }),
            "≤ 6 (+1 AssumeRole for a cold worker)",
            Some(
                w.slow_cold.per_place() - w.slow_cold.of("AssumeRole") <= 6.0
                    && w.slow_warm.per_place() <= 6.0,
            ),
        ));
        rows.push(row(
            format!("plan of the organization sweep above ({places} places), +{}: AWS requests of the first of {MEASURED_SWEEPS}", ms(SWEEP_DELAY)),
            planning_cells(&|m| workers(m).map(|w| counts_text(&w.plan_counts))),
            format!("{} SendMessageBatch (1 per 10 places), nothing in a member account", places.div_ceil(10)),
            Some(w.plan_counts.keys().all(|k| k == "SendMessageBatch")
                && w.plan_counts.get("SendMessageBatch").copied().unwrap_or(0) <= places.div_ceil(10)),
        ));
    }
    if let Some(p) = a.plan_scale.as_ref() {
        let want = PLAN_ACCOUNTS * PLAN_REGIONS.len();
        let sends = |p: &PlanScale| p.counts.get("SendMessageBatch").copied().unwrap_or(0);
        let pages = |p: &PlanScale| p.counts.get("ListAccounts").copied().unwrap_or(0);
        let checks = |p: &PlanScale| p.counts.get("DescribeOrganization").copied().unwrap_or(0);
        rows.push(row(
            format!(
                "plan at scale: {PLAN_ACCOUNTS} accounts (MEMBER_ACCOUNTS = SWEEP_ACCOUNTS = organization) × {} regions in one invocation, +{} per request: wall time",
                PLAN_REGIONS.len(),
                ms(SLOW_DELAY)
            ),
            planning_cells(&|m| {
                m.plan_scale.as_ref().map(|p| {
                    format!(
                        "{:.1} s ({} planned of {} accounts × {} regions, {} planFailed; the queue then held {})",
                        p.wall.as_secs_f64(),
                        p.planned,
                        p.accounts,
                        p.regions,
                        p.plan_failed,
                        p.depth.0 + p.depth.1
                    )
                })
            }),
            "≤ 300 s",
            Some(p.wall <= Duration::from_secs(300) && p.planned as usize == want),
        ));
        rows.push(row(
            "plan at scale: AWS requests",
            planning_cells(&|m| {
                m.plan_scale.as_ref().map(|p| {
                    format!(
                        "{}: SendMessageBatch ×{}, ListAccounts ×{} (the listing's pages), DescribeOrganization ×{} (the listing's organization check){}",
                        p.counts.values().sum::<usize>(),
                        sends(p),
                        pages(p),
                        checks(p),
                        {
                            let others: BTreeMap<String, usize> = p
                                .counts
                                .iter()
                                .filter(|(k, _)| !["SendMessageBatch", "ListAccounts", "DescribeOrganization"].contains(&k.as_str()))
                                .map(|(k, v)| (k.clone(), *v))
                                .collect();
                            if others.is_empty() { String::new() } else { format!(", others: {}", counts_text(&others)) }
                        }
                    )
                })
            }),
            format!("≤ {} SendMessageBatch + the listing's pages", want.div_ceil(10)),
            Some(
                sends(p) <= want.div_ceil(10)
                    && p.counts.values().sum::<usize>() <= sends(p) + pages(p) + checks(p)
                    && checks(p) <= 1,
            ),
        ));
        if oa.workers.is_some() {
            rows.push(row(
                format!(
                    "the organization at scale ({want} places), {ORG_WORKERS} workers: wall time extrapolated (the plan at scale, measured, + the sample's median per-place time with a cold worker × places ÷ {ORG_WORKERS})"
                ),
                planning_cells(&|m| {
                    let w = m.org.as_ref()?.workers.as_ref()?;
                    let p = m.plan_scale.as_ref()?;
                    let total = w.extrapolated(want, p.wall, w.slow_cold.median());
                    let places40 = w.cold.median().mul_f64(want as f64 / ORG_WORKERS as f64);
                    Some(format!(
                        "+{}: {:.1} s plan + {:.3} s × {want} ÷ {ORG_WORKERS} = {:.0} s ({:.1} min); the places at +{}: {:.3} s × {want} ÷ {ORG_WORKERS} = {:.0} s",
                        ms(SLOW_DELAY),
                        p.wall.as_secs_f64(),
                        w.slow_cold.median().as_secs_f64(),
                        total.as_secs_f64(),
                        total.as_secs_f64() / 60.0,
                        ms(SWEEP_DELAY),
                        w.cold.median().as_secs_f64(),
                        places40.as_secs_f64()
                    ))
                }),
                "— (each place is its own invocation, bounded by WorkerTimeoutSeconds)",
                None,
            ));
        }
    }
    if let Some(r) = a.worker_rss.as_ref() {
        rows.push(row(
            format!(
                "worker: peak RSS (VmHWM) of one worker after {} places ({RSS_ACCOUNTS} member accounts × {} regions, one database per account), one record per invocation",
                RSS_ACCOUNTS * RSS_REGIONS.len(),
                RSS_REGIONS.len()
            ),
            planning_cells(&|m| {
                m.worker_rss.as_ref().map(|r| {
                    let steps = r
                        .checkpoints
                        .iter()
                        .map(|(n, kb)| format!("{n}: {:.1}", *kb as f64 / 1024.0))
                        .collect::<Vec<_>>()
                        .join(", ");
                    format!(
                        "{:.1} MB after {} places (by places swept: {steps} MB; {} secrets created)",
                        r.checkpoints.last().map_or(0, |c| c.1) as f64 / 1024.0,
                        r.places,
                        r.created
                    )
                })
            }),
            "< 64 MB",
            Some(r.checkpoints.last().is_some_and(|c| c.1 < 64 * 1024)),
        ));
    }

    let missing = |s: Option<u64>| s.map(mb).unwrap_or_else(|| "not built".into());
    rows.push(row(
        "x86_64 release binary (target/release/db-secret-provisioner, stripped by the release profile)",
        cells(b, a, |m| missing(m.size)),
        "≤ 10 MB",
        Some(a.size.unwrap_or(0) <= 10_000_000),
    ));
    rows.push(row(
        "arm64 bootstrap (cargo lambda build --release --arm64)",
        cells(b, a, |m| missing(m.bootstrap)),
        "≤ 8 MB",
        a.bootstrap.map(|s| s <= 8_000_000),
    ));
    if a.zip.is_some() || b.is_some_and(|m| m.zip.is_some()) {
        rows.push(row(
            "arm64 deployment zip",
            cells(b, a, |m| missing(m.zip)),
            "—",
            None,
        ));
    }

    if b.is_some() || sb.is_some() {
        println!("\n| figure | before | after | budget |\n|---|---|---|---|");
        for r in &rows {
            let mark = match r.met {
                Some(true) => " ✓",
                Some(false) => " ✗ NOT MET",
                None => "",
            };
            println!(
                "| {} | {} | {} | {}{mark} |",
                r.figure,
                r.before.as_deref().unwrap_or("—"),
                r.after,
                r.budget
            );
        }
        println!("\n✓ / ✗: the after column meets / misses the budget.");
    } else {
        println!("\n| figure | value | budget | met |\n|---|---|---|---|");
        for r in &rows {
            let met = match r.met {
                Some(true) => "yes",
                Some(false) => "NO",
                None => "",
            };
            println!("| {} | {} | {} | {} |", r.figure, r.after, r.budget, met);
        }
    }

    // After vs before.
    let mut differences = Vec::new();
    if let Some(b) = b {
        let diff = |figure: &str, before: f64, after: f64, unit, decimals, tolerance| Difference {
            figure: figure.into(),
            before,
            after,
            unit,
            decimals,
            tolerance,
        };
        let msf = |d: Duration| d.as_secs_f64() * 1000.0;
        let kb = |s: Option<u64>| s.unwrap_or(0) as f64 / 1000.0;
        let others = Tolerance::Relative(5.0);
        differences.push(diff(
            "init (median)",
            msf(b.init()),
            msf(a.init()),
            "ms",
            2,
            Tolerance::Absolute(0.5),
        ));
        differences.push(diff(
            "peak RSS",
            b.peak_kb as f64 / 1024.0,
            a.peak_kb as f64 / 1024.0,
            "MB",
            2,
            Tolerance::Absolute(0.5),
        ));
        for (n, name) in ["native RDS event", "CloudTrail CreateDBInstance"]
            .iter()
            .enumerate()
        {
            differences.push(diff(
                &format!("warm latency, {name}"),
                msf(b.warm[n]),
                msf(a.warm[n]),
                "ms",
                1,
                others,
            ));
        }
        for (name, before, after) in [
            ("x86_64 release binary", b.size, a.size),
            ("arm64 bootstrap", b.bootstrap, a.bootstrap),
            ("arm64 deployment zip", b.zip, a.zip),
        ] {
            differences.push(diff(
                name,
                kb(before),
                kb(after),
                "KB",
                0,
                Tolerance::Absolute(50.0),
            ));
        }
        for (n, name) in ["native RDS event", "CloudTrail CreateDBInstance"]
            .iter()
            .enumerate()
        {
            differences.push(diff(
                &format!("round trips, {name}"),
                b.trips[n],
                a.trips[n],
                "",
                2,
                others,
            ));
        }
        let (sb, ob) = (b.sweep.as_ref().unwrap(), b.org.as_ref().unwrap());
        for (name, before, after, unit, decimals) in [
            (
                "reconcile sweep: AWS requests",
                sb.calls as f64,
                sa.calls as f64,
                "",
                0,
            ),
            (
                "reconcile sweep: reads that decrypt",
                sb.decrypting_reads as f64,
                sa.decrypting_reads as f64,
                "",
                0,
            ),
            (
                "reconcile sweep: wall time",
                sb.wall.as_secs_f64(),
                sa.wall.as_secs_f64(),
                "s",
                2,
            ),
            (
                "hub: round trips, first event",
                ob.first_trips,
                oa.first_trips,
                "",
                2,
            ),
            (
                "hub: round trips, next event",
                ob.next_trips,
                oa.next_trips,
                "",
                2,
            ),
            (
                "organization sweep: AWS requests (before: in-process; after: plan + workers)",
                ob.calls as f64,
                oa.calls as f64,
                "",
                0,
            ),
            (
                "organization sweep: wall time (before: in-process; after: plan + workers, extrapolated)",
                ob.wall.as_secs_f64(),
                oa.wall.as_secs_f64(),
                "s",
                2,
            ),
        ] {
            differences.push(diff(name, before, after, unit, decimals, others));
        }
        println!(
            "\nAfter vs before (tolerances: init ±0.5 ms, RSS ±0.5 MB, binaries ±50 KB, others ±5 %):\n"
        );
        println!("| figure | before | after | after − before | relative | tolerance | |\n|---|---|---|---|---|---|---|");
        for d in &differences {
            d.print();
        }
        let same = b.operations == a.operations;
        println!(
            "| AWS requests per new-secret event | {} | {} | {} | | identical | {} |",
            counts_text(&b.operations),
            counts_text(&a.operations),
            if same { "same" } else { "differ" },
            if same { "ok" } else { "OUTSIDE" }
        );
        let outside: Vec<&str> = differences
            .iter()
            .filter(|d| d.outside())
            .map(|d| d.figure.as_str())
            .chain((!same).then_some("AWS requests per new-secret event"))
            .collect();
        if outside.is_empty() {
            println!("\nEvery difference is within its tolerance.");
        } else {
            println!(
                "\nOutside the tolerance ({}): {}",
                outside.len(),
                outside.join("; ")
            );
        }
    }

    for (k, build) in builds.iter().enumerate() {
        if let Some(p) = &measured[k].plan_scale {
            println!(
                "\nNote ({}): creating the plan at scale's {} accounts in moto's Organizations (32 CreateAccount calls at once, no delay) took {:.1} s; it is not part of any figure.",
                build.name,
                PLAN_ACCOUNTS - 1,
                p.seeding.as_secs_f64()
            );
        }
    }

    if notes.0.is_empty() {
        println!("\nEvery answer was the expected one.");
    } else {
        println!("\nAnswers that are not the expected ones (their runs still count in the figures above):");
        for (note, count) in &notes.0 {
            println!("- {note} (×{count})");
        }
    }
    println!(
        "\nbench: {:.0} s in all",
        run_started.elapsed().as_secs_f64()
    );

    let json: Vec<Value> = rows
        .iter()
        .map(|r| json!({"figure": r.figure, "before": r.before, "value": r.after, "budget": r.budget, "met": r.met}))
        .collect();
    std::fs::create_dir_all("bench/out").ok();
    std::fs::write(
        "bench/out/results.json",
        serde_json::to_string_pretty(&json).unwrap(),
    )
    .ok();
}

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
use support::runtime_api::Answer;
use support::*;

const COLD_STARTS: usize = 25;
/// The sweep benchmark: this many databases that all have correct secrets, this delay per AWS
/// request.
const SWEEP_DATABASES: usize = 1000;
const SWEEP_DELAY: Duration = Duration::from_millis(40);
/// The organization sweep benchmark: accounts × regions × databases, all with correct secrets.
const ORG_ACCOUNTS: usize = 20;
const ORG_REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];
const ORG_DATABASES: usize = 50;
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

struct OrgFigures {
    first_trips: f64,
    next_trips: f64,
    calls: usize,
    assume_role: usize,
    by_operation: String,
    wall: Duration,
}

/// Seeds ORG_ACCOUNTS member accounts (each with the member role) × ORG_REGIONS × ORG_DATABASES,
/// lets a hub's own sweeps create every secret, then measures: round trips of a first and a next
/// event from a new member account, and one organization sweep by a fresh function process.
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
    let members = accounts.join(",");
    let env = [
        ("MEMBER_ACCOUNTS", members.as_str()),
        ("ORGANIZATION_ID", "o-exampleorg1"),
        ("SWEEP_REGIONS", "us-east-1,eu-west-1"),
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

    // The secrets, by the hub's own sweeps; then one measured sweep by a fresh function.
    let f = Function::start(binary, &proxy.endpoint(), &env);
    for _ in 0..10 {
        let answer = f.api.invoke(&events::scheduled(), Duration::from_secs(300));
        let response = notes.response(
            build.name,
            "organization sweep (creating the secrets)",
            &answer,
        );
        if response["sweep"]["left"]
            .as_array()
            .is_none_or(|l| l.is_empty())
        {
            break;
        }
    }
    drop(f);
    // Five measured sweeps, each by a fresh function (its AssumeRoles included): the wall time
    // is their median, the requests and the answer those of the first.
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
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for op in &operations {
        *counts.entry(op.clone()).or_default() += 1;
    }
    OrgFigures {
        first_trips: trips[0],
        next_trips: trips[1],
        calls: operations.len(),
        assume_role: counts.get("AssumeRole").copied().unwrap_or(0),
        by_operation: counts_text(&counts),
        wall,
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

    // 5. Sizes.
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
    let budget = 6.0 * places as f64 + ORG_ACCOUNTS as f64 + 0.02 * databases as f64;
    rows.push(row(
        format!(
            "organization sweep, {ORG_ACCOUNTS} accounts × {} regions × {ORG_DATABASES} databases with correct secrets, +{} per request, a fresh function: AWS requests",
            ORG_REGIONS.len(),
            ms(SWEEP_DELAY),
        ),
        cells(ob, oa, |o| {
            format!(
                "{} ({} AssumeRole, {:.2} per account-region besides: {})",
                o.calls,
                o.assume_role,
                (o.calls - o.assume_role) as f64 / places as f64,
                o.by_operation
            )
        }),
        format!("≤ 6 per account-region + 1 AssumeRole per account + 0.02 per database = {budget:.0}"),
        Some(oa.calls as f64 <= budget),
    ));
    rows.push(row(
        "organization sweep: wall time (median of 5, each a fresh function)",
        cells(ob, oa, |o| format!("{:.2} s", o.wall.as_secs_f64())),
        "≤ 60 s",
        Some(oa.wall <= Duration::from_secs(60)),
    ));

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
                "organization sweep: AWS requests",
                ob.calls as f64,
                oa.calls as f64,
                "",
                0,
            ),
            (
                "organization sweep: wall time",
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

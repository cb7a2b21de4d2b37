//! The benchmark (`make bench`): cold start, warm latency, sequential AWS round trips, AWS
//! requests per event, peak RSS and artifact sizes of the release binary, against moto behind a
//! delay-injecting proxy. Not a test: it measures and prints, with the budgets next to each
//! figure.
//!
//! Usage: bench [RELEASE_BINARY] [ARM64_BOOTSTRAP_DIR]

use it_support as support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::proxy::Proxy;
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

struct Row {
    figure: String,
    value: String,
    budget: String,
    met: Option<bool>,
}

struct SweepFigures {
    calls: usize,
    by_operation: String,
    decrypting_reads: usize,
    wall: Duration,
}

/// Seeds SWEEP_DATABASES instances with their parameters in a moto of their own, lets `binary`'s
/// own sweep create every secret, then times one more sweep with SWEEP_DELAY per request.
async fn sweep_bench(binary: &Path) -> SweepFigures {
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
    let f = Function::start(binary, &proxy.endpoint(), &[]);
    let sweep = || {
        let answer = f.api.invoke(&events::scheduled(), Duration::from_secs(300));
        answer.response()["sweep"].clone()
    };
    // The binary's own sweeps create the secrets (each stops before its deadline).
    for _ in 0..10 {
        if sweep()["left"].as_array().is_none_or(|l| l.is_empty()) {
            break;
        }
    }
    proxy.clear_operations();
    proxy.set_delay(SWEEP_DELAY);
    let t = Instant::now();
    let report = sweep();
    let wall = t.elapsed();
    proxy.set_delay(Duration::ZERO);
    assert_eq!(report["created"], serde_json::json!([]), "{report}");
    let operations = proxy.operations();
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
        by_operation: counts
            .iter()
            .map(|(k, v)| format!("{k} ×{v}"))
            .collect::<Vec<_>>()
            .join(", "),
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
async fn org_bench(binary: &Path) -> OrgFigures {
    use futures_util::{stream, StreamExt as _};
    use support::accounts::{clients_in, create_role};
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
            &[("MEMBER_ACCOUNTS", with_extra.as_str())],
        );
        let mut pair = Vec::new();
        for n in 0..2 {
            let id = format!("trip-{round}-{n}");
            create_instance(&c, &id, "postgres", "admin").await;
            put_password(&c, &format!("/db-secrets/rds/{id}/admin"), "bench-Passw0rd").await;
            let mut event = events::instance_created(&id);
            event["account"] = serde_json::json!(extra);
            event["detail"]["SourceArn"] =
                serde_json::json!(format!("arn:aws:rds:{REGION}:{extra}:db:{id}"));
            proxy.set_delay(delay);
            let t = Instant::now();
            let answer = f.api.invoke(&event, Duration::from_secs(60));
            pair.push(t.elapsed());
            proxy.set_delay(Duration::ZERO);
            assert_eq!(answer.response()["outcome"], "created", "{answer:?}");
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
        if answer.response()["sweep"]["left"]
            .as_array()
            .is_none_or(|l| l.is_empty())
        {
            break;
        }
    }
    drop(f);
    let f = Function::start(binary, &proxy.endpoint(), &env);
    f.api.wait_first_next(Duration::from_secs(10));
    proxy.clear_operations();
    proxy.set_delay(SWEEP_DELAY);
    let t = Instant::now();
    let answer = f.api.invoke(&events::scheduled(), Duration::from_secs(300));
    let wall = t.elapsed();
    proxy.set_delay(Duration::ZERO);
    let report = answer.response()["sweep"].clone();
    assert_eq!(report["created"], 0, "{report}");
    assert_eq!(
        report["alreadyPresent"],
        (places.len() * ORG_DATABASES) as u64,
        "{report}"
    );
    let operations = proxy.operations();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for op in &operations {
        *counts.entry(op.clone()).or_default() += 1;
    }
    OrgFigures {
        first_trips: trips[0],
        next_trips: trips[1],
        calls: operations.len(),
        assume_role: counts.get("AssumeRole").copied().unwrap_or(0),
        by_operation: counts
            .iter()
            .map(|(k, v)| format!("{k} ×{v}"))
            .collect::<Vec<_>>()
            .join(", "),
        wall,
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let binary = PathBuf::from(
        args.first()
            .cloned()
            .unwrap_or_else(|| "target/release/db-secret-provisioner".into()),
    );
    let arm64_dir = PathBuf::from(
        args.get(1)
            .cloned()
            .unwrap_or_else(|| "target/lambda/db-secret-provisioner".into()),
    );
    assert!(
        binary.exists(),
        "{} is missing: run `make bench`",
        binary.display()
    );
    // Production-like logging for every function started here.
    std::env::set_var("FUNCTION_RUST_LOG", "info");

    let moto = start_moto(None);
    let proxy = Proxy::start(&moto.endpoint);
    let clients = Clients::new(&sdk_config(&moto.endpoint, REGION).await);
    let mut rows: Vec<Row> = Vec::new();

    // 1. Cold start: process start → first /invocation/next (init done, every client built).
    let mut inits = Vec::new();
    for _ in 0..COLD_STARTS {
        let f = Function::start(&binary, &proxy.endpoint(), &[]);
        let first = f
            .api
            .wait_first_next(Duration::from_secs(10))
            .expect("the function reached /next");
        inits.push(first - f.started);
    }
    let init = median(inits.clone());
    rows.push(Row {
        figure: format!("init: process start → first /next (median of {COLD_STARTS})"),
        value: format!(
            "{} (min {}, max {})",
            ms(init),
            ms(*inits.iter().min().unwrap()),
            ms(*inits.iter().max().unwrap())
        ),
        budget: "≤ 20 ms".into(),
        met: Some(init <= Duration::from_millis(20)),
    });

    // 2. Warm latency and sequential round trips, for two parameter templates.
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
    let mut peak_kb = 0;
    let mut operations: BTreeMap<String, usize> = BTreeMap::new();
    for (n, (label, event_for)) in scenarios.iter().enumerate() {
        let f = Function::start(&binary, &proxy.endpoint(), &[]);
        let mut latencies = Vec::new();
        let mut delayed = Vec::new();
        for i in 0..(WARM_RUNS * 2) {
            let id = unique(&format!("bench{n}"));
            // Alternate plain and delayed runs so both see the same moto state size.
            let delay = if i % 2 == 0 { Duration::ZERO } else { DELAY };
            create_instance(&clients, &id, "postgres", "admin").await;
            let parameter = format!("/db-secrets/rds/{id}/admin");
            put_password(&clients, &parameter, "bench-Passw0rd").await;
            proxy.set_delay(delay);
            proxy.clear_operations();
            let event = event_for(&id);
            let t = Instant::now();
            let answer = f.api.invoke(&event, Duration::from_secs(60));
            let took = t.elapsed();
            assert_eq!(answer.response()["outcome"], "created", "{answer:?}");
            if delay.is_zero() {
                latencies.push(took);
                if n == 0 && operations.is_empty() {
                    for op in proxy.operations() {
                        *operations.entry(op).or_default() += 1;
                    }
                }
            } else {
                delayed.push(took);
            }
        }
        proxy.set_delay(Duration::ZERO);
        let warm = median(latencies);
        let slow = median(delayed);
        let trips = (slow.saturating_sub(warm)).as_secs_f64() / DELAY.as_secs_f64();
        rows.push(Row {
            figure: format!("warm invocation, new secret, {label} (median of {WARM_RUNS})"),
            value: ms(warm),
            budget: "—".into(),
            met: None,
        });
        rows.push(Row {
            figure: format!("sequential AWS round trips, {label} ((latency with +{} per request − without) ÷ delay)", ms(DELAY)),
            value: format!("{trips:.2}"),
            budget: "≤ 2".into(),
            met: Some(trips.round() <= 2.0),
        });
        peak_kb = peak_kb.max(peak_rss_kb(f.pid()).unwrap_or(0));
    }
    let ops: Vec<String> = operations
        .iter()
        .map(|(k, v)| format!("{k} ×{v}"))
        .collect();
    rows.push(Row {
        figure: "AWS requests per new-secret event (default templates)".into(),
        value: ops.join(", "),
        budget: "—".into(),
        met: None,
    });
    rows.push(Row {
        figure: "peak RSS (VmHWM) after the warm runs".into(),
        value: format!("{:.1} MB", peak_kb as f64 / 1024.0),
        budget: "≤ 25 MB".into(),
        met: Some(peak_kb <= 25 * 1024),
    });

    // 3. The reconcile sweep over SWEEP_DATABASES databases that all have correct secrets, with
    // SWEEP_DELAY per AWS request; with SWEEP_BEFORE=<binary>, the same for an older binary.
    let mut sweeps = vec![("this binary".to_string(), binary.clone())];
    if let Some(before) = std::env::var_os("SWEEP_BEFORE") {
        sweeps.push((
            format!("before ({})", Path::new(&before).display()),
            PathBuf::from(before),
        ));
    }
    for (label, bin) in sweeps {
        let s = sweep_bench(&bin).await;
        let per_db = s.calls as f64 / SWEEP_DATABASES as f64;
        rows.push(Row {
            figure: format!(
                "reconcile sweep, {SWEEP_DATABASES} databases with correct secrets, +{} per request, {label}: AWS requests ({})",
                ms(SWEEP_DELAY),
                s.by_operation
            ),
            value: format!("{} ({per_db:.3} per database)", s.calls),
            budget: "≤ 0.05 per database".into(),
            met: Some(per_db <= 0.05),
        });
        rows.push(Row {
            figure: format!("reconcile sweep, {label}: reads that decrypt (GetParameter, GetParametersByPath, GetSecretValue)"),
            value: s.decrypting_reads.to_string(),
            budget: "0".into(),
            met: Some(s.decrypting_reads == 0),
        });
        rows.push(Row {
            figure: format!("reconcile sweep, {label}: wall time"),
            value: format!("{:.2} s", s.wall.as_secs_f64()),
            budget: "≤ 10 s".into(),
            met: Some(s.wall <= Duration::from_secs(10)),
        });
    }

    // 4. Hub mode: the first event from a member account adds one round trip (AssumeRole), the
    // next none; the organization sweep over ORG_ACCOUNTS × ORG_REGIONS × ORG_DATABASES.
    let org = org_bench(&binary).await;
    rows.push(Row {
        figure: format!(
            "hub: sequential AWS round trips, first event from a member account / next event from it (+{} per request)",
            ms(DELAY)
        ),
        value: format!("{:.2} / {:.2}", org.first_trips, org.next_trips),
        budget: "+1 / +0 over a same-account event (2)".into(),
        met: Some(org.first_trips.round() <= 3.0 && org.next_trips.round() <= 2.0),
    });
    let places = ORG_ACCOUNTS * ORG_REGIONS.len();
    let databases = places * ORG_DATABASES;
    let budget = 6.0 * places as f64 + ORG_ACCOUNTS as f64 + 0.02 * databases as f64;
    rows.push(Row {
        figure: format!(
            "organization sweep, {ORG_ACCOUNTS} accounts × {} regions × {ORG_DATABASES} databases with correct secrets, +{} per request, a fresh function: AWS requests ({})",
            ORG_REGIONS.len(),
            ms(SWEEP_DELAY),
            org.by_operation
        ),
        value: format!(
            "{} ({} AssumeRole, {:.2} per account-region besides)",
            org.calls,
            org.assume_role,
            (org.calls - org.assume_role) as f64 / places as f64
        ),
        budget: format!("≤ 6 per account-region + 1 AssumeRole per account + 0.02 per database = {budget:.0}"),
        met: Some(org.calls as f64 <= budget),
    });
    rows.push(Row {
        figure: "organization sweep: wall time".into(),
        value: format!("{:.2} s", org.wall.as_secs_f64()),
        budget: "≤ 60 s".into(),
        met: Some(org.wall <= Duration::from_secs(60)),
    });

    // 5. Sizes.
    let size = file_size(&binary).unwrap_or(0);
    rows.push(Row {
        figure: format!(
            "x86_64 release binary ({}, stripped by the release profile)",
            binary.display()
        ),
        value: mb(size),
        budget: "≤ 10 MB".into(),
        met: Some(size <= 10_000_000),
    });
    match file_size(&arm64_dir.join("bootstrap")) {
        Some(b) => rows.push(Row {
            figure: "arm64 bootstrap (cargo lambda build --release --arm64)".into(),
            value: mb(b),
            budget: "≤ 8 MB".into(),
            met: Some(b <= 8_000_000),
        }),
        None => rows.push(Row {
            figure: "arm64 bootstrap".into(),
            value: format!("not built ({} missing)", arm64_dir.display()),
            budget: "≤ 8 MB".into(),
            met: None,
        }),
    }
    if let Some(z) = file_size(&arm64_dir.join("bootstrap.zip")) {
        rows.push(Row {
            figure: "arm64 deployment zip".into(),
            value: mb(z),
            budget: "—".into(),
            met: None,
        });
    }

    println!("\n| figure | value | budget | met |\n|---|---|---|---|");
    for r in &rows {
        let met = match r.met {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "",
        };
        println!("| {} | {} | {} | {} |", r.figure, r.value, r.budget, met);
    }
    let json: Vec<Value> = rows
        .iter()
        .map(|r| serde_json::json!({"figure": r.figure, "value": r.value, "budget": r.budget, "met": r.met}))
        .collect();
    std::fs::create_dir_all("bench/out").ok();
    std::fs::write(
        "bench/out/results.json",
        serde_json::to_string_pretty(&json).unwrap(),
    )
    .ok();
}

//! The one-command demo (`make demo`): starts moto (the local AWS), creates the database a sample
//! event names together with its initial-password parameter, runs the built function through a
//! local Lambda Runtime API (the way Lambda runs it), and prints the outcome and the stored
//! secret.
//!
//! Usage: cargo run --example local_invoke -- [EVENT_FILE ...]
//! (default: events/rds-instance-created.json). `*_TEMPLATE` variables are passed on to the
//! function; `ENGINE=docdb` (or another engine) changes the engine of the seeded database.

use it_support as support;

use std::collections::HashSet;
use std::process::ExitCode;

use db_secret_provisioner::event::{recognise, Recognised, Request};
use db_secret_provisioner::model::Target;
use serde_json::Value;
use support::fixtures::{Db, Service};
use support::*;

/// Creates, in moto, the database a recognised event names and the initial-password
/// parameter the function will read (default templates). `ENGINE` overrides the engine.
/// Returns false for what moto cannot emulate (the event is then not invoked). A database
/// already in `seeded` (an earlier event of the same run named it) is not created again; only
/// the parameter of the event's user is added.
async fn seed(clients: &Clients, request: &Request, seeded: &mut HashSet<String>) -> bool {
    let id = request.target.identifier();
    let engine_override = std::env::var("ENGINE").ok().filter(|e| !e.is_empty());
    let (engine, master) = match &request.target {
        Target::DbInstance(_) => ("mysql", "admin"),
        Target::DbCluster(_) => ("aurora-postgresql", "postgres"),
        Target::RedshiftCluster(_) => ("redshift", "awsuser"),
        Target::Workgroup(name) => {
            // Redshift Serverless: emulated by the test launcher.
            let namespace = format!("{name}-ns");
            let created = clients
                .serverless
                .create_namespace()
                .namespace_name(&namespace)
                .admin_username("admin")
                .db_name("dev")
                .send()
                .await
                .is_ok()
                && clients
                    .serverless
                    .create_workgroup()
                    .workgroup_name(name.to_string())
                    .namespace_name(&namespace)
                    .send()
                    .await
                    .is_ok();
            let db = Db::new(
                "workgroup",
                Service::RedshiftServerless,
                &name.to_string(),
                "admin",
            );
            db.put_password(clients, "demo-Initial-Passw0rd").await;
            let parameter = db.parameter();
            println!("seeded: Redshift Serverless workgroup {name:?} (namespace {namespace:?}, created: {created}); SecureString {parameter} for admin");
            return true;
        }
        Target::WorkgroupArn(_) => {
            println!("this event names the workgroup only by its ARN (an id moto cannot know): see tests/it/mocked.rs");
            return false;
        }
        Target::Namespace(_) => {
            println!("this event names a namespace, whose workgroup the demo does not seed: see tests/it/resets.rs");
            return false;
        }
    };
    let engine = engine_override.as_deref().unwrap_or(engine);
    let master = match (request.master_username_hint.as_deref(), engine) {
        (Some(hint), _) => hint,
        (None, "docdb") => "docadmin",
        (None, _) => master,
    };
    if seeded.insert(request.target.to_string()) {
        match &request.target {
            Target::DbInstance(_) => create_instance(clients, id, engine, master).await,
            Target::DbCluster(_) => create_cluster(clients, id, engine, master, Some("app")).await,
            _ => create_redshift_cluster(clients, id, master).await,
        }
    }
    let service = if engine == "docdb" {
        Service::DocDb
    } else {
        request.target.service_guess()
    };
    let kind = match &request.target {
        Target::DbInstance(_) => "instance",
        Target::DbCluster(_) => "cluster",
        _ => "redshift",
    };
    let db = Db::new(kind, service, id, master);
    let user = match &request.user {
        Some(u) => u.username.as_str(),
        None => master,
    };
    db.put_password_of(clients, user, "demo-Initial-Passw0rd")
        .await;
    let parameter = db.parameter_of(user);
    println!(
        "seeded: {engine} {} {id:?}; SecureString {parameter} for {user}",
        request.target.resource()
    );
    true
}

/// Reads a sample event: one clear line (never a panic) when it cannot.
fn read_event(file: &str) -> Result<Value, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read {file}: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("{file} is not JSON: {e}"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        files.push("events/rds-instance-created.json".into());
    }
    let binary = built_binary();
    let moto = start_moto(None);
    eprintln!("local AWS (moto) at {}", moto.endpoint);
    let clients = Clients::new(&sdk_config(&moto.endpoint, REGION).await);

    let passthrough: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k.ends_with("_TEMPLATE") || k == "RUST_LOG" || k == "AWS_LAMBDA_LOG_LEVEL")
        .collect();
    let env: Vec<(&str, &str)> = passthrough
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let function = Function::start(&binary, &moto.endpoint, &env);

    let mut seeded = HashSet::new();
    let mut failed = false;
    for file in files {
        let event = match read_event(&file) {
            Ok(event) => event,
            Err(e) => {
                eprintln!("demo: {e}");
                failed = true;
                continue;
            }
        };
        println!("== {file}");
        if let Ok(Recognised::Provision(request)) = recognise(&event) {
            if !seed(&clients, &request, &mut seeded).await {
                continue;
            }
        }
        match function.invoke(&event) {
            runtime_api::Answer::Response(outcome) => {
                println!(
                    "outcome: {}",
                    serde_json::to_string_pretty(&outcome).unwrap()
                );
                if let Some(name) = outcome["secretName"].as_str() {
                    match secret_json(&clients, name).await {
                        Some(secret) => println!(
                            "stored secret {name}:\n{}",
                            serde_json::to_string_pretty(&secret).unwrap()
                        ),
                        None => {
                            eprintln!("demo: the outcome names {name}, which cannot be read");
                            failed = true;
                        }
                    }
                }
            }
            runtime_api::Answer::Error(error) => println!("error: {error}"),
        }
    }
    if std::env::var_os("SHOW_LOGS").is_some() {
        eprintln!("--- function logs ---\n{}", function.logs());
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

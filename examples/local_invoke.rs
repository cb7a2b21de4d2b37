//! The one-command demo (`make demo`): starts moto (the local AWS), creates the database a sample
//! event names together with its initial-password parameter, runs the built function through a
//! local Lambda Runtime API (the way Lambda runs it), and prints the outcome and the stored
//! secret.
//!
//! Usage: cargo run --example local_invoke -- [EVENT_FILE ...]
//! (default: events/rds-instance-created.json). Environment variables such as
//! `SECRET_NAME_TEMPLATE` are passed on to the function.

#[path = "../tests/support/mod.rs"]
mod support;

use db_secret_provisioner::event::{recognise, Recognised, Target};
use serde_json::Value;
use support::*;

/// The demo database's engine and master user per kind of target.
fn seed_for(target: &Target) -> (&'static str, &'static str) {
    match target {
        Target::DbInstance(_) => ("mysql", "admin"),
        Target::DbCluster(_) => ("aurora-postgresql", "postgres"),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
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

    for file in files {
        let event: Value = serde_json::from_str(
            &std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("read {file}: {e}")),
        )
        .unwrap_or_else(|e| panic!("{file} is not JSON: {e}"));
        println!("== {file}");
        if let Ok(Recognised::Provision(request)) = recognise(&event) {
            let (engine, user) = seed_for(&request.target);
            let id = request.target.identifier();
            match &request.target {
                Target::DbInstance(_) => create_instance(&clients, id, engine, user).await,
                Target::DbCluster(_) => {
                    create_cluster(&clients, id, engine, user, Some("app")).await
                }
            }
            let parameter = format!("/db-secrets/rds/{id}/{user}");
            put_password(&clients, &parameter, "demo-Initial-Passw0rd").await;
            println!(
                "seeded: {engine} {} {id:?}, SecureString parameter {parameter}",
                request.target.kind()
            );
        }
        match function.invoke(&event) {
            runtime_api::Answer::Response(outcome) => {
                println!(
                    "outcome: {}",
                    serde_json::to_string_pretty(&outcome).unwrap()
                );
                if let Some(name) = outcome["secretName"].as_str() {
                    let secret = secret_json(&clients, name)
                        .await
                        .expect("the secret is stored");
                    println!(
                        "stored secret {name}:\n{}",
                        serde_json::to_string_pretty(&secret).unwrap()
                    );
                }
            }
            runtime_api::Answer::Error(error) => println!("error: {error}"),
        }
    }
    if std::env::var_os("SHOW_LOGS").is_some() {
        eprintln!("--- function logs ---\n{}", function.logs());
    }
}

//! Prints the code's trigger table as JSON: the deployment checks
//! (`tests/deploy/triggers.py`) compare the SAM template's and the CDK app's EventBridge rules
//! with it, so a trigger added in code without a rule (or a rule the code ignores) fails
//! `make test`.
//!
//! Usage: cargo run --example trigger_table > target/trigger-table.json

use db_secret_provisioner::event::trigger_table;
use serde_json::{json, Map, Value};

fn main() {
    let rows: Vec<Value> = trigger_table()
        .into_iter()
        .map(|r| {
            let detail: Map<String, Value> = r
                .detail
                .iter()
                .map(|(k, v)| (k.to_string(), Value::from(*v)))
                .collect();
            json!({"name": r.name, "source": r.source, "detailType": r.detail_type, "detail": detail})
        })
        .collect();
    println!("{}", serde_json::to_string_pretty(&rows).unwrap());
}

//! Runs the function's init-time configuration check on environments read from stdin, without
//! AWS: the deployment checks (`tests/deploy/check_template.py`, `cdk/test/check-synth.mjs`)
//! compare each template refusal (CloudFormation `Rules`, CDK validation) with what init would
//! answer for the same parameters.
//!
//! Input: a JSON array of objects, each the function's environment variables (string values).
//! Output: a JSON array, one entry per input: `{"ok": true}` or
//! `{"ok": false, "errorType": "ConfigurationError", "variable": "KMS_KEY_ID", "message": ".."}`.
//!
//! Usage: cargo run --quiet --example check_config < envs.json

use std::collections::HashMap;
use std::io::Read as _;

use db_secret_provisioner::config::Config;
use db_secret_provisioner::model::error::Error;
use serde_json::{json, Value};

fn main() {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .expect("read stdin");
    let envs: Vec<HashMap<String, String>> =
        serde_json::from_str(&input).expect("a JSON array of objects of strings");
    let out: Vec<Value> = envs
        .iter()
        .map(|env| match Config::from_lookup(|k| env.get(k).cloned()) {
            Ok(_) => json!({"ok": true}),
            Err(e) => {
                let variable = match &e {
                    Error::Configuration { variable, .. } => Some(variable.clone()),
                    _ => None,
                };
                json!({"ok": false, "errorType": e.error_type(), "variable": variable, "message": e.to_string()})
            }
        })
        .collect();
    println!("{}", serde_json::to_string_pretty(&out).expect("JSON"));
}

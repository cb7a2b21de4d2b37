//! Which job the function's process does (`HANDLER_MODE`), and the hub's work queue: in hub
//! mode the events function plans the organization sweep into `WORK_QUEUE_URL`, and a second
//! function from the same artifact (`HANDLER_MODE=worker`) sweeps one place per message of
//! `WORK_QUEUE_ARN` (docs/organization.md).

use super::{one_of, var};
use crate::model::error::{Error, Result};
use crate::model::identifiers::{is_account_id, is_region};

/// What the process does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    /// Events, and the scheduled sweep. In hub mode the sweep only plans: it sends one message
    /// per account-region to this queue URL (`WORK_QUEUE_URL`, required in hub mode).
    Events { plan_to: Option<String> },
    /// `HANDLER_MODE=worker`: SQS batches of place messages from the queue `queue_arn`
    /// (`WORK_QUEUE_ARN`) only.
    Worker { queue_arn: String },
}

impl Work {
    pub fn is_worker(&self) -> bool {
        matches!(self, Work::Worker { .. })
    }

    /// The work queue the planner sends to (hub mode).
    pub fn plan_to(&self) -> Option<&str> {
        match self {
            Work::Events { plan_to } => plan_to.as_deref(),
            Work::Worker { .. } => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Events,
    Worker,
}

/// Reads `HANDLER_MODE`, `WORK_QUEUE_URL` and `WORK_QUEUE_ARN`; `hub` is whether
/// `MEMBER_ACCOUNTS` is set.
pub(super) fn work(lookup: &impl Fn(&str) -> Option<String>, hub: bool) -> Result<Work> {
    let mode = one_of(
        lookup,
        "HANDLER_MODE",
        &[("events", Mode::Events), ("worker", Mode::Worker)],
    )?;
    let url = var(lookup, "WORK_QUEUE_URL");
    let arn = var(lookup, "WORK_QUEUE_ARN");
    match mode {
        Mode::Events => {
            if arn.is_some() {
                return Err(Error::config(
                    "WORK_QUEUE_ARN",
                    "only the worker (HANDLER_MODE=worker) reads the work queue; the events function sends to WORK_QUEUE_URL",
                ));
            }
            match (url, hub) {
                (Some(u), true) => {
                    check_queue_url(&u)?;
                    Ok(Work::Events { plan_to: Some(u) })
                }
                (None, true) => Err(Error::config(
                    "WORK_QUEUE_URL",
                    "hub mode (MEMBER_ACCOUNTS) plans its sweep into the work queue: set its URL (the stack's WorkQueue)",
                )),
                (Some(_), false) => Err(Error::config(
                    "WORK_QUEUE_URL",
                    "only hub mode (MEMBER_ACCOUNTS) plans its sweep into a work queue",
                )),
                (None, false) => Ok(Work::Events { plan_to: None }),
            }
        }
        Mode::Worker => {
            if !hub {
                return Err(Error::config(
                    "HANDLER_MODE",
                    "the worker sweeps the places a hub plans: it needs hub mode (MEMBER_ACCOUNTS)",
                ));
            }
            if url.is_some() {
                return Err(Error::config(
                    "WORK_QUEUE_URL",
                    "the worker sends nothing; only the events function (the planner) sends to the work queue",
                ));
            }
            let arn = arn.ok_or_else(|| {
                Error::config(
                    "WORK_QUEUE_ARN",
                    "the worker accepts messages of the work queue only: set its ARN",
                )
            })?;
            check_queue_arn(&arn)?;
            Ok(Work::Worker { queue_arn: arn })
        }
    }
}

/// A queue name: 1 to 80 letters, digits, `-` and `_` (a standard queue: no `.fifo`).
fn is_queue_name(n: &str) -> bool {
    (1..=80).contains(&n.len())
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `https://sqs.<region>.amazonaws.com/<account>/<name>` (any `http(s)://host` for a local
/// endpoint).
fn check_queue_url(url: &str) -> Result<()> {
    let bad = || {
        Error::config(
            "WORK_QUEUE_URL",
            format!(
                "{:?} is not a queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)",
                crate::model::identifiers::clip(url)
            ),
        )
    };
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(bad)?;
    let parts: Vec<&str> = rest.split('/').collect();
    match parts.as_slice() {
        [host, account, name]
            if !host.is_empty() && is_account_id(account) && is_queue_name(name) =>
        {
            Ok(())
        }
        _ => Err(bad()),
    }
}

/// `arn:<partition>:sqs:<region>:<account>:<name>`.
fn check_queue_arn(arn: &str) -> Result<()> {
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        ["arn", partition, "sqs", region, account, name]
            if partition.starts_with("aws")
                && is_region(region)
                && is_account_id(account)
                && is_queue_name(name) =>
        {
            Ok(())
        }
        _ => Err(Error::config(
            "WORK_QUEUE_ARN",
            format!(
                "{:?} is not a standard queue's ARN (arn:aws:sqs:REGION:ACCOUNT:NAME)",
                crate::model::identifiers::clip(arn)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read(vars: &[(&str, &str)], hub: bool) -> Result<Work> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        work(&|k: &str| map.get(k).cloned(), hub)
    }

    const URL: &str = "https://sqs.eu-west-1.amazonaws.com/123456789012/dsp-work";
    const ARN: &str = "arn:aws:sqs:eu-west-1:123456789012:dsp-work";

    #[test]
    fn the_hub_plans_into_its_queue_and_the_worker_reads_it() {
        assert_eq!(read(&[], false).unwrap(), Work::Events { plan_to: None });
        assert_eq!(
            read(&[("WORK_QUEUE_URL", URL)], true).unwrap().plan_to(),
            Some(URL)
        );
        assert_eq!(
            read(
                &[("WORK_QUEUE_URL", "http://127.0.0.1:5000/123456789012/q")],
                true
            )
            .unwrap()
            .plan_to(),
            Some("http://127.0.0.1:5000/123456789012/q")
        );
        let w = read(&[("HANDLER_MODE", "worker"), ("WORK_QUEUE_ARN", ARN)], true).unwrap();
        assert!(w.is_worker() && w.plan_to().is_none());
    }

    #[test]
    fn each_wrong_combination_names_its_variable() {
        for (vars, hub, variable) in [
            (vec![], true, "WORK_QUEUE_URL"),
            (vec![("WORK_QUEUE_URL", URL)], false, "WORK_QUEUE_URL"),
            (
                vec![("WORK_QUEUE_URL", "sqs/dsp-work")],
                true,
                "WORK_QUEUE_URL",
            ),
            (
                vec![("WORK_QUEUE_URL", "https://sqs.x/123/dsp-work")],
                true,
                "WORK_QUEUE_URL",
            ),
            (
                vec![("WORK_QUEUE_URL", URL), ("WORK_QUEUE_ARN", ARN)],
                true,
                "WORK_QUEUE_ARN",
            ),
            (vec![("HANDLER_MODE", "planner")], true, "HANDLER_MODE"),
            (
                vec![("HANDLER_MODE", "worker"), ("WORK_QUEUE_ARN", ARN)],
                false,
                "HANDLER_MODE",
            ),
            (vec![("HANDLER_MODE", "worker")], true, "WORK_QUEUE_ARN"),
            (
                vec![
                    ("HANDLER_MODE", "worker"),
                    ("WORK_QUEUE_ARN", "arn:aws:sqs:eu-west-1:1:q"),
                ],
                true,
                "WORK_QUEUE_ARN",
            ),
            (
                vec![
                    ("HANDLER_MODE", "worker"),
                    (
                        "WORK_QUEUE_ARN",
                        "arn:aws:sqs:eu-west-1:123456789012:q.fifo",
                    ),
                ],
                true,
                "WORK_QUEUE_ARN",
            ),
            (
                vec![
                    ("HANDLER_MODE", "worker"),
                    ("WORK_QUEUE_ARN", ARN),
                    ("WORK_QUEUE_URL", URL),
                ],
                true,
                "WORK_QUEUE_URL",
            ),
        ] {
            let e = read(&vars, hub).unwrap_err();
            assert_eq!(e.error_type(), "ConfigurationError");
            assert!(e.to_string().contains(variable), "{vars:?}: {e}");
        }
    }
}

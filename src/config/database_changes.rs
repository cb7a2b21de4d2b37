//! The lifecycle options: following a database's connection changes, and what its deletion does
//! to its secrets.

use super::{boolean, one_of, whole_number};
use crate::model::error::{Error, Result};

/// What a database's deletion does to the function's secrets for it (`ON_DATABASE_DELETED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDeleted {
    /// Tag each secret `db-secret-provisioner:database-deleted=<date>` (the default).
    Tag,
    /// Tag, then schedule the deletion with a recovery window of this many days (7–30).
    ScheduleDeletion { recovery_window_days: i64 },
    /// Leave the secrets as they are; deletion events answer `ignored`.
    Ignore,
}

impl OnDeleted {
    pub fn as_str(self) -> &'static str {
        match self {
            OnDeleted::Tag => "tag",
            OnDeleted::ScheduleDeletion { .. } => "schedule-deletion",
            OnDeleted::Ignore => "ignore",
        }
    }
}

/// The lifecycle options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lifecycle {
    /// `FOLLOW_CONNECTION_CHANGES` (default `true`): port and endpoint changes (events and the
    /// sweep's drift check) update the function's secrets for the database.
    pub follow_connection_changes: bool,
    pub on_deleted: OnDeleted,
    /// `MAX_RETIRE_PER_RUN` (default 10): at most this many secrets retired per sweep.
    pub max_retire_per_run: usize,
    /// `PORT_CHANGE_WAIT_SECONDS` (default 300): how long a port change waits for Describe to
    /// show the requested port (within the invocation's deadline).
    pub port_change_wait: std::time::Duration,
    /// `SWEEP_SEED` (default: the UTC date): what shuffles the order in which the sweep takes
    /// orphans, with the account and region. Set it to replay one run's order.
    pub sweep_seed: Option<String>,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle {
            follow_connection_changes: true,
            on_deleted: OnDeleted::Tag,
            max_retire_per_run: DEFAULT_MAX_RETIRE_PER_RUN,
            port_change_wait: std::time::Duration::from_secs(DEFAULT_PORT_CHANGE_WAIT_SECONDS),
            sweep_seed: None,
        }
    }
}

pub const DEFAULT_MAX_RETIRE_PER_RUN: usize = 10;
pub const DEFAULT_PORT_CHANGE_WAIT_SECONDS: u64 = 300;
/// Lambda's longest invocation.
const MAX_PORT_CHANGE_WAIT_SECONDS: u64 = 900;
pub const DEFAULT_RECOVERY_WINDOW_DAYS: i64 = 30;
/// The recovery windows Secrets Manager accepts.
const RECOVERY_WINDOW: std::ops::RangeInclusive<i64> = 7..=30;
/// The longest `SWEEP_SEED`.
const MAX_SWEEP_SEED_LEN: usize = 64;
/// A sweep never retires more than this, whatever `MAX_RETIRE_PER_RUN` says.
const MAX_RETIRE_LIMIT: usize = 1000;

pub(super) fn lifecycle(get: &impl Fn(&str) -> Option<String>) -> Result<Lifecycle> {
    let follow_connection_changes = boolean(get, "FOLLOW_CONNECTION_CHANGES", true)?;
    let recovery_window_days = whole_number(
        get,
        "RECOVERY_WINDOW_DAYS",
        DEFAULT_RECOVERY_WINDOW_DAYS,
        RECOVERY_WINDOW,
        "of days ",
    )?;
    let on_deleted = one_of(
        get,
        "ON_DATABASE_DELETED",
        &[
            ("tag", OnDeleted::Tag),
            (
                "schedule-deletion",
                OnDeleted::ScheduleDeletion {
                    recovery_window_days,
                },
            ),
            ("ignore", OnDeleted::Ignore),
        ],
    )?;
    let max_retire_per_run = whole_number(
        get,
        "MAX_RETIRE_PER_RUN",
        DEFAULT_MAX_RETIRE_PER_RUN,
        0..=MAX_RETIRE_LIMIT,
        "",
    )?;
    let port_change_wait = whole_number(
        get,
        "PORT_CHANGE_WAIT_SECONDS",
        DEFAULT_PORT_CHANGE_WAIT_SECONDS,
        0..=MAX_PORT_CHANGE_WAIT_SECONDS,
        "of seconds ",
    )?;
    let sweep_seed = match get("SWEEP_SEED").filter(|s| !s.is_empty()) {
        Some(s) if s.len() <= MAX_SWEEP_SEED_LEN && s.chars().all(|c| c.is_ascii_graphic()) => {
            Some(s)
        }
        Some(_) => {
            return Err(Error::config(
                "SWEEP_SEED",
                format!("must be 1 to {MAX_SWEEP_SEED_LEN} printable ASCII characters"),
            ))
        }
        None => None,
    };
    Ok(Lifecycle {
        follow_connection_changes,
        on_deleted,
        max_retire_per_run,
        port_change_wait: std::time::Duration::from_secs(port_change_wait),
        sweep_seed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read(vars: &[(&str, &str)]) -> Result<Lifecycle> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        lifecycle(&|k: &str| map.get(k).cloned())
    }

    #[test]
    fn defaults_and_each_value() {
        assert_eq!(read(&[]).unwrap(), Lifecycle::default());
        let l = read(&[
            ("FOLLOW_CONNECTION_CHANGES", "false"),
            ("ON_DATABASE_DELETED", "schedule-deletion"),
            ("RECOVERY_WINDOW_DAYS", "7"),
            ("MAX_RETIRE_PER_RUN", "0"),
        ])
        .unwrap();
        assert!(!l.follow_connection_changes);
        assert_eq!(
            l.on_deleted,
            OnDeleted::ScheduleDeletion {
                recovery_window_days: 7
            }
        );
        assert_eq!(l.max_retire_per_run, 0);
        let seeded = read(&[("SWEEP_SEED", "replay-2026-12-03")]).unwrap();
        assert_eq!(seeded.sweep_seed.as_deref(), Some("replay-2026-12-03"));
        assert_eq!(
            read(&[("ON_DATABASE_DELETED", "ignore")])
                .unwrap()
                .on_deleted,
            OnDeleted::Ignore
        );
    }

    #[test]
    fn blank_is_the_default_and_booleans_ignore_case() {
        assert_eq!(
            read(&[
                ("FOLLOW_CONNECTION_CHANGES", " "),
                ("ON_DATABASE_DELETED", ""),
                ("MAX_RETIRE_PER_RUN", ""),
            ])
            .unwrap(),
            Lifecycle::default()
        );
        let l = read(&[("FOLLOW_CONNECTION_CHANGES", "FALSE")]).unwrap();
        assert!(!l.follow_connection_changes);
    }

    #[test]
    fn invalid_values_name_their_variable() {
        for (k, v) in [
            ("FOLLOW_CONNECTION_CHANGES", "yes"),
            ("ON_DATABASE_DELETED", "delete"),
            ("RECOVERY_WINDOW_DAYS", "6"),
            ("RECOVERY_WINDOW_DAYS", "31"),
            ("MAX_RETIRE_PER_RUN", "-1"),
            ("MAX_RETIRE_PER_RUN", "1001"),
            ("SWEEP_SEED", "two words"),
            ("SWEEP_SEED", &"x".repeat(65)),
        ] {
            let e = read(&[(k, v)]).unwrap_err();
            assert_eq!(e.error_type(), "ConfigurationError");
            assert!(e.to_string().contains(k), "{e}");
        }
    }
}

//! The lifecycle options: following a database's connection changes, and what its deletion does
//! to its secrets.

use crate::error::{Error, Result};

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
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle {
            follow_connection_changes: true,
            on_deleted: OnDeleted::Tag,
            max_retire_per_run: DEFAULT_MAX_RETIRE_PER_RUN,
        }
    }
}

pub const DEFAULT_MAX_RETIRE_PER_RUN: usize = 10;
pub const DEFAULT_RECOVERY_WINDOW_DAYS: i64 = 30;
/// The recovery windows Secrets Manager accepts.
const RECOVERY_WINDOW: std::ops::RangeInclusive<i64> = 7..=30;
/// A sweep never retires more than this, whatever `MAX_RETIRE_PER_RUN` says.
const MAX_RETIRE_LIMIT: usize = 1000;

pub(super) fn lifecycle(get: &impl Fn(&str) -> Option<String>) -> Result<Lifecycle> {
    let follow_connection_changes = match get("FOLLOW_CONNECTION_CHANGES").as_deref() {
        None | Some("true") => true,
        Some("false") => false,
        Some(other) => {
            return Err(Error::config(
                "FOLLOW_CONNECTION_CHANGES",
                format!("{other:?} is not true or false"),
            ))
        }
    };
    let recovery_window_days = match get("RECOVERY_WINDOW_DAYS") {
        None => DEFAULT_RECOVERY_WINDOW_DAYS,
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|d| RECOVERY_WINDOW.contains(d))
            .ok_or_else(|| {
                Error::config(
                    "RECOVERY_WINDOW_DAYS",
                    format!("{v:?} is not a whole number of days from 7 to 30 (what Secrets Manager accepts)"),
                )
            })?,
    };
    let on_deleted = match get("ON_DATABASE_DELETED").as_deref() {
        None | Some("tag") => OnDeleted::Tag,
        Some("schedule-deletion") => OnDeleted::ScheduleDeletion {
            recovery_window_days,
        },
        Some("ignore") => OnDeleted::Ignore,
        Some(other) => {
            return Err(Error::config(
                "ON_DATABASE_DELETED",
                format!("{other:?} is not tag, schedule-deletion or ignore"),
            ))
        }
    };
    let max_retire_per_run = match get("MAX_RETIRE_PER_RUN") {
        None => DEFAULT_MAX_RETIRE_PER_RUN,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= MAX_RETIRE_LIMIT)
            .ok_or_else(|| {
                Error::config(
                    "MAX_RETIRE_PER_RUN",
                    format!("{v:?} is not a whole number from 0 to {MAX_RETIRE_LIMIT}"),
                )
            })?,
    };
    Ok(Lifecycle {
        follow_connection_changes,
        on_deleted,
        max_retire_per_run,
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
        assert_eq!(
            read(&[("ON_DATABASE_DELETED", "ignore")])
                .unwrap()
                .on_deleted,
            OnDeleted::Ignore
        );
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
        ] {
            let e = read(&[(k, v)]).unwrap_err();
            assert_eq!(e.error_type(), "ConfigurationError");
            assert!(e.to_string().contains(k), "{e}");
        }
    }
}

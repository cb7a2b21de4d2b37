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
    /// `MAX_RETIRE_PER_RUN` (default 10): at most this many secrets retired per sweep of one
    /// account and region (in hub mode, per place: there is no organization-wide cap).
    pub max_retire_per_run: usize,
    /// `MAX_RETIRE_FRACTION` (default 0.2), in millionths: a place retires at most
    /// `max(1, floor(fraction × its live managed secrets))` per sweep, and at most
    /// `max_retire_per_run`.
    pub max_retire_fraction_ppm: u32,
    /// `PORT_CHANGE_WAIT_SECONDS` (default 300): how long a port change waits for Describe to
    /// show the requested port (within the invocation's deadline).
    pub port_change_wait: std::time::Duration,
    /// `SWEEP_SEED` (default: the UTC date): what shuffles the order in which the sweep takes
    /// orphans, with the account and region. Set it to replay one run's order.
    pub sweep_seed: Option<String>,
    /// `REGIONAL_CONNECTION_KEYS` (default `true`): secrets of a database with copies in other
    /// regions carry their regional connection keys ([`crate::model::regional`]); `false`
    /// asks no other region, writes none, and removes the ones the function wrote.
    pub regional_connection_keys: bool,
    /// `MAX_REWRITES_PER_RUN` (default 100): at most this many drifted secrets rewritten per
    /// sweep of one place (PutSecretValue is limited to 50 requests per second per account
    /// and region); the rest are `rewriteDeferred` to the next sweep, endpoint changes first.
    pub max_rewrites_per_run: usize,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle {
            follow_connection_changes: true,
            on_deleted: OnDeleted::Tag,
            max_retire_per_run: DEFAULT_MAX_RETIRE_PER_RUN,
            max_retire_fraction_ppm: DEFAULT_MAX_RETIRE_FRACTION_PPM,
            port_change_wait: std::time::Duration::from_secs(DEFAULT_PORT_CHANGE_WAIT_SECONDS),
            sweep_seed: None,
            regional_connection_keys: true,
            max_rewrites_per_run: DEFAULT_MAX_REWRITES_PER_RUN,
        }
    }
}

pub const DEFAULT_MAX_RETIRE_PER_RUN: usize = 10;
pub const DEFAULT_MAX_REWRITES_PER_RUN: usize = 100;
/// A sweep never rewrites more than this, whatever `MAX_REWRITES_PER_RUN` says.
const MAX_REWRITES_LIMIT: usize = 10_000;
/// 0.2: a fifth of a place's managed secrets.
pub const DEFAULT_MAX_RETIRE_FRACTION_PPM: u32 = 200_000;
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
    let max_retire_fraction_ppm = match get("MAX_RETIRE_FRACTION").filter(|v| !v.is_empty()) {
        None => DEFAULT_MAX_RETIRE_FRACTION_PPM,
        Some(v) => fraction_ppm(&v).ok_or_else(|| {
            Error::config(
                "MAX_RETIRE_FRACTION",
                format!("{v:?} is not a decimal fraction greater than 0 and at most 1 (e.g. 0.2)"),
            )
        })?,
    };
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
    let regional_connection_keys = boolean(get, "REGIONAL_CONNECTION_KEYS", true)?;
    let max_rewrites_per_run = whole_number(
        get,
        "MAX_REWRITES_PER_RUN",
        DEFAULT_MAX_REWRITES_PER_RUN,
        0..=MAX_REWRITES_LIMIT,
        "",
    )?;
    Ok(Lifecycle {
        follow_connection_changes,
        regional_connection_keys,
        max_rewrites_per_run,
        on_deleted,
        max_retire_per_run,
        max_retire_fraction_ppm,
        port_change_wait: std::time::Duration::from_secs(port_change_wait),
        sweep_seed,
    })
}

/// A decimal fraction in (0, 1] (`0.2`, `.5`, `1`), in millionths; digits past the sixth
/// decimal are cut.
fn fraction_ppm(text: &str) -> Option<u32> {
    let (whole, decimals) = text.split_once('.').unwrap_or((text, ""));
    if whole.len() > 1
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !decimals.bytes().all(|b| b.is_ascii_digit())
        || (whole.is_empty() && decimals.is_empty())
    {
        return None;
    }
    let mut ppm: u32 = match whole {
        // More than 1 by any digit, even one past the sixth decimal.
        "1" if decimals.bytes().any(|d| d != b'0') => return None,
        "1" => 1_000_000,
        "" | "0" => 0,
        _ => return None,
    };
    for (i, d) in decimals.bytes().take(6).enumerate() {
        ppm += u32::from(d - b'0') * 10u32.pow(5 - i as u32);
    }
    (1..=1_000_000).contains(&ppm).then_some(ppm)
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
    fn retire_fractions() {
        assert_eq!(fraction_ppm("0.2"), Some(200_000));
        assert_eq!(fraction_ppm(".5"), Some(500_000));
        assert_eq!(fraction_ppm("1"), Some(1_000_000));
        assert_eq!(fraction_ppm("1.0"), Some(1_000_000));
        assert_eq!(fraction_ppm("0.0000015"), Some(1));
        for bad in [
            "0",
            "0.0",
            "1.5",
            "2",
            "-0.1",
            "abc",
            ".",
            "",
            "0.2x",
            "01",
            "1.0000001",
            "0.0000001",
        ] {
            assert_eq!(fraction_ppm(bad), None, "{bad}");
        }
        let e = lifecycle(&|k: &str| (k == "MAX_RETIRE_FRACTION").then(|| "5".to_string()))
            .unwrap_err();
        assert!(e.to_string().contains("MAX_RETIRE_FRACTION"), "{e}");
    }

    #[test]
    fn defaults_and_each_value() {
        assert_eq!(read(&[]).unwrap(), Lifecycle::default());
        let l = read(&[
            ("FOLLOW_CONNECTION_CHANGES", "false"),
            ("ON_DATABASE_DELETED", "schedule-deletion"),
            ("RECOVERY_WINDOW_DAYS", "7"),
            ("MAX_RETIRE_PER_RUN", "0"),
            ("REGIONAL_CONNECTION_KEYS", "false"),
            ("MAX_REWRITES_PER_RUN", "7"),
        ])
        .unwrap();
        assert!(!l.follow_connection_changes);
        assert!(!l.regional_connection_keys);
        assert_eq!(l.max_rewrites_per_run, 7);
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
            ("REGIONAL_CONNECTION_KEYS", "on"),
            ("MAX_REWRITES_PER_RUN", "10001"),
            ("SWEEP_SEED", "two words"),
            ("SWEEP_SEED", &"x".repeat(65)),
        ] {
            let e = read(&[(k, v)]).unwrap_err();
            assert_eq!(e.error_type(), "ConfigurationError");
            assert!(e.to_string().contains(k), "{e}");
        }
    }
}

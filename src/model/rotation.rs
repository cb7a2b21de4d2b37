//! Is a rotation under way, or stuck (pure)? AWS leaves `AWSPENDING` on the version of a
//! rotation that failed, and "any later invocation of RotateSecret assumes that a previous
//! rotation request is still in progress and returns an error" (RotateSecret API reference):
//! left alone, such a version would block every write of the function for ever. A pending
//! version older than the secret's rotation window plus 15 minutes is stuck.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Slack after the rotation window before a pending version counts as stuck.
pub const STUCK_SLACK: Duration = Duration::from_secs(15 * 60);
/// The window when the secret's rules say nothing usable.
pub const UNKNOWN_WINDOW: Duration = Duration::from_secs(24 * 3600);

/// The secret's rotation window, from DescribeSecret's `RotationRules`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Window {
    /// `RotationRules.Duration` (`"3h"`: 1–24 hours).
    Hours(u64),
    /// No duration, an hourly schedule (`rate(N hours)`, `rate(N hour)`): 1 h.
    HourSchedule,
    /// No duration, a daily schedule (`rate(N days)`, `cron(…)`, `AutomaticallyAfterDays`): the
    /// window ends with the UTC day the rotation started in.
    DaySchedule,
    /// No rules, or none that can be read: 24 h.
    #[default]
    Unknown,
}

impl Window {
    /// Reads `RotationRules`: `Duration`, `ScheduleExpression`, `AutomaticallyAfterDays`.
    pub fn of(duration: Option<&str>, schedule: Option<&str>, after_days: Option<i64>) -> Window {
        if let Some(h) = duration
            .and_then(|d| d.strip_suffix('h'))
            .and_then(|h| h.parse::<u64>().ok())
            .filter(|h| (1..=24).contains(h))
        {
            return Window::Hours(h);
        }
        match schedule.map(str::trim) {
            Some(s) if s.starts_with("rate(") && s.contains("hour") => Window::HourSchedule,
            Some(s) if s.starts_with("rate(") && s.contains("day") => Window::DaySchedule,
            Some(s) if s.starts_with("cron(") => Window::DaySchedule,
            Some(_) => Window::Unknown,
            None if after_days.is_some() => Window::DaySchedule,
            None => Window::Unknown,
        }
    }

    /// When a rotation that started at `started` is stuck.
    pub fn stuck_after(self, started: SystemTime) -> SystemTime {
        let end = match self {
            Window::Hours(h) => started + Duration::from_secs(h * 3600),
            Window::HourSchedule => started + Duration::from_secs(3600),
            Window::DaySchedule => {
                let secs = started
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                UNIX_EPOCH + Duration::from_secs((secs / 86_400 + 1) * 86_400)
            }
            Window::Unknown => started + UNKNOWN_WINDOW,
        };
        end + STUCK_SLACK
    }
}

/// Whether a pending version created at `pending_since` is stuck at `now`. Without a date
/// nothing can be proven: it counts as a rotation in progress.
pub fn is_stuck(window: Window, pending_since: Option<SystemTime>, now: SystemTime) -> bool {
    pending_since.is_some_and(|t| now > window.stuck_after(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: u64) -> SystemTime {
        // 2026-12-02T00:00:00Z + s
        UNIX_EPOCH + Duration::from_secs(1_796_169_600 + s)
    }

    #[test]
    fn windows_are_read_from_the_rotation_rules() {
        assert_eq!(
            Window::of(Some("3h"), Some("rate(4 hours)"), None),
            Window::Hours(3)
        );
        assert_eq!(
            Window::of(Some("25h"), Some("rate(4 hours)"), None),
            Window::HourSchedule
        );
        assert_eq!(
            Window::of(None, Some("rate(30 days)"), None),
            Window::DaySchedule
        );
        assert_eq!(
            Window::of(None, Some("cron(0 16 1,15 * ? *)"), None),
            Window::DaySchedule
        );
        assert_eq!(Window::of(None, None, Some(30)), Window::DaySchedule);
        assert_eq!(Window::of(None, None, None), Window::Unknown);
    }

    #[test]
    fn a_pending_version_is_stuck_after_its_window_and_15_minutes() {
        let started = at(10 * 3600);
        assert!(!is_stuck(
            Window::Hours(2),
            Some(started),
            at(12 * 3600 + 900)
        ));
        assert!(is_stuck(
            Window::Hours(2),
            Some(started),
            at(12 * 3600 + 901)
        ));
        assert!(!is_stuck(
            Window::HourSchedule,
            Some(started),
            at(11 * 3600)
        ));
        assert!(is_stuck(
            Window::HourSchedule,
            Some(started),
            at(11 * 3600 + 901)
        ));
        // A day schedule's window ends with the UTC day.
        assert!(!is_stuck(
            Window::DaySchedule,
            Some(started),
            at(86_400 + 900)
        ));
        assert!(is_stuck(
            Window::DaySchedule,
            Some(started),
            at(86_400 + 901)
        ));
        // Two days old under any window: stuck.
        assert!(is_stuck(
            Window::Unknown,
            Some(started),
            at(2 * 86_400 + 10 * 3600)
        ));
        assert!(
            !is_stuck(Window::Unknown, None, at(30 * 86_400)),
            "no date: not provably stuck"
        );
    }
}

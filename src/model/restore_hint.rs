//! The restore hint (pure): what a CloudTrail restore call leaves on the secrets of the
//! database it restores, before the database exists: when the call was seen and what it
//! restores from. The tag value uses only the characters AWS allows in tag values (letters,
//! digits, spaces and `_ . : / = + - @`). A hint only ever makes the function keep a secret's
//! value or flag it, never write a password; hints older than [`HINT_LIFETIME`] are ignored.

use std::time::{Duration, SystemTime};

use crate::model::timestamp;

/// The hint tag's format version.
const VERSION: &str = "v1";

/// How long a hint counts: a restore takes minutes to hours, not days.
pub const HINT_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// What a restore restores from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestorePoint {
    /// A snapshot, by name or ARN: its `SnapshotCreateTime` is the restore point.
    Snapshot(String),
    /// A point in time (`restoreTime`).
    Time(SystemTime),
    /// The latest restorable time, or anything the call did not say: no restore point is
    /// known, so a secret's value cannot be proven to predate it.
    Unknown,
}

/// A restore hint: when it was seen, and the point restored from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreHint {
    pub seen: SystemTime,
    pub point: RestorePoint,
}

/// Whether every character of `text` may stand in a tag value.
pub fn tag_safe(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_ascii_alphanumeric() || " _.:/=+-@".contains(c))
}

impl RestoreHint {
    /// The tag value: `v1 <seen> snapshot <id>`, `v1 <seen> time <time>` or `v1 <seen>
    /// unknown`. A snapshot id with characters a tag value cannot hold (or longer than the
    /// 256 a tag value may be) is written as `unknown`.
    pub fn tag_value(&self) -> String {
        let seen = timestamp::rfc3339(self.seen);
        match &self.point {
            RestorePoint::Snapshot(id) if tag_safe(id) && !id.contains(' ') && id.len() <= 200 => {
                format!("{VERSION} {seen} snapshot {id}")
            }
            RestorePoint::Time(t) => format!("{VERSION} {seen} time {}", timestamp::rfc3339(*t)),
            _ => format!("{VERSION} {seen} unknown"),
        }
    }

    /// Reads a hint tag; `None` for anything that is not one.
    pub fn parse(text: &str) -> Option<RestoreHint> {
        let mut parts = text.split(' ');
        if parts.next()? != VERSION {
            return None;
        }
        let seen = timestamp::parse(parts.next()?)?;
        let point = match (parts.next()?, parts.next()) {
            ("snapshot", Some(id)) if !id.is_empty() => RestorePoint::Snapshot(id.to_string()),
            ("time", Some(t)) => RestorePoint::Time(timestamp::parse(t)?),
            ("unknown", None) => RestorePoint::Unknown,
            _ => return None,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(RestoreHint { seen, point })
    }

    /// Whether the hint still counts at `now`: seen within [`HINT_LIFETIME`] (and not in the
    /// future).
    pub fn is_current(&self, now: SystemTime) -> bool {
        match now.duration_since(self.seen) {
            Ok(age) => age <= HINT_LIFETIME,
            Err(_) => false,
        }
    }
}

/// The snapshot an RDS "restoration" event names: RDS-EVENT-0043's message is "Restored from
/// snapshot {name}". Anything else (a point-in-time restore, RDS-EVENT-0019) names none.
pub fn snapshot_of_message(message: &str) -> RestorePoint {
    let name = message
        .strip_prefix("Restored from snapshot ")
        .map(|m| m.trim().trim_end_matches('.'))
        .filter(|n| !n.is_empty() && !n.contains(' '));
    match name {
        Some(n) => RestorePoint::Snapshot(n.to_string()),
        None => RestorePoint::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> SystemTime {
        timestamp::parse(text).unwrap()
    }

    #[test]
    fn hints_round_trip_with_tag_safe_characters_only() {
        for point in [
            RestorePoint::Snapshot(
                "arn:aws:rds:us-east-1:123456789012:snapshot:orders-final".into(),
            ),
            RestorePoint::Snapshot("rds:orders-2026-12-01-03-10".into()),
            RestorePoint::Time(at("2026-12-01T10:00:00Z")),
            RestorePoint::Unknown,
        ] {
            let hint = RestoreHint {
                seen: at("2026-12-02T08:00:00Z"),
                point,
            };
            let text = hint.tag_value();
            assert!(tag_safe(&text), "{text}");
            assert!(text.len() <= 256);
            assert_eq!(RestoreHint::parse(&text), Some(hint));
        }
        let odd = RestoreHint {
            seen: at("2026-12-02T08:00:00Z"),
            point: RestorePoint::Snapshot("snap#1".into()),
        };
        assert_eq!(odd.tag_value(), "v1 2026-12-02T08:00:00Z unknown");
        for bad in [
            "",
            "v1",
            "v2 2026-12-02T08:00:00Z unknown",
            "v1 2026-12-02T08:00:00Z snapshot",
            "v1 2026-12-02T08:00:00Z time soon",
            "v1 2026-12-02T08:00:00Z unknown extra",
        ] {
            assert_eq!(RestoreHint::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_hint_counts_for_24_hours() {
        let hint = RestoreHint {
            seen: at("2026-12-01T08:00:00Z"),
            point: RestorePoint::Unknown,
        };
        assert!(hint.is_current(at("2026-12-02T08:00:00Z")));
        assert!(!hint.is_current(at("2026-12-02T08:00:01Z")));
        assert!(
            !hint.is_current(at("2026-12-01T07:59:59Z")),
            "a hint from the future"
        );
    }

    #[test]
    fn the_0043_message_names_its_snapshot() {
        assert_eq!(
            snapshot_of_message("Restored from snapshot orders-final"),
            RestorePoint::Snapshot("orders-final".into())
        );
        assert_eq!(
            snapshot_of_message("Restored from snapshot orders-final."),
            RestorePoint::Snapshot("orders-final".into())
        );
        assert_eq!(
            snapshot_of_message("Restored from DB instance orders to orders-pitr"),
            RestorePoint::Unknown
        );
    }
}

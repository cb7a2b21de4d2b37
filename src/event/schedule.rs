//! Scheduled events (`detail-type: Scheduled Event` from EventBridge rules or EventBridge
//! Scheduler): run the reconcile sweep.

use super::fields::Envelope;
use super::{Recognised, TriggerRow, SCHEDULED_DETAIL_TYPE};

/// The sources whose scheduled events start the sweep.
const SOURCES: [&str; 2] = ["aws.events", "aws.scheduler"];

pub(super) fn rows() -> Vec<TriggerRow> {
    SOURCES
        .iter()
        .map(|source| TriggerRow {
            name: "reconcile-sweep",
            source: Some(source),
            detail_type: SCHEDULED_DETAIL_TYPE,
            detail: Vec::new(),
        })
        .collect()
}

/// `Some(Sweep)` for a scheduled event, `None` for anything else.
pub(super) fn recognise(envelope: &Envelope<'_>) -> Option<Recognised> {
    (envelope.detail_type == SCHEDULED_DETAIL_TYPE && SOURCES.contains(&envelope.source.as_str()))
        .then(|| Recognised::Sweep(envelope.location()))
}

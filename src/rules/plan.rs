//! The plan's sending rules (pure): 10 messages per `SendMessageBatch`, and which refused
//! entries are sent again.
//!
//! AWS reports each entry of a batch on its own ("you should check for batch errors even when
//! the call returns an HTTP status code of 200"), and says of each refused entry whether "the
//! error happened due to the caller" (`SenderFault`, API_BatchResultErrorEntry). An entry the
//! sender got wrong fails the same way again, so it is given up at once; any other is sent
//! again, twice at most.

use std::collections::{HashMap, HashSet};

use crate::model::place_message::RefusedEntry as Refused;

/// SQS's limit of entries per `SendMessageBatch`.
pub const BATCH_SIZE: usize = 10;
/// Retries of an entry SQS refused without blaming the sender.
pub const RETRIES: u32 = 2;

/// `items` in batches of [`BATCH_SIZE`], each item with its entry id (unique within its batch:
/// AWS allows "alphanumeric characters, hyphens(-), and underscores (_)", up to 80).
pub fn batches<T>(items: &[T]) -> Vec<Vec<(String, &T)>> {
    items
        .chunks(BATCH_SIZE)
        .map(|chunk| {
            chunk
                .iter()
                .enumerate()
                .map(|(i, item)| (format!("p{i}"), item))
                .collect()
        })
        .collect()
}

/// What to do with a batch's refused entries after attempt `attempt` (0 = the first send).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settled {
    /// Entry ids to send again.
    pub retry: HashSet<String>,
    /// Entry ids given up, with their error code.
    pub give_up: HashMap<String, String>,
}

pub fn settle(refused: &[Refused], attempt: u32) -> Settled {
    let mut out = Settled::default();
    for r in refused {
        if r.sender_fault || attempt >= RETRIES {
            out.give_up.insert(r.id.clone(), r.code.clone());
        } else {
            out.retry.insert(r.id.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(id: &str, sender_fault: bool) -> Refused {
        Refused {
            id: id.into(),
            code: if sender_fault {
                "InvalidParameterValue"
            } else {
                "InternalError"
            }
            .into(),
            sender_fault,
        }
    }

    #[test]
    fn ten_per_batch_with_ids_unique_in_each() {
        let items: Vec<u32> = (0..23).collect();
        let b = batches(&items);
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), [10, 10, 3]);
        for batch in &b {
            let ids: HashSet<&String> = batch.iter().map(|(id, _)| id).collect();
            assert_eq!(ids.len(), batch.len());
        }
        assert_eq!(*b[2][2].1, 22);
        assert!(batches::<u32>(&[]).is_empty());
    }

    #[test]
    fn refused_entries_are_retried_twice_unless_the_sender_is_at_fault() {
        let r = [refused("p0", false), refused("p1", true)];
        for attempt in 0..RETRIES {
            let s = settle(&r, attempt);
            assert_eq!(s.retry, HashSet::from(["p0".to_string()]));
            assert_eq!(s.give_up.keys().collect::<Vec<_>>(), ["p1"]);
        }
        let s = settle(&r, RETRIES);
        assert!(s.retry.is_empty());
        assert_eq!(s.give_up.len(), 2);
        assert_eq!(s.give_up["p0"], "InternalError");
    }
}

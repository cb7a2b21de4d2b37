//! The hub's work queue (SQS): the planner's `SendMessageBatch`. The worker makes no SQS call of
//! its own: Lambda's event source mapping receives and deletes its messages.

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

use crate::model::error::{Error, Result};

/// One message to send: the batch entry id (unique within its call), the tenant
/// (`MessageGroupId`) and the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: String,
    pub group: String,
    pub body: String,
}

pub use crate::model::place_message::RefusedEntry as Refused;

/// The work queue, by URL, with the function's own SQS client (built once).
#[derive(Debug, Clone)]
pub struct WorkQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl WorkQueue {
    /// The queue at `url`, with a client built once from the function's configuration.
    pub fn new(sdk: &aws_config::SdkConfig, url: &str) -> Self {
        WorkQueue {
            client: aws_sdk_sqs::Client::new(sdk),
            url: url.to_string(),
        }
    }

    /// Sends up to 10 entries in one `SendMessageBatch`. `Ok` carries the entries SQS refused
    /// one by one (the call answers 200 with `Failed` entries); `Err` is the whole call failing
    /// (after the SDK's retries).
    pub async fn send(&self, entries: &[Entry]) -> Result<Vec<Refused>> {
        let batch: Vec<SendMessageBatchRequestEntry> = entries
            .iter()
            .map(|e| {
                SendMessageBatchRequestEntry::builder()
                    .id(&e.id)
                    .message_group_id(&e.group)
                    .message_body(&e.body)
                    .build()
                    .map_err(|err| Error::AwsService {
                        service: "SQS",
                        operation: "SendMessageBatch",
                        message: format!("entry {}: {err}", e.id),
                        code: None,
                    })
            })
            .collect::<Result<_>>()?;
        let out = self
            .client
            .send_message_batch()
            .queue_url(&self.url)
            .set_entries(Some(batch))
            .send()
            .await
            .map_err(|e| Error::aws_on("SQS", "SendMessageBatch", &self.url, &e))?;
        Ok(out
            .failed()
            .iter()
            .map(|f| Refused {
                id: f.id().to_string(),
                code: f.code().to_string(),
                sender_fault: f.sender_fault(),
            })
            .collect())
    }
}

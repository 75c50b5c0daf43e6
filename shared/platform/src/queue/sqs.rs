//! AWS adapter of the Queue port: Amazon SQS.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use aws_sdk_sqs::Client;

use super::{check_message, Queue};
use crate::ports::{PortError, PortResult};

/// SQS accepts at most 10 entries per SendMessageBatch.
const MAX_BATCH_ENTRIES: usize = 10;
/// ... and at most 256 KiB for the whole batch.
const MAX_BATCH_BYTES: usize = 256 * 1024;
/// Entries SQS failed on its side (not the sender's fault) are retried this often.
const BATCH_ATTEMPTS: usize = 3;

/// Sends to SQS queues looked up by logical name.
#[derive(Clone, Debug)]
pub struct SqsQueue {
    client: Client,
    urls: HashMap<String, String>,
}

impl SqsQueue {
    /// `urls` maps logical names ("approved") to queue URLs, which come from
    /// configuration (CloudFormation outputs), so code never builds URLs.
    pub fn new(client: Client, urls: HashMap<String, String>) -> Self {
        SqsQueue { client, urls }
    }

    fn url(&self, queue: &str) -> PortResult<&str> {
        self.urls
            .get(queue)
            .map(String::as_str)
            .ok_or_else(|| PortError::NotFound(format!("queue {queue:?} is not configured")))
    }

    /// Sends one chunk (<= 10 entries, <= 256 KiB), retrying entries SQS failed
    /// on its side; entries refused as the sender's fault are not retried.
    async fn send_chunk(&self, url: &str, chunk: &[&String]) -> PortResult<()> {
        let mut pending: Vec<usize> = (0..chunk.len()).collect();
        for _ in 0..BATCH_ATTEMPTS {
            let mut req = self.client.send_message_batch().queue_url(url);
            for &i in &pending {
                let entry = SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(chunk[i].as_str())
                    .build()
                    .map_err(|e| PortError::Backend(e.to_string()))?;
                req = req.entries(entry);
            }
            let out = req.send().await.map_err(|e| {
                let queue_missing = e
                    .as_service_error()
                    .is_some_and(|s| s.is_queue_does_not_exist());
                sqs_error(queue_missing, &DisplayErrorContext(&e).to_string())
            })?;
            let failed = out.failed();
            if let Some(refused) = failed.iter().find(|f| f.sender_fault()) {
                return Err(PortError::Refused(format!(
                    "SQS refused a message: {} {}",
                    refused.code(),
                    refused.message().unwrap_or_default()
                )));
            }
            pending = failed.iter().filter_map(|f| f.id().parse().ok()).collect();
            if pending.is_empty() {
                return Ok(());
            }
        }
        Err(PortError::Backend(format!(
            "SQS kept failing {} message(s) of a batch",
            pending.len()
        )))
    }
}

fn sqs_error(queue_missing: bool, detail: &str) -> PortError {
    if queue_missing {
        PortError::NotFound(detail.to_owned())
    } else {
        PortError::Backend(detail.to_owned())
    }
}

/// Splits bodies into batches SQS accepts: at most 10 entries and 256 KiB each.
fn chunks(bodies: &[String]) -> Vec<Vec<&String>> {
    let mut out: Vec<Vec<&String>> = Vec::new();
    let mut current: Vec<&String> = Vec::new();
    let mut bytes = 0;
    for body in bodies {
        if !current.is_empty()
            && (current.len() == MAX_BATCH_ENTRIES || bytes + body.len() > MAX_BATCH_BYTES)
        {
            out.push(std::mem::take(&mut current));
            bytes = 0;
        }
        bytes += body.len();
        current.push(body);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[async_trait]
impl Queue for SqsQueue {
    async fn send(&self, queue: &str, body: &str) -> PortResult<()> {
        check_message(queue, body)?;
        let url = self.url(queue)?;
        self.client
            .send_message()
            .queue_url(url)
            .message_body(body)
            .send()
            .await
            .map_err(|e| {
                let queue_missing = e
                    .as_service_error()
                    .is_some_and(|s| s.is_queue_does_not_exist());
                sqs_error(queue_missing, &DisplayErrorContext(&e).to_string())
            })?;
        Ok(())
    }

    async fn send_batch(&self, queue: &str, bodies: &[String]) -> PortResult<()> {
        for body in bodies {
            check_message(queue, body)?;
        }
        if bodies.is_empty() {
            return Ok(());
        }
        let url = self.url(queue)?;
        for chunk in chunks(bodies) {
            self.send_chunk(url, &chunk).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_respect_count_and_size() {
        let small: Vec<String> = (0..25).map(|i| format!("m{i}")).collect();
        let sizes: Vec<usize> = chunks(&small).iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![10, 10, 5]);

        let big: Vec<String> = (0..3).map(|_| "x".repeat(100 * 1024)).collect();
        let sizes: Vec<usize> = chunks(&big).iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![2, 1]);
    }
}

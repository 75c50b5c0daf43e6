//! The S3-triggered half: an ObjectCreated event names an uploaded file; the
//! processor checks it and attaches it to its expense, or quarantines it.
//! The same function serves the Lambda (`bin/processor.rs`, S3 notification)
//! and the local host (the embedded blob store's events, as JSON text).

use agencyops_platform::ports::PortError;
use agencyops_platform::Services;
use agencyops_store::StoreError;
use aws_lambda_events::event::s3::S3Event;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use jiff::Timestamp;
use serde_json::{json, Value};

use crate::attach::{process_object, Outcome};

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("no file storage configured")]
    NoStorage,
    #[error("the message is not an S3 event notification: {0}")]
    Malformed(String),
    #[error("file storage failed: {0}")]
    Storage(#[from] PortError),
    #[error("the table failed: {0}")]
    Store(#[from] StoreError),
    #[error("expense {0} kept changing while its receipt was processed")]
    Contended(String),
}

/// Handles every record of an S3 event. Records are independent: all are
/// tried, and if any failed the first error is returned so the runtime
/// retries the event (records that succeeded are no-ops the second time) and
/// finally dead-letters it.
pub async fn process_s3_event(services: &Services, event: S3Event) -> Result<(), ProcessError> {
    let blob = services.blob.clone().ok_or(ProcessError::NoStorage)?;
    let mut first_error = None;
    for record in event.records {
        let created = record
            .event_name
            .as_deref()
            .is_some_and(|n| n.starts_with("ObjectCreated:"));
        let Some(raw_key) = record.s3.object.key.as_deref().filter(|_| created) else {
            continue;
        };
        let Some(key) = decode_event_key(raw_key) else {
            tracing::warn!(
                key = raw_key,
                "event key is not UTF-8 once decoded; skipped"
            );
            continue;
        };
        let uploaded_at = Timestamp::from_millisecond(record.event_time.timestamp_millis())
            .unwrap_or_else(|_| services.clock.now());
        match process_object(services, &*blob, &key, uploaded_at).await {
            Ok(Outcome::NotAReceipt) => {}
            Ok(outcome) => tracing::info!(key = %key, ?outcome, "receipt processed"),
            Err(e) => {
                tracing::error!(key = %key, error = %e, "receipt processing failed");
                first_error.get_or_insert(e);
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// The same, for an event delivered as JSON text (the local host's embedded
/// queue, or an S3 notification relayed through SQS). S3's test message is
/// acknowledged and ignored. Fields AWS always sends but emulators leave out
/// (`userIdentity`, `requestParameters`) are filled in before parsing.
pub async fn process_event_json(services: &Services, body: &str) -> Result<(), ProcessError> {
    let mut value: Value =
        serde_json::from_str(body).map_err(|e| ProcessError::Malformed(e.to_string()))?;
    if value.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        return Ok(());
    }
    let Some(records) = value.get_mut("Records").and_then(Value::as_array_mut) else {
        return Err(ProcessError::Malformed("no Records".into()));
    };
    for record in records.iter_mut().filter_map(Value::as_object_mut) {
        record.entry("userIdentity").or_insert_with(|| json!({}));
        record
            .entry("requestParameters")
            .or_insert_with(|| json!({}));
    }
    let event: S3Event =
        serde_json::from_value(value).map_err(|e| ProcessError::Malformed(e.to_string()))?;
    process_s3_event(services, event).await
}

/// S3 notifications relayed through the receipts-events queue, as Lambda's SQS
/// event source delivers them. Failures are reported per message, so one bad
/// upload is retried (and finally dead-lettered) alone.
pub async fn handle_sqs(services: &Services, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for message in event.records {
        let id = message.message_id.clone().unwrap_or_default();
        let body = message.body.as_deref().unwrap_or_default();
        if let Err(e) = process_event_json(services, body).await {
            tracing::warn!(message = %id, error = %e, "receipt event failed; it will be retried");
            response.add_failure(id);
        }
    }
    response
}

fn hex_digit(b: Option<&u8>) -> Option<u8> {
    let c = char::from(*b?);
    c.to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// Decodes an event's object key: S3 form-encodes it (`+` is a space, `%XX`
/// a byte, `/` kept) while emulators also encode `/` as `%2F`; decoding both
/// the same way gives the real key. A `%` not followed by two hex digits is
/// kept as it is. None when the bytes are not UTF-8.
pub fn decode_event_key(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (hex_digit(bytes.get(i + 1)), hex_digit(bytes.get(i + 2))) {
                (Some(high), Some(low)) => {
                    out.push(high * 16 + low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

//! Where an uploaded file goes once its receipt is decided. `receipts/` is only
//! an inbox: an upload URL stays valid for minutes, so whatever sits there may
//! have been swapped since it was checked. An accepted file is therefore copied,
//! exactly the bytes that were checked, to `attached/` (named by their hash),
//! the only place downloads are served from, and then leaves the inbox; a
//! refused, unknown or swapped-in file is moved to `quarantine/`.

use agencyops_platform::blob::Blob;
use agencyops_platform::ports::PortError;
use agencyops_store::keys;
use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::processor::ProcessError;

/// Keeps the checked bytes of an accepted file where downloads come from.
/// Written before the receipt is recorded as accepted, so an accepted receipt
/// always has its copy; the same bytes again (a redelivery) change nothing.
pub(crate) async fn keep(
    blob: &dyn Blob,
    key: &str,
    sha256: &str,
    bytes: Bytes,
    content_type: &str,
) -> Result<(), ProcessError> {
    blob.put(&keys::attached_object(key, sha256), bytes, content_type)
        .await?;
    Ok(())
}

/// The inbox object, or None when there is none (already moved) or its key is
/// one the blob store refuses (then it can be neither read nor served).
async fn inbox(blob: &dyn Blob, key: &str) -> Result<Option<Bytes>, ProcessError> {
    match blob.get(key).await {
        Ok(found) => Ok(found),
        Err(PortError::Refused(why)) => {
            tracing::warn!(key, %why, "object key refused by the blob store; left alone");
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// Moves a refused or unknown file out of `receipts/` (copy, then delete), so
/// nothing refused can be served from where receipts live. Quarantined files
/// are stored as opaque bytes. Missing objects are fine: already moved.
pub(crate) async fn quarantine(blob: &dyn Blob, key: &str) -> Result<(), ProcessError> {
    match inbox(blob, key).await? {
        Some(bytes) => move_to_quarantine(blob, key, bytes).await,
        None => Ok(()),
    }
}

async fn move_to_quarantine(blob: &dyn Blob, key: &str, bytes: Bytes) -> Result<(), ProcessError> {
    blob.put(
        &keys::quarantine_object(key),
        bytes,
        "application/octet-stream",
    )
    .await?;
    blob.delete(key).await?;
    tracing::warn!(key, "file quarantined");
    Ok(())
}

/// Empties the inbox of an accepted receipt: the accepted file itself (its
/// copy is kept) is removed; anything else there was swapped in through the
/// still-valid upload URL after the check, and is quarantined unread.
pub(crate) async fn clear_inbox(
    blob: &dyn Blob,
    key: &str,
    accepted_sha256: Option<&str>,
) -> Result<(), ProcessError> {
    let Some(bytes) = inbox(blob, key).await? else {
        return Ok(());
    };
    if accepted_sha256 == Some(hex::encode(Sha256::digest(&bytes)).as_str()) {
        blob.delete(key).await?;
        return Ok(());
    }
    move_to_quarantine(blob, key, bytes).await
}

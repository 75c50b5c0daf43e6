//! `GET /v1/expenses/{id}/receipt`: where the receipt is, what the processor
//! found, and (only for an accepted file) a short-lived download link to the
//! copy the processor checked. A refused file is never served: it has no
//! link, and it sits in quarantine.

use std::time::Duration;

use agencyops_domain::receipt::ReceiptType;
use agencyops_platform::extract::Path;
use agencyops_platform::{ApiError, ApiResult, Caller, Services};
use agencyops_store::keys;
use agencyops_store::records::{Receipt, ReceiptStatus, ReceiptSuggestions};
use axum::extract::State;
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

use crate::access::{expense_for, storage, Intent};

/// How long a download link works.
pub const DOWNLOAD_URL_TTL: Duration = Duration::from_secs(5 * 60);

#[derive(Serialize, ToSchema)]
pub struct ReceiptView {
    pub expense_id: String,
    pub status: ReceiptStatus,
    /// The type the uploader announced.
    pub declared_type: ReceiptType,
    pub declared_size: u64,
    /// The type the content shows (accepted receipts).
    pub content_type: Option<String>,
    /// Bytes received.
    pub size: Option<u64>,
    /// Hex SHA-256 of the file.
    pub sha256: Option<String>,
    #[schema(value_type = Option<String>)]
    pub uploaded_at: Option<Timestamp>,
    #[schema(value_type = Option<String>)]
    pub processed_at: Option<Timestamp>,
    /// Another expense of the agency carrying the very same file.
    pub duplicate_of: Option<String>,
    /// Read from a text PDF; compare with what was typed, nothing is changed.
    pub suggestions: Option<ReceiptSuggestions>,
    /// Why the file was refused.
    pub reason: Option<String>,
    /// Accepted receipts only; follow it directly, it expires quickly.
    pub download_url: Option<String>,
    #[schema(value_type = Option<String>)]
    pub download_expires_at: Option<Timestamp>,
}

fn view(expense_id: String, r: Receipt) -> ReceiptView {
    ReceiptView {
        expense_id,
        status: r.status,
        declared_type: r.declared_type,
        declared_size: r.declared_size,
        content_type: r.content_type,
        size: r.size,
        sha256: r.sha256,
        uploaded_at: r.uploaded_at,
        processed_at: r.processed_at,
        duplicate_of: r.duplicate_of,
        suggestions: r.suggestions,
        reason: r.reason,
        download_url: None,
        download_expires_at: None,
    }
}

#[utoipa::path(get, path = "/v1/expenses/{id}/receipt", tag = "receipts",
    params(("id" = String, Path, description = "The expense")),
    responses(
        (status = 200, body = ReceiptView),
        (status = 403, description = "Client users"),
        (status = 404, description = "No such expense visible to the caller, or no receipt yet"),
    ),
    operation_id = "get_receipt")]
pub async fn get_receipt(
    State(s): State<Services>,
    caller: Caller,
    Path(expense_id): Path<String>,
) -> ApiResult<axum::Json<ReceiptView>> {
    let blob = storage(&s)?;
    let expense = expense_for(&s, &caller, &expense_id, Intent::View).await?;
    let receipt = expense.receipt.ok_or(ApiError::NotFound("receipt"))?;
    // Only the copy the processor checked, never the upload key itself: the
    // upload URL may still be valid, and whatever sits there is unchecked.
    let checked = match (receipt.status, receipt.sha256.as_deref()) {
        (ReceiptStatus::Accepted, Some(sha256)) => {
            Some(keys::attached_object(&receipt.key, sha256))
        }
        _ => None,
    };
    let mut out = view(expense.id, receipt);
    if let Some(key) = checked {
        let link = blob
            .presign_get(&key, DOWNLOAD_URL_TTL)
            .await
            .map_err(|e| ApiError::Internal(format!("presigning the download: {e}")))?;
        out.download_url = Some(link.url);
        out.download_expires_at = Some(link.expires_at);
    }
    Ok(axum::Json(out))
}

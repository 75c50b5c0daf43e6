//! `POST /v1/expenses/{id}/receipt`: a short-lived URL to upload the receipt
//! straight to storage. The file never passes through this function; what it
//! does is refuse anything but an allowed type and size before signing, pin
//! both in the signature, and announce the upload on the expense (pending,
//! with the key) so the processor can tell the announced file from any other.

use std::collections::BTreeMap;
use std::time::Duration;

use agencyops_platform::error::Problems;
use agencyops_platform::extract::{etag, IfMatch, Json, Path};
use agencyops_platform::resource;
use agencyops_platform::{ApiError, ApiResult, Caller, Services};
use agencyops_store::audit::AuditAction;
use agencyops_store::keys;
use agencyops_store::records::Receipt;
use agencyops_store::Write;
use axum::extract::State;
use axum::http::header::{ETAG, LOCATION};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::{expense_for, storage, takes_receipts, Intent};
use crate::file_type::{ReceiptType, MAX_RECEIPT_BYTES};

/// How long an upload URL works: long enough for a phone on a slow line,
/// short enough that a leaked URL is soon useless.
pub const UPLOAD_URL_TTL: Duration = Duration::from_secs(5 * 60);

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadRequest {
    /// One of application/pdf, image/jpeg, image/png, image/heic, image/webp
    /// (any letter case).
    pub content_type: ReceiptType,
    /// The file's size in bytes, at most 10 MB.
    #[schema(minimum = 1, maximum = 10485760, example = 183_422)]
    pub size: u64,
}

/// Everything needed to perform the upload without credentials.
#[derive(Serialize, ToSchema)]
pub struct UploadTicket {
    pub upload_url: String,
    /// Always PUT.
    pub method: String,
    /// Send exactly these headers (the type and length are signed).
    pub headers: BTreeMap<String, String>,
    #[schema(value_type = String)]
    pub expires_at: Timestamp,
}

/// The type is checked as the body is read (it is a [`ReceiptType`]); the
/// size here.
fn check(body: &UploadRequest) -> ApiResult<ReceiptType> {
    let mut p = Problems::new();
    if body.size == 0 || body.size > MAX_RECEIPT_BYTES {
        p.add(
            "size",
            format!(
                "must be 1 to {MAX_RECEIPT_BYTES} bytes ({} MB)",
                MAX_RECEIPT_BYTES / (1024 * 1024)
            ),
        );
    }
    p.finish()?;
    Ok(body.content_type)
}

#[utoipa::path(post, path = "/v1/expenses/{id}/receipt", tag = "receipts",
    params(("id" = String, Path, description = "The expense")), request_body = UploadRequest,
    responses(
        (status = 201, body = UploadTicket, description = "Upload with this request within its expiry"),
        (status = 400, description = "Type or size not allowed"),
        (status = 403), (status = 404),
        (status = 409, description = "The expense is approved or invoiced"),
        (status = 412),
    ),
    operation_id = "request_receipt_upload")]
pub async fn request_receipt_upload(
    State(s): State<Services>,
    caller: Caller,
    Path(expense_id): Path<String>,
    if_match: IfMatch,
    Json(body): Json<UploadRequest>,
) -> ApiResult<Response> {
    let blob = storage(&s)?;
    let expense = expense_for(&s, &caller, &expense_id, Intent::Attach).await?;
    let kind = check(&body)?;
    takes_receipts(expense.status)
        .map_err(|why| ApiError::locked(format!("this expense takes no receipt: {why}")))?;

    let upload = uuid::Uuid::new_v4().simple().to_string();
    let key = keys::receipt_object(&caller.tenant, &expense.id, &upload);
    let signed = blob
        .presign_put(&key, kind.mime(), body.size, UPLOAD_URL_TTL)
        .await
        .map_err(|e| ApiError::Internal(format!("presigning the upload: {e}")))?;

    let pending = Receipt::pending(key, kind, body.size, caller.person.clone(), s.clock.now());
    let updated = resource::update(
        &s,
        &caller,
        expense,
        if_match,
        AuditAction::RequestReceipt,
        |x| {
            // A replaced receipt no longer counts when looking for duplicates.
            let mut extra = Vec::new();
            if let Some(sha) = x.receipt.as_ref().and_then(Receipt::accepted_hash) {
                extra.push(Write::Delete {
                    key: keys::receipt_hash(&caller.tenant, sha, &x.id),
                    condition: None,
                });
            }
            x.receipt = Some(pending);
            Ok(extra)
        },
    )
    .await?;

    let ticket = UploadTicket {
        upload_url: signed.url,
        method: signed.method,
        headers: signed
            .headers
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect(),
        expires_at: signed.expires_at,
    };
    let mut res = (StatusCode::CREATED, axum::Json(ticket)).into_response();
    if let Ok(v) = HeaderValue::from_str(&etag(updated.version)) {
        res.headers_mut().insert(ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("/v1/expenses/{}/receipt", updated.id)) {
        res.headers_mut().insert(LOCATION, v);
    }
    Ok(res)
}

//! The receipts function: a presigned upload for an expense's receipt, and the
//! processor that checks each uploaded file and attaches it (or quarantines it).
//!
//! Flow: `POST /v1/expenses/{id}/receipt` announces the upload on the expense
//! (pending, with its storage key) and returns a URL that pins type and size;
//! the browser PUTs the file straight to storage; storage raises ObjectCreated;
//! [`process_s3_event`] checks size, magic bytes and hash, and attaches the
//! receipt (flagging a file already on another expense), keeping exactly the
//! bytes it checked under `attached/`, or moves the file to `quarantine/` and
//! records why. `GET /v1/expenses/{id}/receipt` shows the outcome, with a
//! short-lived download link to the checked copy of an accepted file only.

use agencyops_platform::Services;
use axum::routing::post;
use axum::Router;
use utoipa::OpenApi;

mod access;
mod attach;
pub mod file_type;
mod files;
pub mod pdf;
mod processor;
mod upload;
mod view;

pub use attach::{Outcome, PROCESSOR_ACTOR};
pub use processor::{
    decode_event_key, handle_sqs, process_event_json, process_s3_event, ProcessError,
};
pub use upload::{UploadRequest, UploadTicket, UPLOAD_URL_TTL};
pub use view::{ReceiptView, DOWNLOAD_URL_TTL};

pub const FUNCTION: &str = "receipts";

pub fn router(services: Services) -> Router {
    agencyops_platform::http::finish(routes(), services, FUNCTION)
}

pub fn routes() -> Router<Services> {
    Router::new().route(
        "/v1/expenses/{id}/receipt",
        post(upload::request_receipt_upload).get(view::get_receipt),
    )
}

#[derive(OpenApi)]
#[openapi(
    info(title = "AgencyOps receipts", description = "Receipt upload and processing."),
    paths(upload::request_receipt_upload, view::get_receipt),
    components(schemas(
        UploadRequest,
        file_type::ReceiptType,
        UploadTicket,
        ReceiptView,
        agencyops_store::records::ReceiptStatus,
        agencyops_store::records::ReceiptSuggestions,
    )),
    tags((name = "receipts", description = "Receipts attached to expenses")),
)]
pub struct ApiDoc;

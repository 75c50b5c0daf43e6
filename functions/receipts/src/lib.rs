//! The receipts function: a presigned upload for an expense's receipt, and the
//! processor that checks each uploaded file and attaches it (or quarantines it).

use agencyops_platform::Services;
use axum::Router;
use utoipa::OpenApi;

pub const FUNCTION: &str = "receipts";

pub fn router(services: Services) -> Router {
    agencyops_platform::http::finish(routes(), services, FUNCTION)
}

pub fn routes() -> Router<Services> {
    Router::new()
}

#[derive(OpenApi)]
#[openapi(
    info(title = "AgencyOps receipts", description = "Receipt upload and processing."),
    paths(),
    tags((name = "receipts", description = "Receipts attached to expenses")),
)]
pub struct ApiDoc;

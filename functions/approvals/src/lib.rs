//! The approvals function: timesheet and expense submit/approve/reject, the lock
//! date, budgets, the audit trail and reports. Approved work is announced on the
//! `approved` queue, whose consumer (`budget`) keeps each project's burn.

pub mod budget;
pub mod insights;

use agencyops_platform::Services;
use axum::Router;
use utoipa::OpenApi;

pub const FUNCTION: &str = "approvals";

/// The function's routes, state and cross-cutting layers.
pub fn router(services: Services) -> Router {
    agencyops_platform::http::finish(routes(), services, FUNCTION)
}

/// The bare routes, for hosts that add their own layers.
pub fn routes() -> Router<Services> {
    Router::new().merge(insights::routes())
}

/// The OpenAPI document of every route above.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(insights::ApiDoc::openapi());
    doc
}

#[derive(OpenApi)]
#[openapi(
    info(title = "AgencyOps approvals", description = "Submit, approve and reject time and expenses; lock dates."),
    paths(),
    tags(
        (name = "approvals", description = "Timesheet and expense approval, lock dates"),
    )
)]
pub struct ApiDoc;

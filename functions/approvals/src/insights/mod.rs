//! Read-only views over approved work: project budgets, the audit trail, and
//! the utilization and work-in-progress reports.

use agencyops_platform::Services;
use axum::Router;
use utoipa::OpenApi;

pub fn routes() -> Router<Services> {
    Router::new()
}

#[derive(OpenApi)]
#[openapi(
    paths(),
    tags(
        (name = "reports", description = "Budgets, utilization, work in progress and the audit trail"),
    )
)]
pub struct ApiDoc;

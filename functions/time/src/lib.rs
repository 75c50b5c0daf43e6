//! The time function: timers, time entries, expenses and the weekly timesheet
//! view. The same router runs in Lambda (`main.rs`) and inside the local host.

use agencyops_platform::Services;
use axum::Router;
use utoipa::OpenApi;

pub const FUNCTION: &str = "time";

/// The function's routes, state and cross-cutting layers.
pub fn router(services: Services) -> Router {
    agencyops_platform::http::finish(routes(), services, FUNCTION)
}

/// The bare routes, for hosts that add their own layers.
pub fn routes() -> Router<Services> {
    Router::new()
}

#[derive(OpenApi)]
#[openapi(
    info(title = "AgencyOps time", description = "Timers, time entries, expenses and timesheets."),
    paths(),
    tags(
        (name = "time", description = "Timers, time entries and timesheets"),
        (name = "expenses", description = "Expenses recorded against projects"),
    )
)]
pub struct ApiDoc;

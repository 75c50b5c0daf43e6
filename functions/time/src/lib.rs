//! The time function: timers, time entries, expenses and the weekly timesheet
//! view. The same router runs in Lambda (`main.rs`) and inside the local host.
//!
//! Every write of a time entry goes through [`entry_writes::commit`], one
//! transaction with the lock-date, week and day-total guards that the approvals
//! function relies on.

pub mod entries;
pub mod entry_writes;
pub mod expense_view;
pub mod expenses;
pub mod policy;
pub mod timers;
pub mod timesheets;
pub mod view;
pub mod work_list;

use agencyops_platform::Services;
use axum::routing::{get, post};
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
        .route("/v1/timers/start", post(timers::start))
        .route("/v1/timers/stop", post(timers::stop))
        .route("/v1/timers/current", get(timers::current))
        .route("/v1/time-entries", post(entries::create).get(entries::list))
        .route(
            "/v1/time-entries/{id}",
            get(entries::get)
                .patch(entries::patch)
                .delete(entries::delete),
        )
        .route("/v1/expenses", post(expenses::create).get(expenses::list))
        .route(
            "/v1/expenses/{id}",
            get(expenses::get)
                .patch(expenses::patch)
                .delete(expenses::delete),
        )
        .route(
            "/v1/timesheets/{person_id}/{iso_week}",
            get(timesheets::get),
        )
}

#[derive(OpenApi)]
#[openapi(
    info(title = "AgencyOps time", description = "Timers, time entries, expenses and timesheets."),
    paths(
        timers::start, timers::stop, timers::current,
        entries::create, entries::list, entries::get, entries::patch, entries::delete,
        expenses::create, expenses::list, expenses::get, expenses::patch, expenses::delete,
        timesheets::get,
    ),
    tags(
        (name = "time", description = "Timers, time entries and timesheets"),
        (name = "expenses", description = "Expenses recorded against projects"),
    )
)]
pub struct ApiDoc;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_documented_once() {
        let doc = ApiDoc::openapi();
        let mut ids = agencyops_apitest::operation_ids(&doc);
        assert_eq!(ids.len(), 14);
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 14, "operation ids are unique");
    }
}

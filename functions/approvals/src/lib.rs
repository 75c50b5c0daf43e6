//! The approvals function: timesheet and expense submit/approve/reject, the lock
//! date, budgets, the audit trail and reports. Approved work is announced on the
//! `approved` queue, whose consumer (`budget`) keeps each project's burn.

pub mod approvers;
pub mod budget;
pub mod expense_approvals;
pub mod insights;
pub mod lock_date;
pub mod snapshot;
pub mod weeks;

use agencyops_platform::Services;
use axum::routing::{post, put};
use axum::Router;
use utoipa::OpenApi;

pub const FUNCTION: &str = "approvals";

/// The function's routes, state and cross-cutting layers.
pub fn router(services: Services) -> Router {
    agencyops_platform::http::finish(routes(), services, FUNCTION)
}

/// The bare routes, for hosts that add their own layers.
pub fn routes() -> Router<Services> {
    Router::new()
        .route(
            "/v1/timesheets/{person_id}/{iso_week}/submit",
            post(weeks::submit),
        )
        .route(
            "/v1/timesheets/{person_id}/{iso_week}/approve",
            post(weeks::approve),
        )
        .route(
            "/v1/timesheets/{person_id}/{iso_week}/reject",
            post(weeks::reject),
        )
        .route("/v1/expenses/{id}/submit", post(expense_approvals::submit))
        .route(
            "/v1/expenses/{id}/approve",
            post(expense_approvals::approve),
        )
        .route("/v1/expenses/{id}/reject", post(expense_approvals::reject))
        .route(
            "/v1/settings/lock-date",
            put(lock_date::set).get(lock_date::get),
        )
        .merge(insights::routes())
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
    paths(
        weeks::submit, weeks::approve, weeks::reject,
        expense_approvals::submit, expense_approvals::approve, expense_approvals::reject,
        lock_date::get, lock_date::set,
    ),
    tags(
        (name = "approvals", description = "Timesheet and expense approval, lock dates"),
    )
)]
pub struct ApiDoc;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_approval_operation_is_documented_once() {
        let doc = openapi();
        let ids = agencyops_apitest::operation_ids(&doc);
        for id in [
            "submit_timesheet",
            "approve_timesheet",
            "reject_timesheet",
            "submit_expense",
            "approve_expense",
            "reject_expense",
            "get_lock_date",
            "set_lock_date",
        ] {
            assert_eq!(ids.iter().filter(|i| *i == id).count(), 1, "{id}");
        }
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), ids.len(), "operation ids are unique");
    }
}

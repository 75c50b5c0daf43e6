//! Getting paid: the daily AR run (reminders from the current dunning policy,
//! late fees, recurring invoices, the AR snapshot and the Monday digest), the
//! mail sender, and the reports finance reads.
//!
//! The rule every part keeps: each (invoice, stage), each fee and each
//! recurring period happens once, however often the schedule fires or a
//! message is delivered, and only while money is owed.

pub mod daily;
pub mod dunning;
pub mod mail_sender;
pub mod recurring;
pub mod reports;

use agencyops_platform::Services;
use axum::routing::{get, post, put};
use axum::Router;
use utoipa::OpenApi;

pub const FUNCTION: &str = "ar-followups";

/// The function's routes, state and cross-cutting layers.
pub fn router(services: Services) -> Router {
    agencyops_platform::http::finish(routes(), services, FUNCTION)
}

/// The bare routes, for hosts that add their own layers.
pub fn routes() -> Router<Services> {
    Router::new()
        .route(
            "/v1/settings/dunning",
            get(dunning::get_tenant).put(dunning::put_tenant),
        )
        .route(
            "/v1/clients/{id}/dunning",
            get(dunning::get_client).put(dunning::put_client),
        )
        .route("/v1/invoices/{id}/remind", post(dunning::remind))
        .route(
            "/v1/projects/{id}/recurring",
            put(recurring::put_recurring)
                .get(recurring::get_recurring)
                .delete(recurring::delete_recurring),
        )
        .route("/v1/reports/ar-aging", get(reports::ar_aging))
        .route("/v1/reports/dso", get(reports::dso_report))
        .route("/v1/reports/cash-forecast", get(reports::cash_forecast))
}

#[derive(OpenApi)]
#[openapi(
    info(title = "AgencyOps AR follow-ups", description = "Dunning policies, recurring invoices and finance reports."),
    paths(
        dunning::get_tenant, dunning::put_tenant, dunning::get_client, dunning::put_client,
        dunning::remind,
        recurring::put_recurring, recurring::get_recurring, recurring::delete_recurring,
        reports::ar_aging, reports::dso_report, reports::cash_forecast,
    ),
    tags((name = "ar-followups", description = "Getting paid"), (name = "reports", description = "Receivables reports")),
)]
pub struct ApiDoc;

#[cfg(test)]
mod tests {
    use super::*;

    /// The recurring operations are documented with views, not records, and
    /// every schema they refer to is in the document.
    #[test]
    fn the_document_describes_the_recurring_operations() {
        let doc = ApiDoc::openapi();
        let json = serde_json::to_value(&doc).expect("the document is JSON");
        let op = &json["paths"]["/v1/projects/{id}/recurring"];
        for (method, id) in [
            ("put", "put_recurring"),
            ("get", "get_recurring"),
            ("delete", "delete_recurring"),
        ] {
            assert_eq!(op[method]["operationId"], id);
        }
        let schemas = json["components"]["schemas"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        for name in ["RecurringView", "RecurringBody", "Cadence", "AnchorWeekday"] {
            assert!(schemas.contains_key(name), "{name} missing");
        }
        assert!(
            !schemas.contains_key("RecurringSchedule"),
            "a stored record"
        );
    }
}

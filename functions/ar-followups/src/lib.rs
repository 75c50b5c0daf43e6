//! Getting paid: the daily AR run (reminders from the current dunning policy,
//! late fees, recurring invoices, the AR snapshot and the Monday digest), the
//! mail sender, and the reports finance reads.
//!
//! The rule every part keeps: each (invoice, stage), each fee and each
//! recurring period happens once, however often the schedule fires or a
//! message is delivered, and only while money is owed.

pub mod daily;
pub mod recurring;

use agencyops_platform::Services;
use axum::Router;
use utoipa::OpenApi;

pub const FUNCTION: &str = "ar-followups";

/// The function's routes, state and cross-cutting layers.
pub fn router(services: Services) -> Router {
    agencyops_platform::http::finish(routes(), services, FUNCTION)
}

/// The bare routes, for hosts that add their own layers.
pub fn routes() -> Router<Services> {
    Router::new().route(
        "/v1/projects/{id}/recurring",
        axum::routing::put(recurring::put_recurring)
            .get(recurring::get_recurring)
            .delete(recurring::delete_recurring),
    )
}

#[derive(OpenApi)]
#[openapi(
    info(title = "AgencyOps AR follow-ups", description = "Dunning policies, recurring invoices and finance reports."),
    paths(recurring::put_recurring, recurring::get_recurring, recurring::delete_recurring),
    tags((name = "ar-followups", description = "Getting paid")),
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

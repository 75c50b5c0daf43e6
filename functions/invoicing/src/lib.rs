//! The invoicing function: approved work becomes exact, numbered invoices,
//! billed exactly once; payments and credit notes settle them; documents and
//! exports carry them to clients and accounting tools.
//!
//! The invariant every operation keeps: approved billable work is either in
//! WIP (the unbilled index) or named by exactly one live claim batch of one
//! invoice that is not void, and the entry says which (see [`claims`]).

pub mod activity;
pub mod claims;
pub mod context;
pub mod credit_notes;
pub mod documents;
pub mod drafts;
pub mod files;
pub mod handlers;
pub mod lifecycle;
pub mod milestones;
pub mod numbers;
pub mod payments;
pub mod profitability;
pub mod reads;
pub mod sending;
pub mod settings;
pub mod view;

use agencyops_platform::Services;
use axum::routing::{delete, get, post, put};
use axum::Router;
use utoipa::OpenApi;

pub use drafts::build::{handle_body as handle_build_message, handle_sqs as handle_builder_sqs};
pub use drafts::create::BUILDER_QUEUE;

pub const FUNCTION: &str = "invoicing";

/// The function's routes, state and cross-cutting layers.
pub fn router(services: Services) -> Router {
    agencyops_platform::http::finish(routes(), services, FUNCTION)
}

/// The bare routes, for hosts that add their own layers.
pub fn routes() -> Router<Services> {
    use handlers::*;
    Router::new()
        .route("/v1/invoices", post(create_invoice).get(list_invoices))
        .route(
            "/v1/invoices/{id}",
            get(get_invoice)
                .patch(update_invoice)
                .delete(delete_invoice),
        )
        .route("/v1/invoices/{id}/issue", post(issue_invoice))
        .route("/v1/invoices/{id}/void", post(void_invoice))
        .route("/v1/invoices/{id}/send", post(send_invoice))
        .route("/v1/invoices/{id}/activity", get(invoice_activity))
        .route("/v1/invoices/{id}/write-off", post(write_off_invoice))
        .route("/v1/invoices/{id}/payments", post(record_payment))
        .route(
            "/v1/invoices/{id}/payments/{payment_id}",
            delete(reverse_payment),
        )
        .route("/v1/invoices/{id}/credit-notes", post(create_credit_note))
        .route("/v1/invoices/{id}/document", get(get_document))
        .route("/v1/invoices/{id}/ubl", get(get_ubl))
        .route(
            "/v1/invoices/{id}/credit-notes/{credit_note_id}/ubl",
            get(get_credit_note_ubl),
        )
        .route("/v1/exports/invoices", get(export_invoices))
        .route("/v1/reports/profitability", get(profitability))
        .route(
            "/v1/settings/invoicing",
            put(put_settings).get(get_settings),
        )
}

#[derive(OpenApi)]
#[openapi(
    info(title = "AgencyOps invoicing", description = "Invoices from approved work, numbers, payments, credit notes."),
    paths(
        handlers::create_invoice, handlers::list_invoices, handlers::get_invoice, handlers::update_invoice,
        handlers::delete_invoice, handlers::issue_invoice, handlers::void_invoice, handlers::write_off_invoice,
        handlers::record_payment, handlers::reverse_payment, handlers::create_credit_note,
        handlers::get_settings, handlers::put_settings,
        handlers::get_document, handlers::get_ubl, handlers::get_credit_note_ubl,
        handlers::export_invoices, handlers::profitability,
        handlers::send_invoice, handlers::invoice_activity,
    ),
    components(schemas(files::ExportFormat)),
    tags((name = "invoicing", description = "Invoices, payments and credit notes")),
)]
pub struct ApiDoc;

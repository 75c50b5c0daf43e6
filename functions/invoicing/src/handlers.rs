//! HTTP handlers: each parses the request, calls one operation and shapes the
//! response. Decisions live in the operations.

use agencyops_platform::extract::{etag, IfMatch, Json, OptionalJson, Path, Query};
use agencyops_platform::resource::ListPage;
use agencyops_platform::{ApiResult, Caller, Services};
use axum::extract::State;
use axum::http::header::{ETAG, LOCATION};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::credit_notes::{self, NewCreditNote};
use crate::drafts::create::{self, Created};
use crate::drafts::edit::{self, InvoicePatch};
use crate::drafts::request::NewInvoice;
use crate::lifecycle;
use crate::payments::{self, NewPayment};
use crate::reads::{self, InvoiceFilter};
use crate::settings::{self, InvoicingSettingsBody};
use crate::view::{self, CreditNoteView, InvoiceSummary, InvoiceView};

/// An invoice as a response, with its ETag (and Location when just created).
fn respond(status: StatusCode, v: InvoiceView, location: bool) -> Response {
    let (version, id) = (v.version, v.id.clone());
    let mut res = (status, axum::Json(v)).into_response();
    if let Ok(tag) = HeaderValue::from_str(&etag(version)) {
        res.headers_mut().insert(ETAG, tag);
    }
    if location {
        if let Ok(l) = HeaderValue::from_str(&format!("/v1/invoices/{id}")) {
            res.headers_mut().insert(LOCATION, l);
        }
    }
    res
}

async fn current(s: &Services, caller: &Caller, id: &str) -> ApiResult<InvoiceView> {
    reads::get(s, caller, id).await
}

#[utoipa::path(post, path = "/v1/invoices", tag = "invoicing", request_body = NewInvoice,
    responses(
        (status = 201, body = InvoiceView, description = "The draft, its work claimed"),
        (status = 202, body = InvoiceView, description = "A large draft, `building` until the invoice builder has claimed its work"),
        (status = 400), (status = 403), (status = 404), (status = 409)),
    operation_id = "create_invoice")]
pub async fn create_invoice(
    State(s): State<Services>,
    caller: Caller,
    Json(body): Json<NewInvoice>,
) -> ApiResult<Response> {
    let (created, parts) = create::create_with_parts(&s, &caller, body).await?;
    let (status, inv) = match created {
        Created::Draft(inv) => (StatusCode::CREATED, inv),
        Created::Building(inv) => (StatusCode::ACCEPTED, inv),
    };
    let view = match parts {
        Some(parts) => crate::view::invoice_view(&caller, &inv, &parts),
        None => current(&s, &caller, &inv.id).await?,
    };
    Ok(respond(status, view, true))
}

#[utoipa::path(get, path = "/v1/invoices", tag = "invoicing", params(InvoiceFilter),
    responses((status = 200, body = ListPage<InvoiceSummary>), (status = 400), (status = 403)),
    operation_id = "list_invoices")]
pub async fn list_invoices(
    State(s): State<Services>,
    caller: Caller,
    Query(f): Query<InvoiceFilter>,
) -> ApiResult<axum::Json<ListPage<InvoiceSummary>>> {
    Ok(axum::Json(reads::list(&s, &caller, f).await?))
}

#[utoipa::path(get, path = "/v1/invoices/{id}", tag = "invoicing", params(("id" = String, Path, pattern = r"^[A-Za-z0-9_-]{1,64}$")),
    responses((status = 200, body = InvoiceView), (status = 403), (status = 404)),
    operation_id = "get_invoice")]
pub async fn get_invoice(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(respond(
        StatusCode::OK,
        current(&s, &caller, &id).await?,
        false,
    ))
}

#[utoipa::path(patch, path = "/v1/invoices/{id}", tag = "invoicing", request_body = InvoicePatch,
    params(("id" = String, Path, pattern = r"^[A-Za-z0-9_-]{1,64}$")),
    responses((status = 200, body = InvoiceView), (status = 400), (status = 403), (status = 404), (status = 409), (status = 412)),
    operation_id = "update_invoice")]
pub async fn update_invoice(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(body): Json<InvoicePatch>,
) -> ApiResult<Response> {
    let inv = edit::patch(&s, &caller, &id, if_match, body).await?;
    Ok(respond(
        StatusCode::OK,
        current(&s, &caller, &inv.id).await?,
        false,
    ))
}

#[utoipa::path(delete, path = "/v1/invoices/{id}", tag = "invoicing", params(("id" = String, Path, pattern = r"^[A-Za-z0-9_-]{1,64}$")),
    responses((status = 204, description = "Deleted; its work is back in WIP"), (status = 403), (status = 404), (status = 409)),
    operation_id = "delete_invoice")]
pub async fn delete_invoice(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    lifecycle::delete_draft(&s, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueInvoice {}

#[utoipa::path(post, path = "/v1/invoices/{id}/issue", tag = "invoicing", params(("id" = String, Path, pattern = r"^[A-Za-z0-9_-]{1,64}$")),
    request_body(content = IssueInvoice, description = "Optional; no options yet"),
    responses((status = 200, body = InvoiceView), (status = 400), (status = 403), (status = 404), (status = 409)),
    operation_id = "issue_invoice")]
pub async fn issue_invoice(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
    OptionalJson(_b): OptionalJson<IssueInvoice>,
) -> ApiResult<Response> {
    let view = match lifecycle::issue::issue_with_parts(&s, &caller, &id).await? {
        (inv, Some(parts)) => crate::view::invoice_view(&caller, &inv, &parts),
        (inv, None) => current(&s, &caller, &inv.id).await?,
    };
    Ok(respond(StatusCode::OK, view, false))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoidInvoice {
    /// Hand the invoice's work back to WIP (default), or keep it billed here.
    #[serde(default = "yes")]
    pub release_work: bool,
}

impl Default for VoidInvoice {
    fn default() -> Self {
        VoidInvoice { release_work: true }
    }
}

fn yes() -> bool {
    true
}

#[utoipa::path(post, path = "/v1/invoices/{id}/void", tag = "invoicing", params(("id" = String, Path, pattern = r"^[A-Za-z0-9_-]{1,64}$")),
    request_body(content = VoidInvoice, description = "Optional"),
    responses((status = 200, body = InvoiceView), (status = 400), (status = 403), (status = 404), (status = 409)),
    operation_id = "void_invoice")]
pub async fn void_invoice(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
    OptionalJson(b): OptionalJson<VoidInvoice>,
) -> ApiResult<Response> {
    let inv = lifecycle::void(&s, &caller, &id, b.release_work).await?;
    Ok(respond(
        StatusCode::OK,
        current(&s, &caller, &inv.id).await?,
        false,
    ))
}

#[utoipa::path(post, path = "/v1/invoices/{id}/write-off", tag = "invoicing", params(("id" = String, Path, pattern = r"^[A-Za-z0-9_-]{1,64}$")),
    request_body(content = IssueInvoice, description = "Optional; no options yet"),
    responses((status = 200, body = InvoiceView, description = "Uncollectible; the balance is reported as written off"), (status = 400), (status = 403), (status = 404), (status = 409)),
    operation_id = "write_off_invoice")]
pub async fn write_off_invoice(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
    OptionalJson(_b): OptionalJson<IssueInvoice>,
) -> ApiResult<Response> {
    let inv = lifecycle::write_off(&s, &caller, &id).await?;
    Ok(respond(
        StatusCode::OK,
        current(&s, &caller, &inv.id).await?,
        false,
    ))
}

#[utoipa::path(post, path = "/v1/invoices/{id}/payments", tag = "invoicing", request_body = NewPayment,
    params(("id" = String, Path, pattern = r"^[A-Za-z0-9_-]{1,64}$")),
    responses((status = 201, body = InvoiceView, description = "The invoice with the payment"), (status = 400), (status = 403), (status = 404), (status = 409)),
    operation_id = "record_payment")]
pub async fn record_payment(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    Json(body): Json<NewPayment>,
) -> ApiResult<Response> {
    let key = headers
        .get(agencyops_platform::idempotency::HEADER)
        .and_then(|v| v.to_str().ok());
    let done = payments::record_payment(&s, &caller, &id, body, key).await?;
    Ok(respond(
        StatusCode::CREATED,
        crate::view::invoice_view(&caller, &done.invoice, &done.parts),
        false,
    ))
}

#[utoipa::path(delete, path = "/v1/invoices/{id}/payments/{payment_id}", tag = "invoicing",
    params(("id" = String, Path, pattern = r"^[A-Za-z0-9_-]{1,64}$"), ("payment_id" = String, Path, pattern = r"^[A-Za-z0-9_-]{1,64}$")),
    responses((status = 200, body = InvoiceView, description = "The invoice with the payment reversed"), (status = 403), (status = 404), (status = 409)),
    operation_id = "reverse_payment")]
pub async fn reverse_payment(
    State(s): State<Services>,
    caller: Caller,
    Path((id, pid)): Path<(String, String)>,
) -> ApiResult<Response> {
    let inv = payments::reverse_payment(&s, &caller, &id, &pid).await?;
    Ok(respond(
        StatusCode::OK,
        current(&s, &caller, &inv.id).await?,
        false,
    ))
}

#[utoipa::path(post, path = "/v1/invoices/{id}/credit-notes", tag = "invoicing", request_body = NewCreditNote,
    params(("id" = String, Path, pattern = r"^[A-Za-z0-9_-]{1,64}$")),
    responses((status = 201, body = CreditNoteView), (status = 400), (status = 403), (status = 404), (status = 409)),
    operation_id = "create_credit_note")]
pub async fn create_credit_note(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<NewCreditNote>,
) -> ApiResult<(StatusCode, axum::Json<CreditNoteView>)> {
    let (_, note) = credit_notes::create(&s, &caller, &id, body).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(view::credit_note_view(&note)),
    ))
}

fn settings_response(s: &agencyops_store::records::InvoicingSettings) -> Response {
    let mut res = axum::Json(InvoicingSettingsBody::from(s)).into_response();
    if let Ok(tag) = HeaderValue::from_str(&etag(s.version)) {
        res.headers_mut().insert(ETAG, tag);
    }
    res
}

#[utoipa::path(get, path = "/v1/settings/invoicing", tag = "invoicing",
    responses((status = 200, body = InvoicingSettingsBody), (status = 403)),
    operation_id = "get_invoicing_settings")]
pub async fn get_settings(State(s): State<Services>, caller: Caller) -> ApiResult<Response> {
    Ok(settings_response(&settings::get(&s, &caller).await?))
}

#[utoipa::path(put, path = "/v1/settings/invoicing", tag = "invoicing", request_body = InvoicingSettingsBody,
    responses((status = 200, body = InvoicingSettingsBody), (status = 400), (status = 403), (status = 409), (status = 412)),
    operation_id = "put_invoicing_settings")]
pub async fn put_settings(
    State(s): State<Services>,
    caller: Caller,
    if_match: IfMatch,
    Json(body): Json<InvoicingSettingsBody>,
) -> ApiResult<Response> {
    Ok(settings_response(
        &settings::put(&s, &caller, if_match, body).await?,
    ))
}

fn file_response(f: crate::files::File, attachment: bool) -> Response {
    let mut res = (StatusCode::OK, f.bytes).into_response();
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(f.content_type) {
        h.insert(axum::http::header::CONTENT_TYPE, v);
    }
    let disposition = format!(
        "{}; filename=\"{}\"",
        if attachment { "attachment" } else { "inline" },
        f.name.replace('"', "")
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(axum::http::header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        axum::http::header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

#[utoipa::path(get, path = "/v1/invoices/{id}/document", tag = "invoicing",
    params(("id" = String, Path, pattern = r"^[A-Za-z0-9_-]{1,64}$"), ("Accept" = Option<String>, Header, description = "`text/html` for the HTML page; otherwise the PDF")),
    responses(
        (status = 200, description = "The invoice document: the one kept when it was issued", content(("application/pdf"), ("text/html"))),
        (status = 403), (status = 404)),
    operation_id = "get_invoice_document")]
pub async fn get_document(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> ApiResult<Response> {
    let want_html = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html") && !a.contains("application/pdf"));
    Ok(file_response(
        crate::files::document(&s, &caller, &id, want_html).await?,
        false,
    ))
}

#[utoipa::path(get, path = "/v1/invoices/{id}/ubl", tag = "invoicing",
    params(("id" = String, Path, pattern = r"^[A-Za-z0-9_-]{1,64}$")),
    responses((status = 200, description = "A UBL 2.1 Invoice with the EN 16931 core", content(("application/xml"))), (status = 403), (status = 404), (status = 409)),
    operation_id = "get_invoice_ubl")]
pub async fn get_ubl(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(file_response(
        crate::files::invoice_ubl(&s, &caller, &id).await?,
        true,
    ))
}

#[utoipa::path(get, path = "/v1/invoices/{id}/credit-notes/{credit_note_id}/ubl", tag = "invoicing",
    params(("id" = String, Path, pattern = r"^[A-Za-z0-9_-]{1,64}$"), ("credit_note_id" = String, Path, pattern = r"^[A-Za-z0-9_-]{1,64}$")),
    responses((status = 200, description = "A UBL 2.1 CreditNote referencing its invoice", content(("application/xml"))), (status = 403), (status = 404), (status = 409)),
    operation_id = "get_credit_note_ubl")]
pub async fn get_credit_note_ubl(
    State(s): State<Services>,
    caller: Caller,
    Path((id, cid)): Path<(String, String)>,
) -> ApiResult<Response> {
    Ok(file_response(
        crate::files::credit_note_ubl(&s, &caller, &id, &cid).await?,
        true,
    ))
}

#[utoipa::path(get, path = "/v1/exports/invoices", tag = "invoicing", params(crate::files::ExportParams),
    responses((status = 200, description = "One row per line, with the tool's import headers", content(("text/csv"))), (status = 400), (status = 403), (status = 409)),
    operation_id = "export_invoices")]
pub async fn export_invoices(
    State(s): State<Services>,
    caller: Caller,
    Query(p): Query<crate::files::ExportParams>,
) -> ApiResult<Response> {
    Ok(file_response(
        crate::files::export(&s, &caller, p).await?,
        true,
    ))
}

#[utoipa::path(get, path = "/v1/reports/profitability", tag = "reports", params(crate::profitability::ProfitabilityParams),
    responses((status = 200, body = crate::profitability::ProfitabilityReport), (status = 400), (status = 403)),
    operation_id = "profitability_report")]
pub async fn profitability(
    State(s): State<Services>,
    caller: Caller,
    Query(p): Query<crate::profitability::ProfitabilityParams>,
) -> ApiResult<axum::Json<crate::profitability::ProfitabilityReport>> {
    Ok(axum::Json(
        crate::profitability::report(&s, &caller, p).await?,
    ))
}

#[utoipa::path(post, path = "/v1/invoices/{id}/send", tag = "invoicing",
    params(("id" = String, Path, pattern = r"^[A-Za-z0-9_-]{1,64}$")),
    request_body(content = crate::sending::SendInvoice, description = "Optional: recipients instead of the client's billing contacts, cc, a note. A retry with the same Idempotency-Key replays the answer and queues nothing twice"),
    responses(
        (status = 202, body = crate::sending::SendQueued, description = "Queued for the mail sender, the issued PDF attached"),
        (status = 400), (status = 403), (status = 404),
        (status = 409, description = "A draft, void, paid or written-off invoice, or one without a kept document"),
        (status = 422, description = "The Idempotency-Key was used for another request")),
    operation_id = "send_invoice")]
pub async fn send_invoice(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    OptionalJson(body): OptionalJson<crate::sending::SendInvoice>,
) -> ApiResult<(StatusCode, axum::Json<crate::sending::SendQueued>)> {
    let key = headers
        .get(agencyops_platform::idempotency::HEADER)
        .and_then(|v| v.to_str().ok());
    let queued = crate::sending::send(&s, &caller, &id, body, key).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(queued)))
}

#[utoipa::path(get, path = "/v1/invoices/{id}/activity", tag = "invoicing",
    params(("id" = String, Path, pattern = r"^[A-Za-z0-9_-]{1,64}$")),
    responses((status = 200, body = crate::activity::InvoiceActivityList, description = "Sent, reminders, late fees, payments and credit notes, oldest first"),
        (status = 403), (status = 404)),
    operation_id = "get_invoice_activity")]
pub async fn invoice_activity(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<crate::activity::InvoiceActivityList>> {
    Ok(axum::Json(crate::activity::list(&s, &caller, &id).await?))
}

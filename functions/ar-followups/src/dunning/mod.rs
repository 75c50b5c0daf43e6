//! Reminders that do what the policy says: the tenant's and clients'
//! dunning policies, the daily reminder step over the sparse due index,
//! manual reminders and late fees. `plan` decides (pure), `policy`, `run`
//! and `remind` are the operations, the handlers below only translate HTTP.
//!
//! The rules, as finance reads them:
//! - A policy has up to 10 stages, each `offset_days` from the due date in
//!   -30..=365 (negative: before it), strictly increasing, names unique
//!   (1-40 letters, digits, spaces, `_`, `-`); after the last stage it
//!   repeats every `repeat_every_days` (1-90) up to `max_repeats` (0-24)
//!   times; `quiet_days_after_send` (0-60) keeps reminders away for that many
//!   days after the invoice was mailed by hand; `paused` stops everything.
//!   A client's own policy replaces the tenant's for its invoices.
//! - Subjects (1-200 characters, one line) and bodies (1-5000) may use
//!   `{number}`, `{balance}`, `{due_date}`, `{client}`, `{days_overdue}`;
//!   any other `{...}` is refused when saved.
//! - Each day the latest step whose date has come is sent, once per
//!   invoice (a marker per stage or repeat); a missed day sends the latest,
//!   not every missed one. Only invoices issued or partially paid, with a
//!   balance and a due date, are in the due index; fee invoices are not
//!   chased (no fee on a fee).
//! - A late fee (`flat` in the invoice's currency, 0-999999 with 2
//!   decimals, plus `percent` 0-100 of the balance, plus optional
//!   `statutory` 2011/7/EU interest: reference rate + 8 points a year from
//!   the day after the due date to the stage's date, or from the previous
//!   stage that charged it, on a 365-day year, and EUR 40 once with the
//!   first such stage on EUR invoices) is charged once per stage that carries
//!   one, repeats charge none. The sum is rounded once to the currency's
//!   minor unit by the invoice's rounding rule (half up unless the tenant
//!   chose half even) and billed as its own issued invoice (kind `manual`,
//!   numbered in the normal series, one line naming the stage and invoice,
//!   `late_fee` activity on the original, audited); the reminder mail says so.
//! - A reminder sent by hand (`POST /v1/invoices/{id}/remind`) is the step
//!   due now (the first stage, early, if none is due yet), with its fee,
//!   through the same marker; it also starts the quiet days.

pub mod plan;
pub mod policy;
pub mod remind;
pub mod run;

pub use run::{run_tenant, DunningError, Summary};

use agencyops_platform::extract::{etag, IfMatch, Json, Path};
use agencyops_platform::{ApiResult, Caller, Services};
use axum::extract::State;
use axum::http::header::ETAG;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};

use policy::{DunningPolicyBody, DunningPolicyView};
use remind::ReminderSent;

fn respond(v: DunningPolicyView) -> Response {
    let version = v.version;
    let mut res = axum::Json(v).into_response();
    if let Ok(tag) = HeaderValue::from_str(&etag(version)) {
        res.headers_mut().insert(ETAG, tag);
    }
    res
}

#[utoipa::path(get, path = "/v1/settings/dunning", tag = "ar-followups",
    responses((status = 200, body = DunningPolicyView), (status = 401), (status = 403)),
    operation_id = "get_dunning_policy")]
pub async fn get_tenant(State(s): State<Services>, caller: Caller) -> ApiResult<Response> {
    Ok(respond(policy::get_tenant(&s, &caller).await?))
}

#[utoipa::path(put, path = "/v1/settings/dunning", tag = "ar-followups", request_body = DunningPolicyBody,
    responses((status = 200, body = DunningPolicyView), (status = 400), (status = 401), (status = 403),
        (status = 409), (status = 412), (status = 415)),
    operation_id = "put_dunning_policy")]
pub async fn put_tenant(
    State(s): State<Services>,
    caller: Caller,
    if_match: IfMatch,
    Json(body): Json<DunningPolicyBody>,
) -> ApiResult<Response> {
    Ok(respond(
        policy::put_tenant(&s, &caller, if_match, body).await?,
    ))
}

#[utoipa::path(get, path = "/v1/clients/{id}/dunning", tag = "ar-followups",
    params(("id" = String, Path)),
    responses((status = 200, body = DunningPolicyView, description = "The client's own policy, or the agency's it follows"),
        (status = 401), (status = 403), (status = 404)),
    operation_id = "get_client_dunning_policy")]
pub async fn get_client(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(respond(policy::get_client(&s, &caller, &id).await?))
}

#[utoipa::path(put, path = "/v1/clients/{id}/dunning", tag = "ar-followups", request_body = DunningPolicyBody,
    params(("id" = String, Path)),
    responses((status = 200, body = DunningPolicyView), (status = 400), (status = 401), (status = 403),
        (status = 404), (status = 409), (status = 412), (status = 415)),
    operation_id = "put_client_dunning_policy")]
pub async fn put_client(
    State(s): State<Services>,
    caller: Caller,
    if_match: IfMatch,
    Path(id): Path<String>,
    Json(body): Json<DunningPolicyBody>,
) -> ApiResult<Response> {
    Ok(respond(
        policy::put_client(&s, &caller, if_match, &id, body).await?,
    ))
}

#[utoipa::path(post, path = "/v1/invoices/{id}/remind", tag = "ar-followups",
    params(("id" = String, Path)),
    responses((status = 200, body = ReminderSent, description = "The reminder due now, queued, with its fee"),
        (status = 401), (status = 403), (status = 404),
        (status = 409, description = "Nothing owed, no due date, no stages, or this step was sent already"),
        (status = 422, description = "Idempotency-Key reused for another request")),
    operation_id = "remind_invoice")]
pub async fn remind(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(axum::Json(remind::remind(&s, &caller, &id).await?).into_response())
}

//! Reminders that do what the policy says: the tenant's and clients'
//! dunning policies, the daily reminder step over the sparse due index,
//! manual reminders and late fees. `plan` decides (pure), `policy`, `run`
//! and `remind` are the operations, the handlers below only translate HTTP.

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
    params(("If-Match" = Option<String>, Header, description = "The ETag last read")),
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
    params(("id" = String, Path), ("If-Match" = Option<String>, Header, description = "The ETag last read")),
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
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first response")),
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

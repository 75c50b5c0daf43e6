//! `/v1/intake-requests`: a client asks for work; accepting it creates the
//! project with its handoff package (scope, assumptions, roles, billing
//! milestones, contacts) in one atomic write, so nothing sales promised is lost.
//! Handlers here only translate HTTP; `ops` and `accept` do the work.

pub mod accept;
pub mod ops;

use agencyops_platform::extract::{IfMatch, Json, Path, Query};
use agencyops_platform::resource::ListPage;
use agencyops_platform::{ApiResult, Caller, Services};
use agencyops_store::records::{Handoff, IntakeStatus};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::projects::NewProject;
use crate::views::{self, IntakeRequestView, ProjectView};
use crate::work_items::NewMilestone;
pub use accept::MAX_MILESTONES;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIntakeRequest {
    /// Staff name the client; a client user's own client is used and may be omitted.
    #[serde(default)]
    #[schema(pattern = r"^[A-Za-z0-9_-]{1,64}$")]
    pub client_id: Option<String>,
    #[schema(
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub title: String,
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub brief: String,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date, example = "2027-01-10")]
    pub desired_start: Option<Date>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub desired_end: Option<Date>,
    #[serde(default, with = "agencyops_domain::quantity::money_option")]
    #[schema(value_type = Option<String>, pattern = r"^$|^(0|[1-9][0-9]{0,11})\.(0[1-9]|[1-9][0-9]?)$|^[1-9][0-9]{0,11}(\.[0-9]{1,2})?$", example = "20000")]
    pub budget: Option<Decimal>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntakeRequestPatch {
    #[schema(
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub title: Option<String>,
    #[schema(max_length = 10000)]
    pub brief: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub desired_start: Option<Date>,
    #[schema(value_type = Option<String>, format = Date)]
    pub desired_end: Option<Date>,
    #[serde(default, with = "agencyops_domain::quantity::money_option")]
    #[schema(value_type = Option<String>, pattern = r"^$|^(0|[1-9][0-9]{0,11})\.(0[1-9]|[1-9][0-9]?)$|^[1-9][0-9]{0,11}(\.[0-9]{1,2})?$")]
    pub budget: Option<Decimal>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Acceptance {
    /// The project's terms; client and (by default) name come from the request.
    pub project: NewProject,
    #[serde(default)]
    pub handoff: Handoff,
    /// Billing milestones created with the project.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub milestones: Vec<NewMilestone>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decline {
    #[schema(
        max_length = 2000,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub reason: String,
}

/// The accepted request and the project it became.
#[derive(Serialize, ToSchema)]
pub struct Accepted {
    pub request: IntakeRequestView,
    pub project: ProjectView,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct IntakeFilter {
    pub status: Option<IntakeStatus>,
    pub client_id: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[utoipa::path(post, path = "/v1/intake-requests", tag = "intake", request_body = NewIntakeRequest,
    responses((status = 201, body = IntakeRequestView), (status = 400), (status = 403)), operation_id = "create_intake_request")]
pub async fn create(
    State(s): State<Services>,
    caller: Caller,
    Json(body): Json<NewIntakeRequest>,
) -> ApiResult<Response> {
    let request = ops::create(&s, &caller, body).await?;
    let location = format!("/v1/intake-requests/{}", request.id);
    Ok(views::respond(
        StatusCode::CREATED,
        &request,
        Some(location),
    ))
}

#[utoipa::path(get, path = "/v1/intake-requests", tag = "intake", params(IntakeFilter),
    responses((status = 200, body = ListPage<IntakeRequestView>), (status = 403)), operation_id = "list_intake_requests")]
pub async fn list(
    State(s): State<Services>,
    caller: Caller,
    Query(f): Query<IntakeFilter>,
) -> ApiResult<axum::Json<ListPage<IntakeRequestView>>> {
    Ok(axum::Json(ops::list(&s, &caller, f).await?))
}

#[utoipa::path(get, path = "/v1/intake-requests/{id}", tag = "intake", params(("id" = String, Path)),
    responses((status = 200, body = IntakeRequestView), (status = 403), (status = 404)), operation_id = "get_intake_request")]
pub async fn get(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let request = ops::get(&s, &caller, &id).await?;
    Ok(views::respond(StatusCode::OK, &request, None))
}

#[utoipa::path(patch, path = "/v1/intake-requests/{id}", tag = "intake", params(("id" = String, Path)), request_body = IntakeRequestPatch,
    responses((status = 200, body = IntakeRequestView), (status = 400), (status = 403), (status = 404), (status = 409), (status = 412)), operation_id = "patch_intake_request")]
pub async fn patch(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(body): Json<IntakeRequestPatch>,
) -> ApiResult<Response> {
    let request = ops::patch(&s, &caller, &id, if_match, body).await?;
    Ok(views::respond(StatusCode::OK, &request, None))
}

#[utoipa::path(post, path = "/v1/intake-requests/{id}/accept", tag = "intake", params(("id" = String, Path)), request_body = Acceptance,
    responses((status = 201, body = Accepted), (status = 400), (status = 403), (status = 404), (status = 409), (status = 412)), operation_id = "accept_intake_request")]
pub async fn accept(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(body): Json<Acceptance>,
) -> ApiResult<Response> {
    let accepted = accept::accept(&s, &caller, &id, if_match, body).await?;
    let location = format!("/v1/projects/{}", accepted.project.id);
    let mut res = (StatusCode::CREATED, axum::Json(accepted)).into_response();
    if let Ok(v) = axum::http::HeaderValue::from_str(&location) {
        res.headers_mut().insert(axum::http::header::LOCATION, v);
    }
    Ok(res)
}

#[utoipa::path(post, path = "/v1/intake-requests/{id}/decline", tag = "intake", params(("id" = String, Path)), request_body = Decline,
    responses((status = 200, body = IntakeRequestView), (status = 400), (status = 403), (status = 404), (status = 409)), operation_id = "decline_intake_request")]
pub async fn decline(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(body): Json<Decline>,
) -> ApiResult<Response> {
    let request = ops::decline(&s, &caller, &id, if_match, body.reason).await?;
    Ok(views::respond(StatusCode::OK, &request, None))
}

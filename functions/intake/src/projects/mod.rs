//! `/v1/projects`: the engagement every hour, expense and invoice line hangs off.
//! A project carries its billing model, budget, rate card, rounding and team.
//! Handlers here only translate HTTP; `ops` does the work, `terms` holds the rules.

pub mod ops;
pub mod terms;

use agencyops_domain::project::{BillingModel, Budget, Stage};
use agencyops_domain::rates::RateCard;
use agencyops_domain::rounding::TimeRounding;
use agencyops_platform::extract::{IfMatch, Json, Path, Query};
use agencyops_platform::resource::ListPage;
use agencyops_platform::{ApiResult, Caller, Services};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::views::{self, ProjectView};
pub use ops::{build, client_for_project, new_project_writes, team_writes};
pub use terms::{check_terms, MAX_TEAM};

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct NewProject {
    /// Required here; when accepting an intake request it comes from the request.
    #[serde(default)]
    #[schema(pattern = r"^[A-Za-z0-9_-]{1,64}$")]
    pub client_id: Option<String>,
    /// Defaults to the intake request's title when accepting one.
    #[serde(default)]
    #[schema(
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: Option<String>,
    #[schema(value_type = BillingModel, required = true)]
    pub billing_model: Option<BillingModel>,
    /// Defaults to `active` (or `scoping` for an accepted intake request).
    #[serde(default)]
    pub stage: Option<Stage>,
    #[serde(default)]
    pub budget: Budget,
    #[serde(default)]
    pub rate_card: RateCard,
    #[serde(default)]
    pub rounding: Option<TimeRounding>,
    #[serde(default)]
    #[schema(max_items = 40)]
    pub team: Vec<String>,
    #[serde(default, with = "agencyops_domain::quantity::money_option")]
    #[schema(value_type = Option<String>, pattern = r"^$|^(0|[1-9][0-9]{0,11})\.(0[1-9]|[1-9][0-9]?)$|^[1-9][0-9]{0,11}(\.[0-9]{1,2})?$")]
    pub fixed_fee: Option<Decimal>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date, example = "2026-12-01")]
    pub starts_on: Option<Date>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub ends_on: Option<Date>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectPatch {
    #[schema(
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: Option<String>,
    pub billing_model: Option<BillingModel>,
    pub stage: Option<Stage>,
    pub budget: Option<Budget>,
    pub rate_card: Option<RateCard>,
    pub rounding: Option<TimeRounding>,
    #[schema(max_items = 40)]
    pub team: Option<Vec<String>>,
    #[serde(default, with = "agencyops_domain::quantity::money_option")]
    #[schema(value_type = Option<String>, pattern = r"^$|^(0|[1-9][0-9]{0,11})\.(0[1-9]|[1-9][0-9]?)$|^[1-9][0-9]{0,11}(\.[0-9]{1,2})?$")]
    pub fixed_fee: Option<Decimal>,
    #[schema(value_type = Option<String>, format = Date)]
    pub starts_on: Option<Date>,
    #[schema(value_type = Option<String>, format = Date)]
    pub ends_on: Option<Date>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ProjectFilter {
    #[param(pattern = r"^[A-Za-z0-9_-]{1,64}$")]
    pub client_id: Option<String>,
    pub stage: Option<Stage>,
    pub billing_model: Option<BillingModel>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[utoipa::path(post, path = "/v1/projects", tag = "projects", request_body = NewProject,
    responses((status = 201, body = ProjectView), (status = 400, body = agencyops_platform::error::Problem), (status = 403)), operation_id = "create_project")]
pub async fn create(
    State(s): State<Services>,
    caller: Caller,
    Json(body): Json<NewProject>,
) -> ApiResult<Response> {
    let project = ops::create(&s, &caller, body).await?;
    let location = format!("/v1/projects/{}", project.id);
    Ok(views::respond(
        StatusCode::CREATED,
        &project,
        Some(location),
    ))
}

#[utoipa::path(get, path = "/v1/projects", tag = "projects", params(ProjectFilter),
    responses((status = 200, body = ListPage<ProjectView>)), operation_id = "list_projects")]
pub async fn list(
    State(s): State<Services>,
    caller: Caller,
    Query(f): Query<ProjectFilter>,
) -> ApiResult<axum::Json<ListPage<ProjectView>>> {
    Ok(axum::Json(ops::list(&s, &caller, f).await?))
}

#[utoipa::path(get, path = "/v1/projects/{id}", tag = "projects", params(("id" = String, Path)),
    responses((status = 200, body = ProjectView), (status = 404)), operation_id = "get_project")]
pub async fn get(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let project = ops::get(&s, &caller, &id).await?;
    Ok(views::respond(StatusCode::OK, &project, None))
}

#[utoipa::path(patch, path = "/v1/projects/{id}", tag = "projects", params(("id" = String, Path)), request_body = ProjectPatch,
    responses((status = 200, body = ProjectView), (status = 400), (status = 403), (status = 404), (status = 409), (status = 412)), operation_id = "patch_project")]
pub async fn patch(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(body): Json<ProjectPatch>,
) -> ApiResult<Response> {
    let project = ops::patch(&s, &caller, &id, if_match, body).await?;
    Ok(views::respond(StatusCode::OK, &project, None))
}

//! A project's tasks and billing milestones.
//! Handlers here only translate HTTP; `ops` does the work.

pub mod ops;

use agencyops_domain::{validate, Currency};
use agencyops_platform::error::Problems;
use agencyops_platform::extract::{IfMatch, Json, OptionalJson, Path, Query};
use agencyops_platform::resource::{self, ListPage};
use agencyops_platform::{ApiResult, Caller, Services};
use agencyops_store::records::{Milestone, MilestoneStatus, Project};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::views::{self, MilestoneView, TaskView};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTask {
    #[schema(
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: String,
    /// Defaults from the project's billing model.
    #[serde(default)]
    pub billable: Option<bool>,
    #[serde(default, with = "agencyops_domain::quantity::option")]
    #[schema(schema_with = estimate_hours_schema)]
    pub estimate_hours: Option<Decimal>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskPatch {
    #[schema(
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: Option<String>,
    pub billable: Option<bool>,
    #[serde(default, with = "agencyops_domain::quantity::option")]
    #[schema(schema_with = estimate_hours_schema)]
    pub estimate_hours: Option<Decimal>,
    pub archived: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMilestone {
    #[schema(
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: String,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date, example = "2026-12-15")]
    pub due_on: Option<Date>,
    /// Billed when the milestone is reached, in the client's currency.
    #[serde(default, with = "agencyops_domain::quantity::money_option")]
    #[schema(value_type = Option<String>, pattern = r"^$|^(0|[1-9][0-9]{0,11})\.(0[1-9]|[1-9][0-9]?)$|^[1-9][0-9]{0,11}(\.[0-9]{1,2})?$", example = "5000.00")]
    pub amount: Option<Decimal>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MilestonePatch {
    #[schema(
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub due_on: Option<Date>,
    #[serde(default, with = "agencyops_domain::quantity::money_option")]
    #[schema(value_type = Option<String>, pattern = r"^$|^(0|[1-9][0-9]{0,11})\.(0[1-9]|[1-9][0-9]?)$|^[1-9][0-9]{0,11}(\.[0-9]{1,2})?$")]
    pub amount: Option<Decimal>,
    pub status: Option<MilestoneStatus>,
}

/// Hours of work: positive, bounded, to the hundredth.
pub fn check_hours(p: &mut Problems, field: &str, h: Option<Decimal>) {
    if h.is_some_and(|h| {
        h <= Decimal::ZERO || h.normalize().scale() > 2 || h > Decimal::from(100_000)
    }) {
        p.add(
            field,
            "must be positive, at most 100000, with at most 2 decimals",
        );
    }
}

/// An amount in the client's currency: positive, in its minor units, bounded.
pub fn check_amount(p: &mut Problems, field: &str, amount: Option<Decimal>, currency: Currency) {
    if let Some(a) = amount {
        p.check(field, validate::amount(&a, currency.minor_units()));
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TaskFilter {
    pub archived: Option<bool>,
    pub billable: Option<bool>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MilestoneFilter {
    pub status: Option<MilestoneStatus>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// A new milestone of `project` (checked separately by [`check_milestone`]).
pub fn new_milestone(s: &Services, project: &Project, body: NewMilestone) -> Milestone {
    let now = s.clock.now();
    Milestone {
        id: resource::new_id(),
        project_id: project.id.clone(),
        name: body.name.trim().to_owned(),
        due_on: body.due_on,
        currency: project.currency,
        amount: body.amount,
        status: MilestoneStatus::Planned,
        invoice_id: None,
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

pub fn check_milestone(p: &mut Problems, prefix: &str, body: &NewMilestone, currency: Currency) {
    p.check(format!("{prefix}name"), validate::name(&body.name, 200));
    check_amount(p, &format!("{prefix}amount"), body.amount, currency);
}

#[utoipa::path(post, path = "/v1/projects/{id}/tasks", tag = "projects", params(("id" = String, Path)), request_body = NewTask,
    responses((status = 201, body = TaskView), (status = 400), (status = 403), (status = 404)), operation_id = "create_task")]
pub async fn create_task(
    State(s): State<Services>,
    caller: Caller,
    Path(project_id): Path<String>,
    Json(body): Json<NewTask>,
) -> ApiResult<Response> {
    let task = ops::create_task(&s, &caller, &project_id, body).await?;
    let location = format!("/v1/projects/{project_id}/tasks/{}", task.id);
    Ok(views::respond(StatusCode::CREATED, &task, Some(location)))
}

#[utoipa::path(get, path = "/v1/projects/{id}/tasks", tag = "projects", params(("id" = String, Path), TaskFilter),
    responses((status = 200, body = ListPage<TaskView>), (status = 404)), operation_id = "list_tasks")]
pub async fn list_tasks(
    State(s): State<Services>,
    caller: Caller,
    Path(project_id): Path<String>,
    Query(f): Query<TaskFilter>,
) -> ApiResult<axum::Json<ListPage<TaskView>>> {
    Ok(axum::Json(
        ops::list_tasks(&s, &caller, &project_id, f).await?,
    ))
}

#[utoipa::path(get, path = "/v1/projects/{id}/tasks/{task_id}", tag = "projects", params(("id" = String, Path), ("task_id" = String, Path)),
    responses((status = 200, body = TaskView), (status = 404)), operation_id = "get_task")]
pub async fn get_task(
    State(s): State<Services>,
    caller: Caller,
    Path((project_id, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let task = ops::get_task(&s, &caller, &project_id, &id).await?;
    Ok(views::respond(StatusCode::OK, &task, None))
}

#[utoipa::path(patch, path = "/v1/projects/{id}/tasks/{task_id}", tag = "projects", params(("id" = String, Path), ("task_id" = String, Path)),
    request_body = TaskPatch, responses((status = 200, body = TaskView), (status = 400), (status = 403), (status = 404), (status = 412)), operation_id = "patch_task")]
pub async fn patch_task(
    State(s): State<Services>,
    caller: Caller,
    Path((project_id, id)): Path<(String, String)>,
    if_match: IfMatch,
    Json(body): Json<TaskPatch>,
) -> ApiResult<Response> {
    let ids = (project_id.as_str(), id.as_str());
    let task = ops::patch_task(&s, &caller, ids, if_match, body).await?;
    Ok(views::respond(StatusCode::OK, &task, None))
}

#[utoipa::path(post, path = "/v1/projects/{id}/milestones", tag = "projects", params(("id" = String, Path)), request_body = NewMilestone,
    responses((status = 201, body = MilestoneView), (status = 400), (status = 403), (status = 404)), operation_id = "create_milestone")]
pub async fn create_milestone(
    State(s): State<Services>,
    caller: Caller,
    Path(project_id): Path<String>,
    Json(body): Json<NewMilestone>,
) -> ApiResult<Response> {
    let m = ops::create_milestone(&s, &caller, &project_id, body).await?;
    let location = format!("/v1/projects/{project_id}/milestones/{}", m.id);
    Ok(views::respond(StatusCode::CREATED, &m, Some(location)))
}

#[utoipa::path(get, path = "/v1/projects/{id}/milestones", tag = "projects", params(("id" = String, Path), MilestoneFilter),
    responses((status = 200, body = ListPage<MilestoneView>), (status = 404)), operation_id = "list_milestones")]
pub async fn list_milestones(
    State(s): State<Services>,
    caller: Caller,
    Path(project_id): Path<String>,
    Query(f): Query<MilestoneFilter>,
) -> ApiResult<axum::Json<ListPage<MilestoneView>>> {
    Ok(axum::Json(
        ops::list_milestones(&s, &caller, &project_id, f).await?,
    ))
}

#[utoipa::path(get, path = "/v1/projects/{id}/milestones/{milestone_id}", tag = "projects",
    params(("id" = String, Path), ("milestone_id" = String, Path)), responses((status = 200, body = MilestoneView), (status = 404)), operation_id = "get_milestone")]
pub async fn get_milestone(
    State(s): State<Services>,
    caller: Caller,
    Path((project_id, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let m = ops::get_milestone(&s, &caller, &project_id, &id).await?;
    Ok(views::respond(StatusCode::OK, &m, None))
}

#[utoipa::path(patch, path = "/v1/projects/{id}/milestones/{milestone_id}", tag = "projects",
    params(("id" = String, Path), ("milestone_id" = String, Path)), request_body = MilestonePatch,
    responses((status = 200, body = MilestoneView), (status = 400), (status = 403), (status = 404), (status = 409), (status = 412)), operation_id = "patch_milestone")]
pub async fn patch_milestone(
    State(s): State<Services>,
    caller: Caller,
    Path((project_id, id)): Path<(String, String)>,
    if_match: IfMatch,
    Json(body): Json<MilestonePatch>,
) -> ApiResult<Response> {
    let ids = (project_id.as_str(), id.as_str());
    let m = ops::patch_milestone(&s, &caller, ids, if_match, body).await?;
    Ok(views::respond(StatusCode::OK, &m, None))
}

/// The reach takes no options yet; a body, if sent, must be `{}`.
#[derive(Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReachMilestone {}

#[utoipa::path(post, path = "/v1/projects/{id}/milestones/{milestone_id}/reach", tag = "projects",
    params(("id" = String, Path), ("milestone_id" = String, Path)),
    request_body(content = ReachMilestone, description = "Optional; no options yet"),
    responses((status = 200, body = MilestoneView, description = "Reached; its invoice is drafted by invoicing"),
        (status = 400), (status = 403), (status = 404),
        (status = 409, description = "Already reached or invoiced"), (status = 412)),
    operation_id = "reach_milestone")]
pub async fn reach_milestone(
    State(s): State<Services>,
    caller: Caller,
    Path((project_id, id)): Path<(String, String)>,
    if_match: IfMatch,
    OptionalJson(_b): OptionalJson<ReachMilestone>,
) -> ApiResult<Response> {
    let ids = (project_id.as_str(), id.as_str());
    let m = ops::reach_milestone(&s, &caller, ids, if_match).await?;
    Ok(views::respond(StatusCode::OK, &m, None))
}

/// Estimated hours: above 0, at most 100,000, two decimals; a string or a number.
fn estimate_hours_schema() -> utoipa::openapi::schema::Object {
    agencyops_domain::quantity::schema(
        r"^$|^(0|[1-9][0-9]{0,4})\.(0[1-9]|[1-9][0-9]?)$|^[1-9][0-9]{0,4}(\.[0-9]{1,2})?$|^100000(\.0{1,2})?$",
        (0.0, 100_000.0),
        true,
        Some(2),
        true,
    )
}

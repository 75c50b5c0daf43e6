//! A project's tasks and billing milestones.

use agencyops_domain::{validate, Currency};
use agencyops_platform::error::Problems;
use agencyops_platform::extract::{IfMatch, Json, Path, Query};
use agencyops_platform::resource::{self, fetch, ListPage};
use agencyops_platform::{ApiError, ApiResult, Caller, Services};
use agencyops_store::record::Record;
use agencyops_store::records::{Milestone, MilestoneStatus, Project, Task};
use agencyops_store::{keys, Index, Query as StoreQuery, SkCondition, Write};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::access::{require_manages_work, visible_project};
use crate::clients::PageParams;

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
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[schema(value_type = Option<String>, pattern = r"^$|^(0|[1-9][0-9]{0,4})\.(0[1-9]|[1-9][0-9]?)$|^[1-9][0-9]{0,4}(\.[0-9]{1,2})?$|^100000(\.0{1,2})?$")]
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
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[schema(value_type = Option<String>, pattern = r"^$|^(0|[1-9][0-9]{0,4})\.(0[1-9]|[1-9][0-9]?)$|^[1-9][0-9]{0,4}(\.[0-9]{1,2})?$|^100000(\.0{1,2})?$")]
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
    #[serde(default, with = "rust_decimal::serde::str_option")]
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
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[schema(value_type = Option<String>, pattern = r"^$|^(0|[1-9][0-9]{0,11})\.(0[1-9]|[1-9][0-9]?)$|^[1-9][0-9]{0,11}(\.[0-9]{1,2})?$")]
    pub amount: Option<Decimal>,
    pub status: Option<MilestoneStatus>,
}

fn check_hours(p: &mut Problems, field: &str, h: Option<Decimal>) {
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

/// The project, visible to the caller and open to changes by them.
async fn managed_project(s: &Services, caller: &Caller, id: &str) -> ApiResult<Project> {
    let project = visible_project(s, caller, id).await?;
    require_manages_work(caller)?;
    Ok(project)
}

fn project_exists(caller: &Caller, project_id: &str) -> Write {
    Write::check_exists(keys::project(&caller.tenant, project_id))
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

async fn list_children<R: Record + DeserializeOwned>(
    s: &Services,
    caller: &Caller,
    project_id: &str,
    prefix: &str,
    pg: PageParams,
    keep: impl Fn(&R) -> bool,
) -> ApiResult<ListPage<R>> {
    visible_project(s, caller, project_id).await?;
    let q = StoreQuery::new(
        Index::Table,
        keys::project_partition(&caller.tenant, project_id),
    )
    .sk(SkCondition::BeginsWith(prefix.into()));
    resource::list(s, caller, q, pg.limit, pg.cursor.as_deref(), keep).await
}

// ---- tasks ----

#[utoipa::path(post, path = "/v1/projects/{id}/tasks", tag = "projects", params(("id" = String, Path)), request_body = NewTask,
    responses((status = 201, body = Task), (status = 400), (status = 403), (status = 404)), operation_id = "create_task")]
pub async fn create_task(
    State(s): State<Services>,
    caller: Caller,
    Path(project_id): Path<String>,
    Json(body): Json<NewTask>,
) -> ApiResult<Response> {
    let project = managed_project(&s, &caller, &project_id).await?;
    let mut p = Problems::new();
    p.check("name", validate::name(&body.name, 200));
    check_hours(&mut p, "estimate_hours", body.estimate_hours);
    p.finish()?;
    let now = s.clock.now();
    let task = Task {
        id: resource::new_id(),
        project_id: project.id.clone(),
        name: body.name.trim().to_owned(),
        billable: body
            .billable
            .unwrap_or(project.billing_model.billable_by_default()),
        estimate_hours: body.estimate_hours,
        archived: false,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    resource::insert(
        &s,
        &caller,
        &task,
        vec![project_exists(&caller, &project.id)],
    )
    .await?;
    Ok(resource::respond(
        StatusCode::CREATED,
        &task,
        Some(format!("/v1/projects/{project_id}/tasks/{}", task.id)),
    ))
}

#[utoipa::path(get, path = "/v1/projects/{id}/tasks", tag = "projects", params(("id" = String, Path), TaskFilter),
    responses((status = 200, body = ListPage<Task>), (status = 404)), operation_id = "list_tasks")]
pub async fn list_tasks(
    State(s): State<Services>,
    caller: Caller,
    Path(project_id): Path<String>,
    Query(f): Query<TaskFilter>,
) -> ApiResult<axum::Json<ListPage<Task>>> {
    let pg = PageParams {
        limit: f.limit,
        cursor: f.cursor,
    };
    let keep = |t: &Task| {
        f.archived.is_none_or(|a| t.archived == a) && f.billable.is_none_or(|b| t.billable == b)
    };
    Ok(axum::Json(
        list_children(&s, &caller, &project_id, "TASK#", pg, keep).await?,
    ))
}

#[utoipa::path(get, path = "/v1/projects/{id}/tasks/{task_id}", tag = "projects", params(("id" = String, Path), ("task_id" = String, Path)),
    responses((status = 200, body = Task), (status = 404)), operation_id = "get_task")]
pub async fn get_task(
    State(s): State<Services>,
    caller: Caller,
    Path((project_id, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    visible_project(&s, &caller, &project_id).await?;
    let task = fetch::<Task>(&s, &keys::task(&caller.tenant, &project_id, &id)).await?;
    Ok(resource::respond(StatusCode::OK, &task, None))
}

#[utoipa::path(patch, path = "/v1/projects/{id}/tasks/{task_id}", tag = "projects", params(("id" = String, Path), ("task_id" = String, Path)),
    request_body = TaskPatch, responses((status = 200, body = Task), (status = 400), (status = 403), (status = 404), (status = 412)), operation_id = "patch_task")]
pub async fn patch_task(
    State(s): State<Services>,
    caller: Caller,
    Path((project_id, id)): Path<(String, String)>,
    if_match: IfMatch,
    Json(body): Json<TaskPatch>,
) -> ApiResult<Response> {
    managed_project(&s, &caller, &project_id).await?;
    let current = fetch::<Task>(&s, &keys::task(&caller.tenant, &project_id, &id)).await?;
    let mut p = Problems::new();
    if let Some(n) = &body.name {
        p.check("name", validate::name(n, 200));
    }
    check_hours(&mut p, "estimate_hours", body.estimate_hours);
    p.finish()?;
    let task = resource::update(&s, &caller, current, if_match, "update", |t| {
        if let Some(v) = body.name {
            t.name = v.trim().to_owned();
        }
        if let Some(v) = body.billable {
            t.billable = v;
        }
        if body.estimate_hours.is_some() {
            t.estimate_hours = body.estimate_hours;
        }
        if let Some(v) = body.archived {
            t.archived = v;
        }
        Ok(vec![])
    })
    .await?;
    Ok(resource::respond(StatusCode::OK, &task, None))
}

// ---- milestones ----

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
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

pub fn check_milestone(p: &mut Problems, prefix: &str, body: &NewMilestone, currency: Currency) {
    p.check(format!("{prefix}name"), validate::name(&body.name, 200));
    check_amount(p, &format!("{prefix}amount"), body.amount, currency);
}

#[utoipa::path(post, path = "/v1/projects/{id}/milestones", tag = "projects", params(("id" = String, Path)), request_body = NewMilestone,
    responses((status = 201, body = Milestone), (status = 400), (status = 403), (status = 404)), operation_id = "create_milestone")]
pub async fn create_milestone(
    State(s): State<Services>,
    caller: Caller,
    Path(project_id): Path<String>,
    Json(body): Json<NewMilestone>,
) -> ApiResult<Response> {
    let project = managed_project(&s, &caller, &project_id).await?;
    let currency = project.currency;
    let mut p = Problems::new();
    check_milestone(&mut p, "", &body, currency);
    p.finish()?;
    let milestone = new_milestone(&s, &project, body);
    resource::insert(
        &s,
        &caller,
        &milestone,
        vec![project_exists(&caller, &project.id)],
    )
    .await?;
    Ok(resource::respond(
        StatusCode::CREATED,
        &milestone,
        Some(format!(
            "/v1/projects/{project_id}/milestones/{}",
            milestone.id
        )),
    ))
}

#[utoipa::path(get, path = "/v1/projects/{id}/milestones", tag = "projects", params(("id" = String, Path), MilestoneFilter),
    responses((status = 200, body = ListPage<Milestone>), (status = 404)), operation_id = "list_milestones")]
pub async fn list_milestones(
    State(s): State<Services>,
    caller: Caller,
    Path(project_id): Path<String>,
    Query(f): Query<MilestoneFilter>,
) -> ApiResult<axum::Json<ListPage<Milestone>>> {
    let pg = PageParams {
        limit: f.limit,
        cursor: f.cursor,
    };
    let keep = |m: &Milestone| f.status.is_none_or(|st| m.status == st);
    Ok(axum::Json(
        list_children(&s, &caller, &project_id, "MILESTONE#", pg, keep).await?,
    ))
}

#[utoipa::path(get, path = "/v1/projects/{id}/milestones/{milestone_id}", tag = "projects",
    params(("id" = String, Path), ("milestone_id" = String, Path)), responses((status = 200, body = Milestone), (status = 404)), operation_id = "get_milestone")]
pub async fn get_milestone(
    State(s): State<Services>,
    caller: Caller,
    Path((project_id, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    visible_project(&s, &caller, &project_id).await?;
    let m = fetch::<Milestone>(&s, &keys::milestone(&caller.tenant, &project_id, &id)).await?;
    Ok(resource::respond(StatusCode::OK, &m, None))
}

#[utoipa::path(patch, path = "/v1/projects/{id}/milestones/{milestone_id}", tag = "projects",
    params(("id" = String, Path), ("milestone_id" = String, Path)), request_body = MilestonePatch,
    responses((status = 200, body = Milestone), (status = 400), (status = 403), (status = 404), (status = 409), (status = 412)), operation_id = "patch_milestone")]
pub async fn patch_milestone(
    State(s): State<Services>,
    caller: Caller,
    Path((project_id, id)): Path<(String, String)>,
    if_match: IfMatch,
    Json(body): Json<MilestonePatch>,
) -> ApiResult<Response> {
    let project = managed_project(&s, &caller, &project_id).await?;
    let currency = project.currency;
    let current =
        fetch::<Milestone>(&s, &keys::milestone(&caller.tenant, &project_id, &id)).await?;
    if current.status == MilestoneStatus::Invoiced {
        return Err(ApiError::Conflict(
            "an invoiced milestone cannot change; issue a credit note instead".into(),
        ));
    }
    if body.status == Some(MilestoneStatus::Invoiced) {
        return Err(ApiError::field(
            "status",
            "milestones become invoiced by invoicing them",
        ));
    }
    let mut p = Problems::new();
    if let Some(n) = &body.name {
        p.check("name", validate::name(n, 200));
    }
    check_amount(&mut p, "amount", body.amount, currency);
    p.finish()?;
    let m = resource::update(&s, &caller, current, if_match, "update", |m| {
        if let Some(v) = body.name {
            m.name = v.trim().to_owned();
        }
        if body.due_on.is_some() {
            m.due_on = body.due_on;
        }
        if body.amount.is_some() {
            m.amount = body.amount;
        }
        if let Some(v) = body.status {
            m.status = v;
        }
        Ok(vec![])
    })
    .await?;
    Ok(resource::respond(StatusCode::OK, &m, None))
}

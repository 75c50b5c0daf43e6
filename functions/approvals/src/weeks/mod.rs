//! Timesheet weeks: a person submits their week; approvers approve or reject it,
//! whole or one project at a time. Each action moves every entry it covers or
//! none (see `job` for how weeks larger than one transaction still do).

pub mod job;
pub mod plan;
pub mod reads;

use agencyops_domain::timesheet::IsoWeek;
use agencyops_domain::validate;
use agencyops_platform::error::Problems;
use agencyops_platform::extract::{Json, Path};
use agencyops_platform::{ApiResult, Caller, Services};
use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;

use agencyops_platform::extract::OptionalJson;
use job::{WeekOutcome, WeekRequest};
use plan::Action;

/// Longest rejection reason kept.
pub const MAX_REASON: usize = 2000;

#[derive(Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitWeek {}

#[derive(Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveWeek {
    /// Approve only this project's entries (a manager approves what they manage).
    #[serde(default)]
    #[schema(pattern = r"^[A-Za-z0-9_-]{1,64}$")]
    pub project_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectWeek {
    /// Why, in words the person can act on.
    /// Required (missing reads as empty, so the problem names the field).
    #[serde(default)]
    #[schema(
        required = true,
        max_length = 2000,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub reason: String,
    /// Reject only this project's entries.
    #[serde(default)]
    #[schema(pattern = r"^[A-Za-z0-9_-]{1,64}$")]
    pub project_id: Option<String>,
}

fn request(
    caller: &Caller,
    action: Action,
    person_id: String,
    week: &str,
    project_id: Option<String>,
    reason: Option<String>,
) -> ApiResult<WeekRequest> {
    let mut p = Problems::new();
    let week = p.check("iso_week", week.parse::<IsoWeek>());
    if let Some(id) = &project_id {
        p.check("project_id", validate::id(id));
    }
    if let Some(r) = &reason {
        p.check("reason", validate::name(r, MAX_REASON));
    }
    p.finish()?;
    let week = week.ok_or_else(|| agencyops_platform::ApiError::field("iso_week", "invalid"))?;
    Ok(WeekRequest {
        action,
        // `me` names the caller, as in the timesheet view.
        person_id: if person_id == "me" {
            caller.person.clone()
        } else {
            person_id
        },
        week,
        project_id,
        reason: reason.map(|r| r.trim().to_owned()),
    })
}

#[utoipa::path(post, path = "/v1/timesheets/{person_id}/{iso_week}/submit", tag = "approvals",
    params(("person_id" = String, Path, description = "a person's id, or `me`"), ("iso_week" = String, Path, pattern = r"^(19|2[0-9])[0-9]{2}-W(0[1-9]|[1-4][0-9]|5[0-2])$", example = "2026-W47")), request_body(content = SubmitWeek, description = "Optional; no options yet"),
    responses((status = 200, body = WeekOutcome), (status = 400), (status = 403), (status = 404), (status = 409)),
    operation_id = "submit_timesheet")]
pub async fn submit(
    State(s): State<Services>,
    caller: Caller,
    Path((person_id, week)): Path<(String, String)>,
    OptionalJson(_body): OptionalJson<SubmitWeek>,
) -> ApiResult<axum::Json<WeekOutcome>> {
    let req = request(&caller, Action::Submit, person_id, &week, None, None)?;
    Ok(axum::Json(job::run(&s, &caller, req).await?))
}

#[utoipa::path(post, path = "/v1/timesheets/{person_id}/{iso_week}/approve", tag = "approvals",
    params(("person_id" = String, Path, description = "a person's id, or `me`"), ("iso_week" = String, Path, pattern = r"^(19|2[0-9])[0-9]{2}-W(0[1-9]|[1-4][0-9]|5[0-2])$", example = "2026-W47")), request_body(content = ApproveWeek, description = "Optional"),
    responses((status = 200, body = WeekOutcome), (status = 400), (status = 403), (status = 404), (status = 409)),
    operation_id = "approve_timesheet")]
pub async fn approve(
    State(s): State<Services>,
    caller: Caller,
    Path((person_id, week)): Path<(String, String)>,
    OptionalJson(body): OptionalJson<ApproveWeek>,
) -> ApiResult<axum::Json<WeekOutcome>> {
    let req = request(
        &caller,
        Action::Approve,
        person_id,
        &week,
        body.project_id,
        None,
    )?;
    Ok(axum::Json(job::run(&s, &caller, req).await?))
}

#[utoipa::path(post, path = "/v1/timesheets/{person_id}/{iso_week}/reject", tag = "approvals",
    params(("person_id" = String, Path, description = "a person's id, or `me`"), ("iso_week" = String, Path, pattern = r"^(19|2[0-9])[0-9]{2}-W(0[1-9]|[1-4][0-9]|5[0-2])$", example = "2026-W47")), request_body = RejectWeek,
    responses((status = 200, body = WeekOutcome), (status = 400), (status = 403), (status = 404), (status = 409)),
    operation_id = "reject_timesheet")]
pub async fn reject(
    State(s): State<Services>,
    caller: Caller,
    Path((person_id, week)): Path<(String, String)>,
    Json(body): Json<RejectWeek>,
) -> ApiResult<axum::Json<WeekOutcome>> {
    let req = request(
        &caller,
        Action::Reject,
        person_id,
        &week,
        body.project_id,
        Some(body.reason),
    )?;
    Ok(axum::Json(job::run(&s, &caller, req).await?))
}

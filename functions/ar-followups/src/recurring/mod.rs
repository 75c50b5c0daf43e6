//! `PUT/GET/DELETE /v1/projects/{id}/recurring`: a project's recurring
//! invoice or retainer. Handlers only translate HTTP; `job` does the work and
//! `plan` computes the periods.

pub mod job;
mod large;
pub mod plan;

use agencyops_platform::extract::{IfMatch, Json, Path};
use agencyops_platform::resource::respond_versioned;
use agencyops_platform::{ApiResult, Caller, Services};
use agencyops_store::records::{AnchorWeekday, Cadence, RecurringSchedule};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use job::{run_tenant, Summary};

/// A schedule as sent.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecurringBody {
    /// Billed each period, in the client's currency.
    #[serde(with = "agencyops_domain::quantity::money")]
    #[schema(value_type = String, pattern = r"^(0|[1-9][0-9]{0,11})\.(0[1-9]|[1-9][0-9]?)$|^[1-9][0-9]{0,11}(\.[0-9]{1,2})?$", example = "3000.00")]
    pub amount: Decimal,
    pub period: Cadence,
    /// Monthly: the day periods start on, 1 to 31 (a shorter month starts on its last day).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 31)]
    pub day_of_month: Option<u8>,
    /// Weekly: the weekday periods start on.
    #[serde(default)]
    pub weekday: Option<AnchorWeekday>,
    /// The first period starts on the first anchor day on or after it.
    #[schema(value_type = String, format = Date, example = "2026-01-01")]
    pub start_on: Date,
    /// No period starts after it.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub end_on: Option<Date>,
    /// Approved hours each period's amount covers (a retainer); time beyond is
    /// billed as overage at the rate card. Leave out for a plain recurring invoice.
    #[serde(default, with = "agencyops_domain::quantity::option")]
    #[schema(schema_with = hours_schema)]
    pub included_hours: Option<Decimal>,
    /// Unused included hours carry into the next period.
    #[serde(default)]
    pub rollover: bool,
    /// The most hours carried at any time (required with rollover).
    #[serde(default, with = "agencyops_domain::quantity::option")]
    #[schema(schema_with = hours_schema)]
    pub rollover_cap_hours: Option<Decimal>,
    /// Issue each period's invoice when it is drafted.
    #[serde(default)]
    pub auto_issue: bool,
}

/// A schedule as shown.
#[derive(Serialize, ToSchema)]
pub struct RecurringView {
    pub project_id: String,
    pub client_id: String,
    #[schema(value_type = String, example = "EUR")]
    pub currency: agencyops_domain::Currency,
    #[schema(value_type = String)]
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    pub period: Cadence,
    pub day_of_month: Option<u8>,
    pub weekday: Option<AnchorWeekday>,
    #[schema(value_type = String, format = Date)]
    pub start_on: Date,
    #[schema(value_type = Option<String>, format = Date)]
    pub end_on: Option<Date>,
    #[schema(value_type = Option<String>)]
    #[serde(with = "rust_decimal::serde::str_option")]
    pub included_hours: Option<Decimal>,
    pub rollover: bool,
    #[schema(value_type = Option<String>)]
    #[serde(with = "rust_decimal::serde::str_option")]
    pub rollover_cap_hours: Option<Decimal>,
    /// Unused hours carried into the next period.
    #[schema(value_type = String)]
    #[serde(with = "rust_decimal::serde::str")]
    pub carried_hours: Decimal,
    pub auto_issue: bool,
    /// The last day already invoiced.
    #[schema(value_type = Option<String>, format = Date)]
    pub billed_through: Option<Date>,
    /// The first day of the next period to invoice (none once the schedule ended).
    #[schema(value_type = Option<String>, format = Date)]
    pub next_period_start: Option<Date>,
    pub version: u64,
}

impl RecurringView {
    pub fn of(s: &RecurringSchedule) -> RecurringView {
        RecurringView {
            project_id: s.project_id.clone(),
            client_id: s.client_id.clone(),
            currency: s.currency,
            amount: s.amount,
            period: s.cadence,
            day_of_month: s.day_of_month,
            weekday: s.weekday,
            start_on: s.start_on,
            end_on: s.end_on,
            included_hours: s.included_hours,
            rollover: s.rollover,
            rollover_cap_hours: s.rollover_cap_hours,
            carried_hours: (s.carried_minutes / Decimal::from(60)).round_dp(2),
            auto_issue: s.auto_issue,
            billed_through: s.billed_through,
            next_period_start: job::next_period(s).map(|p| p.start),
            version: s.version,
        }
    }
}

/// Hours: above 0, at most 10,000, two decimals; a string or a number.
fn hours_schema() -> utoipa::openapi::schema::Object {
    agencyops_domain::quantity::schema(
        r"^$|^(0|[1-9][0-9]{0,3})\.(0[1-9]|[1-9][0-9]?)$|^[1-9][0-9]{0,3}(\.[0-9]{1,2})?$|^10000(\.0{1,2})?$",
        (0.0, 10_000.0),
        true,
        Some(2),
        true,
    )
}

fn respond(status: StatusCode, s: &RecurringSchedule, location: Option<String>) -> Response {
    respond_versioned(status, &RecurringView::of(s), s.version, location)
}

#[utoipa::path(put, path = "/v1/projects/{id}/recurring", tag = "ar-followups",
    params(("id" = String, Path, pattern = r"^[A-Za-z0-9_-]{1,64}$")), request_body = RecurringBody,
    responses((status = 200, body = RecurringView, description = "Replaced"), (status = 201, body = RecurringView, description = "Created"),
        (status = 400), (status = 403), (status = 404), (status = 409), (status = 412)),
    operation_id = "put_recurring")]
pub async fn put_recurring(
    State(s): State<Services>,
    caller: Caller,
    Path(project_id): Path<String>,
    if_match: IfMatch,
    Json(body): Json<RecurringBody>,
) -> ApiResult<Response> {
    let (schedule, created) = job::put(&s, &caller, &project_id, if_match, body).await?;
    Ok(if created {
        let location = format!("/v1/projects/{project_id}/recurring");
        respond(StatusCode::CREATED, &schedule, Some(location))
    } else {
        respond(StatusCode::OK, &schedule, None)
    })
}

#[utoipa::path(get, path = "/v1/projects/{id}/recurring", tag = "ar-followups",
    params(("id" = String, Path, pattern = r"^[A-Za-z0-9_-]{1,64}$")),
    responses((status = 200, body = RecurringView), (status = 403), (status = 404)),
    operation_id = "get_recurring")]
pub async fn get_recurring(
    State(s): State<Services>,
    caller: Caller,
    Path(project_id): Path<String>,
) -> ApiResult<Response> {
    let schedule = job::get(&s, &caller, &project_id).await?;
    Ok(respond(StatusCode::OK, &schedule, None))
}

#[utoipa::path(delete, path = "/v1/projects/{id}/recurring", tag = "ar-followups",
    params(("id" = String, Path, pattern = r"^[A-Za-z0-9_-]{1,64}$")),
    responses((status = 204), (status = 403), (status = 404),
        (status = 409, description = "a period's invoice is still being built"), (status = 412)),
    operation_id = "delete_recurring")]
pub async fn delete_recurring(
    State(s): State<Services>,
    caller: Caller,
    Path(project_id): Path<String>,
    if_match: IfMatch,
) -> ApiResult<StatusCode> {
    job::delete(&s, &caller, &project_id, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! `/v1/people`: everyone who records time or logs in, with their rates and capacity.
//! Handlers here only translate HTTP; `ops` does the work, `rules` holds the checks.

pub mod ops;
pub mod rules;

use agencyops_domain::{Money, Role};
use agencyops_platform::extract::{IfMatch, Json, Path, Query};
use agencyops_platform::resource::ListPage;
use agencyops_platform::{ApiResult, Caller, Services};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use rust_decimal::Decimal;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::views::{self, PersonView};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPerson {
    #[schema(
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: String,
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    pub role: Role,
    #[serde(default)]
    #[schema(
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub job_role: Option<String>,
    #[serde(default)]
    pub cost_rate: Option<Money>,
    #[serde(default)]
    pub default_bill_rate: Option<Money>,
    /// Defaults to 40.
    #[serde(default, with = "agencyops_domain::quantity::option")]
    #[schema(schema_with = capacity_hours_schema, example = "40")]
    pub weekly_capacity_hours: Option<Decimal>,
    #[schema(schema_with = agencyops_domain::validate::time_zone_schema)]
    pub time_zone: String,
    /// Required for the client role: the client this person belongs to.
    #[serde(default)]
    #[schema(pattern = r"^[A-Za-z0-9_-]{1,64}$")]
    pub client_id: Option<String>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct PersonPatch {
    #[schema(
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: Option<String>,
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    pub role: Option<Role>,
    #[schema(
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub job_role: Option<String>,
    pub cost_rate: Option<Money>,
    pub default_bill_rate: Option<Money>,
    #[serde(default, with = "agencyops_domain::quantity::option")]
    #[schema(schema_with = capacity_hours_schema)]
    pub weekly_capacity_hours: Option<Decimal>,
    #[schema(schema_with = agencyops_domain::validate::time_zone_or_null_schema)]
    pub time_zone: Option<String>,
    pub active: Option<bool>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PeopleFilter {
    pub role: Option<Role>,
    pub active: Option<bool>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[utoipa::path(post, path = "/v1/people", tag = "people", request_body = NewPerson,
    responses((status = 201, body = PersonView), (status = 400, body = agencyops_platform::error::Problem), (status = 403), (status = 409)), operation_id = "create_person")]
pub async fn create(
    State(s): State<Services>,
    caller: Caller,
    Json(body): Json<NewPerson>,
) -> ApiResult<Response> {
    let person = ops::create(&s, &caller, body).await?;
    let location = format!("/v1/people/{}", person.id);
    Ok(views::respond(StatusCode::CREATED, &person, Some(location)))
}

#[utoipa::path(get, path = "/v1/people", tag = "people", params(PeopleFilter),
    responses((status = 200, body = ListPage<PersonView>), (status = 403)), operation_id = "list_people")]
pub async fn list(
    State(s): State<Services>,
    caller: Caller,
    Query(f): Query<PeopleFilter>,
) -> ApiResult<axum::Json<ListPage<PersonView>>> {
    Ok(axum::Json(ops::list(&s, &caller, f).await?))
}

#[utoipa::path(get, path = "/v1/people/{id}", tag = "people", params(("id" = String, Path)),
    responses((status = 200, body = PersonView), (status = 404)), operation_id = "get_person")]
pub async fn get(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let person = ops::get(&s, &caller, &id).await?;
    Ok(views::respond(StatusCode::OK, &person, None))
}

#[utoipa::path(patch, path = "/v1/people/{id}", tag = "people", params(("id" = String, Path)), request_body = PersonPatch,
    responses((status = 200, body = PersonView), (status = 400), (status = 403), (status = 404), (status = 412)), operation_id = "patch_person")]
pub async fn patch(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(body): Json<PersonPatch>,
) -> ApiResult<Response> {
    let person = ops::patch(&s, &caller, &id, if_match, body).await?;
    Ok(views::respond(StatusCode::OK, &person, None))
}

/// Weekly capacity: 0 to 168 hours; a string or a number.
fn capacity_hours_schema() -> utoipa::openapi::schema::Object {
    agencyops_domain::quantity::schema(
        r"^$|^(1[0-5][0-9]|[0-9]{1,2})(\.[0-9]{1,20})?$|^16[0-7](\.[0-9]{1,20})?$|^168(\.0{1,20})?$",
        (0.0, 168.0),
        false,
        None,
        true,
    )
}

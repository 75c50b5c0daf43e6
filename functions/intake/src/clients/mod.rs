//! `/v1/clients` and their contacts: who the agency bills, in which currency, on what terms.
//! Handlers here only translate HTTP; `ops` does the work, `rules` holds the checks.

pub mod ops;
pub mod rules;

use agencyops_domain::rounding::TimeRounding;
use agencyops_domain::Currency;
use agencyops_platform::extract::{IfMatch, Json, Path, Query};
use agencyops_platform::resource::ListPage;
use agencyops_platform::{ApiResult, Caller, Services};
use agencyops_store::records::{InvoicePreferences, TaxRate};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use rust_decimal::Decimal;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::views::{self, ClientView, ContactView};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClient {
    #[schema(
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: String,
    #[schema(example = "EUR")]
    pub currency: Currency,
    /// Days from issue to due date; defaults to 30.
    #[serde(default)]
    #[schema(maximum = 365)]
    pub payment_terms_days: Option<u32>,
    #[serde(default)]
    #[schema(max_items = 3)]
    pub tax_rates: Vec<TaxRate>,
    #[serde(default)]
    #[schema(format = Email, max_length = 254)]
    pub billing_email: Option<String>,
    #[serde(default, with = "agencyops_domain::quantity::money_option")]
    #[schema(value_type = Option<String>, pattern = r"^$|^(1000000(\.0{1,4})?|[0-9]{1,6}(\.[0-9]{1,4})?)$")]
    pub default_rate: Option<Decimal>,
    #[serde(default)]
    pub rounding: Option<TimeRounding>,
    #[serde(default)]
    pub invoice_preferences: InvoicePreferences,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientPatch {
    #[schema(
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: Option<String>,
    pub currency: Option<Currency>,
    #[schema(maximum = 365)]
    pub payment_terms_days: Option<u32>,
    #[schema(max_items = 3)]
    pub tax_rates: Option<Vec<TaxRate>>,
    #[schema(format = Email, max_length = 254)]
    pub billing_email: Option<String>,
    #[serde(default, with = "agencyops_domain::quantity::money_option")]
    #[schema(value_type = Option<String>, pattern = r"^$|^(1000000(\.0{1,4})?|[0-9]{1,6}(\.[0-9]{1,4})?)$")]
    pub default_rate: Option<Decimal>,
    pub rounding: Option<TimeRounding>,
    pub invoice_preferences: Option<InvoicePreferences>,
    pub archived: Option<bool>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ClientFilter {
    /// Case-insensitive substring of the name.
    pub name: Option<String>,
    pub archived: Option<bool>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

// ---- contacts ----

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewContact {
    #[schema(
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: String,
    #[serde(default)]
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    #[serde(default)]
    #[schema(pattern = r"^[0-9 +().-]{0,40}$")]
    pub phone: Option<String>,
    #[serde(default)]
    #[schema(
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub title: Option<String>,
    /// Receives invoices and reminders.
    #[serde(default)]
    pub billing: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactPatch {
    #[schema(
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: Option<String>,
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    #[schema(pattern = r"^[0-9 +().-]{0,40}$")]
    pub phone: Option<String>,
    #[schema(
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub title: Option<String>,
    pub billing: Option<bool>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ContactFilter {
    /// Only contacts who receive invoices (true) or only those who don't (false).
    pub billing: Option<bool>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[utoipa::path(post, path = "/v1/clients", tag = "clients", request_body = NewClient,
    responses((status = 201, body = ClientView), (status = 400, body = agencyops_platform::error::Problem), (status = 403)), operation_id = "create_client")]
pub async fn create(
    State(s): State<Services>,
    caller: Caller,
    Json(body): Json<NewClient>,
) -> ApiResult<Response> {
    let client = ops::create(&s, &caller, body).await?;
    let location = format!("/v1/clients/{}", client.id);
    Ok(views::respond(StatusCode::CREATED, &client, Some(location)))
}

#[utoipa::path(get, path = "/v1/clients", tag = "clients", params(ClientFilter),
    responses((status = 200, body = ListPage<ClientView>)), operation_id = "list_clients")]
pub async fn list(
    State(s): State<Services>,
    caller: Caller,
    Query(f): Query<ClientFilter>,
) -> ApiResult<axum::Json<ListPage<ClientView>>> {
    Ok(axum::Json(ops::list(&s, &caller, f).await?))
}

#[utoipa::path(get, path = "/v1/clients/{id}", tag = "clients", params(("id" = String, Path)),
    responses((status = 200, body = ClientView), (status = 404)), operation_id = "get_client")]
pub async fn get(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let client = ops::get(&s, &caller, &id).await?;
    Ok(views::respond(StatusCode::OK, &client, None))
}

#[utoipa::path(patch, path = "/v1/clients/{id}", tag = "clients", params(("id" = String, Path)), request_body = ClientPatch,
    responses((status = 200, body = ClientView), (status = 400), (status = 403), (status = 404), (status = 409), (status = 412)), operation_id = "patch_client")]
pub async fn patch(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(body): Json<ClientPatch>,
) -> ApiResult<Response> {
    let client = ops::patch(&s, &caller, &id, if_match, body).await?;
    Ok(views::respond(StatusCode::OK, &client, None))
}

#[utoipa::path(post, path = "/v1/clients/{id}/contacts", tag = "clients", params(("id" = String, Path)), request_body = NewContact,
    responses((status = 201, body = ContactView), (status = 400), (status = 403), (status = 404)), operation_id = "create_contact")]
pub async fn create_contact(
    State(s): State<Services>,
    caller: Caller,
    Path(client_id): Path<String>,
    Json(body): Json<NewContact>,
) -> ApiResult<Response> {
    let contact = ops::create_contact(&s, &caller, &client_id, body).await?;
    let location = format!("/v1/clients/{client_id}/contacts/{}", contact.id);
    Ok(views::respond(
        StatusCode::CREATED,
        &contact,
        Some(location),
    ))
}

#[utoipa::path(get, path = "/v1/clients/{id}/contacts", tag = "clients", params(("id" = String, Path), ContactFilter),
    responses((status = 200, body = ListPage<ContactView>), (status = 404)), operation_id = "list_contacts")]
pub async fn list_contacts(
    State(s): State<Services>,
    caller: Caller,
    Path(client_id): Path<String>,
    Query(f): Query<ContactFilter>,
) -> ApiResult<axum::Json<ListPage<ContactView>>> {
    Ok(axum::Json(
        ops::list_contacts(&s, &caller, &client_id, f).await?,
    ))
}

#[utoipa::path(get, path = "/v1/clients/{id}/contacts/{contact_id}", tag = "clients",
    params(("id" = String, Path), ("contact_id" = String, Path)),
    responses((status = 200, body = ContactView), (status = 404)), operation_id = "get_contact")]
pub async fn get_contact(
    State(s): State<Services>,
    caller: Caller,
    Path((client_id, contact_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let contact = ops::get_contact(&s, &caller, &client_id, &contact_id).await?;
    Ok(views::respond(StatusCode::OK, &contact, None))
}

#[utoipa::path(patch, path = "/v1/clients/{id}/contacts/{contact_id}", tag = "clients",
    params(("id" = String, Path), ("contact_id" = String, Path)), request_body = ContactPatch,
    responses((status = 200, body = ContactView), (status = 400), (status = 403), (status = 404), (status = 412)), operation_id = "patch_contact")]
pub async fn patch_contact(
    State(s): State<Services>,
    caller: Caller,
    Path((client_id, contact_id)): Path<(String, String)>,
    if_match: IfMatch,
    Json(body): Json<ContactPatch>,
) -> ApiResult<Response> {
    let ids = (client_id.as_str(), contact_id.as_str());
    let contact = ops::patch_contact(&s, &caller, ids, if_match, body).await?;
    Ok(views::respond(StatusCode::OK, &contact, None))
}

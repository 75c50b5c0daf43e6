//! `/v1/people`: everyone who records time or logs in, with their rates and capacity.

use agencyops_domain::validate;
use agencyops_domain::{Money, Role};
use agencyops_platform::error::Problems;
use agencyops_platform::extract::{IfMatch, Json, Path, Query};
use agencyops_platform::resource::{self, fetch, ListPage};
use agencyops_platform::{ApiError, ApiResult, Caller, Services};
use agencyops_store::records::{Client, Person};
use agencyops_store::{keys, Condition, Index, Query as StoreQuery, SkCondition, Write};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use rust_decimal::Decimal;
use serde::Deserialize;
use utoipa::ToSchema;

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
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[schema(value_type = Option<String>, pattern = r"^$|^(1[0-5][0-9]|[0-9]{1,2})(\.[0-9]{1,20})?$|^16[0-7](\.[0-9]{1,20})?$|^168(\.0{1,20})?$", example = "40")]
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
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[schema(value_type = Option<String>, pattern = r"^$|^(1[0-5][0-9]|[0-9]{1,2})(\.[0-9]{1,20})?$|^16[0-7](\.[0-9]{1,20})?$|^168(\.0{1,20})?$")]
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

/// Only admins hand out the roles that see the agency's money.
fn may_grant(caller: &Caller, role: Role) -> ApiResult<()> {
    match (caller.role, role) {
        (Role::Admin, _) => Ok(()),
        (Role::Manager, Role::Admin | Role::Finance) => Err(ApiError::forbidden(
            "only an admin may give someone the admin or finance role",
        )),
        (Role::Manager, _) => Ok(()),
        _ => Err(ApiError::forbidden(
            "only admins and managers manage people",
        )),
    }
}

fn check_common(
    p: &mut Problems,
    name: Option<&str>,
    email: Option<&str>,
    tz: Option<&str>,
    capacity: Option<Decimal>,
) {
    if let Some(n) = name {
        p.check("name", validate::name(n, 200));
    }
    if let Some(e) = email {
        p.check("email", validate::email(e));
    }
    if let Some(tz) = tz {
        p.check("time_zone", validate::time_zone(tz));
    }
    if let Some(c) = capacity {
        if c < Decimal::ZERO || c > Decimal::from(168) {
            p.add("weekly_capacity_hours", "must be 0 to 168");
        }
    }
}

fn check_rate(p: &mut Problems, field: &str, rate: Option<&Money>) {
    if let Some(m) = rate {
        p.check(field, validate::rate(&m.amount));
    }
}

#[utoipa::path(post, path = "/v1/people", tag = "people", request_body = NewPerson,
    responses((status = 201, body = Person), (status = 400, body = agencyops_platform::error::Problem), (status = 403), (status = 409)), operation_id = "create_person")]
pub async fn create(
    State(s): State<Services>,
    caller: Caller,
    Json(body): Json<NewPerson>,
) -> ApiResult<Response> {
    may_grant(&caller, body.role)?;
    let mut p = Problems::new();
    check_common(
        &mut p,
        Some(&body.name),
        Some(&body.email),
        Some(&body.time_zone),
        body.weekly_capacity_hours,
    );
    check_rate(&mut p, "cost_rate.amount", body.cost_rate.as_ref());
    check_rate(
        &mut p,
        "default_bill_rate.amount",
        body.default_bill_rate.as_ref(),
    );
    if let Some(c) = &body.client_id {
        p.check("client_id", validate::id(c));
    }
    if let Some(j) = &body.job_role {
        p.check("job_role", validate::name(j, 100));
    }
    match (body.role, &body.client_id) {
        (Role::Client, None) => p.add("client_id", "is required for the client role"),
        (Role::Client, Some(_)) | (_, None) => {}
        (_, Some(_)) => p.add(
            "client_id",
            "only people with the client role belong to a client",
        ),
    }
    p.finish()?;
    let mut extra = vec![Write::put_if(
        email_lock(&caller.tenant, &body.email),
        Condition::NotExists,
    )];
    if let Some(client_id) = &body.client_id {
        resource::fetch::<Client>(&s, &keys::client(&caller.tenant, client_id))
            .await
            .map_err(|_| ApiError::field("client_id", "no such client"))?;
        extra.push(Write::check_exists(keys::client(&caller.tenant, client_id)));
    }
    let now = s.clock.now();
    let person = Person {
        id: resource::new_id(),
        name: body.name.trim().to_owned(),
        email: body.email.trim().to_owned(),
        role: body.role,
        job_role: body
            .job_role
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty()),
        cost_rate: body.cost_rate,
        default_bill_rate: body.default_bill_rate,
        weekly_capacity_hours: body.weekly_capacity_hours.unwrap_or(Decimal::from(40)),
        time_zone: body.time_zone,
        client_id: body.client_id,
        active: true,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    ensure_email_free(&s, &caller.tenant, &person.email).await?;
    resource::insert(&s, &caller, &person, extra).await?;
    Ok(resource::respond(
        StatusCode::CREATED,
        &person,
        Some(format!("/v1/people/{}", person.id)),
    ))
}

fn email_lock(tenant: &str, email: &str) -> agencyops_store::Item {
    let key = keys::email(tenant, email.trim());
    let mut item = agencyops_store::Item::new();
    item.insert("pk".into(), key.pk.into());
    item.insert("sk".into(), key.sk.into());
    item
}

/// A clear 409 for the common case; the conditional write still guards the race.
async fn ensure_email_free(s: &Services, tenant: &str, email: &str) -> ApiResult<()> {
    if s.table.get(&keys::email(tenant, email)).await?.is_some() {
        return Err(ApiError::Conflict(
            "someone with this email already exists in your agency".into(),
        ));
    }
    Ok(())
}

#[utoipa::path(get, path = "/v1/people", tag = "people", params(PeopleFilter),
    responses((status = 200, body = ListPage<Person>), (status = 403)), operation_id = "list_people")]
pub async fn list(
    State(s): State<Services>,
    caller: Caller,
    Query(f): Query<PeopleFilter>,
) -> ApiResult<axum::Json<ListPage<Person>>> {
    match caller.role {
        r if r.sees_everything() => {}
        Role::Member | Role::Contractor => {
            // Members see themselves; the directory with rates is for managers.
            let me = fetch::<Person>(&s, &keys::person(&caller.tenant, &caller.person))
                .await
                .ok();
            return Ok(axum::Json(ListPage {
                items: me.into_iter().collect(),
                next_cursor: None,
            }));
        }
        _ => return Err(ApiError::forbidden("client users cannot list people")),
    }
    let q = StoreQuery::new(Index::Table, keys::people(&caller.tenant))
        .sk(SkCondition::BeginsWith("PERSON#".into()));
    let page = resource::list::<Person>(&s, &caller, q, f.limit, f.cursor.as_deref(), |p| {
        f.role.is_none_or(|r| p.role == r) && f.active.is_none_or(|a| p.active == a)
    })
    .await?;
    Ok(axum::Json(page))
}

async fn visible_person(s: &Services, caller: &Caller, id: &str) -> ApiResult<Person> {
    match caller.role {
        r if r.sees_everything() => {}
        Role::Member | Role::Contractor if id == caller.person => {}
        Role::Member | Role::Contractor => return Err(ApiError::NotFound("person")),
        _ => return Err(ApiError::forbidden("client users cannot read people")),
    }
    fetch::<Person>(s, &keys::person(&caller.tenant, id)).await
}

#[utoipa::path(get, path = "/v1/people/{id}", tag = "people", params(("id" = String, Path)),
    responses((status = 200, body = Person), (status = 404)), operation_id = "get_person")]
pub async fn get(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let person = visible_person(&s, &caller, &id).await?;
    Ok(resource::respond(StatusCode::OK, &person, None))
}

#[utoipa::path(patch, path = "/v1/people/{id}", tag = "people", params(("id" = String, Path)), request_body = PersonPatch,
    responses((status = 200, body = Person), (status = 400), (status = 403), (status = 404), (status = 412)), operation_id = "patch_person")]
pub async fn patch(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(body): Json<PersonPatch>,
) -> ApiResult<Response> {
    let current = visible_person(&s, &caller, &id).await?;
    may_grant(&caller, current.role)?;
    if let Some(role) = body.role {
        may_grant(&caller, role)?;
        if (role == Role::Client) != (current.role == Role::Client) {
            return Err(ApiError::field(
                "role",
                "a client user cannot become staff or the reverse; create a new person",
            ));
        }
    }
    let mut p = Problems::new();
    check_common(
        &mut p,
        body.name.as_deref(),
        body.email.as_deref(),
        body.time_zone.as_deref(),
        body.weekly_capacity_hours,
    );
    check_rate(&mut p, "cost_rate.amount", body.cost_rate.as_ref());
    check_rate(
        &mut p,
        "default_bill_rate.amount",
        body.default_bill_rate.as_ref(),
    );
    if let Some(j) = &body.job_role {
        p.check("job_role", validate::name(j, 100));
    }
    p.finish()?;
    if let Some(email) = body.email.as_deref().map(str::trim) {
        if email.to_lowercase() != current.email.to_lowercase() {
            ensure_email_free(&s, &caller.tenant, email).await?;
        }
    }
    let tenant = caller.tenant.clone();
    let updated = resource::update(&s, &caller, current, if_match, "update", |person| {
        let mut extra = Vec::new();
        if let Some(email) = body.email.map(|e| e.trim().to_owned()) {
            if email.to_lowercase() != person.email.to_lowercase() {
                extra.push(Write::Delete {
                    key: keys::email(&tenant, &person.email),
                    condition: None,
                });
                extra.push(Write::put_if(
                    email_lock(&tenant, &email),
                    Condition::NotExists,
                ));
            }
            person.email = email;
        }
        if let Some(v) = body.name {
            person.name = v.trim().to_owned();
        }
        if let Some(v) = body.role {
            person.role = v;
        }
        if let Some(v) = body.job_role {
            person.job_role = Some(v.trim().to_owned()).filter(|r| !r.is_empty());
        }
        if body.cost_rate.is_some() {
            person.cost_rate = body.cost_rate;
        }
        if body.default_bill_rate.is_some() {
            person.default_bill_rate = body.default_bill_rate;
        }
        if let Some(v) = body.weekly_capacity_hours {
            person.weekly_capacity_hours = v;
        }
        if let Some(v) = body.time_zone {
            person.time_zone = v;
        }
        if let Some(v) = body.active {
            person.active = v;
        }
        Ok(extra)
    })
    .await;
    match updated {
        Ok(person) => Ok(resource::respond(StatusCode::OK, &person, None)),
        Err(e) => Err(e),
    }
}

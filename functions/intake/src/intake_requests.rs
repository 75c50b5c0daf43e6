//! `/v1/intake-requests`: a client asks for work; accepting it creates the
//! project with its handoff package (scope, assumptions, roles, billing
//! milestones, contacts) in one atomic write, so nothing sales promised is lost.

use agencyops_domain::project::Stage;
use agencyops_domain::{validate, Currency, Role};
use agencyops_platform::error::Problems;
use agencyops_platform::extract::{IfMatch, Json, Path, Query};
use agencyops_platform::resource::{self, fetch, ListPage};
use agencyops_platform::{ApiError, ApiResult, Caller, Services};
use agencyops_store::record::{self as rec, load_many};
use agencyops_store::records::{Contact, Handoff, IntakeRequest, IntakeStatus, Project};
use agencyops_store::{keys, Index, Query as StoreQuery, SkCondition, Write};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::require_manages_work;
use crate::projects::{self, NewProject};
use crate::work_items::{check_amount, check_milestone, new_milestone, NewMilestone};

/// Billing milestones one acceptance may create, so the whole write fits one transaction.
pub const MAX_MILESTONES: usize = 20;

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
    #[serde(default, with = "rust_decimal::serde::str_option")]
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
    #[serde(default, with = "rust_decimal::serde::str_option")]
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

#[derive(Serialize, ToSchema)]
pub struct Accepted {
    pub request: IntakeRequest,
    pub project: Project,
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

fn check_fields(
    p: &mut Problems,
    title: Option<&str>,
    brief: Option<&str>,
    start: Option<Date>,
    end: Option<Date>,
    budget: Option<Decimal>,
    currency: Currency,
) {
    if let Some(t) = title {
        p.check("title", validate::name(t, 200));
    }
    if brief.is_some_and(|b| b.chars().count() > 10_000) {
        p.add("brief", "must be at most 10000 characters");
    }
    if let (Some(a), Some(b)) = (start, end) {
        if b < a {
            p.add("desired_end", "must not be before desired_start");
        }
    }
    check_amount(p, "budget", budget, currency);
}

/// The request, if the caller may see it: staff who run work see all, a client user their own.
async fn visible_request(s: &Services, caller: &Caller, id: &str) -> ApiResult<IntakeRequest> {
    match caller.role {
        Role::Admin | Role::Manager | Role::Finance | Role::Client => {}
        _ => {
            return Err(ApiError::forbidden(
                "intake requests are for managers and clients",
            ))
        }
    }
    let r = fetch::<IntakeRequest>(s, &keys::intake_request(&caller.tenant, id)).await?;
    if caller.role == Role::Client && caller.client.as_deref() != Some(r.client_id.as_str()) {
        return Err(ApiError::NotFound("intake_request"));
    }
    Ok(r)
}

#[utoipa::path(post, path = "/v1/intake-requests", tag = "intake", request_body = NewIntakeRequest,
    responses((status = 201, body = IntakeRequest), (status = 400), (status = 403)), operation_id = "create_intake_request")]
pub async fn create(
    State(s): State<Services>,
    caller: Caller,
    Json(body): Json<NewIntakeRequest>,
) -> ApiResult<Response> {
    let client_id = match caller.role {
        Role::Admin | Role::Manager => body
            .client_id
            .clone()
            .ok_or_else(|| ApiError::field("client_id", "is required"))?,
        Role::Client => {
            let own = caller.client.clone().ok_or(ApiError::Unauthenticated)?;
            if body.client_id.as_deref().is_some_and(|c| c != own) {
                return Err(ApiError::forbidden(
                    "a client user can only ask for work for their own client",
                ));
            }
            own
        }
        _ => {
            return Err(ApiError::forbidden(
                "only managers and clients file intake requests",
            ))
        }
    };
    validate::id(&client_id).map_err(|m| ApiError::field("client_id", m))?;
    let client = projects::client_for_project(&s, &caller, &client_id).await?;
    let mut p = Problems::new();
    check_fields(
        &mut p,
        Some(&body.title),
        Some(&body.brief),
        body.desired_start,
        body.desired_end,
        body.budget,
        client.currency,
    );
    p.finish()?;
    let now = s.clock.now();
    let request = IntakeRequest {
        id: resource::new_id(),
        client_id: client_id.clone(),
        title: body.title.trim().to_owned(),
        brief: body.brief,
        desired_start: body.desired_start,
        desired_end: body.desired_end,
        currency: client.currency,
        budget: body.budget,
        status: IntakeStatus::Open,
        decline_reason: None,
        project_id: None,
        requested_by: caller.person.clone(),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let guard = Write::check_exists(keys::client(&caller.tenant, &client_id));
    resource::insert(&s, &caller, &request, vec![guard]).await?;
    Ok(resource::respond(
        StatusCode::CREATED,
        &request,
        Some(format!("/v1/intake-requests/{}", request.id)),
    ))
}

#[utoipa::path(get, path = "/v1/intake-requests", tag = "intake", params(IntakeFilter),
    responses((status = 200, body = ListPage<IntakeRequest>), (status = 403)), operation_id = "list_intake_requests")]
pub async fn list(
    State(s): State<Services>,
    caller: Caller,
    Query(f): Query<IntakeFilter>,
) -> ApiResult<axum::Json<ListPage<IntakeRequest>>> {
    let keep = |r: &IntakeRequest| f.status.is_none_or(|st| r.status == st);
    let q = match caller.role {
        Role::Admin | Role::Manager | Role::Finance => match &f.client_id {
            Some(c) => {
                StoreQuery::new(Index::Gsi2, keys::client_intake_requests(&caller.tenant, c))
            }
            None => StoreQuery::new(Index::Table, keys::intake_requests(&caller.tenant))
                .sk(SkCondition::BeginsWith("REQUEST#".into())),
        },
        Role::Client => {
            let own = caller.client.clone().ok_or(ApiError::Unauthenticated)?;
            StoreQuery::new(
                Index::Gsi2,
                keys::client_intake_requests(&caller.tenant, &own),
            )
        }
        _ => {
            return Err(ApiError::forbidden(
                "intake requests are for managers and clients",
            ))
        }
    };
    // Newest first: ids are time-ordered.
    let q = q.backward();
    Ok(axum::Json(
        resource::list(&s, &caller, q, f.limit, f.cursor.as_deref(), keep).await?,
    ))
}

#[utoipa::path(get, path = "/v1/intake-requests/{id}", tag = "intake", params(("id" = String, Path)),
    responses((status = 200, body = IntakeRequest), (status = 403), (status = 404)), operation_id = "get_intake_request")]
pub async fn get(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let r = visible_request(&s, &caller, &id).await?;
    Ok(resource::respond(StatusCode::OK, &r, None))
}

fn must_be_open(r: &IntakeRequest) -> ApiResult<()> {
    match r.status {
        IntakeStatus::Open => Ok(()),
        IntakeStatus::Accepted => Err(ApiError::Conflict(
            "this request was already accepted".into(),
        )),
        IntakeStatus::Declined => Err(ApiError::Conflict("this request was declined".into())),
    }
}

#[utoipa::path(patch, path = "/v1/intake-requests/{id}", tag = "intake", params(("id" = String, Path)), request_body = IntakeRequestPatch,
    responses((status = 200, body = IntakeRequest), (status = 400), (status = 403), (status = 404), (status = 409), (status = 412)), operation_id = "patch_intake_request")]
pub async fn patch(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(body): Json<IntakeRequestPatch>,
) -> ApiResult<Response> {
    let current = visible_request(&s, &caller, &id).await?;
    caller.require(&[Role::Admin, Role::Manager, Role::Client])?;
    must_be_open(&current)?;
    // The request's budget is in the currency it was made in.
    let currency = current.currency;
    let mut p = Problems::new();
    check_fields(
        &mut p,
        body.title.as_deref(),
        body.brief.as_deref(),
        body.desired_start.or(current.desired_start),
        body.desired_end.or(current.desired_end),
        body.budget,
        currency,
    );
    p.finish()?;
    let r = resource::update(&s, &caller, current, if_match, "update", |r| {
        if let Some(v) = body.title {
            r.title = v.trim().to_owned();
        }
        if let Some(v) = body.brief {
            r.brief = v;
        }
        if body.desired_start.is_some() {
            r.desired_start = body.desired_start;
        }
        if body.desired_end.is_some() {
            r.desired_end = body.desired_end;
        }
        if body.budget.is_some() {
            r.budget = body.budget;
        }
        // Only an open request is edited: a decision made meanwhile wins.
        Ok(vec![])
    })
    .await?;
    Ok(resource::respond(StatusCode::OK, &r, None))
}

#[utoipa::path(post, path = "/v1/intake-requests/{id}/accept", tag = "intake", params(("id" = String, Path)), request_body = Acceptance,
    responses((status = 201, body = Accepted), (status = 400), (status = 403), (status = 404), (status = 409), (status = 412)), operation_id = "accept_intake_request")]
pub async fn accept(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(mut body): Json<Acceptance>,
) -> ApiResult<Response> {
    let current = visible_request(&s, &caller, &id).await?;
    require_manages_work(&caller)?;
    must_be_open(&current)?;
    if body
        .project
        .client_id
        .as_deref()
        .is_some_and(|c| c != current.client_id)
    {
        return Err(ApiError::field(
            "project.client_id",
            "must be the request's client (or omitted)",
        ));
    }
    let client = projects::client_for_project(&s, &caller, &current.client_id).await?;
    let name = body
        .project
        .name
        .take()
        .unwrap_or_else(|| current.title.clone());
    let mut project = projects::build(
        &s,
        &client,
        name,
        Stage::Scoping,
        std::mem::take(&mut body.project),
    )?;

    let mut p = Problems::new();
    let mut terms = Problems::new();
    projects::check_terms(&s, &caller, &project, &client, &mut terms).await?;
    if let Err(ApiError::Validation(errs)) = terms.finish() {
        for e in errs {
            p.add(format!("project.{}", e.field), e.message);
        }
    }
    if body.milestones.len() > MAX_MILESTONES {
        p.add("milestones", format!("at most {MAX_MILESTONES}"));
    }
    for (i, m) in body.milestones.iter().enumerate().take(MAX_MILESTONES) {
        check_milestone(&mut p, &format!("milestones[{i}]."), m, client.currency);
    }
    p.check(
        "handoff.scope_summary",
        match body.handoff.scope_summary.chars().count() {
            0..=20_000 => Ok(()),
            _ => Err("must be at most 20000 characters".to_owned()),
        },
    );
    let too_many = body.handoff.assumptions.len() > 100
        || body.handoff.roles.len() > 50
        || body.handoff.contact_ids.len() > 50;
    if too_many {
        p.add(
            "handoff",
            "at most 100 assumptions, 50 roles and 50 contacts",
        );
    }
    for (i, a) in body.handoff.assumptions.iter().enumerate() {
        if a.chars().count() > 1000 {
            p.add(
                format!("handoff.assumptions[{i}]"),
                "must be at most 1000 characters",
            );
        }
    }
    for (i, c) in body.handoff.contact_ids.iter().enumerate() {
        p.check(format!("handoff.contact_ids[{i}]"), validate::id(c));
    }
    let ids_ok = body
        .handoff
        .contact_ids
        .iter()
        .all(|c| validate::id(c).is_ok());
    if !too_many && ids_ok && !body.handoff.contact_ids.is_empty() {
        let ks: Vec<_> = body
            .handoff
            .contact_ids
            .iter()
            .map(|c| keys::contact(&caller.tenant, &client.id, c))
            .collect();
        let found = load_many::<Contact>(&*s.table, &ks).await?;
        for (i, c) in body.handoff.contact_ids.iter().enumerate() {
            if !found.iter().any(|f| &f.id == c) {
                p.add(
                    format!("handoff.contact_ids[{i}]"),
                    "no such contact of this client",
                );
            }
        }
    }
    for (i, r) in body.handoff.roles.iter().enumerate() {
        p.check(
            format!("handoff.roles[{i}].job_role"),
            validate::name(&r.job_role, 100),
        );
        if let Some(pid) = &r.person_id {
            if !project.team.contains(pid) {
                p.add(
                    format!("handoff.roles[{i}].person_id"),
                    "must be on the project's team",
                );
            }
        }
    }
    p.finish()?;

    project.handoff = Some(body.handoff);
    project.intake_request_id = Some(current.id.clone());
    let milestones: Vec<_> = body
        .milestones
        .into_iter()
        .map(|m| new_milestone(&s, &project, m))
        .collect();

    // One transaction: the request flips to accepted only if the project, its team
    // and its milestones all land, and only if nobody decided it meanwhile.
    let mut extra = projects::new_project_writes(&caller.tenant, &project, &client)?;
    for m in &milestones {
        extra.push(rec::create(&caller.tenant, m)?);
        extra.push(resource::audit(
            &s,
            &caller,
            "create",
            None,
            Some(m),
            &m.id,
        )?);
    }
    extra.push(rec::create(&caller.tenant, &project)?);
    extra.push(resource::audit(
        &s,
        &caller,
        "create",
        None,
        Some(&project),
        &project.id,
    )?);
    let project_id = project.id.clone();
    let request = resource::update(&s, &caller, current, if_match, "accept", |r| {
        r.status = IntakeStatus::Accepted;
        r.project_id = Some(project_id);
        Ok(extra)
    })
    .await
    .map_err(|e| match e {
        ApiError::Conflict(_) => {
            ApiError::Conflict("the request was decided or changed meanwhile; reload it".into())
        }
        other => other,
    })?;
    let location = format!("/v1/projects/{}", project.id);
    let mut res = (
        StatusCode::CREATED,
        axum::Json(Accepted { request, project }),
    )
        .into_response();
    if let Ok(v) = axum::http::HeaderValue::from_str(&location) {
        res.headers_mut().insert(axum::http::header::LOCATION, v);
    }
    Ok(res)
}

#[utoipa::path(post, path = "/v1/intake-requests/{id}/decline", tag = "intake", params(("id" = String, Path)), request_body = Decline,
    responses((status = 200, body = IntakeRequest), (status = 400), (status = 403), (status = 404), (status = 409)), operation_id = "decline_intake_request")]
pub async fn decline(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(body): Json<Decline>,
) -> ApiResult<Response> {
    let current = visible_request(&s, &caller, &id).await?;
    require_manages_work(&caller)?;
    must_be_open(&current)?;
    let mut p = Problems::new();
    p.check("reason", validate::name(&body.reason, 2000));
    p.finish()?;
    let r = resource::update(&s, &caller, current, if_match, "decline", |r| {
        r.status = IntakeStatus::Declined;
        r.decline_reason = Some(body.reason.trim().to_owned());
        Ok(vec![])
    })
    .await?;
    Ok(resource::respond(StatusCode::OK, &r, None))
}

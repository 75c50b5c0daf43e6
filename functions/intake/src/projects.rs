//! `/v1/projects`: the engagement every hour, expense and invoice line hangs off.
//! A project carries its billing model, budget, rate card, rounding and team.

use std::collections::BTreeSet;

use agencyops_domain::project::{BillingModel, Budget, Stage};
use agencyops_domain::rates::RateCard;
use agencyops_domain::rounding::TimeRounding;
use agencyops_domain::{validate, Role};
use agencyops_platform::error::Problems;
use agencyops_platform::extract::{IfMatch, Json, Path, Query};
use agencyops_platform::resource::{self, ListPage};
use agencyops_platform::{ApiError, ApiResult, Caller, Services};
use agencyops_store::record::{self as rec, load_many};
use agencyops_store::records::{Client, Person, Project, ProjectMember, Task};
use agencyops_store::{keys, Condition, Index, Query as StoreQuery, SkCondition, Write};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::access::{require_manages_work, visible_project};

/// Team size one project write can carry inside a single transaction.
pub const MAX_TEAM: usize = 40;

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
    /// Required; a body without it names the field in a 400.
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
    #[serde(default, with = "rust_decimal::serde::str_option")]
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
    #[serde(default, with = "rust_decimal::serde::str_option")]
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

/// Checks a project's terms against its client, its people and its tasks.
pub async fn check_terms(
    s: &Services,
    caller: &Caller,
    project: &Project,
    client: &Client,
    p: &mut Problems,
) -> ApiResult<()> {
    p.check("name", validate::name(&project.name, 200));
    p.nest(
        "budget",
        project.budget.problems(client.currency.minor_units()),
    );
    p.nest("rate_card", project.rate_card.problems());
    if let Some(r) = &project.rounding {
        p.check("rounding.increment_minutes", r.validate());
    }
    match (project.billing_model, project.fixed_fee) {
        (BillingModel::FixedFee, None) => p.add("fixed_fee", "is required for a fixed-fee project"),
        (BillingModel::FixedFee, Some(f)) => {
            p.check(
                "fixed_fee",
                validate::amount(&f, client.currency.minor_units()),
            );
        }
        (_, Some(_)) => p.add("fixed_fee", "only fixed-fee projects have a fixed fee"),
        (_, None) => {}
    }
    if let (Some(a), Some(b)) = (project.starts_on, project.ends_on) {
        if b < a {
            p.add("ends_on", "must not be before starts_on");
        }
    }
    if project.team.len() > MAX_TEAM {
        p.add("team", format!("at most {MAX_TEAM} people"));
        return Ok(());
    }
    for (i, id) in project.team.iter().enumerate() {
        p.check(format!("team[{i}]"), validate::id(id));
    }
    // Everyone named must be staff of this agency (malformed ids are not looked up).
    let mut named: BTreeSet<&str> = project.team.iter().map(String::as_str).collect();
    named.extend(
        project
            .rate_card
            .by_person
            .iter()
            .map(|r| r.person_id.as_str()),
    );
    let person_keys: Vec<_> = named
        .iter()
        .filter(|id| validate::id(id).is_ok())
        .map(|id| keys::person(&caller.tenant, id))
        .collect();
    let people = if person_keys.is_empty() {
        Vec::new()
    } else {
        load_many::<Person>(&*s.table, &person_keys).await?
    };
    let staff: BTreeSet<&str> = people
        .iter()
        .filter(|p| p.role != Role::Client)
        .map(|p| p.id.as_str())
        .collect();
    for (i, id) in project.team.iter().enumerate() {
        if validate::id(id).is_ok() && !staff.contains(id.as_str()) {
            p.add(format!("team[{i}]"), "no such person on your staff");
        }
    }
    for (i, r) in project.rate_card.by_person.iter().enumerate() {
        if validate::id(&r.person_id).is_ok() && !staff.contains(r.person_id.as_str()) {
            p.add(
                format!("rate_card.by_person[{i}].person_id"),
                "no such person on your staff",
            );
        }
    }
    if !project.rate_card.by_task.is_empty() {
        let tasks = task_ids(s, caller, &project.id).await?;
        for (i, r) in project.rate_card.by_task.iter().enumerate() {
            if validate::id(&r.task_id).is_ok() && !tasks.contains(&r.task_id) {
                p.add(
                    format!("rate_card.by_task[{i}].task_id"),
                    "no such task on this project",
                );
            }
        }
    }
    Ok(())
}

async fn task_ids(s: &Services, caller: &Caller, project_id: &str) -> ApiResult<BTreeSet<String>> {
    let mut q = StoreQuery::new(
        Index::Table,
        keys::project_partition(&caller.tenant, project_id),
    )
    .sk(SkCondition::BeginsWith("TASK#".into()))
    .limit(500);
    let mut ids = BTreeSet::new();
    loop {
        let (tasks, next) = rec::page::<Task>(&*s.table, &q).await?;
        ids.extend(tasks.into_iter().map(|t| t.id));
        match next {
            Some(n) => q.start_after = Some(n),
            None => return Ok(ids),
        }
    }
}

/// Membership writes that turn team `from` into team `to`.
pub fn team_writes(
    tenant: &str,
    project_id: &str,
    from: &[String],
    to: &[String],
    now: jiff::Timestamp,
) -> ApiResult<Vec<Write>> {
    let mut writes = Vec::new();
    for id in to.iter().filter(|id| !from.contains(id)) {
        let member = ProjectMember {
            id: id.clone(),
            project_id: project_id.to_owned(),
            version: 1,
            updated_at: now,
        };
        writes.push(Write::put(rec::to_item(tenant, &member)?));
    }
    for id in from.iter().filter(|id| !to.contains(id)) {
        writes.push(Write::Delete {
            key: keys::member(tenant, project_id, id),
            condition: None,
        });
    }
    Ok(writes)
}

fn dedup(team: Vec<String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    team.into_iter()
        .filter(|id| seen.insert(id.clone()))
        .collect()
}

/// A new project from its terms (validated separately by [`check_terms`]).
pub fn build(
    s: &Services,
    client: &Client,
    name: String,
    default_stage: Stage,
    body: NewProject,
) -> ApiResult<Project> {
    let now = s.clock.now();
    let billing_model = body
        .billing_model
        .ok_or_else(|| ApiError::field("billing_model", "is required"))?;
    Ok(Project {
        id: resource::new_id(),
        client_id: client.id.clone(),
        name: name.trim().to_owned(),
        billing_model,
        currency: client.currency,
        stage: body.stage.unwrap_or(default_stage),
        budget: body.budget,
        rate_card: body.rate_card,
        rounding: body.rounding,
        team: dedup(body.team),
        fixed_fee: body.fixed_fee,
        starts_on: body.starts_on,
        ends_on: body.ends_on,
        handoff: None,
        intake_request_id: None,
        version: 1,
        created_at: now,
        updated_at: now,
    })
}

/// What must hold and change with every new project: the client still bills in
/// the currency the project was checked against, the client's project count
/// (which freezes that currency) goes up, and the team's memberships appear.
pub fn new_project_writes(
    tenant: &str,
    project: &Project,
    client: &Client,
) -> ApiResult<Vec<Write>> {
    let mut writes = vec![
        Write::Check {
            key: keys::client(tenant, &client.id),
            condition: Condition::AttrEquals("currency".into(), client.currency.code().into()),
        },
        Write::Add {
            key: keys::client_project_count(tenant, &client.id),
            attr: "count".into(),
            by: 1,
        },
    ];
    writes.extend(team_writes(
        tenant,
        &project.id,
        &[],
        &project.team,
        project.created_at,
    )?);
    Ok(writes)
}

/// What a caller sees of a project: the rate card is the agency's business,
/// not that of members, contractors or the client.
pub fn view(caller: &Caller, mut project: Project) -> Project {
    if !caller.role.sees_everything() {
        project.rate_card = RateCard::default();
    }
    project
}

/// The client a new project is for: it must exist and not be archived.
pub async fn client_for_project(
    s: &Services,
    caller: &Caller,
    client_id: &str,
) -> ApiResult<Client> {
    let client = rec::load::<Client>(&*s.table, &keys::client(&caller.tenant, client_id))
        .await?
        .ok_or_else(|| ApiError::field("client_id", "no such client"))?;
    if client.archived {
        return Err(ApiError::field("client_id", "the client is archived"));
    }
    Ok(client)
}

#[utoipa::path(post, path = "/v1/projects", tag = "projects", request_body = NewProject,
    responses((status = 201, body = Project), (status = 400, body = agencyops_platform::error::Problem), (status = 403)), operation_id = "create_project")]
pub async fn create(
    State(s): State<Services>,
    caller: Caller,
    Json(mut body): Json<NewProject>,
) -> ApiResult<Response> {
    require_manages_work(&caller)?;
    let client_id = body
        .client_id
        .take()
        .ok_or_else(|| ApiError::field("client_id", "is required"))?;
    let name = body
        .name
        .take()
        .ok_or_else(|| ApiError::field("name", "is required"))?;
    validate::id(&client_id).map_err(|m| ApiError::field("client_id", m))?;
    let client = client_for_project(&s, &caller, &client_id).await?;
    let project = build(&s, &client, name, Stage::Active, body)?;
    let mut p = Problems::new();
    check_terms(&s, &caller, &project, &client, &mut p).await?;
    p.finish()?;
    let extra = new_project_writes(&caller.tenant, &project, &client)?;
    resource::insert(&s, &caller, &project, extra)
        .await
        .map_err(|e| match e {
            ApiError::Conflict(_) => ApiError::Conflict(
                "the client changed meanwhile (currency or archived); reload and retry".into(),
            ),
            other => other,
        })?;
    Ok(resource::respond(
        StatusCode::CREATED,
        &project,
        Some(format!("/v1/projects/{}", project.id)),
    ))
}

#[utoipa::path(get, path = "/v1/projects", tag = "projects", params(ProjectFilter),
    responses((status = 200, body = ListPage<Project>)), operation_id = "list_projects")]
pub async fn list(
    State(s): State<Services>,
    caller: Caller,
    Query(f): Query<ProjectFilter>,
) -> ApiResult<axum::Json<ListPage<Project>>> {
    let keep = |p: &Project| {
        f.stage.is_none_or(|st| p.stage == st)
            && f.billing_model.is_none_or(|b| p.billing_model == b)
            && f.client_id.as_deref().is_none_or(|c| p.client_id == c)
    };
    if let Some(c) = &f.client_id {
        validate::id(c).map_err(|m| ApiError::field("query.client_id", m))?;
    }
    let (limit, cursor) = (f.limit, f.cursor.as_deref());
    let page = match caller.role {
        r if r.sees_everything() => {
            let q = match &f.client_id {
                Some(c) => StoreQuery::new(Index::Gsi2, keys::client_projects(&caller.tenant, c)),
                None => StoreQuery::new(Index::Gsi1, keys::projects(&caller.tenant)),
            };
            resource::list(&s, &caller, q, limit, cursor, keep).await?
        }
        Role::Client => {
            let own = caller.client.clone().ok_or(ApiError::Unauthenticated)?;
            let q = StoreQuery::new(Index::Gsi2, keys::client_projects(&caller.tenant, &own));
            resource::list(&s, &caller, q, limit, cursor, keep).await?
        }
        _ => {
            // Page through the caller's memberships, then load those projects.
            let q = StoreQuery::new(
                Index::Gsi1,
                keys::person_projects(&caller.tenant, &caller.person),
            );
            let page =
                resource::list::<ProjectMember>(&s, &caller, q, limit, cursor, |_| true).await?;
            let keys: Vec<_> = page
                .items
                .iter()
                .map(|m| keys::project(&caller.tenant, &m.project_id))
                .collect();
            let mut items: Vec<Project> = if keys.is_empty() {
                Vec::new()
            } else {
                load_many::<Project>(&*s.table, &keys).await?
            };
            items.retain(keep);
            items.sort_by(|a, b| a.id.cmp(&b.id));
            ListPage {
                items,
                next_cursor: page.next_cursor,
            }
        }
    };
    Ok(axum::Json(ListPage {
        items: page.items.into_iter().map(|p| view(&caller, p)).collect(),
        next_cursor: page.next_cursor,
    }))
}

#[utoipa::path(get, path = "/v1/projects/{id}", tag = "projects", params(("id" = String, Path)),
    responses((status = 200, body = Project), (status = 404)), operation_id = "get_project")]
pub async fn get(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let project = visible_project(&s, &caller, &id).await?;
    Ok(resource::respond(
        StatusCode::OK,
        &view(&caller, project),
        None,
    ))
}

#[utoipa::path(patch, path = "/v1/projects/{id}", tag = "projects", params(("id" = String, Path)), request_body = ProjectPatch,
    responses((status = 200, body = Project), (status = 400), (status = 403), (status = 404), (status = 409), (status = 412)), operation_id = "patch_project")]
pub async fn patch(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(body): Json<ProjectPatch>,
) -> ApiResult<Response> {
    let current = visible_project(&s, &caller, &id).await?;
    require_manages_work(&caller)?;
    if let Some(to) = body.stage {
        if !current.stage.can_move_to(to) {
            return Err(ApiError::field(
                "stage",
                format!("a project cannot move from {:?} to {:?}", current.stage, to)
                    .to_lowercase(),
            ));
        }
    }
    let client = rec::load::<Client>(&*s.table, &keys::client(&caller.tenant, &current.client_id))
        .await?
        .ok_or(ApiError::NotFound("client"))?;
    let mut next = current.clone();
    if let Some(v) = body.name {
        next.name = v.trim().to_owned();
    }
    if let Some(v) = body.billing_model {
        next.billing_model = v;
        if v != BillingModel::FixedFee {
            next.fixed_fee = None;
        }
    }
    if let Some(v) = body.stage {
        next.stage = v;
    }
    if let Some(v) = body.budget {
        next.budget = v;
    }
    if let Some(v) = body.rate_card {
        next.rate_card = v;
    }
    if body.rounding.is_some() {
        next.rounding = body.rounding;
    }
    if let Some(v) = body.team {
        next.team = dedup(v);
    }
    if body.fixed_fee.is_some() {
        next.fixed_fee = body.fixed_fee;
    }
    if body.starts_on.is_some() {
        next.starts_on = body.starts_on;
    }
    if body.ends_on.is_some() {
        next.ends_on = body.ends_on;
    }
    let mut p = Problems::new();
    check_terms(&s, &caller, &next, &client, &mut p).await?;
    p.finish()?;
    let tenant = caller.tenant.clone();
    let now = s.clock.now();
    let old_team = current.team.clone();
    let project = resource::update(&s, &caller, current, if_match, "update", move |stored| {
        let writes = team_writes(&tenant, &next.id, &old_team, &next.team, now)?;
        *stored = next;
        Ok(writes)
    })
    .await?;
    Ok(resource::respond(StatusCode::OK, &project, None))
}

//! Operations on projects: create, list, read and change one, each returning
//! what the caller may see of it.

use std::collections::BTreeSet;

use agencyops_domain::project::{BillingModel, Stage};
use agencyops_domain::Id;
use agencyops_platform::access::{self, WorkReach};
use agencyops_platform::error::Problems;
use agencyops_platform::extract::IfMatch;
use agencyops_platform::resource::{self, ListPage};
use agencyops_platform::{ApiError, ApiResult, Caller, Services};
use agencyops_store::audit::AuditAction;
use agencyops_store::record::{self as rec, load_many};
use agencyops_store::records::{Client, Project, ProjectMember};
use agencyops_store::{keys, Condition, Index, Query as StoreQuery, Write};

use super::terms::check_terms;
use super::{NewProject, ProjectFilter, ProjectPatch};
use crate::access::{require_manages_work, visible_project};
use crate::views::{self, ProjectView};

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

/// The project `current` becomes under `body`, or why its stage cannot move.
/// Pure: the terms of the result are checked separately.
pub fn patched(current: &Project, body: ProjectPatch) -> ApiResult<Project> {
    if let Some(to) = body.stage {
        if !current.stage.can_move_to(to) {
            return Err(ApiError::field(
                "stage",
                format!("a project cannot move from {:?} to {:?}", current.stage, to)
                    .to_lowercase(),
            ));
        }
    }
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
    Ok(next)
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

pub async fn create(s: &Services, caller: &Caller, mut body: NewProject) -> ApiResult<ProjectView> {
    require_manages_work(caller)?;
    let client_id = body
        .client_id
        .take()
        .ok_or_else(|| ApiError::field("client_id", "is required"))?;
    let name = body
        .name
        .take()
        .ok_or_else(|| ApiError::field("name", "is required"))?;
    let client_id = Id::parse(&client_id).map_err(|why| ApiError::invalid("client_id", why))?;
    let client = client_for_project(s, caller, &client_id).await?;
    let project = build(s, &client, name, Stage::Active, body)?;
    let mut p = Problems::new();
    check_terms(s, caller, &project, &client, &mut p).await?;
    p.finish()?;
    let extra = new_project_writes(&caller.tenant, &project, &client)?;
    resource::insert(s, caller, &project, extra)
        .await
        .map_err(|e| match e {
            ApiError::Conflict(_) => ApiError::changed(
                "the client changed meanwhile (currency or archived); reload and retry",
            ),
            other => other,
        })?;
    Ok(ProjectView::of(caller, project))
}

pub async fn list(
    s: &Services,
    caller: &Caller,
    f: ProjectFilter,
) -> ApiResult<ListPage<ProjectView>> {
    let keep = |p: &Project| {
        f.stage.is_none_or(|st| p.stage == st)
            && f.billing_model.is_none_or(|b| p.billing_model == b)
            && f.client_id.as_deref().is_none_or(|c| p.client_id == c)
    };
    if let Some(c) = &f.client_id {
        Id::parse(c).map_err(|why| ApiError::invalid("query.client_id", why))?;
    }
    let (limit, cursor) = (f.limit, f.cursor.as_deref());
    let filters = (f.stage, f.billing_model, &f.client_id);
    let page = match access::work_reach(caller)? {
        WorkReach::Everything => {
            let q = match &f.client_id {
                Some(c) => StoreQuery::new(Index::Gsi2, keys::client_projects(&caller.tenant, c)),
                None => StoreQuery::new(Index::Gsi1, keys::projects(&caller.tenant)),
            };
            resource::list(s, caller, q, limit, cursor, &filters, keep).await?
        }
        WorkReach::OwnClient(own) => {
            let q = StoreQuery::new(Index::Gsi2, keys::client_projects(&caller.tenant, &own));
            resource::list(s, caller, q, limit, cursor, &filters, keep).await?
        }
        WorkReach::OwnProjects => {
            // Page through the caller's memberships, then load those projects.
            let q = StoreQuery::new(
                Index::Gsi1,
                keys::person_projects(&caller.tenant, &caller.person),
            );
            let page =
                resource::list::<ProjectMember>(s, caller, q, limit, cursor, &filters, |_| true)
                    .await?;
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
    Ok(views::page(page, |p| ProjectView::of(caller, p)))
}

pub async fn get(s: &Services, caller: &Caller, id: &str) -> ApiResult<ProjectView> {
    let project = visible_project(s, caller, id).await?;
    Ok(ProjectView::of(caller, project))
}

pub async fn patch(
    s: &Services,
    caller: &Caller,
    id: &str,
    if_match: IfMatch,
    body: ProjectPatch,
) -> ApiResult<ProjectView> {
    let current = visible_project(s, caller, id).await?;
    require_manages_work(caller)?;
    let next = patched(&current, body)?;
    // Clients are archived, never deleted: a project without one is broken data (5xx),
    // not something the caller asked for that is missing.
    let client = rec::load::<Client>(&*s.table, &keys::client(&caller.tenant, &current.client_id))
        .await?
        .ok_or_else(|| ApiError::Internal(format!("project {} has no client", current.id)))?;
    let mut p = Problems::new();
    check_terms(s, caller, &next, &client, &mut p).await?;
    p.finish()?;
    let tenant = caller.tenant.clone();
    let now = s.clock.now();
    let old_team = current.team.clone();
    let project = resource::update(
        s,
        caller,
        current,
        if_match,
        AuditAction::Update,
        move |stored| {
            let writes = team_writes(&tenant, &next.id, &old_team, &next.team, now)?;
            *stored = next;
            Ok(writes)
        },
    )
    .await?;
    Ok(ProjectView::of(caller, project))
}

#[cfg(test)]
mod tests {
    use super::*;
    use agencyops_platform::error::FieldError;

    fn project(stage: Stage) -> Project {
        Project {
            stage,
            ..agencyops_apitest::fixtures::project()
        }
    }

    fn patch(json: serde_json::Value) -> ProjectPatch {
        serde_json::from_value(json).expect("a patch")
    }

    #[test]
    fn a_patch_moves_the_stage_only_forward_and_drops_a_fee_with_its_model() {
        let current = project(Stage::Active);
        match patched(&current, patch(serde_json::json!({"stage": "intake"}))) {
            Err(ApiError::Validation(errs)) => {
                assert_eq!(
                    errs[0],
                    FieldError::new("stage", "a project cannot move from active to intake")
                )
            }
            other => panic!("{other:?}"),
        }
        let mut fixed = project(Stage::Active);
        fixed.billing_model = BillingModel::FixedFee;
        fixed.fixed_fee = Some(rust_decimal::Decimal::from(100));
        let next = patched(
            &fixed,
            patch(serde_json::json!({"billing_model": "retainer", "team": ["a", "b", "a"], "name": " New "})),
        )
        .expect("a valid patch");
        assert_eq!(next.fixed_fee, None);
        assert_eq!(next.team, ["a", "b"]);
        assert_eq!(next.name, "New");
        assert_eq!(next.version, fixed.version, "the version moves when stored");
    }
}

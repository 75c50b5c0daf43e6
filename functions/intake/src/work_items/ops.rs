//! Operations on a project's tasks and billing milestones, each returning what
//! the caller may see of them.

use agencyops_domain::validate;
use agencyops_platform::error::Problems;
use agencyops_platform::events::{MilestoneReached, MILESTONES_QUEUE};
use agencyops_platform::extract::IfMatch;
use agencyops_platform::resource::{self, fetch, ListPage};
use agencyops_platform::{ApiError, ApiResult, Caller, Conflict, Services};
use agencyops_store::audit::AuditAction;
use agencyops_store::record::Record;
use agencyops_store::records::{Milestone, MilestoneStatus, Project, ReachedMilestone, Task};
use agencyops_store::{keys, Index, Query as StoreQuery, SkCondition, Write};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{
    check_amount, check_hours, check_milestone, new_milestone, MilestoneFilter, MilestonePatch,
    NewMilestone, NewTask, TaskFilter, TaskPatch,
};
use crate::access::{require_manages_work, visible_project};
use crate::views::{self, MilestoneView, TaskView};

/// The project, visible to the caller and open to changes by them.
async fn managed_project(s: &Services, caller: &Caller, id: &str) -> ApiResult<Project> {
    let project = visible_project(s, caller, id).await?;
    require_manages_work(caller)?;
    Ok(project)
}

fn project_exists(caller: &Caller, project_id: &str) -> Write {
    Write::check_exists(keys::project(&caller.tenant, project_id))
}

async fn list_children<R: Record + DeserializeOwned>(
    s: &Services,
    caller: &Caller,
    project_id: &str,
    prefix: &str,
    (limit, cursor): (Option<u32>, Option<&str>),
    filters: &impl Serialize,
    keep: impl Fn(&R) -> bool,
) -> ApiResult<ListPage<R>> {
    visible_project(s, caller, project_id).await?;
    let q = StoreQuery::new(
        Index::Table,
        keys::project_partition(&caller.tenant, project_id),
    )
    .sk(SkCondition::BeginsWith(prefix.into()));
    resource::list(s, caller, q, limit, cursor, filters, keep).await
}

pub async fn create_task(
    s: &Services,
    caller: &Caller,
    project_id: &str,
    body: NewTask,
) -> ApiResult<TaskView> {
    let project = managed_project(s, caller, project_id).await?;
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
    resource::insert(s, caller, &task, vec![project_exists(caller, &project.id)]).await?;
    Ok(TaskView::of(task))
}

pub async fn list_tasks(
    s: &Services,
    caller: &Caller,
    project_id: &str,
    f: TaskFilter,
) -> ApiResult<ListPage<TaskView>> {
    let keep = |t: &Task| {
        f.archived.is_none_or(|a| t.archived == a) && f.billable.is_none_or(|b| t.billable == b)
    };
    let pg = (f.limit, f.cursor.as_deref());
    let page = list_children(
        s,
        caller,
        project_id,
        &keys::tasks_prefix(),
        pg,
        &(f.archived, f.billable),
        keep,
    )
    .await?;
    Ok(views::page(page, TaskView::of))
}

pub async fn get_task(
    s: &Services,
    caller: &Caller,
    project_id: &str,
    id: &str,
) -> ApiResult<TaskView> {
    visible_project(s, caller, project_id).await?;
    let task = fetch::<Task>(s, &keys::task(&caller.tenant, project_id, id)).await?;
    Ok(TaskView::of(task))
}

pub async fn patch_task(
    s: &Services,
    caller: &Caller,
    (project_id, id): (&str, &str),
    if_match: IfMatch,
    body: TaskPatch,
) -> ApiResult<TaskView> {
    managed_project(s, caller, project_id).await?;
    let current = fetch::<Task>(s, &keys::task(&caller.tenant, project_id, id)).await?;
    let mut p = Problems::new();
    if let Some(n) = &body.name {
        p.check("name", validate::name(n, 200));
    }
    check_hours(&mut p, "estimate_hours", body.estimate_hours);
    p.finish()?;
    let task = resource::update(s, caller, current, if_match, AuditAction::Update, |t| {
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
    Ok(TaskView::of(task))
}

pub async fn create_milestone(
    s: &Services,
    caller: &Caller,
    project_id: &str,
    body: NewMilestone,
) -> ApiResult<MilestoneView> {
    let project = managed_project(s, caller, project_id).await?;
    let mut p = Problems::new();
    check_milestone(&mut p, "", &body, project.currency);
    p.finish()?;
    let milestone = new_milestone(s, &project, body);
    resource::insert(
        s,
        caller,
        &milestone,
        vec![project_exists(caller, &project.id)],
    )
    .await?;
    Ok(MilestoneView::of(caller, milestone))
}

pub async fn list_milestones(
    s: &Services,
    caller: &Caller,
    project_id: &str,
    f: MilestoneFilter,
) -> ApiResult<ListPage<MilestoneView>> {
    let keep = |m: &Milestone| f.status.is_none_or(|st| m.status == st);
    let pg = (f.limit, f.cursor.as_deref());
    let page = list_children(
        s,
        caller,
        project_id,
        &keys::milestones_prefix(),
        pg,
        &f.status,
        keep,
    )
    .await?;
    Ok(views::page(page, |m| MilestoneView::of(caller, m)))
}

pub async fn get_milestone(
    s: &Services,
    caller: &Caller,
    project_id: &str,
    id: &str,
) -> ApiResult<MilestoneView> {
    visible_project(s, caller, project_id).await?;
    let m = fetch::<Milestone>(s, &keys::milestone(&caller.tenant, project_id, id)).await?;
    Ok(MilestoneView::of(caller, m))
}

pub async fn patch_milestone(
    s: &Services,
    caller: &Caller,
    (project_id, id): (&str, &str),
    if_match: IfMatch,
    body: MilestonePatch,
) -> ApiResult<MilestoneView> {
    let project = managed_project(s, caller, project_id).await?;
    let current = fetch::<Milestone>(s, &keys::milestone(&caller.tenant, project_id, id)).await?;
    if current.status == MilestoneStatus::Invoiced {
        return Err(Conflict::AlreadyInvoiced(
            "an invoiced milestone cannot change; issue a credit note instead".into(),
        )
        .into());
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
    check_amount(&mut p, "amount", body.amount, project.currency);
    p.finish()?;
    let m = resource::update(s, caller, current, if_match, AuditAction::Update, |m| {
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
    Ok(MilestoneView::of(caller, m))
}

/// `POST …/milestones/{id}/reach`: planned becomes reached, with its audit,
/// the outbox item the daily run drafts from and the tenant's place in the
/// schedule registry in one transaction. The `milestones` message is sent
/// after the commit; if sending fails the reach stands and the daily run
/// drafts the milestone from the outbox item, so nothing is lost.
pub async fn reach_milestone(
    s: &Services,
    caller: &Caller,
    (project_id, id): (&str, &str),
    if_match: IfMatch,
) -> ApiResult<MilestoneView> {
    let project = visible_project(s, caller, project_id).await?;
    crate::access::require_reaches_milestone(s, caller, &project).await?;
    let tenant = caller.tenant.as_str();
    let current = fetch::<Milestone>(s, &keys::milestone(tenant, project_id, id)).await?;
    match current.status {
        MilestoneStatus::Planned => {}
        MilestoneStatus::Reached => {
            return Err(Conflict::NothingToDo("the milestone is already reached".into()).into())
        }
        MilestoneStatus::Invoiced => {
            return Err(Conflict::AlreadyInvoiced(
                "the milestone is already reached and invoiced".into(),
            )
            .into())
        }
    }
    let now = s.clock.now();
    let outbox = ReachedMilestone {
        id: current.id.clone(),
        project_id: project.id.clone(),
        reached_at: now,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let extra = vec![
        agencyops_store::record::create(tenant, &outbox)?,
        scheduled_tenant(tenant),
    ];
    let m = resource::update(s, caller, current, if_match, AuditAction::Reach, |m| {
        m.status = MilestoneStatus::Reached;
        Ok(extra)
    })
    .await?;
    let message = MilestoneReached {
        tenant: tenant.to_owned(),
        message_id: format!("reach-{}", m.id),
        project_id: m.project_id.clone(),
        milestone_id: m.id.clone(),
    };
    if let Err(e) = s.queue.send(MILESTONES_QUEUE, &message.to_body()).await {
        tracing::warn!(milestone = %m.id, error = %e,
            "the milestones message was not sent; the daily run drafts the milestone");
    }
    Ok(MilestoneView::of(caller, m))
}

/// The schedule registry's entry for `tenant` (the same item
/// `agencyops_ar_followups::daily::register_tenant` writes; intake cannot
/// depend on that crate, which depends on invoicing).
fn scheduled_tenant(tenant: &str) -> Write {
    let key = keys::scheduled_tenant(tenant);
    let mut item = agencyops_store::Item::new();
    item.insert(agencyops_store::PK.into(), key.pk.into());
    item.insert(agencyops_store::SK.into(), key.sk.into());
    Write::put(item)
}

//! Whether a project's terms hold: its own fields (pure, [`problems`]) and the
//! people and tasks it names (looked up, [`check_terms`]).

use std::collections::BTreeSet;

use agencyops_domain::project::BillingModel;
use agencyops_domain::validate;
use agencyops_platform::error::Problems;
use agencyops_platform::{ApiResult, Caller, Services};
use agencyops_store::record::{self as rec, load_many};
use agencyops_store::records::{Client, Person, Project, Task};
use agencyops_store::{keys, Index, Query as StoreQuery, SkCondition};

/// Team size one project write can carry inside a single transaction.
pub const MAX_TEAM: usize = 40;

/// The project's own fields, against its client's currency.
pub fn problems(project: &Project, client: &Client, p: &mut Problems) {
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
    } else {
        for (i, id) in project.team.iter().enumerate() {
            p.check(format!("team[{i}]"), validate::id(id));
        }
    }
}

/// Well-formed ids of everyone the project names (team and person rates), to look up.
fn named_people(project: &Project) -> BTreeSet<&str> {
    project
        .team
        .iter()
        .map(String::as_str)
        .chain(
            project
                .rate_card
                .by_person
                .iter()
                .map(|r| r.person_id.as_str()),
        )
        .filter(|id| validate::id(id).is_ok())
        .collect()
}

/// Team members and person rates that name someone not on the agency's `staff`.
pub fn strangers(project: &Project, staff: &BTreeSet<&str>, p: &mut Problems) {
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
}

/// Task rates that name no task of this project.
pub fn unknown_tasks(project: &Project, tasks: &BTreeSet<String>, p: &mut Problems) {
    for (i, r) in project.rate_card.by_task.iter().enumerate() {
        if validate::id(&r.task_id).is_ok() && !tasks.contains(&r.task_id) {
            p.add(
                format!("rate_card.by_task[{i}].task_id"),
                "no such task on this project",
            );
        }
    }
}

/// Checks a project's terms against its client, its people and its tasks.
pub async fn check_terms(
    s: &Services,
    caller: &Caller,
    project: &Project,
    client: &Client,
    p: &mut Problems,
) -> ApiResult<()> {
    problems(project, client, p);
    if project.team.len() > MAX_TEAM {
        return Ok(());
    }
    let person_keys: Vec<_> = named_people(project)
        .into_iter()
        .map(|id| keys::person(&caller.tenant, id))
        .collect();
    let people = if person_keys.is_empty() {
        Vec::new()
    } else {
        load_many::<Person>(&*s.table, &person_keys).await?
    };
    let staff: BTreeSet<&str> = people
        .iter()
        .filter(|p| p.role.works_for_the_agency())
        .map(|p| p.id.as_str())
        .collect();
    strangers(project, &staff, p);
    if !project.rate_card.by_task.is_empty() {
        let tasks = task_ids(s, caller, &project.id).await?;
        unknown_tasks(project, &tasks, p);
    }
    Ok(())
}

async fn task_ids(s: &Services, caller: &Caller, project_id: &str) -> ApiResult<BTreeSet<String>> {
    let q = StoreQuery::new(
        Index::Table,
        keys::project_partition(&caller.tenant, project_id),
    )
    .sk(SkCondition::BeginsWith(keys::tasks_prefix()))
    .limit(500);
    Ok(rec::all::<Task>(&*s.table, &q)
        .await?
        .into_iter()
        .map(|t| t.id)
        .collect())
}

//! Accepting an intake request: the project, its team, its billing milestones
//! and the handoff package land in one transaction together with the request
//! flipping to accepted, or nothing does.

use agencyops_domain::project::Stage;
use agencyops_domain::{validate, Currency};
use agencyops_platform::error::Problems;
use agencyops_platform::extract::IfMatch;
use agencyops_platform::resource;
use agencyops_platform::{ApiError, ApiResult, Caller, Services};
use agencyops_store::audit::AuditAction;
use agencyops_store::keys;
use agencyops_store::record::{self as rec, load_many};
use agencyops_store::records::{Contact, Handoff, IntakeStatus};

use super::ops::must_be_open;
use super::{Acceptance, Accepted};
use crate::access::require_manages_work;
use crate::projects;
use crate::views::{IntakeRequestView, ProjectView};
use crate::work_items::{check_milestone, new_milestone, NewMilestone};
use agencyops_platform::access::visible_request;

/// Billing milestones one acceptance may create, so the whole write fits one transaction.
pub const MAX_MILESTONES: usize = 20;

/// Limits of a handoff package, so the project stays one item.
const MAX_SCOPE: usize = 20_000;
const MAX_ASSUMPTIONS: usize = 100;
const MAX_ROLES: usize = 50;
const MAX_CONTACTS: usize = 50;
const MAX_ASSUMPTION: usize = 1000;

pub async fn accept(
    s: &Services,
    caller: &Caller,
    id: &str,
    if_match: IfMatch,
    mut body: Acceptance,
) -> ApiResult<Accepted> {
    let current = visible_request(s, caller, id).await?;
    require_manages_work(caller)?;
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
    let client = projects::client_for_project(s, caller, &current.client_id).await?;
    let name = body
        .project
        .name
        .take()
        .unwrap_or_else(|| current.title.clone());
    let mut project = projects::build(
        s,
        &client,
        name,
        Stage::Scoping,
        std::mem::take(&mut body.project),
    )?;

    let mut p = Problems::new();
    let mut terms = Problems::new();
    projects::check_terms(s, caller, &project, &client, &mut terms).await?;
    if let Err(ApiError::Validation(errs)) = terms.finish() {
        for e in errs {
            p.add(format!("project.{}", e.field), e.message);
        }
    }
    milestone_problems(&mut p, &body.milestones, client.currency);
    handoff_problems(&mut p, &body.handoff, &project.team);
    // Contacts are looked up only when the list is well-formed and bounded.
    let contacts = &body.handoff.contact_ids;
    let lookable =
        contacts.len() <= MAX_CONTACTS && contacts.iter().all(|c| validate::id(c).is_ok());
    if lookable && !contacts.is_empty() {
        let ks: Vec<_> = contacts
            .iter()
            .map(|c| keys::contact(&caller.tenant, &client.id, c))
            .collect();
        let found = load_many::<Contact>(&*s.table, &ks).await?;
        for (i, c) in contacts.iter().enumerate() {
            if !found.iter().any(|f| &f.id == c) {
                p.add(
                    format!("handoff.contact_ids[{i}]"),
                    "no such contact of this client",
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
        .map(|m| new_milestone(s, &project, m))
        .collect();

    // One transaction: the request flips to accepted only if the project, its team
    // and its milestones all land, and only if nobody decided it meanwhile.
    let mut extra = projects::new_project_writes(&caller.tenant, &project, &client)?;
    for m in &milestones {
        extra.push(rec::create(&caller.tenant, m)?);
        extra.push(resource::audit(
            s,
            caller,
            AuditAction::Create,
            None,
            Some(m),
            &m.id,
        )?);
    }
    extra.push(rec::create(&caller.tenant, &project)?);
    extra.push(resource::audit(
        s,
        caller,
        AuditAction::Create,
        None,
        Some(&project),
        &project.id,
    )?);
    let project_id = project.id.clone();
    let request = resource::update(s, caller, current, if_match, AuditAction::Accept, |r| {
        r.status = IntakeStatus::Accepted;
        r.project_id = Some(project_id);
        Ok(extra)
    })
    .await
    .map_err(|e| match e {
        ApiError::Conflict(_) => {
            ApiError::changed("the request was decided or changed meanwhile; reload it")
        }
        other => other,
    })?;
    Ok(Accepted {
        request: IntakeRequestView::of(caller, request),
        project: ProjectView::of(caller, project),
    })
}

/// How many milestones, and whether each one's name and amount hold.
fn milestone_problems(p: &mut Problems, milestones: &[NewMilestone], currency: Currency) {
    if milestones.len() > MAX_MILESTONES {
        p.add("milestones", format!("at most {MAX_MILESTONES}"));
    }
    for (i, m) in milestones.iter().enumerate().take(MAX_MILESTONES) {
        check_milestone(p, &format!("milestones[{i}]."), m, currency);
    }
}

/// The handoff's own rules: bounded sizes, well-formed contact ids, and named
/// people on the project's team. (Whether the contacts exist needs the store.)
fn handoff_problems(p: &mut Problems, handoff: &Handoff, team: &[String]) {
    if handoff.scope_summary.chars().count() > MAX_SCOPE {
        p.add(
            "handoff.scope_summary",
            format!("must be at most {MAX_SCOPE} characters"),
        );
    }
    if handoff.assumptions.len() > MAX_ASSUMPTIONS
        || handoff.roles.len() > MAX_ROLES
        || handoff.contact_ids.len() > MAX_CONTACTS
    {
        p.add(
            "handoff",
            format!(
                "at most {MAX_ASSUMPTIONS} assumptions, {MAX_ROLES} roles and {MAX_CONTACTS} contacts"
            ),
        );
    }
    for (i, a) in handoff.assumptions.iter().enumerate() {
        if a.chars().count() > MAX_ASSUMPTION {
            p.add(
                format!("handoff.assumptions[{i}]"),
                format!("must be at most {MAX_ASSUMPTION} characters"),
            );
        }
    }
    for (i, c) in handoff.contact_ids.iter().enumerate() {
        p.check(format!("handoff.contact_ids[{i}]"), validate::id(c));
    }
    for (i, r) in handoff.roles.iter().enumerate() {
        p.check(
            format!("handoff.roles[{i}].job_role"),
            validate::name(&r.job_role, 100),
        );
        if r.person_id.as_ref().is_some_and(|pid| !team.contains(pid)) {
            p.add(
                format!("handoff.roles[{i}].person_id"),
                "must be on the project's team",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use agencyops_store::records::NamedRole;

    fn fields(p: Problems) -> Vec<String> {
        match p.finish() {
            Ok(()) => vec![],
            Err(ApiError::Validation(errs)) => errs.into_iter().map(|e| e.field).collect(),
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_handoff_names_only_the_team_and_stays_bounded() {
        let handoff = Handoff {
            scope_summary: "x".repeat(MAX_SCOPE + 1),
            assumptions: vec!["ok".into(), "y".repeat(MAX_ASSUMPTION + 1)],
            roles: vec![
                NamedRole {
                    job_role: "designer".into(),
                    person_id: Some("rui".into()),
                    hours: None,
                },
                NamedRole {
                    job_role: "".into(),
                    person_id: Some("eva".into()),
                    hours: None,
                },
            ],
            contact_ids: vec!["c1".into(), "#".into()],
        };
        let mut p = Problems::new();
        handoff_problems(&mut p, &handoff, &["rui".to_owned()]);
        assert_eq!(
            fields(p),
            [
                "handoff.scope_summary",
                "handoff.assumptions[1]",
                "handoff.contact_ids[1]",
                "handoff.roles[1].job_role",
                "handoff.roles[1].person_id",
            ]
        );
        let mut p = Problems::new();
        handoff_problems(&mut p, &Handoff::default(), &[]);
        assert!(fields(p).is_empty());
    }
}

//! Who sees what. Staff who run the agency (admin, finance, manager) see all
//! work; members and contractors see the projects they are on and those
//! projects' clients; a client user sees only their own client. Something a
//! caller may not see is "not found", so ids of other tenants or clients leak nothing.

use std::collections::BTreeSet;

use crate::{ApiError, ApiResult, Caller, Services};
use agencyops_domain::Role;
use agencyops_store::record::{all_up_to, load, load_many};
use agencyops_store::records::{
    Client, EntryRef, Expense, IntakeRequest, Person, Project, ProjectMember, TimeEntry,
};
use agencyops_store::{keys, Index, Query};

/// Most memberships read when answering "which projects am I on".
const MAX_MEMBERSHIPS: usize = 2000;

pub async fn is_member(services: &Services, caller: &Caller, project_id: &str) -> ApiResult<bool> {
    on_team(services, &caller.tenant, project_id, &caller.person).await
}

/// Whether `person` is on the project's team.
pub async fn on_team(
    services: &Services,
    tenant: &str,
    project_id: &str,
    person: &str,
) -> ApiResult<bool> {
    Ok(
        load::<ProjectMember>(&*services.table, &keys::member(tenant, project_id, person))
            .await?
            .is_some(),
    )
}

/// The project, if the caller may see it.
pub async fn visible_project(services: &Services, caller: &Caller, id: &str) -> ApiResult<Project> {
    let project = load::<Project>(&*services.table, &keys::project(&caller.tenant, id))
        .await?
        .ok_or(ApiError::NotFound("project"))?;
    let visible = match caller.role {
        r if r.sees_everything() => true,
        Role::Client => caller.client.as_deref() == Some(project.client_id.as_str()),
        _ => is_member(services, caller, id).await?,
    };
    if visible {
        Ok(project)
    } else {
        Err(ApiError::NotFound("project"))
    }
}

/// Ids of the projects the caller is on.
pub async fn my_project_ids(services: &Services, caller: &Caller) -> ApiResult<Vec<String>> {
    let q = Query::new(
        Index::Gsi1,
        keys::person_projects(&caller.tenant, &caller.person),
    )
    .limit(200);
    Ok(
        all_up_to::<ProjectMember>(&*services.table, &q, MAX_MEMBERSHIPS)
            .await?
            .into_iter()
            .map(|m| m.project_id)
            .collect(),
    )
}

/// Client ids a member or contractor reaches through their projects.
pub async fn my_client_ids(services: &Services, caller: &Caller) -> ApiResult<BTreeSet<String>> {
    let ids = my_project_ids(services, caller).await?;
    let keys: Vec<_> = ids
        .iter()
        .map(|id| keys::project(&caller.tenant, id))
        .collect();
    Ok(load_many::<Project>(&*services.table, &keys)
        .await?
        .into_iter()
        .map(|p| p.client_id)
        .collect())
}

/// The client, if the caller may see it.
pub async fn visible_client(services: &Services, caller: &Caller, id: &str) -> ApiResult<Client> {
    let client = load::<Client>(&*services.table, &keys::client(&caller.tenant, id))
        .await?
        .ok_or(ApiError::NotFound("client"))?;
    let visible = match caller.role {
        r if r.sees_everything() => true,
        Role::Client => caller.client.as_deref() == Some(id),
        _ => my_client_ids(services, caller).await?.contains(id),
    };
    if visible {
        Ok(client)
    } else {
        Err(ApiError::NotFound("client"))
    }
}

/// Rates, costs and money values (client and project rates, fixed fees, fee
/// budgets, milestone amounts, people's cost and bill rates) are the agency's
/// business: only the staff who see its books read them.
pub fn sees_money(caller: &Caller) -> bool {
    sees_all_work(caller)
}

/// An intake request's budget is what the client hopes to spend: the client
/// who asked sees their own figure back, besides the staff who see money.
/// (Reaching the request at all is [`visible_request`].)
pub fn sees_request_budget(caller: &Caller) -> bool {
    sees_money(caller) || caller.role == Role::Client
}

/// Admin and manager set up clients, projects and their parts.
pub fn require_manages_work(caller: &Caller) -> ApiResult<()> {
    caller.require(&[Role::Admin, Role::Manager])
}

/// The staff who run the agency: they see all work and its money.
const RUNS_THE_AGENCY: &[Role] = &[Role::Admin, Role::Finance, Role::Manager];

/// Whether the caller sees everyone's work, every client and project (the
/// staff who run the agency); others see only what they are part of.
pub fn sees_all_work(caller: &Caller) -> bool {
    caller.role.sees_everything()
}

/// Approving or rejecting time and expenses is for the staff who run the
/// agency (which work each may decide is checked beside it).
pub fn require_takes_work_decisions(caller: &Caller) -> ApiResult<()> {
    caller.require(RUNS_THE_AGENCY)
}

/// Budgets and reports are read by the staff who run the agency.
pub fn require_reads_reports(caller: &Caller) -> ApiResult<()> {
    caller.require(RUNS_THE_AGENCY)
}

/// The audit trail is for admins only.
pub fn require_reads_audit(caller: &Caller) -> ApiResult<()> {
    caller.require(&[Role::Admin])
}

/// Everyone who records or decides work reads the lock date; client users,
/// who do neither, do not.
pub fn require_reads_lock_date(caller: &Caller) -> ApiResult<()> {
    caller.require(&[
        Role::Admin,
        Role::Finance,
        Role::Manager,
        Role::Member,
        Role::Contractor,
    ])
}

/// Admin and finance move the lock date (which way each may is decided beside it).
pub fn require_moves_lock_date(caller: &Caller) -> ApiResult<()> {
    caller.require(&[Role::Admin, Role::Finance])
}

/// An open intake request is changed by the staff who take work in and by
/// the client user who asked (reaching the request is [`visible_request`]).
pub fn require_changes_intake_request(caller: &Caller) -> ApiResult<()> {
    caller.require(&[Role::Admin, Role::Manager, Role::Client])
}

/// Only admins and managers record time for someone else.
pub fn require_records_for_others(caller: &Caller) -> ApiResult<()> {
    caller
        .require(&[Role::Admin, Role::Manager])
        .map_err(|_| ApiError::forbidden("only admins and managers record time for someone else"))
}

/// Client users see their client's projects, never people's time or expenses.
pub fn refuse_client(caller: &Caller) -> ApiResult<()> {
    if caller.role == Role::Client {
        Err(ApiError::forbidden(
            "client users do not record or view time and expenses",
        ))
    } else {
        Ok(())
    }
}

/// Whether the caller may see `person`'s time and expenses: their own always,
/// everyone's for the staff who run the agency.
pub fn sees_work_of(caller: &Caller, person: &str) -> bool {
    person == caller.person || caller.role.sees_everything()
}

/// Someone else's time and expenses are changed only by those who manage work.
pub fn may_change_work_of(caller: &Caller, person: &str) -> ApiResult<()> {
    if person == caller.person || caller.role.manages_work() {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only admins and managers change someone else's time and expenses",
        ))
    }
}

/// Rates, costs and billed values of people's work (bill and cost rates, the
/// value an approval fixed, an expense's markup and billed amount) are the
/// agency's business: only the staff who run it see them, on every read.
pub fn sees_rates(caller: &Caller) -> bool {
    caller.role.sees_everything()
}

/// Whether the caller recorded or last changed this piece of work.
pub fn made_or_changed(
    caller: &Caller,
    recorded_by: Option<&str>,
    changed_by: Option<&str>,
) -> bool {
    let me = Some(caller.person.as_str());
    recorded_by == me || changed_by == me
}

/// Maker-checker: whoever recorded or last changed someone else's work may not
/// also approve it, so no one approves hours they put in for someone else.
/// Admins stay trusted (the approval's audit record says when they did both).
/// Work with no recorded maker (stored before makers were kept) is not refused.
pub fn may_approve_made_work(
    caller: &Caller,
    owner: &str,
    recorded_by: Option<&str>,
    changed_by: Option<&str>,
) -> ApiResult<()> {
    if caller.role == Role::Admin
        || owner == caller.person
        || !made_or_changed(caller, recorded_by, changed_by)
    {
        return Ok(());
    }
    Err(ApiError::forbidden(
        "you recorded or last changed this work for its owner, so another approver must approve it",
    ))
}

/// Managers record and change someone else's work only on projects they are on
/// themselves; admins anywhere. Recording one's own work is decided elsewhere
/// (members and contractors must be on the project's team).
pub async fn require_records_for(
    services: &Services,
    caller: &Caller,
    person: &str,
    project_id: &str,
) -> ApiResult<()> {
    if person == caller.person || caller.role != Role::Manager {
        return Ok(());
    }
    require_manager_on_team(is_member(services, caller, project_id).await?)
}

/// A manager recording someone else's work must be on the project's team.
pub fn require_manager_on_team(on_team: bool) -> ApiResult<()> {
    if on_team {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "managers record and change someone else's work only on projects they are on",
        ))
    }
}

/// Marking a milestone reached: admin and finance on any project, a manager
/// on a project they are on, and the client user of the project's client (who
/// approves the deliverable; [`visible_project`] already keeps them to their
/// own client's projects). Members and contractors do not.
pub async fn require_reaches_milestone(
    services: &Services,
    caller: &Caller,
    project: &Project,
) -> ApiResult<()> {
    match caller.role {
        Role::Admin | Role::Finance => Ok(()),
        Role::Manager if is_member(services, caller, &project.id).await? => Ok(()),
        Role::Client if caller.client.as_deref() == Some(project.client_id.as_str()) => Ok(()),
        Role::Manager => Err(ApiError::forbidden(
            "managers mark milestones reached only on projects they are on",
        )),
        _ => Err(ApiError::forbidden(
            "milestones are marked reached by the project's managers, finance, admins or the client",
        )),
    }
}

/// Recurring billing schedules are set by admin and finance, who bill.
pub fn require_sets_recurring(caller: &Caller) -> ApiResult<()> {
    caller
        .require(&[Role::Admin, Role::Finance])
        .map_err(|_| ApiError::forbidden("only admins and finance set recurring invoices"))
}

/// Recurring billing schedules are read by the staff who run the agency.
pub fn require_reads_recurring(caller: &Caller) -> ApiResult<()> {
    caller.require(RUNS_THE_AGENCY)
}

/// Admin and finance bill: issue, void, write off, take payments, credit,
/// change settings and export. Managers only draft (see [`require_drafts_invoices`]).
pub fn require_bills(caller: &Caller) -> ApiResult<()> {
    caller.require(&[Role::Admin, Role::Finance]).map_err(|_| {
        ApiError::forbidden("only admins and finance issue, void, credit and take payments")
    })
}

/// Drafting an invoice is for the staff who run the agency; a manager only
/// for projects they are on (checked by [`require_drafts_for_projects`]).
pub fn require_drafts_invoices(caller: &Caller) -> ApiResult<()> {
    caller.require(RUNS_THE_AGENCY)
}

/// A manager drafts (or changes a draft) only over projects they are on, and
/// must name them; admin and finance draft over any.
pub async fn require_drafts_for_projects(
    services: &Services,
    caller: &Caller,
    project_ids: &[String],
) -> ApiResult<()> {
    if caller.role != Role::Manager {
        return Ok(());
    }
    if project_ids.is_empty() {
        return Err(ApiError::forbidden(
            "managers draft invoices only for projects they are on: name them in project_ids",
        ));
    }
    for id in project_ids {
        if !is_member(services, caller, id).await? {
            return Err(ApiError::forbidden(
                "managers draft invoices only for projects they are on",
            ));
        }
    }
    Ok(())
}

/// Invoices are read by the staff who run the agency and by client users
/// (their own client's, once issued); members and contractors see none.
pub fn require_reads_invoices(caller: &Caller) -> ApiResult<()> {
    caller
        .require(&[Role::Admin, Role::Finance, Role::Manager, Role::Client])
        .map_err(|_| ApiError::forbidden("members and contractors do not see invoices"))
}

/// Whether the caller may see an invoice of `client_id` that is (or is not) a
/// draft: staff see every invoice; a client user only their own client's
/// issued ones, never a draft. Anything else reads as "not found".
pub fn sees_invoice(caller: &Caller, client_id: &str, is_draft: bool) -> bool {
    match caller.role {
        r if r.sees_everything() => true,
        Role::Client => !is_draft && caller.client.as_deref() == Some(client_id),
        _ => false,
    }
}

/// Internal notes, costs and margins on invoices are for staff only.
pub fn sees_invoice_internals(caller: &Caller) -> bool {
    caller.role.sees_everything()
}

/// How much of the agency's clients and projects a list shows the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WorkReach {
    /// The staff who run the agency: every client and project.
    Everything,
    /// A client user: their own client and its projects.
    OwnClient(String),
    /// Members and contractors: the projects they are on and those projects' clients.
    OwnProjects,
}

/// Which clients and projects the caller's lists show.
pub fn work_reach(caller: &Caller) -> ApiResult<WorkReach> {
    Ok(match caller.role {
        _ if sees_all_work(caller) => WorkReach::Everything,
        Role::Client => WorkReach::OwnClient(own_client(caller)?),
        _ => WorkReach::OwnProjects,
    })
}

/// The client a client user acts for; a client token without one names nobody.
fn own_client(caller: &Caller) -> ApiResult<String> {
    caller.client.clone().ok_or(ApiError::Unauthenticated)
}

/// How much of the people directory the caller reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeopleReach {
    /// The staff who run the agency: everyone, with rates as [`sees_money`] allows.
    Everyone,
    /// Members and contractors: only themselves.
    OnlySelf,
}

/// Which people the caller may read; client users read no one.
pub fn people_reach(caller: &Caller) -> ApiResult<PeopleReach> {
    match caller.role {
        _ if sees_all_work(caller) => Ok(PeopleReach::Everyone),
        Role::Member | Role::Contractor => Ok(PeopleReach::OnlySelf),
        _ => Err(ApiError::forbidden("client users cannot read people")),
    }
}

/// The person's record, if the caller may read it: everyone for the staff who
/// run the agency, themselves for members and contractors.
pub async fn visible_person(services: &Services, caller: &Caller, id: &str) -> ApiResult<Person> {
    if people_reach(caller)? == PeopleReach::OnlySelf && id != caller.person {
        return Err(ApiError::NotFound("person"));
    }
    crate::resource::fetch::<Person>(services, &keys::person(&caller.tenant, id)).await
}

/// Which intake requests a list shows the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IntakeReach {
    /// Admin, finance and managers: every request.
    Everything,
    /// A client user: the requests of their own client.
    OwnClient(String),
}

/// Intake requests are read by the staff who run the agency and by client
/// users (their own client's); members and contractors read none.
pub fn intake_reach(caller: &Caller) -> ApiResult<IntakeReach> {
    match caller.role {
        Role::Admin | Role::Manager | Role::Finance => Ok(IntakeReach::Everything),
        Role::Client => Ok(IntakeReach::OwnClient(own_client(caller)?)),
        _ => Err(ApiError::forbidden(
            "intake requests are for managers and clients",
        )),
    }
}

/// The request, if the caller may see it: the staff who run the agency see
/// all, a client user their own client's.
pub async fn visible_request(
    services: &Services,
    caller: &Caller,
    id: &str,
) -> ApiResult<IntakeRequest> {
    if caller.role != Role::Client {
        intake_reach(caller)?;
    }
    let r = crate::resource::fetch::<IntakeRequest>(
        services,
        &keys::intake_request(&caller.tenant, id),
    )
    .await?;
    if caller.role == Role::Client && caller.client.as_deref() != Some(r.client_id.as_str()) {
        return Err(ApiError::NotFound("intake_request"));
    }
    Ok(r)
}

/// For whom the caller files an intake request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IntakeFiler {
    /// Admins and managers file for any client they name.
    ForAnyClient,
    /// A client user files for their own client only.
    ForOwnClient(String),
}

/// Admins, managers and client users file intake requests (finance reads them only).
pub fn intake_filer(caller: &Caller) -> ApiResult<IntakeFiler> {
    match caller.role {
        Role::Admin | Role::Manager => Ok(IntakeFiler::ForAnyClient),
        Role::Client => Ok(IntakeFiler::ForOwnClient(own_client(caller)?)),
        _ => Err(ApiError::forbidden(
            "only managers and clients file intake requests",
        )),
    }
}

/// The person whose work a path or filter names (`me` is the caller), if the
/// caller may see their work: their own always, anyone's for the staff who run
/// the agency. Someone unknown or out of sight is "not found".
pub async fn visible_work_owner(
    services: &Services,
    caller: &Caller,
    person: &str,
) -> ApiResult<String> {
    refuse_client(caller)?;
    if person == "me" || person == caller.person {
        return Ok(caller.person.clone());
    }
    if !sees_all_work(caller) || agencyops_domain::validate::id(person).is_err() {
        return Err(ApiError::NotFound("person"));
    }
    load::<Person>(&*services.table, &keys::person(&caller.tenant, person))
        .await?
        .ok_or(ApiError::NotFound("person"))?;
    Ok(person.to_owned())
}

/// The time entry with this id and its reference, if the caller may see its owner's work.
pub async fn visible_entry(
    services: &Services,
    caller: &Caller,
    id: &str,
) -> ApiResult<(EntryRef, TimeEntry)> {
    refuse_client(caller)?;
    let found = load::<EntryRef>(&*services.table, &keys::entry_ref(&caller.tenant, id))
        .await?
        .filter(|r| sees_work_of(caller, &r.person_id))
        .ok_or(ApiError::NotFound("time entry"))?;
    let entry = load::<TimeEntry>(&*services.table, &found.entry_key(&caller.tenant))
        .await?
        .ok_or(ApiError::NotFound("time entry"))?;
    Ok((found, entry))
}

/// The expense with this id, if the caller may see its owner's work.
pub async fn visible_expense(services: &Services, caller: &Caller, id: &str) -> ApiResult<Expense> {
    refuse_client(caller)?;
    load::<Expense>(&*services.table, &keys::expense(&caller.tenant, id))
        .await?
        .filter(|e| sees_work_of(caller, &e.person_id))
        .ok_or(ApiError::NotFound("expense"))
}

/// Only admins hand out the roles that see the agency's money; managers hand
/// out the others; nobody else manages people.
pub fn may_grant_role(caller: &Caller, role: Role) -> ApiResult<()> {
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

/// Submitting work for approval: the person themself, or an admin or manager
/// for them (the same rule as changing their work).
pub fn require_may_submit(caller: &Caller, owner: &str) -> ApiResult<()> {
    refuse_client(caller)?;
    may_change_work_of(caller, owner)
}

/// Approving or rejecting someone's work, before looking at which projects:
/// the staff who take work decisions, never on their own work except admins.
pub fn require_may_decide(caller: &Caller, owner: &str) -> ApiResult<()> {
    require_takes_work_decisions(caller)?;
    if caller.person == owner && caller.role != Role::Admin {
        return Err(ApiError::forbidden(
            "nobody approves or rejects their own work; ask another approver",
        ));
    }
    Ok(())
}

/// Managers decide only on the projects they are on; other approvers on any.
pub fn decides_only_on_own_projects(caller: &Caller) -> bool {
    caller.role == Role::Manager
}

/// Members and contractors book work only on projects whose team they are on;
/// staff who run the agency book on any.
pub fn books_only_on_own_team(role: Role) -> bool {
    matches!(role, Role::Member | Role::Contractor)
}

/// Only an admin re-opens a closed period (moves the lock date earlier or clears it).
pub fn require_reopens_periods(caller: &Caller) -> ApiResult<()> {
    if caller.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only an admin may re-open a closed period (move the lock date earlier or clear it)",
        ))
    }
}

#[cfg(test)]
mod maker_checker_tests {
    use super::*;

    fn caller(person: &str, role: Role) -> Caller {
        Caller {
            tenant: "acme".into(),
            person: person.into(),
            role,
            client: None,
        }
    }

    #[test]
    fn whoever_made_someone_elses_work_does_not_approve_it() {
        let mia = caller("mia", Role::Manager);
        assert!(may_approve_made_work(&mia, "rui", Some("mia"), Some("rui")).is_err());
        assert!(may_approve_made_work(&mia, "rui", Some("rui"), Some("mia")).is_err());
        assert!(may_approve_made_work(&mia, "rui", Some("rui"), Some("rui")).is_ok());
        // Work stored before makers were recorded.
        assert!(may_approve_made_work(&mia, "rui", None, None).is_ok());
        let fin = caller("fin", Role::Finance);
        assert!(may_approve_made_work(&fin, "rui", Some("fin"), None).is_err());
        // Admins stay trusted.
        let boss = caller("boss", Role::Admin);
        assert!(may_approve_made_work(&boss, "rui", Some("boss"), Some("boss")).is_ok());
        assert!(made_or_changed(&boss, Some("boss"), None));
    }

    #[test]
    fn each_role_reaches_what_its_lists_show() {
        let client = Caller {
            client: Some("c1".into()),
            ..caller("cu", Role::Client)
        };
        for role in [Role::Admin, Role::Finance, Role::Manager] {
            let c = caller("x", role);
            assert_eq!(work_reach(&c).ok(), Some(WorkReach::Everything), "{role:?}");
            assert_eq!(
                people_reach(&c).ok(),
                Some(PeopleReach::Everyone),
                "{role:?}"
            );
            assert_eq!(
                intake_reach(&c).ok(),
                Some(IntakeReach::Everything),
                "{role:?}"
            );
        }
        for role in [Role::Member, Role::Contractor] {
            let c = caller("x", role);
            assert_eq!(
                work_reach(&c).ok(),
                Some(WorkReach::OwnProjects),
                "{role:?}"
            );
            assert_eq!(
                people_reach(&c).ok(),
                Some(PeopleReach::OnlySelf),
                "{role:?}"
            );
            assert!(intake_reach(&c).is_err(), "{role:?}");
            assert!(intake_filer(&c).is_err(), "{role:?}");
        }
        assert_eq!(
            work_reach(&client).ok(),
            Some(WorkReach::OwnClient("c1".into()))
        );
        assert!(people_reach(&client).is_err());
        assert_eq!(
            intake_reach(&client).ok(),
            Some(IntakeReach::OwnClient("c1".into()))
        );
        assert_eq!(
            intake_filer(&client).ok(),
            Some(IntakeFiler::ForOwnClient("c1".into()))
        );
        assert_eq!(
            intake_filer(&caller("m", Role::Manager)).ok(),
            Some(IntakeFiler::ForAnyClient)
        );
        assert!(intake_filer(&caller("f", Role::Finance)).is_err());
        assert!(may_grant_role(&caller("m", Role::Manager), Role::Finance).is_err());
        assert!(may_grant_role(&caller("m", Role::Manager), Role::Member).is_ok());
        assert!(require_reopens_periods(&caller("f", Role::Finance)).is_err());
        assert!(require_reopens_periods(&caller("b", Role::Admin)).is_ok());
    }

    #[test]
    fn only_staff_see_rates() {
        for (role, sees) in [
            (Role::Admin, true),
            (Role::Finance, true),
            (Role::Manager, true),
            (Role::Member, false),
            (Role::Contractor, false),
            (Role::Client, false),
        ] {
            assert_eq!(sees_rates(&caller("x", role)), sees, "{role:?}");
        }
    }
}

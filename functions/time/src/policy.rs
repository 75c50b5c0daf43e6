//! Whose work is recorded, on which projects, and the field rules every piece
//! of dated work shares. Who may see or change whose work is decided in
//! `platform::access` (re-exported here for the handlers' operations).

use agencyops_domain::timesheet::WorkStatus;
use agencyops_domain::{Id, Role};
use agencyops_platform::access;
use agencyops_platform::error::Problems;
use agencyops_platform::extract::IfMatch;
use agencyops_platform::{ApiError, ApiResult, Caller, Conflict, Services};
use agencyops_store::record::{self, load};
use agencyops_store::records::{Person, Project, ProjectMember, Task};
use agencyops_store::{keys, Key};

use crate::entry_writes::Reads;
use jiff::civil::Date;

/// Longest note kept on an entry or expense.
pub const MAX_NOTE: usize = 2000;
/// Work is dated within the years an ISO week can name.
const YEARS: std::ops::RangeInclusive<i16> = 1900..=2999;

pub use agencyops_platform::access::{
    may_change_work_of, refuse_client, require_records_for, sees_work_of, visible_work_owner,
};

/// Whose work is being recorded, and the role that decides which projects they may book.
#[derive(Clone, Debug)]
pub struct Worker {
    pub id: String,
    pub role: Role,
}

impl Worker {
    pub fn caller(caller: &Caller) -> Worker {
        Worker {
            id: caller.person.clone(),
            role: caller.role,
        }
    }
}

/// The caller, or the person they record for: only admins and managers record
/// for someone else, and only for an active person of the agency who records time.
pub async fn worker(s: &Services, caller: &Caller, person_id: Option<&str>) -> ApiResult<Worker> {
    let id = match person_id {
        None => return Ok(Worker::caller(caller)),
        Some(id) if id == caller.person => return Ok(Worker::caller(caller)),
        Some(id) => id,
    };
    access::require_records_for_others(caller)?;
    other_worker(load::<Person>(&*s.table, &keys::person(&caller.tenant, id)).await?)
}

/// Someone else as the worker: an active person of the agency who records time.
fn other_worker(person: Option<Person>) -> ApiResult<Worker> {
    let person = person
        .filter(|p| p.active && p.role.works_for_the_agency())
        .ok_or_else(|| ApiError::field("person_id", "is not an active person who records time"))?;
    Ok(Worker {
        id: person.id,
        role: person.role,
    })
}

/// The project as found, for a worker who is `on_team` or not: it exists,
/// members and contractors are on its team, and it still takes work.
fn bookable(project: Option<Project>, worker: &Worker, on_team: bool) -> ApiResult<Project> {
    let project = project.ok_or(ApiError::NotFound("project"))?;
    if access::books_only_on_own_team(worker.role) && !on_team {
        return Err(ApiError::forbidden("not assigned to this project"));
    }
    open_project(project)
}

/// A task of the project, as found, that still takes time.
fn open_task_found(task: Option<Task>) -> ApiResult<Task> {
    match task {
        Some(t) if !t.archived => Ok(t),
        Some(_) => Err(ApiError::field("task_id", "the task is archived")),
        None => Err(ApiError::field("task_id", "is not a task of this project")),
    }
}

/// The project work is booked on: it exists (404), members and contractors are
/// on its team (403), and it still takes work (409 once closed). For them the
/// project and their team membership are one batch read, not two round trips.
pub async fn project_for_work(
    s: &Services,
    caller: &Caller,
    project_id: &str,
    worker: &Worker,
) -> ApiResult<Project> {
    let project_key = keys::project(&caller.tenant, project_id);
    if !access::books_only_on_own_team(worker.role) {
        let project = load::<Project>(&*s.table, &project_key).await?;
        return bookable(project, worker, false);
    }
    let member_key = keys::member(&caller.tenant, project_id, &worker.id);
    let mut project = None;
    let mut on_team = false;
    for item in s
        .table
        .batch_get(&[project_key.clone(), member_key.clone()])
        .await?
    {
        let key = Key::of(&item);
        if key.as_ref() == Some(&project_key) && record::is::<Project>(&item) {
            project = Some(record::from_item::<Project>(item)?);
        } else if key.as_ref() == Some(&member_key) && record::is::<ProjectMember>(&item) {
            on_team = true;
        }
    }
    bookable(project, worker, on_team)
}

/// Refuses work on a closed project.
pub fn open_project(project: Project) -> ApiResult<Project> {
    if project.stage.accepts_time() {
        Ok(project)
    } else {
        Err(Conflict::ProjectClosed.into())
    }
}

/// The project an existing piece of work belongs to, open to changes.
pub async fn project_of_work(
    s: &Services,
    caller: &Caller,
    project_id: &str,
) -> ApiResult<Project> {
    let project = load::<Project>(&*s.table, &keys::project(&caller.tenant, project_id))
        .await?
        .ok_or(ApiError::NotFound("project"))?;
    open_project(project)
}

/// A task of the project that still takes time; anything else is a 400 on `task_id`.
pub async fn open_task(
    s: &Services,
    caller: &Caller,
    project_id: &str,
    id: &str,
) -> ApiResult<Task> {
    let id = Id::parse(id).map_err(|why| ApiError::invalid("task_id", why))?;
    open_task_found(load::<Task>(&*s.table, &keys::task(&caller.tenant, project_id, &id)).await?)
}

/// Where a new entry is booked, all of it read in one batch with the
/// entry's guards: whose work it is ([`worker`]), the project and team
/// ([`project_for_work`]), a manager's own membership when they book for
/// someone else ([`require_records_for`]) and the task ([`open_task`]),
/// refused in that order and for the same reasons.
pub struct Booking {
    pub worker: Worker,
    pub project: Project,
    pub task: Option<Task>,
}

/// What [`Booking::from_reads`] needs read: who (when someone else), the
/// project, the worker's and the caller's team memberships, and the task.
pub fn booking_keys(
    caller: &Caller,
    project_id: &str,
    person_id: Option<&str>,
    task_id: Option<&str>,
) -> Vec<Key> {
    let tenant = caller.tenant.as_str();
    let mut keys = vec![keys::project(tenant, project_id)];
    let worker = person_id.unwrap_or(&caller.person);
    if worker != caller.person {
        keys.push(keys::person(tenant, worker));
        keys.push(keys::member(tenant, project_id, &caller.person));
    }
    keys.push(keys::member(tenant, project_id, worker));
    if let Some(t) = task_id {
        keys.push(keys::task(tenant, project_id, t));
    }
    keys
}

impl Booking {
    pub fn from_reads(
        caller: &Caller,
        project_id: &str,
        person_id: Option<&str>,
        task_id: Option<&str>,
        reads: &mut Reads,
    ) -> ApiResult<Booking> {
        let tenant = caller.tenant.as_str();
        let worker = match person_id {
            Some(id) if id != caller.person => {
                access::require_records_for_others(caller)?;
                other_worker(reads.take::<Person>(&keys::person(tenant, id))?)?
            }
            _ => Worker::caller(caller),
        };
        let project = reads.take::<Project>(&keys::project(tenant, project_id))?;
        let on_team = reads
            .take::<ProjectMember>(&keys::member(tenant, project_id, &worker.id))?
            .is_some();
        let project = bookable(project, &worker, on_team)?;
        if worker.id != caller.person && caller.role == Role::Manager {
            let caller_on_team = reads
                .take::<ProjectMember>(&keys::member(tenant, project_id, &caller.person))?
                .is_some();
            access::require_manager_on_team(caller_on_team)?;
        }
        let task = match task_id {
            None => None,
            Some(id) => Some(open_task_found(
                reads.take::<Task>(&keys::task(tenant, project_id, id))?,
            )?),
        };
        Ok(Booking {
            worker,
            project,
            task,
        })
    }
}

/// New work is billable when the project bills time and the task is billable.
pub fn default_billable(project: &Project, task: Option<&Task>) -> bool {
    project.billing_model.billable_by_default() && task.is_none_or(|t| t.billable)
}

pub fn check_date(p: &mut Problems, field: &str, date: Date) {
    if !YEARS.contains(&date.year()) {
        p.add(field, "must be a date between 1900 and 2999");
    }
}

pub fn check_note(p: &mut Problems, field: &str, note: &str) {
    if note.chars().count() > MAX_NOTE {
        p.add(field, format!("must be at most {MAX_NOTE} characters"));
    }
}

/// A body id, parsed by the one id rule ([`Id`]); a bad one is a problem on `field`.
pub fn check_id(p: &mut Problems, field: &str, id: &str) -> Option<Id> {
    p.check(field, Id::parse(id))
}

/// The project (and task, if any) that new work names are well-formed ids.
pub fn check_target(p: &mut Problems, project_id: &str, task_id: Option<&str>) {
    check_id(p, "project_id", project_id);
    if let Some(t) = task_id {
        check_id(p, "task_id", t);
    }
}

/// What decides whether an existing piece of work may change.
#[derive(Clone, Copy, Debug)]
pub struct WorkState<'a> {
    /// "time entry" or "expense", for the message.
    pub kind: &'a str,
    pub person_id: &'a str,
    pub version: u64,
    pub status: WorkStatus,
}

impl<'a> WorkState<'a> {
    pub fn of(kind: &'a str, person_id: &'a str, version: u64, status: WorkStatus) -> Self {
        WorkState {
            kind,
            person_id,
            version,
            status,
        }
    }
}

/// Work the caller may change: theirs or, for managers, anyone's (403); at
/// the version they name (412); and still editable (409 locked).
pub fn require_changeable(
    caller: &Caller,
    work: WorkState<'_>,
    if_match: IfMatch,
) -> ApiResult<()> {
    may_change_work_of(caller, work.person_id)?;
    if if_match.0.is_some_and(|v| v != work.version) {
        return Err(ApiError::PreconditionFailed);
    }
    require_editable(work.kind, work.status)
}

/// Refuses changes to approved, submitted or invoiced work, saying why.
pub fn require_editable(kind: &str, status: WorkStatus) -> ApiResult<()> {
    match status.locked_reason() {
        None => Ok(()),
        Some(why) => Err(ApiError::locked(format!(
            "this {kind} cannot change: {why}"
        ))),
    }
}

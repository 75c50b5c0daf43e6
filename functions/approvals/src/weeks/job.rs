//! Moving a whole week, however many entries it has, as one resumable job.
//!
//! 1. The job is recorded on the week (`TimesheetWeek.job`) in one transaction
//!    with the lock-date pin and a "<action>.start" audit record. The time
//!    function pins the week on every entry write and refuses while a job is
//!    pending, so from then on the week's entries cannot change under the job.
//! 2. Batches of at most [`BATCH`] entries follow, each one transaction that
//!    replaces the entries and the week under version conditions. Each batch
//!    re-reads the week and takes only entries still in the job's from-state,
//!    so a repeated request resumes exactly where a crash stopped it.
//! 3. The burn changes of everything the job moved are announced (ids stable
//!    per job and project, so announcing twice is harmless).
//! 4. The job is cleared together with the audit record of the whole action.
//!
//! Until step 4 readers see the week "in progress" rather than half moved.

use std::collections::{BTreeSet, HashMap};

use agencyops_domain::timesheet::{week_status, IsoWeek, WeekStatus, WorkStatus};
use agencyops_platform::events::APPROVED_QUEUE;
use agencyops_platform::period::Period;
use agencyops_platform::resource::{self, new_id};
use agencyops_platform::{ApiError, ApiResult, Caller, Conflict, Fails, Services, Tx};
use agencyops_store::audit::AuditAction;
use agencyops_store::keys;
use agencyops_store::record::{self, from_item, is, Record};
use agencyops_store::records::{LockDate, Person, Project, TimeEntry, TimesheetWeek, WeekJob};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::plan::{self, Action, BATCH};
use super::reads::{read_entries, RateBook};
use crate::approvers::{require_manages, require_may_decide, require_may_submit};

/// A request to move one person's week.
pub struct WeekRequest {
    pub action: Action,
    pub person_id: String,
    pub week: IsoWeek,
    pub project_id: Option<String>,
    pub reason: Option<String>,
}

/// What the action did to the week.
#[derive(Debug, Serialize, ToSchema)]
pub struct WeekOutcome {
    pub person_id: String,
    #[schema(value_type = String, example = "2026-W47")]
    pub week: IsoWeek,
    /// "submit", "approve" or "reject".
    pub action: String,
    pub project_id: Option<String>,
    /// The week's state now, from its entries.
    pub status: WeekStatus,
    /// How many entries the action moved.
    pub moved: usize,
    pub entry_ids: Vec<String>,
}

const NAME_PROJECT: &str = "name project_id to act only on the projects you manage";

pub async fn run(s: &Services, caller: &Caller, req: WeekRequest) -> ApiResult<WeekOutcome> {
    match req.action {
        Action::Submit => require_may_submit(caller, &req.person_id)?,
        Action::Approve | Action::Reject => require_may_decide(caller, &req.person_id)?,
    }
    let tenant = &caller.tenant;
    if let Some(p) = &req.project_id {
        resource::fetch::<Project>(s, &keys::project(tenant, p)).await?;
        require_manages(s, caller, [p.as_str()], NAME_PROJECT).await?;
    }
    // The week, the person and the lock date in one read; the entries in one query.
    let week_key = keys::week(tenant, &req.person_id, &req.week.to_string());
    let (stored, person, lock) = load_three::<TimesheetWeek, Person, LockDate>(
        s,
        [
            week_key,
            keys::person(tenant, &req.person_id),
            keys::lock_date(tenant),
        ],
    )
    .await?;
    let period = Period::of(lock, s.clock.now());
    let entries = read_entries(s, tenant, &req.person_id, req.week).await?;
    if person.is_none() && stored.is_none() && entries.is_empty() {
        // Another tenant's person, or nobody at all.
        return Err(ApiError::NotFound("person"));
    }
    let week =
        stored.unwrap_or_else(|| TimesheetWeek::empty(&req.person_id, req.week, s.clock.now()));
    // A job already pending holds the week: its entries cannot have changed
    // since they were read. A job started now must read them after it starts.
    let held = week.job.is_some();
    let (job, week) = match &week.job {
        Some(job) if job.action == req.action && job.project_id == req.project_id => {
            // The same request again: finish what was started, if the caller may.
            if req.action != Action::Submit {
                let scope = plan::to_move(req.action, job.project_id.as_deref(), &entries)
                    .chain(plan::moved_by(job, &entries))
                    .map(|e| e.project_id.as_str())
                    .collect::<BTreeSet<_>>();
                require_manages(s, caller, scope, NAME_PROJECT).await?;
            }
            if req.action == Action::Approve {
                plan::check_makers(
                    caller,
                    plan::to_move(req.action, job.project_id.as_deref(), &entries),
                )?;
            }
            (job.clone(), week)
        }
        Some(job) => {
            return Err(Conflict::JobInProgress(format!(
                "another change to this week is in progress (a {} started at {}); repeat that request to finish it first",
                job.action, job.started_at
            ))
            .into())
        }
        None if plan::already_done(req.action, req.project_id.as_deref(), &entries) => {
            if req.action != Action::Submit {
                let scope = entries
                    .iter()
                    .filter(|e| plan::covers(req.action, req.project_id.as_deref(), e))
                    .map(|e| e.project_id.as_str())
                    .collect::<BTreeSet<_>>();
                require_manages(s, caller, scope, NAME_PROJECT).await?;
            }
            return Ok(WeekOutcome {
                person_id: req.person_id.clone(),
                week: req.week,
                action: req.action.as_str().into(),
                project_id: req.project_id.clone(),
                status: week_status(entries.iter().map(|e| e.status)),
                moved: 0,
                entry_ids: Vec::new(),
            });
        }
        None => start(s, caller, &req, week, &entries, &period).await?,
    };
    let mut book = RateBook {
        person,
        ..RateBook::default()
    };
    let known = held.then_some(entries);
    let (week, entries) =
        move_in_batches(s, tenant, job.clone(), week, known, &period, &mut book).await?;
    announce(s, tenant, &job, &entries).await?;
    finish(s, caller, &job, week, &entries).await
}

/// Three records of different kinds in one batch read, each if it exists.
async fn load_three<A: Record, B: Record, C: Record>(
    s: &Services,
    keys: [agencyops_store::Key; 3],
) -> ApiResult<(Option<A>, Option<B>, Option<C>)> {
    let (mut a, mut b, mut c) = (None, None, None);
    for item in s.table.batch_get(&keys).await? {
        if is::<A>(&item) {
            a = Some(from_item(item)?);
        } else if is::<B>(&item) {
            b = Some(from_item(item)?);
        } else if is::<C>(&item) {
            c = Some(from_item(item)?);
        }
    }
    Ok((a, b, c))
}

/// Validates the action against the week as it is and records the job.
async fn start(
    s: &Services,
    caller: &Caller,
    req: &WeekRequest,
    week: TimesheetWeek,
    entries: &[TimeEntry],
    period: &Period,
) -> ApiResult<(WeekJob, TimesheetWeek)> {
    let tenant = &caller.tenant;
    let project = req.project_id.as_deref();
    let todo: Vec<&TimeEntry> = plan::to_move(req.action, project, entries).collect();
    if req.action != Action::Submit {
        // A manager decides only on projects they are on (submitting needs no project).
        let projects: BTreeSet<&str> = todo.iter().map(|e| e.project_id.as_str()).collect();
        require_manages(s, caller, projects, NAME_PROJECT).await?;
    }
    if req.action == Action::Reject
        && entries
            .iter()
            .any(|e| plan::covers(req.action, project, e) && e.status == WorkStatus::Invoiced)
    {
        return Err(ApiError::locked(
            "part of this work has been invoiced and is locked; correct it with a credit note",
        ));
    }
    if todo.is_empty() {
        return Err(Conflict::NothingToDo(req.action.nothing_to_do().into()).into());
    }
    if req.action == Action::Approve {
        plan::check_makers(caller, todo.iter().copied())?;
    }
    for e in &todo {
        period.check(e.date)?;
    }
    let now = s.clock.now();
    let job = WeekJob {
        id: new_id(),
        action: req.action,
        project_id: req.project_id.clone(),
        actor: caller.person.clone(),
        reason: req.reason.clone(),
        started_at: now,
        batches_done: 0,
    };
    let mut next = week.clone();
    next.job = Some(job.clone());
    let expected = record::bump(&mut next, now);
    let mut tx = Tx::new(tenant);
    tx.save(
        &next,
        expected,
        Fails::changed("this week changed while the request was being checked; reload and retry"),
    )?
    .push(
        period.pin(tenant),
        Fails::changed("the lock date changed while the request was being checked; retry"),
    )
    .audit(
        s,
        caller,
        AuditAction::start_of_week(req.action),
        (expected > 0).then_some(&week),
        Some(&next),
        &next.id,
    )?;
    tx.commit(s).await?;
    Ok((job, next))
}

/// Commits the job's batches until nothing is left in its from-state; returns
/// the week and its entries as they are then. Each batch reads the entries
/// (`known`: read while the job already held the week, so still current), so
/// a resumed job takes only what is still to move; after the last batch they
/// are known without reading them once more.
async fn move_in_batches(
    s: &Services,
    tenant: &str,
    job: WeekJob,
    mut week: TimesheetWeek,
    known: Option<Vec<TimeEntry>>,
    period: &Period,
    book: &mut RateBook,
) -> ApiResult<(TimesheetWeek, Vec<TimeEntry>)> {
    let (person, week_of) = (week.person_id.clone(), week.week);
    let action = job.action;
    let mut known = known;
    loop {
        let mut entries = match known.take() {
            Some(e) => e,
            None => read_entries(s, tenant, &person, week_of).await?,
        };
        let left = plan::to_move(action, job.project_id.as_deref(), &entries).count();
        let todo: Vec<&TimeEntry> = plan::to_move(action, job.project_id.as_deref(), &entries)
            .take(BATCH)
            .collect();
        if todo.is_empty() {
            return Ok((week, entries));
        }
        for e in &todo {
            // A lock set while the job was pending stops it: nothing more moves in a closed period.
            period.check(e.date)?;
        }
        if action == Action::Approve {
            book.load(s, tenant, todo.iter().map(|e| e.project_id.as_str()))
                .await?;
        }
        let now = s.clock.now();
        // Whatever fails, the week moved on under the job; repeating resumes it.
        let moved = Fails::changed(format!(
            "the week changed while the {} was in progress; repeat the request to resume it",
            job.action
        ));
        let mut tx = Tx::new(tenant).contended(moved.clone());
        let mut after: HashMap<String, TimeEntry> = HashMap::new();
        for e in &todo {
            let approval = match action {
                Action::Approve => Some(book.approval(e, &job, now)?),
                _ => None,
            };
            let next = plan::moved(e, &job, approval, now);
            tx.replace(&next, e.version, moved.clone())?;
            after.insert(next.id.clone(), next);
        }
        let mut next = week.clone();
        if let Some(j) = next.job.as_mut() {
            j.batches_done += 1;
        }
        let expected = record::bump(&mut next, now);
        tx.replace(&next, expected, moved.clone())?
            .push(period.pin(tenant), moved);
        tx.commit(s).await?;
        week = next;
        if left <= BATCH {
            // That was the last batch: the week holds nothing else to move.
            for e in &mut entries {
                if let Some(n) = after.remove(&e.id) {
                    *e = n;
                }
            }
            return Ok((week, entries));
        }
    }
}

/// Announces the job's burn changes on the `approved` queue. A failure is a 5xx
/// (never remembered by the idempotency layer), so the client's retry resumes
/// the job and announces again; the consumer applies each change id once.
async fn announce(
    s: &Services,
    tenant: &str,
    job: &WeekJob,
    entries: &[TimeEntry],
) -> ApiResult<()> {
    let changes = plan::burn_changes(tenant, job, entries)
        .ok_or_else(|| ApiError::Internal("burn change out of range".into()))?;
    if changes.is_empty() {
        return Ok(());
    }
    let bodies: Vec<String> = changes.iter().map(|c| c.to_body()).collect();
    s.queue
        .send_batch(APPROVED_QUEUE, &bodies)
        .await
        .map_err(|e| ApiError::Internal(format!("announcing approved work failed: {e}")))
}

/// Clears the job and records the whole action in the audit trail.
async fn finish(
    s: &Services,
    caller: &Caller,
    job: &WeekJob,
    week: TimesheetWeek,
    entries: &[TimeEntry],
) -> ApiResult<WeekOutcome> {
    let action = job.action;
    let moved = plan::moved_by(job, entries);
    let moved_ids: Vec<String> = moved.iter().map(|e| e.id.clone()).collect();
    let makers = plan::makers(&job.actor, &moved);
    let before = week_status(entries.iter().map(|e| {
        if moved_ids.contains(&e.id) {
            plan::status_before(action, e)
        } else {
            e.status
        }
    }));
    let after = week_status(entries.iter().map(|e| e.status));
    let now = s.clock.now();
    let mut done = week.clone();
    done.job = None;
    match action {
        Action::Submit => {
            done.submitted_at = Some(now);
            done.decided_by = None;
            done.rejection_reason = None;
        }
        Action::Approve => done.decided_by = Some(job.actor.clone()),
        Action::Reject => {
            done.decided_by = Some(job.actor.clone());
            done.rejection_reason = job.reason.clone();
        }
    }
    let expected = record::bump(&mut done, now);
    let audit = resource::audit_entry(
        s,
        &caller.tenant,
        resource::actor(caller),
        AuditAction::of_week(action),
        (TimesheetWeek::KIND, &done.id),
        Some(json!({"status": before, "project_id": job.project_id})),
        Some(json!({
            "status": after,
            "project_id": job.project_id,
            "entry_ids": moved_ids,
            "reason": job.reason,
            "job_id": job.id,
            "recorded_by": makers.recorded_by,
            "changed_by": makers.changed_by,
            // Entries the actor had also recorded or changed (admins only).
            "recorded_or_changed_by_actor": makers.by_actor,
        })),
    )
    .map_err(ApiError::from)?;
    let finishing = Fails::changed(format!(
        "the week changed while the {} was finishing; repeat the request",
        job.action
    ));
    let mut tx = Tx::new(&caller.tenant);
    tx.replace(&done, expected, finishing.clone())?
        .push(audit, finishing);
    tx.commit(s).await?;
    Ok(WeekOutcome {
        person_id: done.person_id.clone(),
        week: done.week,
        action: job.action.as_str().into(),
        project_id: job.project_id.clone(),
        status: after,
        moved: moved_ids.len(),
        entry_ids: moved_ids,
    })
}

//! The pure part of a week job: which entries an action moves, what each becomes,
//! which entries a (possibly resumed) job has already moved, and the burn
//! changes it announces. No storage here, so every rule has a unit test.

use std::collections::{BTreeMap, BTreeSet};

use agencyops_domain::timesheet::{value_of, WorkStatus};
use agencyops_platform::access;
use agencyops_platform::events::{BurnChange, BurnKind};
use agencyops_platform::{ApiResult, Caller};
use agencyops_store::record;
use agencyops_store::records::{Approval, Rejection, TimeEntry, WeekJob};
use jiff::Timestamp;
use rust_decimal::Decimal;

/// Entries one batch moves: with the week record they stay well under a
/// transaction's 100 writes.
pub const BATCH: usize = 90;

/// The week action, shared with the stored job so the two cannot disagree.
pub use agencyops_domain::timesheet::WeekAction as Action;

/// Whether the action (limited to `project`, when named) covers the entry at all,
/// whatever its state. Submitting always covers the whole week.
pub fn covers(action: Action, project: Option<&str>, entry: &TimeEntry) -> bool {
    action == Action::Submit || project.is_none_or(|p| entry.project_id == p)
}

/// The entries the action would still move.
pub fn to_move<'a>(
    action: Action,
    project: Option<&'a str>,
    entries: &'a [TimeEntry],
) -> impl Iterator<Item = &'a TimeEntry> + 'a {
    entries
        .iter()
        .filter(move |e| covers(action, project, e) && action.moves_from(e.status))
}

/// Whether the action has nothing left to do because everything it covers is
/// already where it would put it: a repeated submit or approve answers 200, so
/// a client that retries without an Idempotency-Key is not told it failed.
pub fn already_done(action: Action, project: Option<&str>, entries: &[TimeEntry]) -> bool {
    use WorkStatus::*;
    let mut covered = entries
        .iter()
        .filter(|e| covers(action, project, e))
        .peekable();
    covered.peek().is_some()
        && covered.all(|e| match action {
            Action::Submit => matches!(e.status, Submitted | Approved | Invoiced),
            Action::Approve => matches!(e.status, Approved | Invoiced),
            Action::Reject => e.status == Rejected,
        })
}

/// Maker-checker over every entry an approval would move, from the entries
/// already read (no read per entry): one the approver recorded or last
/// changed for someone else refuses the whole approval.
pub fn check_makers<'a>(
    caller: &Caller,
    entries: impl IntoIterator<Item = &'a TimeEntry>,
) -> ApiResult<()> {
    for e in entries {
        access::may_approve_made_work(
            caller,
            &e.person_id,
            e.recorded_by.as_deref(),
            e.changed_by.as_deref(),
        )?;
    }
    Ok(())
}

/// Who made the moved work, for the audit record of the action: everyone who
/// recorded it, everyone who last changed it, and the entries the actor had
/// recorded or changed themself (only an admin may also approve those).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Makers {
    pub recorded_by: BTreeSet<String>,
    pub changed_by: BTreeSet<String>,
    pub by_actor: Vec<String>,
}

pub fn makers(actor: &str, moved: &[&TimeEntry]) -> Makers {
    let mut m = Makers::default();
    for e in moved {
        m.recorded_by.extend(e.recorded_by.clone());
        m.changed_by.extend(e.changed_by.clone());
        if e.recorded_by.as_deref() == Some(actor) || e.changed_by.as_deref() == Some(actor) {
            m.by_actor.push(e.id.clone());
        }
    }
    m
}

/// The entry after the job's action. `approval` is the snapshot for an approve.
pub fn moved(
    entry: &TimeEntry,
    job: &WeekJob,
    approval: Option<Approval>,
    now: Timestamp,
) -> TimeEntry {
    let mut next = entry.clone();
    match job.action {
        Action::Submit => next.status = WorkStatus::Submitted,
        Action::Approve => {
            next.status = WorkStatus::Approved;
            next.approval = approval;
        }
        Action::Reject => {
            next.status = WorkStatus::Rejected;
            next.rejection = Some(Rejection {
                rejected_by: job.actor.clone(),
                rejected_at: now,
                reason: job.reason.clone().unwrap_or_default(),
                job_id: Some(job.id.clone()),
                // Kept so the burn it had added can be taken off again.
                unapproved: next.approval.take(),
            });
        }
    }
    record::bump(&mut next, now);
    next
}

/// The entries this job has moved so far (committed batches). Approvals and
/// rejections carry the job id; a submission is recognised by being submitted
/// since the job started (nothing else changes a week while its job is pending).
pub fn moved_by<'a>(job: &'a WeekJob, entries: &'a [TimeEntry]) -> Vec<&'a TimeEntry> {
    let mine = |id: &Option<String>| id.as_deref() == Some(job.id.as_str());
    entries
        .iter()
        .filter(|e| match job.action {
            Action::Approve => {
                e.status == WorkStatus::Approved
                    && e.approval.as_ref().is_some_and(|a| mine(&a.job_id))
            }
            Action::Reject => {
                e.status == WorkStatus::Rejected
                    && e.rejection.as_ref().is_some_and(|r| mine(&r.job_id))
            }
            Action::Submit => e.status == WorkStatus::Submitted && e.updated_at >= job.started_at,
        })
        .collect()
}

/// The state a moved entry had before the job moved it, for the audit trail.
pub fn status_before(action: Action, entry: &TimeEntry) -> WorkStatus {
    match action {
        Action::Submit if entry.rejection.is_some() => WorkStatus::Rejected,
        Action::Submit => WorkStatus::Draft,
        Action::Approve => WorkStatus::Submitted,
        Action::Reject => match &entry.rejection {
            Some(r) if r.unapproved.is_some() => WorkStatus::Approved,
            _ => WorkStatus::Submitted,
        },
    }
}

#[derive(Default)]
struct Sum {
    minutes: i64,
    billable_minutes: i64,
    fees: Decimal,
    cost: Decimal,
    currency: Option<agencyops_domain::Currency>,
}

impl Sum {
    fn add(&mut self, entry: &TimeEntry, a: &Approval) -> Option<()> {
        let minutes = i64::from(entry.minutes);
        self.minutes = self.minutes.checked_add(minutes)?;
        if entry.billable {
            self.billable_minutes = self.billable_minutes.checked_add(minutes)?;
        }
        self.fees = self.fees.checked_add(a.value)?;
        // Cost counts only where it is in the project's currency.
        if let (Some(rate), Some(cur)) = (a.cost_rate, a.cost_currency) {
            if cur == a.currency {
                self.cost = self.cost.checked_add(value_of(entry.minutes, rate)?)?;
            }
        }
        self.currency = Some(a.currency);
        Some(())
    }
}

/// One change per project for the work the job moved: what an approval added,
/// or (negated) what a rejection of approved work took back. A submission
/// changes no burn. The change id is stable per job and project, so a resumed
/// job announces exactly the same changes again and the consumer ignores repeats.
/// None only on arithmetic overflow.
pub fn burn_changes(tenant: &str, job: &WeekJob, entries: &[TimeEntry]) -> Option<Vec<BurnChange>> {
    let action = job.action;
    let mut sums: BTreeMap<&str, Sum> = BTreeMap::new();
    for e in moved_by(job, entries) {
        let approval = match action {
            Action::Approve => e.approval.as_ref(),
            Action::Reject => e.rejection.as_ref().and_then(|r| r.unapproved.as_ref()),
            Action::Submit => None,
        };
        if let Some(a) = approval {
            sums.entry(e.project_id.as_str()).or_default().add(e, a)?;
        }
    }
    let negate = action == Action::Reject;
    sums.into_iter()
        .filter_map(|(project, s)| s.currency.map(|c| (project, s, c)))
        .map(|(project, s, currency)| {
            let sign = |n: i64| if negate { -n } else { n };
            let dsign = |d: Decimal| if negate { -d } else { d };
            Some(BurnChange {
                kind: BurnKind::of(negate),
                tenant: tenant.into(),
                change_id: format!("{}:{project}", job.id),
                project_id: project.into(),
                minutes: sign(s.minutes),
                billable_minutes: sign(s.billable_minutes),
                fees: dsign(s.fees),
                cost: dsign(s.cost),
                currency,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use agencyops_domain::Currency;
    use agencyops_store::records::EntrySource;
    use jiff::civil::date;
    use rust_decimal_macros::dec;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(s).unwrap()
    }

    fn entry(id: &str, project: &str, minutes: u32, status: WorkStatus) -> TimeEntry {
        TimeEntry {
            id: id.into(),
            person_id: "ana".into(),
            project_id: project.into(),
            task_id: None,
            date: date(2026, 11, 18),
            minutes,
            note: String::new(),
            billable: true,
            status,
            source: EntrySource::Manual,
            approval: None,
            rejection: None,
            invoice_id: None,
            recorded_by: None,
            changed_by: None,
            version: 3,
            created_at: at(0),
            updated_at: at(0),
        }
    }

    fn job(action: Action, project: Option<&str>) -> WeekJob {
        WeekJob {
            id: "job1".into(),
            action,
            project_id: project.map(str::to_owned),
            actor: "boss".into(),
            reason: Some("wrong task".into()),
            started_at: at(100),
            batches_done: 0,
        }
    }

    fn approval(value: Decimal, job: &str) -> Approval {
        let eur = Currency::parse("EUR").unwrap();
        Approval {
            approved_by: "boss".into(),
            approved_at: at(100),
            bill_rate: Some(dec!(100)),
            rate_source: None,
            currency: eur,
            cost_rate: Some(dec!(30)),
            cost_currency: Some(eur),
            billed_minutes: 60,
            value,
            job_id: Some(job.into()),
        }
    }

    #[test]
    fn each_action_moves_only_from_its_states_and_in_its_scope() {
        use WorkStatus::*;
        let entries = vec![
            entry("a", "p", 60, Draft),
            entry("b", "p", 60, Submitted),
            entry("c", "q", 60, Submitted),
            entry("d", "p", 60, Approved),
            entry("e", "p", 60, Invoiced),
            entry("f", "q", 60, Rejected),
        ];
        let ids = |a, p| {
            to_move(a, p, &entries)
                .map(|e| e.id.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(Action::Submit, None), ["a", "f"]);
        // Submitting is always the whole week.
        assert_eq!(ids(Action::Submit, Some("p")), ["a", "f"]);
        assert_eq!(ids(Action::Approve, None), ["b", "c"]);
        assert_eq!(ids(Action::Approve, Some("q")), ["c"]);
        assert_eq!(ids(Action::Reject, Some("p")), ["b", "d"]);
    }

    fn caller(person: &str, role: agencyops_domain::Role) -> Caller {
        Caller {
            tenant: "acme".into(),
            person: person.into(),
            role,
            client: None,
        }
    }

    #[test]
    fn an_approval_is_refused_when_the_approver_made_any_entry_of_it() {
        use agencyops_domain::Role;
        let mut own = entry("a", "p", 60, WorkStatus::Submitted);
        own.recorded_by = Some("ana".into());
        own.changed_by = Some("ana".into());
        let mut changed = entry("b", "p", 60, WorkStatus::Submitted);
        changed.recorded_by = Some("ana".into());
        changed.changed_by = Some("mia".into());
        let mia = caller("mia", Role::Manager);
        assert!(check_makers(&mia, [&own]).is_ok());
        assert!(check_makers(&mia, [&own, &changed]).is_err());
        assert!(check_makers(&caller("fin", Role::Finance), [&own, &changed]).is_ok());
        assert!(check_makers(&caller("mia", Role::Admin), [&own, &changed]).is_ok());
        let m = makers("mia", &[&own, &changed]);
        assert_eq!(m.by_actor, ["b"]);
        assert_eq!(m.recorded_by.into_iter().collect::<Vec<_>>(), ["ana"]);
        assert_eq!(m.changed_by.into_iter().collect::<Vec<_>>(), ["ana", "mia"]);
    }

    #[test]
    fn rejecting_approved_work_keeps_the_undone_approval() {
        let mut e = entry("d", "p", 60, WorkStatus::Approved);
        e.approval = Some(approval(dec!(100), "old"));
        let j = job(Action::Reject, None);
        let next = moved(&e, &j, None, at(200));
        assert_eq!(next.status, WorkStatus::Rejected);
        assert_eq!(next.approval, None);
        assert!(!next.is_unbilled(), "it leaves work in progress");
        let r = next.rejection.as_ref().unwrap();
        assert_eq!(r.reason, "wrong task");
        assert_eq!(r.job_id.as_deref(), Some("job1"));
        assert_eq!(r.unapproved, e.approval);
        assert_eq!((next.version, next.updated_at), (4, at(200)));
        assert_eq!(status_before(Action::Reject, &next), WorkStatus::Approved);
    }

    #[test]
    fn a_job_recognises_its_own_work_after_a_resume() {
        let j = job(Action::Approve, None);
        let mut mine = entry("a", "p", 60, WorkStatus::Approved);
        mine.approval = Some(approval(dec!(100), "job1"));
        let mut earlier = entry("b", "p", 60, WorkStatus::Approved);
        earlier.approval = Some(approval(dec!(100), "job0"));
        let waiting = entry("c", "p", 60, WorkStatus::Submitted);
        let entries = vec![mine, earlier, waiting];
        let ids: Vec<_> = moved_by(&j, &entries).iter().map(|e| &e.id).collect();
        assert_eq!(ids, ["a"]);

        let s = job(Action::Submit, None);
        let mut now = entry("d", "p", 60, WorkStatus::Submitted);
        now.updated_at = at(150);
        let before = entry("e", "p", 60, WorkStatus::Submitted);
        let entries = vec![now, before];
        let ids: Vec<_> = moved_by(&s, &entries).iter().map(|e| &e.id).collect();
        assert_eq!(ids, ["d"]);
    }

    #[test]
    fn burn_changes_sum_per_project_and_negate_for_unapproval() {
        let j = job(Action::Approve, None);
        let mut a = entry("a", "p", 60, WorkStatus::Approved);
        a.approval = Some(approval(dec!(100), "job1"));
        let mut b = entry("b", "p", 30, WorkStatus::Approved);
        b.billable = false;
        b.approval = Some(approval(dec!(0), "job1"));
        let mut c = entry("c", "q", 90, WorkStatus::Approved);
        c.approval = Some(approval(dec!(150), "job1"));
        let changes = burn_changes("acme", &j, &[a.clone(), b, c]).unwrap();
        assert_eq!(changes.len(), 2);
        let p = &changes[0];
        assert_eq!(
            (p.change_id.as_str(), p.project_id.as_str()),
            ("job1:p", "p")
        );
        assert_eq!((p.minutes, p.billable_minutes), (90, 60));
        assert_eq!((p.fees, p.cost), (dec!(100), dec!(45)));
        assert_eq!(p.kind, BurnKind::Approved);

        let r = job(Action::Reject, None);
        let undone = moved(&a, &r, None, at(300));
        let changes = burn_changes("acme", &r, &[undone]).unwrap();
        assert_eq!(changes.len(), 1);
        let u = &changes[0];
        assert_eq!((u.minutes, u.fees, u.cost), (-60, dec!(-100), dec!(-30)));
        assert_eq!(u.kind, BurnKind::Unapproved);
        // Rejecting merely submitted work changes no burn.
        let s = entry("s", "p", 60, WorkStatus::Submitted);
        let undone = moved(&s, &r, None, at(300));
        assert!(burn_changes("acme", &r, &[undone]).unwrap().is_empty());
    }
}

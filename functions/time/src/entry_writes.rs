//! The one way a time entry is written. Every create, edit, delete and timer
//! stop is a single transaction that also carries the guards approvals rely on:
//! the lock date it saw, each touched timesheet week (refused while a submit or
//! approval job runs on it), each touched day's total (never over 24 hours),
//! the entry under its version, its id reference, and the audit record. A
//! concurrent approval, lock or entry makes one side fail cleanly.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use agencyops_domain::timesheet::{IsoWeek, WorkStatus, MINUTES_PER_DAY};
use agencyops_platform::period::Period;
use agencyops_platform::resource;
use agencyops_platform::{ApiError, ApiResult, Caller, Conflict, Fails, Services, Tx};
use agencyops_store::audit::AuditAction;
use agencyops_store::record::{self, Record};
use agencyops_store::records::{DayTotal, EntryRef, EntrySource, TimeEntry, TimesheetWeek};
use agencyops_store::{keys, Condition, Item, Key, Write};
use jiff::civil::Date;
use jiff::Timestamp;

/// A new draft entry, as recorded `now` by `recorded_by`: not yet submitted,
/// approved or invoiced, with no task or note and not billable until the caller says.
pub fn draft(
    recorded_by: &str,
    person_id: String,
    project_id: String,
    date: Date,
    minutes: u32,
    source: EntrySource,
    now: Timestamp,
) -> TimeEntry {
    TimeEntry {
        id: resource::new_id(),
        person_id,
        project_id,
        task_id: None,
        date,
        minutes,
        note: String::new(),
        billable: false,
        status: WorkStatus::Draft,
        source,
        approval: None,
        rejection: None,
        invoice_id: None,
        recorded_by: Some(recorded_by.to_owned()),
        changed_by: Some(recorded_by.to_owned()),
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

/// What happens to one entry.
pub enum Change<'a> {
    Create(&'a TimeEntry),
    Update {
        before: &'a TimeEntry,
        after: &'a TimeEntry,
        entry_ref: &'a EntryRef,
    },
    Delete {
        before: &'a TimeEntry,
        entry_ref: &'a EntryRef,
    },
}

impl Change<'_> {
    fn before(&self) -> Option<&TimeEntry> {
        match self {
            Change::Create(_) => None,
            Change::Update { before, .. } | Change::Delete { before, .. } => Some(before),
        }
    }
    fn after(&self) -> Option<&TimeEntry> {
        match self {
            Change::Create(after) | Change::Update { after, .. } => Some(after),
            Change::Delete { .. } => None,
        }
    }
    fn action(&self) -> AuditAction {
        match self {
            Change::Create(_) => AuditAction::Create,
            Change::Update { .. } => AuditAction::Update,
            Change::Delete { .. } => AuditAction::Delete,
        }
    }
}

/// What a failure of each guard means, so the user hears what moved.
const LOCK_MOVED: &str = "the lock date changed while saving; reload and retry";
const WEEK_MOVED: &str =
    "the timesheet week was submitted or decided while saving; reload and retry";
const DAY_MOVED: &str = "other time was recorded on that day while saving; reload and retry";

/// The entry (or its reference) is not the version read: 412 with If-Match.
fn entry_moved() -> Fails {
    Fails::stale("the time entry changed while it was being saved; reload and retry")
}

/// Minutes each touched day gains (or loses) with the change.
fn day_deltas(change: &Change<'_>) -> BTreeMap<Date, i64> {
    let mut deltas = BTreeMap::new();
    if let Some(b) = change.before() {
        *deltas.entry(b.date).or_insert(0) -= i64::from(b.minutes);
    }
    if let Some(a) = change.after() {
        *deltas.entry(a.date).or_insert(0) += i64::from(a.minutes);
    }
    deltas.retain(|_, d| *d != 0);
    deltas
}

/// The day's total after the change, refused when it would pass 24 hours.
pub fn next_day_total(current: u32, delta: i64, date: Date) -> ApiResult<u32> {
    let next = (i64::from(current) + delta).max(0);
    if delta > 0 && next > i64::from(MINUTES_PER_DAY) {
        return Err(ApiError::field(
            "minutes",
            format!(
                "{date} would have {}h{:02} recorded; a day holds at most 24 hours ({} minutes are already recorded)",
                next / 60,
                next % 60,
                current
            ),
        ));
    }
    Ok(u32::try_from(next).unwrap_or(MINUTES_PER_DAY))
}

/// Records read in one batch, by key: the guards' (the lock date, each
/// touched week and day total) and whatever else the operation read with
/// them. Only keys that were asked for may be taken, so a guard is never
/// mistaken for missing because nobody read it.
pub struct Reads {
    asked: HashSet<Key>,
    found: HashMap<Key, Item>,
}

impl Reads {
    pub async fn read(s: &Services, keys: &[Key]) -> ApiResult<Reads> {
        let items = s.table.batch_get(keys).await?;
        Ok(Reads {
            asked: keys.iter().cloned().collect(),
            found: items
                .into_iter()
                .filter_map(|item| Some((Key::of(&item)?, item)))
                .collect(),
        })
    }

    /// The stored record at `key`, as `record::load` would read it.
    pub fn take<R: Record>(&mut self, key: &Key) -> ApiResult<Option<R>> {
        if !self.asked.contains(key) {
            return Err(ApiError::Internal(format!("{key} was not read")));
        }
        match self.found.remove(key) {
            Some(item) if record::is::<R>(&item) => Ok(Some(record::from_item(item)?)),
            _ => Ok(None),
        }
    }
}

fn guard_week(week: IsoWeek, key: Key, stored: Option<TimesheetWeek>) -> ApiResult<Write> {
    let condition = match stored {
        Some(w) => {
            if let Some(job) = &w.job {
                return Err(Conflict::JobInProgress(format!(
                    "a {} of week {week} is in progress; try again when it has finished",
                    job.action
                ))
                .into());
            }
            Condition::VersionIs(w.version)
        }
        None => Condition::NotExists,
    };
    Ok(Write::Check { key, condition })
}

fn day_total(
    person: &str,
    (date, delta): (Date, i64),
    stored: Option<DayTotal>,
    now: Timestamp,
) -> ApiResult<(DayTotal, u64)> {
    let mut total = stored.unwrap_or_else(|| DayTotal::empty(person, date, now));
    total.minutes = next_day_total(total.minutes, delta, date)?;
    let expected = record::bump(&mut total, now);
    Ok((total, expected))
}

fn entry_writes(change: &Change<'_>, tx: &mut Tx) -> ApiResult<()> {
    match change {
        Change::Create(after) => {
            tx.create(*after, entry_moved())?
                .create(&EntryRef::of(after), entry_moved())?;
        }
        Change::Update { before, after, .. } if before.date == after.date => {
            tx.replace(*after, before.version, entry_moved())?;
        }
        Change::Update {
            before,
            after,
            entry_ref,
        } => {
            // The key holds the date: moving the entry is delete + create, with
            // its reference pointing at the new place, all in this transaction.
            let mut moved = (*entry_ref).clone();
            moved.date = after.date;
            let expected = record::bump(&mut moved, after.updated_at);
            tx.delete(*before, entry_moved())
                .create(*after, entry_moved())?
                .replace(&moved, expected, entry_moved())?;
        }
        Change::Delete { before, entry_ref } => {
            tx.delete(*before, entry_moved())
                .delete(*entry_ref, entry_moved());
        }
    }
    Ok(())
}

/// The weeks and days `change` touches, with their keys.
struct Touched {
    weeks: Vec<(IsoWeek, Key)>,
    days: Vec<((Date, i64), Key)>,
}

impl Touched {
    fn of(tenant: &str, change: &Change<'_>) -> ApiResult<Touched> {
        let Some(entry) = change.after().or(change.before()) else {
            return Err(ApiError::Internal("an entry change names no entry".into()));
        };
        let person = entry.person_id.as_str();
        Ok(Touched {
            weeks: change
                .before()
                .into_iter()
                .chain(change.after())
                .map(TimeEntry::week)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .map(|w| (w, keys::week(tenant, person, &w.to_string())))
                .collect(),
            days: day_deltas(change)
                .into_iter()
                .map(|(d, delta)| ((d, delta), keys::day_total(tenant, person, &d.to_string())))
                .collect(),
        })
    }
}

/// What the guards of `change` read: the lock date, each touched week and
/// each touched day's total. An operation that reads these with its own
/// records passes them to [`commit_read`].
pub fn guard_keys(tenant: &str, change: &Change<'_>) -> ApiResult<Vec<Key>> {
    let touched = Touched::of(tenant, change)?;
    Ok(std::iter::once(keys::lock_date(tenant))
        .chain(touched.weeks.into_iter().map(|(_, k)| k))
        .chain(touched.days.into_iter().map(|(_, k)| k))
        .collect())
}

/// Writes `change` with every guard, plus `extra` writes (each with what a
/// failure of it means), all or nothing. `if_match` says the caller named the
/// version they edited: losing that race is 412, not 409.
pub async fn commit(
    s: &Services,
    caller: &Caller,
    change: Change<'_>,
    if_match: bool,
    extra: Vec<(Write, Fails)>,
) -> ApiResult<()> {
    let reads = Reads::read(s, &guard_keys(&caller.tenant, &change)?).await?;
    commit_read(s, caller, change, if_match, extra, reads).await
}

/// [`commit`] with the guards already read (`reads` holds [`guard_keys`]).
pub async fn commit_read(
    s: &Services,
    caller: &Caller,
    change: Change<'_>,
    if_match: bool,
    extra: Vec<(Write, Fails)>,
    mut guards: Reads,
) -> ApiResult<()> {
    let tenant = caller.tenant.as_str();
    let Some(entry) = change.after().or(change.before()) else {
        return Err(ApiError::Internal("an entry change names no entry".into()));
    };
    let (person, id) = (entry.person_id.clone(), entry.id.clone());
    let mut tx = Tx::new(tenant).if_match(if_match);
    let Touched { weeks, days } = Touched::of(tenant, &change)?;
    let now = s.clock.now();

    let period = Period::of(guards.take(&keys::lock_date(tenant))?, now);
    for e in change.before().into_iter().chain(change.after()) {
        period.check(e.date)?;
    }
    tx.push(period.pin(tenant), Fails::changed(LOCK_MOVED));
    for (week, key) in weeks {
        let stored = guards.take(&key)?;
        tx.push(guard_week(week, key, stored)?, Fails::changed(WEEK_MOVED));
    }
    for (day, key) in days {
        let (total, expected) = day_total(&person, day, guards.take(&key)?, now)?;
        tx.save(&total, expected, Fails::changed(DAY_MOVED))?;
    }
    entry_writes(&change, &mut tx)?;
    tx.audit(
        s,
        caller,
        change.action(),
        change.before(),
        change.after(),
        &id,
    )?;
    for (write, fails) in extra {
        tx.push(write, fails);
    }
    tx.commit(s).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn a_day_holds_at_most_24_hours_but_can_always_shrink() {
        let d = date(2026, 11, 20);
        assert_eq!(next_day_total(600, 840, d).unwrap(), 1440);
        assert!(next_day_total(600, 841, d).is_err());
        // Data already over the limit may still be reduced.
        assert_eq!(next_day_total(1500, -100, d).unwrap(), 1400);
        assert_eq!(next_day_total(10, -100, d).unwrap(), 0);
    }
}

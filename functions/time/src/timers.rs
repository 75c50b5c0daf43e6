//! `/v1/timers`: the one running timer a person may have. Stopping it records a
//! time entry dated by the person's own day, so late work in Auckland lands on
//! Auckland's date, not the server's.

use agencyops_domain::timesheet::MINUTES_PER_DAY;
use agencyops_platform::error::Problems;
use agencyops_platform::extract::{Json, OptionalJson};
use agencyops_platform::resource::audit;
use agencyops_platform::{ApiError, ApiResult, Caller, Conflict, Fails, Services, Tx};
use agencyops_store::audit::AuditAction;
use agencyops_store::keys;
use agencyops_store::record::{self, load};
use agencyops_store::records::{EntrySource, Person, Project, Task, TimeEntry, Timer};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::entry_writes::{commit, draft, Change};
use crate::policy::{self, check_note, check_target, Worker};
use crate::view::{self, rounding_of, Audience, EntryView};

/// Longest a timer may run and still become an entry.
const MAX_RUN_SECS: i64 = MINUTES_PER_DAY as i64 * 60;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartTimer {
    #[schema(pattern = r"^[A-Za-z0-9_-]{1,64}$")]
    pub project_id: String,
    #[serde(default)]
    #[schema(pattern = r"^[A-Za-z0-9_-]{1,64}$")]
    pub task_id: Option<String>,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub note: String,
    /// Stop the running timer (recording its entry) and start this one at once.
    #[serde(default)]
    pub switch: bool,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct StopTimer {
    /// Throw the timer away without recording an entry.
    #[serde(default)]
    pub discard: bool,
}

/// A running timer as a response.
#[derive(Serialize, ToSchema)]
pub struct TimerView {
    /// The person's id: one timer each.
    pub id: String,
    pub project_id: String,
    pub task_id: Option<String>,
    pub note: String,
    #[schema(value_type = String)]
    pub started_at: Timestamp,
    /// The person's zone when it started; it decides the entry's date.
    pub time_zone: String,
    pub version: u64,
    #[schema(value_type = String)]
    pub updated_at: Timestamp,
}

impl From<Timer> for TimerView {
    fn from(t: Timer) -> Self {
        TimerView {
            id: t.id,
            project_id: t.project_id,
            task_id: t.task_id,
            note: t.note,
            started_at: t.started_at,
            time_zone: t.time_zone,
            version: t.version,
            updated_at: t.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CurrentTimer {
    pub timer: Option<TimerView>,
    /// Minutes so far, rounded as stopping it now would record them.
    pub elapsed_minutes: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct StartedTimer {
    #[serde(flatten)]
    pub timer: TimerView,
    /// With `switch`: the entry the previous timer became.
    pub stopped_entry: Option<EntryView>,
}

#[derive(Serialize, ToSchema)]
pub struct StoppedTimer {
    pub timer: TimerView,
    /// The entry recorded; none when the timer was discarded.
    pub entry: Option<EntryView>,
}

/// Elapsed time rounded to the nearest minute, at least one.
pub fn elapsed_minutes(started: Timestamp, now: Timestamp) -> u64 {
    let secs = now.duration_since(started).as_secs().max(0);
    u64::try_from((secs + 30) / 60).unwrap_or(0).max(1)
}

/// Minutes a stopped timer records, or why it cannot: more than a day is
/// almost always a forgotten timer, which the person should record by hand.
pub fn recorded_minutes(started: Timestamp, now: Timestamp) -> Result<u32, String> {
    if now.duration_since(started).as_secs() > MAX_RUN_SECS {
        return Err(format!(
            "the timer has been running since {started}, more than 24 hours; record the time \
             manually and discard the timer with {{\"discard\": true}}"
        ));
    }
    Ok(u32::try_from(elapsed_minutes(started, now)).unwrap_or(MINUTES_PER_DAY))
}

/// The day the work belongs to: the start instant's date in the person's zone.
pub fn entry_date(started: Timestamp, time_zone: &str) -> Date {
    let tz = TimeZone::get(time_zone).unwrap_or(TimeZone::UTC);
    started.to_zoned(tz).date()
}

async fn time_zone_of(s: &Services, caller: &Caller) -> ApiResult<String> {
    Ok(
        load::<Person>(&*s.table, &keys::person(&caller.tenant, &caller.person))
            .await?
            .map(|p| p.time_zone)
            .unwrap_or_else(|| "UTC".into()),
    )
}

async fn running(s: &Services, caller: &Caller) -> ApiResult<Option<Timer>> {
    Ok(load::<Timer>(&*s.table, &keys::timer(&caller.tenant, &caller.person)).await?)
}

/// The entry a stopped timer becomes, on a project that still takes time and
/// that the person may still book: a member or contractor taken off the team
/// while the timer ran records nothing (they may discard the timer).
async fn entry_of(s: &Services, caller: &Caller, timer: &Timer) -> ApiResult<(TimeEntry, Project)> {
    let now = s.clock.now();
    let minutes = recorded_minutes(timer.started_at, now).map_err(Conflict::TimerTooLong)?;
    let project =
        policy::project_for_work(s, caller, &timer.project_id, &Worker::caller(caller)).await?;
    let task = match &timer.task_id {
        Some(t) => load::<Task>(&*s.table, &keys::task(&caller.tenant, &project.id, t)).await?,
        None => None,
    };
    let entry = TimeEntry {
        task_id: timer.task_id.clone(),
        note: timer.note.clone(),
        billable: policy::default_billable(&project, task.as_ref()),
        ..draft(
            &caller.person,
            caller.person.clone(),
            project.id.clone(),
            entry_date(timer.started_at, &timer.time_zone),
            minutes,
            EntrySource::Timer,
            now,
        )
    };
    Ok((entry, project))
}

/// A day that cannot take the timer's minutes is a conflict with earlier
/// entries, not a bad field of this (field-less) request.
fn day_full_is_conflict(e: ApiError) -> ApiError {
    match e {
        ApiError::Validation(errs) => Conflict::DayFull(
            errs.into_iter()
                .map(|e| e.message)
                .collect::<Vec<_>>()
                .join("; "),
        )
        .into(),
        other => other,
    }
}

#[utoipa::path(post, path = "/v1/timers/start", tag = "time", request_body = StartTimer,
    responses((status = 201, body = StartedTimer), (status = 400), (status = 403), (status = 404), (status = 409)),
    operation_id = "start_timer")]
pub async fn start(
    State(s): State<Services>,
    caller: Caller,
    Json(body): Json<StartTimer>,
) -> ApiResult<Response> {
    policy::refuse_client(&caller)?;
    let mut p = Problems::new();
    check_target(&mut p, &body.project_id, body.task_id.as_deref());
    check_note(&mut p, "note", &body.note);
    p.finish()?;
    let project =
        policy::project_for_work(&s, &caller, &body.project_id, &Worker::caller(&caller)).await?;
    if let Some(t) = &body.task_id {
        policy::open_task(&s, &caller, &project.id, t).await?;
    }
    let now = s.clock.now();
    let mut timer = Timer {
        id: caller.person.clone(),
        project_id: project.id.clone(),
        task_id: body.task_id.clone(),
        note: body.note.trim().to_owned(),
        started_at: now,
        time_zone: time_zone_of(&s, &caller).await?,
        version: 1,
        updated_at: now,
    };
    let previous = running(&s, &caller).await?;
    let stopped = match previous {
        None => {
            let mut tx = Tx::new(&caller.tenant);
            tx.create(&timer, Fails::With(Conflict::TimerRunning))?
                .audit(
                    &s,
                    &caller,
                    AuditAction::Start,
                    None,
                    Some(&timer),
                    &timer.id,
                )?;
            tx.commit(&s).await?;
            None
        }
        Some(_) if !body.switch => return Err(Conflict::TimerRunning.into()),
        Some(old) => {
            // One transaction: the old timer's entry and the new timer, which
            // replaces the old one under its version.
            let (entry, old_project) = entry_of(&s, &caller, &old).await?;
            timer.version = old.version;
            let expected = record::bump(&mut timer, now);
            let extra = vec![
                (
                    record::replace(&caller.tenant, &timer, expected)?,
                    Fails::changed("the running timer changed meanwhile; reload and retry"),
                ),
                (
                    audit(
                        &s,
                        &caller,
                        AuditAction::Switch,
                        Some(&old),
                        Some(&timer),
                        &timer.id,
                    )?,
                    Fails::Retry,
                ),
            ];
            commit(&s, &caller, Change::Create(&entry), false, extra)
                .await
                .map_err(day_full_is_conflict)?;
            let policy = rounding_of(&s, &caller.tenant, &old_project).await?;
            Some(view::view(entry, policy, Audience::of(&caller)))
        }
    };
    Ok((
        StatusCode::CREATED,
        axum::Json(StartedTimer {
            timer: timer.into(),
            stopped_entry: stopped,
        }),
    )
        .into_response())
}

#[utoipa::path(post, path = "/v1/timers/stop", tag = "time", request_body(content = StopTimer, description = "Optional; no body means keep the entry"),
    responses((status = 201, body = StoppedTimer, description = "stopped: the entry was recorded"),
        (status = 200, body = StoppedTimer, description = "discarded"), (status = 403), (status = 404), (status = 409)),
    operation_id = "stop_timer")]
pub async fn stop(
    State(s): State<Services>,
    caller: Caller,
    // The body is optional: an empty stop simply stops.
    OptionalJson(body): OptionalJson<StopTimer>,
) -> ApiResult<Response> {
    policy::refuse_client(&caller)?;
    let timer = running(&s, &caller)
        .await?
        .ok_or(ApiError::NotFound("running timer"))?;
    let gone = || Fails::changed("the timer was stopped or changed meanwhile; reload and retry");
    if body.discard {
        let mut tx = Tx::new(&caller.tenant);
        tx.delete(&timer, gone()).audit(
            &s,
            &caller,
            AuditAction::Discard,
            Some(&timer),
            None,
            &timer.id,
        )?;
        tx.commit(&s).await?;
        let res = StoppedTimer {
            timer: timer.into(),
            entry: None,
        };
        return Ok((StatusCode::OK, axum::Json(res)).into_response());
    }
    let (entry, project) = entry_of(&s, &caller, &timer).await?;
    let extra = vec![
        (record::delete(&caller.tenant, &timer), gone()),
        (
            audit(
                &s,
                &caller,
                AuditAction::Stop,
                Some(&timer),
                None,
                &timer.id,
            )?,
            Fails::Retry,
        ),
    ];
    commit(&s, &caller, Change::Create(&entry), false, extra)
        .await
        .map_err(day_full_is_conflict)?;
    let policy = rounding_of(&s, &caller.tenant, &project).await?;
    let res = StoppedTimer {
        timer: timer.into(),
        entry: Some(view::view(entry, policy, Audience::of(&caller))),
    };
    Ok((StatusCode::CREATED, axum::Json(res)).into_response())
}

#[utoipa::path(get, path = "/v1/timers/current", tag = "time",
    responses((status = 200, body = CurrentTimer), (status = 403)), operation_id = "get_current_timer")]
pub async fn current(
    State(s): State<Services>,
    caller: Caller,
) -> ApiResult<axum::Json<CurrentTimer>> {
    policy::refuse_client(&caller)?;
    let timer = running(&s, &caller).await?;
    let now = s.clock.now();
    let elapsed = timer.as_ref().map(|t| elapsed_minutes(t.started_at, now));
    Ok(axum::Json(CurrentTimer {
        timer: timer.map(TimerView::from),
        elapsed_minutes: elapsed,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_795_176_000 + secs).unwrap()
    }

    #[test]
    fn minutes_round_to_the_nearest_and_never_to_zero() {
        assert_eq!(elapsed_minutes(at(0), at(5)), 1);
        assert_eq!(elapsed_minutes(at(0), at(89)), 1);
        assert_eq!(elapsed_minutes(at(0), at(90)), 2);
        assert_eq!(recorded_minutes(at(0), at(86_400)), Ok(1440));
        assert!(recorded_minutes(at(0), at(86_401)).is_err());
    }

    #[test]
    fn the_date_is_the_persons_own() {
        // 2026-11-20 12:00 UTC is already Saturday morning in Auckland.
        assert_eq!(
            entry_date(at(0), "Pacific/Auckland").to_string(),
            "2026-11-21"
        );
        assert_eq!(entry_date(at(0), "Europe/Lisbon").to_string(), "2026-11-20");
        assert_eq!(entry_date(at(0), "Not/AZone").to_string(), "2026-11-20");
    }
}

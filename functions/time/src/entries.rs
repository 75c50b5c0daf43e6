//! `/v1/time-entries`: time recorded by hand, listed, corrected and removed
//! while it is still a draft (or was sent back).

use agencyops_domain::timesheet::{WorkStatus, MINUTES_PER_DAY};
use agencyops_platform::access;
use agencyops_platform::error::Problems;
use agencyops_platform::extract::{nullable, IfMatch, Json, Path, Query};
use agencyops_platform::resource::ListPage;
use agencyops_platform::{ApiResult, Caller, Services};
use agencyops_store::record::{self, load};
use agencyops_store::records::{EntryRef, EntrySource, TimeEntry};
use agencyops_store::{keys, Index, Query as StoreQuery, SkCondition};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::civil::Date;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::entry_writes::{commit, commit_read, draft, guard_keys, Change, Reads};
use crate::policy::{self, check_date, check_id, check_note, check_target, Booking};
use crate::view::{self, rounding_of, Audience, EntryView};
use crate::work_list::WorkFilter;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEntry {
    #[schema(pattern = r"^[A-Za-z0-9_-]{1,64}$")]
    pub project_id: String,
    #[serde(default)]
    #[schema(pattern = r"^[A-Za-z0-9_-]{1,64}$")]
    pub task_id: Option<String>,
    #[schema(value_type = String, format = Date, pattern = r"^(19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}$", example = "2026-11-20")]
    pub date: Date,
    /// Raw minutes worked, 1 to 1440; never rounded when stored.
    #[schema(minimum = 1, maximum = 1440)]
    pub minutes: i64,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub note: String,
    /// Defaults from the project's billing model and the task.
    #[serde(default)]
    pub billable: Option<bool>,
    /// Record for someone else (admins and managers only).
    #[serde(default)]
    #[schema(pattern = r"^[A-Za-z0-9_-]{1,64}$")]
    pub person_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryPatch {
    #[schema(value_type = Option<String>, format = Date, pattern = r"^(19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}$", example = "2026-11-20")]
    pub date: Option<Date>,
    #[schema(minimum = 1, maximum = 1440)]
    pub minutes: Option<i64>,
    #[schema(max_length = 2000)]
    pub note: Option<String>,
    pub billable: Option<bool>,
    /// `null` removes the task.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, pattern = r"^[A-Za-z0-9_-]{1,64}$")]
    pub task_id: Option<Option<String>>,
}

pub fn check_minutes(p: &mut Problems, field: &str, minutes: i64) {
    if minutes < 1 {
        p.add(field, "must be at least 1 minute");
    } else if minutes > i64::from(MINUTES_PER_DAY) {
        p.add(field, "must be at most 1440 (24 hours)");
    }
}

/// An entry the caller may change: theirs or, for managers, anyone's; still
/// editable; and at the version they name.
async fn changeable_entry(
    s: &Services,
    caller: &Caller,
    id: &str,
    if_match: IfMatch,
) -> ApiResult<(EntryRef, TimeEntry)> {
    let (found, entry) = access::visible_entry(s, caller, id).await?;
    let work = policy::WorkState::of("time entry", &entry.person_id, entry.version, entry.status);
    policy::require_changeable(caller, work, if_match)?;
    Ok((found, entry))
}

async fn respond_with_rounding(
    s: &Services,
    caller: &Caller,
    entry: TimeEntry,
    status: StatusCode,
) -> ApiResult<Response> {
    let project = load(&*s.table, &keys::project(&caller.tenant, &entry.project_id)).await?;
    let policy = match &project {
        Some(p) => rounding_of(s, &caller.tenant, p).await?,
        None => None,
    };
    Ok(view::respond(
        status,
        &view::view(entry, policy, Audience::of(caller)),
        status == StatusCode::CREATED,
    ))
}

#[utoipa::path(post, path = "/v1/time-entries", tag = "time", request_body = NewEntry,
    responses((status = 201, body = EntryView), (status = 400), (status = 403), (status = 404), (status = 409)),
    operation_id = "create_time_entry")]
pub async fn create(
    State(s): State<Services>,
    caller: Caller,
    Json(body): Json<NewEntry>,
) -> ApiResult<Response> {
    policy::refuse_client(&caller)?;
    let mut p = Problems::new();
    check_target(&mut p, &body.project_id, body.task_id.as_deref());
    if let Some(who) = &body.person_id {
        check_id(&mut p, "person_id", who);
    }
    check_date(&mut p, "date", body.date);
    check_minutes(&mut p, "minutes", body.minutes);
    check_note(&mut p, "note", &body.note);
    p.finish()?;
    // One batch reads where the entry is booked and what its guards check.
    let worker_id = body
        .person_id
        .clone()
        .unwrap_or_else(|| caller.person.clone());
    let mut entry = draft(
        &caller.person,
        worker_id,
        body.project_id.clone(),
        body.date,
        u32::try_from(body.minutes).unwrap_or(MINUTES_PER_DAY),
        EntrySource::Manual,
        s.clock.now(),
    );
    let task_id = body.task_id.as_deref();
    let person_id = body.person_id.as_deref();
    let mut wanted = policy::booking_keys(&caller, &body.project_id, person_id, task_id);
    wanted.extend(guard_keys(&caller.tenant, &Change::Create(&entry))?);
    let mut reads = Reads::read(&s, &wanted).await?;
    let Booking {
        worker,
        project,
        task,
    } = Booking::from_reads(&caller, &body.project_id, person_id, task_id, &mut reads)?;
    entry.person_id = worker.id;
    entry.task_id = task.as_ref().map(|t| t.id.clone());
    entry.note = body.note.trim().to_owned();
    entry.billable = body
        .billable
        .unwrap_or_else(|| policy::default_billable(&project, task.as_ref()));
    // The rounding only shapes the answer, so its read runs beside the commit
    // rather than after it.
    let (committed, policy) = tokio::join!(
        commit_read(&s, &caller, Change::Create(&entry), false, vec![], reads),
        rounding_of(&s, &caller.tenant, &project),
    );
    committed?;
    let policy = policy?;
    Ok(view::respond(
        StatusCode::CREATED,
        &view::view(entry, policy, Audience::of(&caller)),
        true,
    ))
}

#[utoipa::path(get, path = "/v1/time-entries", tag = "time", params(WorkFilter),
    responses((status = 200, body = ListPage<EntryView>), (status = 400), (status = 403), (status = 404)),
    operation_id = "list_time_entries")]
pub async fn list(
    State(s): State<Services>,
    caller: Caller,
    Query(f): Query<WorkFilter>,
) -> ApiResult<axum::Json<ListPage<EntryView>>> {
    list_entries(&s, &caller, f).await.map(axum::Json)
}

/// The entries a filter names, as the caller may see them: a project's time
/// across its people for the staff who see all work, otherwise one person's.
async fn list_entries(
    s: &Services,
    caller: &Caller,
    f: WorkFilter,
) -> ApiResult<ListPage<EntryView>> {
    let tenant = caller.tenant.as_str();
    if let (Some(project), None) = (f.project_id.as_deref(), f.person_id.as_deref()) {
        if access::sees_all_work(caller) {
            let page = f.project_page(s, caller, project).await?;
            return Ok(ListPage {
                items: view::views(s, caller, page.items).await?,
                next_cursor: page.next_cursor,
            });
        }
    }
    let page = f
        .page::<TimeEntry>(s, caller, |person, from, to| {
            let (lo, hi) = keys::entry_range(&from.to_string(), &to.to_string());
            StoreQuery::new(Index::Table, keys::person_time(tenant, person))
                .sk(SkCondition::Between(lo, hi))
                .backward()
        })
        .await?;
    Ok(ListPage {
        items: view::views(s, caller, page.items).await?,
        next_cursor: page.next_cursor,
    })
}

#[utoipa::path(get, path = "/v1/time-entries/{id}", tag = "time", params(("id" = String, Path)),
    responses((status = 200, body = EntryView), (status = 403), (status = 404)), operation_id = "get_time_entry")]
pub async fn get(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (_, entry) = access::visible_entry(&s, &caller, &id).await?;
    respond_with_rounding(&s, &caller, entry, StatusCode::OK).await
}

#[utoipa::path(patch, path = "/v1/time-entries/{id}", tag = "time", params(("id" = String, Path)), request_body = EntryPatch,
    responses((status = 200, body = EntryView), (status = 400), (status = 403), (status = 404), (status = 409), (status = 412)),
    operation_id = "patch_time_entry")]
pub async fn patch(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(body): Json<EntryPatch>,
) -> ApiResult<Response> {
    let (found, current) = changeable_entry(&s, &caller, &id, if_match).await?;
    let mut p = Problems::new();
    if let Some(d) = body.date {
        check_date(&mut p, "date", d);
    }
    if let Some(m) = body.minutes {
        check_minutes(&mut p, "minutes", m);
    }
    if let Some(n) = &body.note {
        check_note(&mut p, "note", n);
    }
    if let Some(Some(t)) = &body.task_id {
        check_id(&mut p, "task_id", t);
    }
    p.finish()?;
    let project = policy::project_of_work(&s, &caller, &current.project_id).await?;
    policy::require_records_for(&s, &caller, &current.person_id, &project.id).await?;
    let mut next = current.clone();
    match &body.task_id {
        Some(Some(t)) if current.task_id.as_deref() != Some(t) => {
            next.task_id = Some(policy::open_task(&s, &caller, &project.id, t).await?.id);
        }
        Some(None) => next.task_id = None,
        _ => {}
    }
    if let Some(d) = body.date {
        next.date = d;
    }
    if let Some(m) = body.minutes {
        next.minutes = u32::try_from(m).unwrap_or(MINUTES_PER_DAY);
    }
    if let Some(n) = body.note {
        next.note = n.trim().to_owned();
    }
    if let Some(b) = body.billable {
        next.billable = b;
    }
    let policy = rounding_of(&s, &caller.tenant, &project).await?;
    if next == current {
        return Ok(view::respond(
            StatusCode::OK,
            &view::view(current, policy, Audience::of(&caller)),
            false,
        ));
    }
    // Fixing work that was sent back makes it a draft again, ready to resubmit.
    next.status = WorkStatus::Draft;
    next.changed_by = Some(caller.person.clone());
    record::bump(&mut next, s.clock.now());
    let change = Change::Update {
        before: &current,
        after: &next,
        entry_ref: &found,
    };
    commit(&s, &caller, change, if_match.0.is_some(), vec![]).await?;
    Ok(view::respond(
        StatusCode::OK,
        &view::view(next, policy, Audience::of(&caller)),
        false,
    ))
}

#[utoipa::path(delete, path = "/v1/time-entries/{id}", tag = "time", params(("id" = String, Path)),
    responses((status = 204), (status = 403), (status = 404), (status = 409), (status = 412)), operation_id = "delete_time_entry")]
pub async fn delete(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> ApiResult<Response> {
    let (found, current) = changeable_entry(&s, &caller, &id, if_match).await?;
    policy::project_of_work(&s, &caller, &current.project_id).await?;
    policy::require_records_for(&s, &caller, &current.person_id, &current.project_id).await?;
    let change = Change::Delete {
        before: &current,
        entry_ref: &found,
    };
    commit(&s, &caller, change, if_match.0.is_some(), vec![]).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

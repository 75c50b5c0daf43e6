//! Approvals racing the edits people make to the same week at the same moment,
//! on a multi-threaded runtime so both requests really run at once. Whichever
//! lands first, one wins cleanly and nothing is lost: every submitted entry is
//! approved exactly once, the racing write is either stored as sent or refused
//! with a 409, work in progress holds exactly the approved billable work, and
//! each day's stored total still equals its entries.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use agencyops_domain::timesheet::WorkStatus;
use agencyops_store::record::{self, load};
use agencyops_store::records::{DayTotal, TimeEntry};
use agencyops_store::{keys, Index, Query, SkCondition};
use jiff::civil::{date, Date};
use jiff::ToSpan;
use serde_json::json;
use support::*;

/// Rounds per race; each uses a fresh week, so no round sees another's work.
const ROUNDS: i32 = 20;

/// The Monday `weeks_back` weeks before 2026-W46, and its ISO week.
fn week_of(weeks_back: i32) -> (Date, String) {
    let monday = date(2026, 11, 9)
        .checked_sub((7 * weeks_back).days())
        .unwrap();
    let w = monday.iso_week_date();
    (monday, format!("{}-W{:02}", w.year(), w.week()))
}

fn plus(d: Date, days: i32) -> String {
    d.checked_add(days.days()).unwrap().to_string()
}

/// Every entry of `person` between two dates, as stored.
async fn entries_between(app: &App, person: &str, from: &str, to: &str) -> Vec<TimeEntry> {
    let (lo, hi) = keys::entry_range(from, to);
    let q = Query::new(Index::Table, keys::person_time("acme", person))
        .sk(SkCondition::Between(lo, hi))
        .limit(1000);
    record::page::<TimeEntry>(&*app.table, &q).await.unwrap().0
}

async fn unbilled_ids(app: &App) -> BTreeSet<String> {
    let q = Query::new(Index::Gsi2, keys::unbilled("acme")).limit(1000);
    let page = app.table.query(&q).await.unwrap();
    assert!(page.next.is_none());
    page.items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

fn ok(status: u16) -> bool {
    (200..300).contains(&status)
}

/// Both sides succeeded, or exactly one was refused with a 409.
fn one_wins(write: &Res, approval: &Res) {
    let (w, a) = (write.status.as_u16(), approval.status.as_u16());
    let clean = (ok(w) && ok(a)) || (w == 409 && ok(a)) || (a == 409 && ok(w));
    assert!(
        clean,
        "write {w} {} / approve {a} {}",
        write.body, approval.body
    );
}

/// What each round leaves behind must add up, whoever won.
async fn books_balance(app: &App, s: &Studio, monday: Date) {
    let all = entries_between(app, &s.member.person, "2000-01-01", "2999-12-31").await;
    let approved_billable: BTreeSet<String> = all
        .iter()
        .filter(|e| e.status == WorkStatus::Approved && e.billable)
        .map(|e| e.id.clone())
        .collect();
    assert_eq!(
        unbilled_ids(app).await,
        approved_billable,
        "work in progress is exactly the approved billable work"
    );
    let week = entries_between(app, &s.member.person, &plus(monday, 0), &plus(monday, 6)).await;
    let mut by_day: BTreeMap<Date, u32> = BTreeMap::new();
    for e in &week {
        *by_day.entry(e.date).or_default() += e.minutes;
    }
    for d in 0..7 {
        let day = monday.checked_add(d.days()).unwrap();
        let stored = load::<DayTotal>(
            &*app.table,
            &keys::day_total("acme", &s.member.person, &day.to_string()),
        )
        .await
        .unwrap()
        .map_or(0, |t| t.minutes);
        let want = by_day.get(&day).copied().unwrap_or(0);
        assert_eq!(stored, want, "the stored total of {day} equals its entries");
    }
}

/// A submitted week: three billable entries on two projects and a non-billable one.
async fn submitted_week(app: &App, s: &Studio, monday: Date, week: &str) -> Vec<TimeEntry> {
    record(app, &s.member, &s.project, &plus(monday, 0), 60).await;
    record(app, &s.member, &s.project, &plus(monday, 1), 90).await;
    record(app, &s.member, &s.side_project, &plus(monday, 2), 30).await;
    app.post(
        &s.member,
        "/v1/time-entries",
        json!({"project_id": s.project, "date": plus(monday, 2), "minutes": 20, "billable": false}),
    )
    .await
    .expect(201);
    let path = format!("/v1/timesheets/{}/{week}/submit", s.member.person);
    app.post(&s.member, &path, json!({})).await.expect(200);
    let entries = entries_between(app, &s.member.person, &plus(monday, 0), &plus(monday, 6)).await;
    assert_eq!(entries.len(), 4);
    assert!(entries.iter().all(|e| e.status == WorkStatus::Submitted));
    entries
}

/// Every entry that was submitted is now approved, once, by one job, and the
/// burn announced for the week counts each of their minutes once.
async fn approved_exactly_once(app: &App, s: &Studio, submitted: &[TimeEntry]) {
    let mut jobs = BTreeSet::new();
    for before in submitted {
        let after = stored_entry(app, "acme", &before.id).await;
        assert_eq!(after.status, WorkStatus::Approved, "{}", after.id);
        assert_eq!(after.version, before.version + 1, "approved exactly once");
        assert_eq!(after.minutes, before.minutes);
        jobs.insert(after.approval.unwrap().job_id);
    }
    assert_eq!(jobs.len(), 1, "one job approved the whole week");
    let mut changes = BTreeMap::new();
    for c in burn_changes(app).await {
        changes.insert(c.change_id.clone(), c);
    }
    let announced: i64 = changes.values().map(|c| c.minutes).sum();
    let approved: i64 = submitted.iter().map(|e| i64::from(e.minutes)).sum();
    assert_eq!(announced, approved, "{:?}", s.member.person);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approving_a_week_while_its_person_records_more_loses_nothing() {
    let (app, s) = setup().await;
    let mut outcomes: BTreeMap<(&str, u16, u16), u32> = BTreeMap::new();
    for round in 0..ROUNDS {
        let (monday, week) = week_of(round + 1);
        let submitted = submitted_week(&app, &s, monday, &week).await;
        let approve_path = format!("/v1/timesheets/{}/{week}/approve", s.member.person);
        let creating = round % 2 == 0;
        // Odd rounds edit a draft recorded after the submit; even rounds add one.
        let draft = if creating {
            None
        } else {
            Some(record(&app, &s.member, &s.project, &plus(monday, 3), 45).await)
        };
        let write = async {
            match &draft {
                None => {
                    let body =
                        json!({"project_id": s.project, "date": plus(monday, 4), "minutes": 50});
                    app.post(&s.member, "/v1/time-entries", body).await
                }
                Some(id) => {
                    let path = format!("/v1/time-entries/{id}");
                    app.patch(&s.member, &path, json!({"minutes": 75})).await
                }
            }
        };
        let (written, approval) =
            tokio::join!(write, app.post(&s.finance, &approve_path, json!({})));
        one_wins(&written, &approval);
        let kind = if creating { "create" } else { "edit" };
        *outcomes
            .entry((kind, written.status.as_u16(), approval.status.as_u16()))
            .or_default() += 1;

        if !ok(approval.status.as_u16()) {
            // The approval lost cleanly: nothing of the week moved, and asking again finishes it.
            for e in &submitted {
                assert_eq!(stored_entry(&app, "acme", &e.id).await, *e);
            }
            app.post(&s.finance, &approve_path, json!({}))
                .await
                .expect(200);
        }
        approved_exactly_once(&app, &s, &submitted).await;

        let week_now =
            entries_between(&app, &s.member.person, &plus(monday, 0), &plus(monday, 6)).await;
        match (&draft, ok(written.status.as_u16())) {
            (None, true) => {
                let e = stored_entry(&app, "acme", &written.id()).await;
                assert_eq!((e.minutes, e.status), (50, WorkStatus::Draft));
                assert!(e.approval.is_none());
                assert_eq!(week_now.len(), submitted.len() + 1);
            }
            (None, false) => assert_eq!(week_now.len(), submitted.len(), "nothing half-written"),
            (Some(id), stored) => {
                let e = stored_entry(&app, "acme", id).await;
                let want = if stored { 75 } else { 45 };
                assert_eq!((e.minutes, e.status), (want, WorkStatus::Draft));
                assert!(e.approval.is_none());
                assert_eq!(week_now.len(), submitted.len() + 1);
            }
        }
        books_balance(&app, &s, monday).await;
        let sheet = app
            .get(
                &s.finance,
                &format!("/v1/timesheets/{}/{week}", s.member.person),
            )
            .await
            .expect(200);
        let shown: u64 = sheet.body["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["minutes"].as_u64().unwrap())
            .sum();
        assert_eq!(sheet.body["totals"]["minutes"], shown);
        assert_eq!(
            shown,
            week_now.iter().map(|e| u64::from(e.minutes)).sum::<u64>()
        );
    }
    eprintln!("approve vs write outcomes (kind, write, approve) -> rounds: {outcomes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submitting_a_week_while_a_draft_is_edited_keeps_the_edit_or_refuses_it() {
    let (app, s) = setup().await;
    let mut outcomes: BTreeMap<(u16, u16), u32> = BTreeMap::new();
    for round in 0..ROUNDS {
        let (monday, week) = week_of(round + 1);
        let kept = record(&app, &s.member, &s.project, &plus(monday, 0), 60).await;
        let edited = record(&app, &s.member, &s.project, &plus(monday, 1), 45).await;
        let submit_path = format!("/v1/timesheets/{}/{week}/submit", s.member.person);
        let edit_path = format!("/v1/time-entries/{edited}");
        let (edit, submitted) = tokio::join!(
            app.patch(&s.member, &edit_path, json!({"minutes": 75})),
            app.post(&s.member, &submit_path, json!({}))
        );
        one_wins(&edit, &submitted);
        *outcomes
            .entry((edit.status.as_u16(), submitted.status.as_u16()))
            .or_default() += 1;
        if !ok(submitted.status.as_u16()) {
            app.post(&s.member, &submit_path, json!({}))
                .await
                .expect(200);
        }
        // Whatever order, the week went in whole, carrying the edit if it was accepted.
        let e = stored_entry(&app, "acme", &edited).await;
        let want = if ok(edit.status.as_u16()) { 75 } else { 45 };
        assert_eq!((e.minutes, e.status), (want, WorkStatus::Submitted));
        let k = stored_entry(&app, "acme", &kept).await;
        assert_eq!((k.minutes, k.status), (60, WorkStatus::Submitted));
        books_balance(&app, &s, monday).await;
    }
    eprintln!("edit vs submit outcomes (edit, submit) -> rounds: {outcomes:?}");
}

#[tokio::test]
async fn an_edit_of_submitted_work_loses_to_its_approval() {
    let (app, s) = setup().await;
    for date in ["2026-11-09", "2026-11-10", "2026-11-11", "2026-11-12"] {
        // Each round adds one entry and submits it, so the week always has exactly one to approve.
        let id = record(&app, &s.member, &s.project, date, 60).await;
        submit(&app, &s.member).await.expect(200);
        let edit_path = format!("/v1/time-entries/{id}");
        let (edit, approval) = tokio::join!(
            app.patch(&s.member, &edit_path, json!({"minutes": 90})),
            approve(&app, &s.manager, &s.member, None),
        );
        // Submitted work is not the person's to edit: the approval always wins.
        assert_eq!(edit.status, 409, "{}", edit.body);
        assert_eq!(edit.problem_type(), LOCKED);
        assert_eq!(approval.status, 200, "{}", approval.body);
        let stored = stored_entry(&app, "acme", &id).await;
        assert_eq!((stored.minutes, stored.status), (60, WorkStatus::Approved));
        assert_eq!(stored.approval.unwrap().billed_minutes, 60);
    }
}

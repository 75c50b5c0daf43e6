//! What approving a week costs in DynamoDB calls, counted as the counting
//! adapter counts them (README "Round trips"): one batch read of the week,
//! its person and the lock date, with the caller's person record; the entries
//! (read again once the job holds the week); the projects and clients that
//! price it; and three transactions (the job starts, the batch, the job
//! finishes). A resumed job reads its entries once.

mod support;

use std::sync::Arc;

use agencyops_store::counting::{counted, CallCount, CountingTable};
use support::*;

#[tokio::test]
async fn approving_a_small_week_takes_one_batch_read_two_queries_and_three_transactions() {
    let app = App::with_table(routes(), |inner| Arc::new(CountingTable::new(inner)));
    let s = studio(&app, "acme").await;
    for day in [MONDAY, WEDNESDAY, FRIDAY] {
        record(&app, &s.member, &s.project, day, 60).await;
    }
    let (submitted, _) = counted(submit(&app, &s.member)).await;
    submitted.expect(200);
    let (approved, calls) = counted(approve(&app, &s.admin, &s.member, None)).await;
    assert_eq!(approved.expect(200).body["moved"], 3);
    assert_eq!(
        CallCount {
            statements: 0,
            ..calls
        },
        CallCount {
            gets: 0,
            batch_gets: 3,
            queries: 2,
            transactions: 3,
            increments: 0,
            statements: 0,
        },
        "{calls:?}"
    );
}

/// Recording time reads once and writes once: one batch of the caller's
/// record, the project, the worker's team membership, the lock date, the
/// week and the day's total, then one transaction. The project here has no
/// rounding of its own, so its client's is read beside the commit (for the
/// answer's billed minutes); with its own rounding that read goes too.
#[tokio::test]
async fn recording_time_is_one_batch_read_and_one_transaction() {
    let app = App::with_table(routes(), |inner| Arc::new(CountingTable::new(inner)));
    let s = studio(&app, "acme").await;
    let (id, calls) = counted(record(&app, &s.member, &s.project, MONDAY, 60)).await;
    assert!(!id.is_empty());
    assert_eq!(
        CallCount {
            statements: 0,
            ..calls
        },
        CallCount {
            gets: 1,
            batch_gets: 1,
            queries: 0,
            transactions: 1,
            increments: 0,
            statements: 0,
        },
        "{calls:?}"
    );
    // A manager recording for a member reads the member's record and the
    // manager's own membership in the same batch.
    let body = serde_json::json!({
        "project_id": s.project, "date": "2026-11-10", "minutes": 30, "person_id": s.member.person,
    });
    let (res, calls) = counted(app.post(&s.manager, "/v1/time-entries", body)).await;
    res.expect(201);
    assert_eq!((calls.batch_gets, calls.transactions), (1, 1), "{calls:?}");
}

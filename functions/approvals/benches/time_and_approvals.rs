//! `cargo bench -p agencyops-approvals`: latency of recording time, reading a
//! timesheet, approving a week bigger than one transaction, and applying a burn
//! change, in-process over the embedded SQLite store. Printed as the README's table.

use agencyops_apitest::bench::{measure, report};
use agencyops_apitest::{studio, App, As};
use agencyops_domain::Currency;
use agencyops_platform::events::{BurnChange, BurnKind};
use jiff::civil::{date, Date};
use jiff::Span;
use rust_decimal::Decimal;
use serde_json::json;

fn day(n: usize) -> Date {
    date(2026, 1, 5)
        .checked_add(Span::new().days(n as i64))
        .expect("a date in range")
}

async fn record(app: &App, who: &As, project: &str, on: Date, minutes: u32) {
    let res = app
        .post(
            who,
            "/v1/time-entries",
            json!({"project_id": project, "date": on.to_string(), "minutes": minutes, "note": "bench"}),
        )
        .await;
    assert_eq!(res.status.as_u16(), 201, "{}", res.body);
}

#[tokio::main]
async fn main() {
    let app = App::new(
        agencyops_intake::routes()
            .merge(agencyops_time::routes())
            .merge(agencyops_approvals::routes()),
    );
    let s = studio(&app, "bench").await;
    let mut rows = Vec::new();

    // 40 half-hour entries a day, so no day passes 24 h.
    rows.push(
        measure(
            "POST /v1/time-entries (entry, ref, day total, week and lock guards, audit)",
            15,
            400,
            |i| {
                let (app, who, project) = (&app, &s.member, &s.project);
                async move { record(app, who, project, day(i / 40), 30).await }
            },
        )
        .await,
    );
    // Week 2026-W02 now holds 200 entries (days 0..5 of the run above).
    let sheet = format!("/v1/timesheets/{}/2026-W02", s.member.person);
    rows.push(
        measure(
            "GET /v1/timesheets/{person}/{week} (200 entries)",
            25,
            100,
            |_| {
                let (app, who, sheet) = (&app, &s.member, &sheet);
                async move {
                    let res = app.get(who, sheet).await;
                    assert_eq!(res.status.as_u16(), 200, "{}", res.body);
                }
            },
        )
        .await,
    );

    // Ten weeks of 105 entries each (15 a day), submitted, then approved one by one.
    let weeks: Vec<usize> = (0..10).map(|w| 70 + w * 7).collect();
    for &first in &weeks {
        for d in 0..7 {
            for _ in 0..15 {
                record(&app, &s.member, &s.project, day(first + d), 60).await;
            }
        }
        let week = agencyops_domain::timesheet::IsoWeek::of(day(first));
        let res = app
            .post(
                &s.member,
                &format!("/v1/timesheets/{}/{week}/submit", s.member.person),
                json!({}),
            )
            .await;
        assert_eq!(res.status.as_u16(), 200, "{}", res.body);
    }
    rows.push(
        measure(
            "POST …/approve of a 105-entry week (job, 2 batches, rate snapshots, burn message)",
            100,
            weeks.len(),
            |i| {
                let (app, who) = (&app, &s.manager);
                let week = agencyops_domain::timesheet::IsoWeek::of(day(weeks[i]));
                let path = format!("/v1/timesheets/{}/{week}/approve", s.member.person);
                async move {
                    let res = app.post(who, &path, json!({})).await;
                    assert_eq!(res.status.as_u16(), 200, "{}", res.body);
                }
            },
        )
        .await,
    );

    rows.push(
        measure(
            "Budget consumer: apply one burn change (marker + burn + alerts)",
            10,
            300,
            |i| {
                let change = BurnChange {
                    kind: BurnKind::Approved,
                    tenant: "bench".into(),
                    change_id: format!("bench-{i}"),
                    project_id: s.project.clone(),
                    minutes: 1,
                    billable_minutes: 1,
                    fees: Decimal::ONE,
                    cost: Decimal::ONE,
                    currency: Currency::parse("EUR").expect("EUR"),
                };
                let services = &app.services;
                async move {
                    agencyops_approvals::budget::apply(services, &change)
                        .await
                        .expect("applied");
                }
            },
        )
        .await,
    );
    report(&rows);
}

//! Work in progress as finance reads it: approved billable work not yet
//! invoiced, per project, client and currency, rounded once.

mod insights_support;

use agencyops_apitest::studio;
use agencyops_domain::timesheet::{value_of, with_markup, WorkStatus};
use agencyops_domain::Currency;
use insights_support::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::json;

#[tokio::test]
async fn wip_sums_approved_unbilled_work_per_project_client_and_currency() {
    let app = app();
    let a = studio(&app, "acme").await;
    let g = studio(&app, "globex").await;
    let t = a.tenant.as_str();

    // Counted: two entries at different rates and a re-billed expense with markup.
    let e1 = approve(
        entry(
            &a.member.person,
            &a.project,
            "2026-11-16",
            90,
            true,
            WorkStatus::Submitted,
        ),
        dec!(100),
        eur(),
    );
    let e2 = approve(
        entry(
            &a.contractor.person,
            &a.project,
            "2026-11-17",
            15,
            true,
            WorkStatus::Submitted,
        ),
        dec!(27.50),
        eur(),
    );
    let x1 = approved_expense(
        &a.member.person,
        &a.project,
        "2026-11-10",
        dec!(40),
        Some(dec!(10)),
        true,
    );
    let side = approve(
        entry(
            &a.member.person,
            &a.side_project,
            "2026-11-18",
            30,
            true,
            WorkStatus::Submitted,
        ),
        dec!(80),
        eur(),
    );
    for e in [&e1, &e2, &side] {
        store(&app, t, e).await;
    }
    store(&app, t, &x1).await;

    // Not work in progress: invoiced, non-billable, waiting for approval, invoiced expense.
    let billed = invoiced(approve(
        entry(
            &a.member.person,
            &a.project,
            "2026-11-02",
            600,
            true,
            WorkStatus::Submitted,
        ),
        dec!(100),
        eur(),
    ));
    let internal = approve(
        entry(
            &a.member.person,
            &a.project,
            "2026-11-03",
            120,
            false,
            WorkStatus::Submitted,
        ),
        dec!(100),
        eur(),
    );
    let waiting = entry(
        &a.member.person,
        &a.project,
        "2026-11-04",
        60,
        true,
        WorkStatus::Submitted,
    );
    let mut billed_expense = approved_expense(
        &a.member.person,
        &a.project,
        "2026-11-01",
        dec!(500),
        None,
        true,
    );
    billed_expense.status = WorkStatus::Invoiced;
    billed_expense.invoice_id = Some("inv-1".into());
    let unbilled_internal = approved_expense(
        &a.member.person,
        &a.project,
        "2026-11-01",
        dec!(70),
        None,
        false,
    );
    for e in [&billed, &internal, &waiting] {
        store(&app, t, e).await;
    }
    store(&app, t, &billed_expense).await;
    store(&app, t, &unbilled_internal).await;

    // A second client billed in USD.
    let usd_client = app
        .create(
            &a.admin,
            "/v1/clients",
            json!({"name": "Acme Inc", "currency": "USD"}),
        )
        .await;
    let usd_project = app
        .create(
            &a.admin,
            "/v1/projects",
            json!({"client_id": usd_client, "name": "App", "billing_model": "time_and_materials", "team": [a.member.person]}),
        )
        .await;
    let usd = Currency::parse("USD").unwrap();
    let u1 = approve(
        entry(
            &a.member.person,
            &usd_project,
            "2026-11-19",
            60,
            true,
            WorkStatus::Submitted,
        ),
        dec!(150),
        usd,
    );
    store(&app, t, &u1).await;

    // Another agency's work.
    let theirs = approve(
        entry(
            &g.member.person,
            &g.project,
            "2026-11-16",
            600,
            true,
            WorkStatus::Submitted,
        ),
        dec!(100),
        eur(),
    );
    store(&app, &g.tenant, &theirs).await;

    let r = app
        .get(&a.finance, "/v1/reports/wip")
        .await
        .expect(200)
        .body;
    assert_eq!(r["rounding"], "half_up");
    assert_eq!(r["as_of"], "2026-11-20");

    // The project: 90 min at 100/h + 15 min at 27.50/h + 40 EUR with 10 % markup.
    let time_exact = value_of(90, dec!(100)).unwrap() + value_of(15, dec!(27.50)).unwrap();
    let expense_exact = with_markup(dec!(40), Some(dec!(10))).unwrap();
    let project = r["projects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["project_id"] == a.project.as_str())
        .unwrap();
    assert_eq!(project["project_name"], "Rebrand");
    assert_eq!(project["client_name"], "Northwind");
    assert_eq!(project["currency"], "EUR");
    assert_eq!(dec_of(&project["time_value"]["exact"]), time_exact);
    assert_eq!(
        project["time_value"]["amount"],
        half_up(time_exact).to_string()
    );
    assert_eq!(dec_of(&project["expense_value"]["exact"]), expense_exact);
    assert_eq!(
        dec_of(&project["total"]["exact"]),
        time_exact + expense_exact
    );
    assert_eq!(
        project["total"]["amount"], "200.88",
        "156.875 + 44 rounds half up once"
    );
    assert_eq!(project["total"]["currency"], "EUR");
    assert_eq!(dec_of(&project["hours"]), dec!(1.75));
    assert_eq!(
        (project["entries"].as_u64(), project["expenses"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(project["oldest_work_date"], "2026-11-10");
    assert_eq!(project["age_days"], 10);

    // The client adds its two EUR projects; USD stays apart.
    let side_exact = value_of(30, dec!(80)).unwrap();
    let northwind = r["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["client_id"] == a.client.as_str())
        .unwrap();
    assert_eq!(northwind["projects"], 2);
    assert_eq!(
        dec_of(&northwind["total"]["exact"]),
        time_exact + expense_exact + side_exact
    );
    assert_eq!(northwind["currency"], "EUR");
    let totals: Vec<(String, Decimal)> = r["totals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["currency"].as_str().unwrap().to_owned(),
                dec_of(&t["total"]["exact"]),
            )
        })
        .collect();
    assert_eq!(
        totals,
        vec![
            ("EUR".to_owned(), time_exact + expense_exact + side_exact),
            ("USD".to_owned(), value_of(60, dec!(150)).unwrap()),
        ]
    );
    assert_eq!(r["projects"].as_array().unwrap().len(), 3);

    // Nothing of the other agency, and they see only their own.
    assert!(!r.to_string().contains(&g.project));
    let theirs_r = app.get(&g.admin, "/v1/reports/wip").await.expect(200).body;
    assert_eq!(
        ids(&theirs_r["projects"], "project_id"),
        vec![g.project.clone()]
    );
    assert_eq!(
        dec_of(&theirs_r["totals"][0]["total"]["exact"]),
        value_of(600, dec!(100)).unwrap()
    );

    // The report takes no parameters; a typo is not silently ignored.
    let bad = app
        .get(&a.admin, "/v1/reports/wip?client=x")
        .await
        .expect(400);
    assert_eq!(bad.fields(), vec!["query.client"]);
}

#[tokio::test]
async fn wip_is_empty_before_anything_is_approved() {
    let app = app();
    let a = studio(&app, "acme").await;
    store(
        &app,
        &a.tenant,
        &entry(
            &a.member.person,
            &a.project,
            "2026-11-16",
            60,
            true,
            WorkStatus::Submitted,
        ),
    )
    .await;
    let r = app
        .get(&a.manager, "/v1/reports/wip")
        .await
        .expect(200)
        .body;
    assert_eq!(r["projects"], json!([]));
    assert_eq!(r["totals"], json!([]));
}

//! Utilization as the people who staff an agency read it: billable hours
//! over capacity, per person and for the agency, over a chosen period.

mod insights_support;

use agencyops_apitest::studio;
use agencyops_domain::budget::percent_used;
use agencyops_domain::timesheet::{capacity_hours, WorkStatus};
use insights_support::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::json;

#[tokio::test]
async fn utilization_is_billable_hours_over_capacity() {
    let app = app();
    let a = studio(&app, "acme").await;
    let g = studio(&app, "globex").await;
    let t = a.tenant.as_str();
    let rui = a.member.person.as_str();
    // Rui: 6 billable hours Monday to Friday (approved), 5 internal hours waiting
    // for approval, a rejected day being redone, and time outside the week.
    for d in [
        "2026-11-16",
        "2026-11-17",
        "2026-11-18",
        "2026-11-19",
        "2026-11-20",
    ] {
        store(
            &app,
            t,
            &approve(
                entry(rui, &a.project, d, 360, true, WorkStatus::Submitted),
                dec!(100),
                eur(),
            ),
        )
        .await;
    }
    store(
        &app,
        t,
        &entry(
            rui,
            &a.side_project,
            "2026-11-18",
            300,
            false,
            WorkStatus::Submitted,
        ),
    )
    .await;
    store(
        &app,
        t,
        &entry(
            rui,
            &a.project,
            "2026-11-19",
            180,
            true,
            WorkStatus::Rejected,
        ),
    )
    .await;
    store(
        &app,
        t,
        &entry(
            rui,
            &a.project,
            "2026-11-15",
            480,
            true,
            WorkStatus::Approved,
        ),
    )
    .await;
    store(
        &app,
        t,
        &entry(rui, &a.project, "2026-11-23", 480, true, WorkStatus::Draft),
    )
    .await;
    // Carl: 20 billable hours on Saturday, still a draft (it is worked time).
    store(
        &app,
        t,
        &entry(
            &a.contractor.person,
            &a.project,
            "2026-11-21",
            1200,
            true,
            WorkStatus::Draft,
        ),
    )
    .await;
    // Another agency's member works the same week.
    store(
        &app,
        &g.tenant,
        &entry(
            &g.member.person,
            &g.project,
            "2026-11-16",
            600,
            true,
            WorkStatus::Draft,
        ),
    )
    .await;

    // Eva leaves; a client user is not staff.
    app.patch(
        &a.admin,
        &format!("/v1/people/{}", a.outsider.person),
        json!({"active": false}),
    )
    .await
    .expect(200);
    let client_person = app
        .create(
            &a.admin,
            "/v1/people",
            json!({"name": "Cleo", "email": "cleo@northwind.io", "role": "client", "client_id": a.client, "time_zone": "UTC"}),
        )
        .await;

    let r = app.get(&a.manager, WEEK).await.expect(200).body;
    assert_eq!(
        (r["from"].as_str(), r["to"].as_str()),
        (Some("2026-11-16"), Some("2026-11-22"))
    );
    let people = r["people"].as_array().unwrap();
    let listed = ids(&r["people"], "person_id");
    assert!(
        !listed.contains(&a.outsider.person),
        "inactive people are left out"
    );
    assert!(
        !listed.contains(&client_person),
        "client users are left out"
    );
    assert!(
        !listed.contains(&g.member.person),
        "other agencies are left out"
    );
    let names: Vec<&str> = people.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["Carl", "Fin", "Mia", "Olga", "Rui", "Sam"]);

    let row = |id: &str| {
        people
            .iter()
            .find(|p| p["person_id"] == id)
            .unwrap()
            .clone()
    };
    let rui_row = row(rui);
    assert_eq!(dec_of(&rui_row["capacity_hours"]), dec!(40));
    assert_eq!(dec_of(&rui_row["billable_hours"]), dec!(30));
    assert_eq!(dec_of(&rui_row["total_hours"]), dec!(35));
    assert_eq!(dec_of(&rui_row["non_billable_hours"]), dec!(5));
    assert_eq!(dec_of(&rui_row["utilization_percent"]), dec!(75));
    assert_eq!(dec_of(&rui_row["total_percent"]), dec!(87.5));
    let carl = row(&a.contractor.person);
    assert_eq!(dec_of(&carl["utilization_percent"]), dec!(50));
    let fin = row(&a.finance.person);
    assert_eq!(dec_of(&fin["total_hours"]), dec!(0));
    assert_eq!(dec_of(&fin["utilization_percent"]), dec!(0));

    // The agency: the sum of the rows.
    let capacity = capacity_hours(dec!(40), day("2026-11-16"), day("2026-11-22"))
        * Decimal::from(people.len());
    assert_eq!(dec_of(&r["totals"]["capacity_hours"]), capacity);
    assert_eq!(dec_of(&r["totals"]["billable_hours"]), dec!(50));
    assert_eq!(dec_of(&r["totals"]["total_hours"]), dec!(55));
    assert_eq!(
        Some(dec_of(&r["totals"]["utilization_percent"])),
        percent_used(dec!(50), capacity)
    );

    // Two weeks double the capacity.
    let two = app
        .get(
            &a.finance,
            "/v1/reports/utilization?from=2026-11-16&to=2026-11-29",
        )
        .await
        .expect(200)
        .body;
    let rui_two = two["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["person_id"] == rui)
        .unwrap()
        .clone();
    assert_eq!(dec_of(&rui_two["capacity_hours"]), dec!(80));
    assert_eq!(dec_of(&rui_two["total_hours"]), dec!(43));

    // The other agency sees only its own people and hours.
    let theirs = app.get(&g.admin, WEEK).await.expect(200).body;
    assert!(!theirs.to_string().contains(rui));
    assert_eq!(dec_of(&theirs["totals"]["total_hours"]), dec!(10));
}

#[tokio::test]
async fn utilization_periods_must_make_sense() {
    let app = app();
    let a = studio(&app, "acme").await;
    for (query, field) in [
        ("from=2026-11-22&to=2026-11-16", "query.to"),
        ("from=2026-01-01&to=2027-01-02", "query.to"),
        ("to=2026-11-16", "query.from"),
        ("from=2026-11-16", "query.to"),
        ("from=2026-11-31&to=2026-12-01", "query.from"),
        ("from=2026-11-16&to=2026-11-22&person=x", "query.person"),
    ] {
        let res = app
            .get(&a.admin, &format!("/v1/reports/utilization?{query}"))
            .await
            .expect(400);
        assert_eq!(res.fields(), vec![field], "{query}");
    }
    // A whole leap year is allowed.
    app.get(
        &a.admin,
        "/v1/reports/utilization?from=2028-01-01&to=2028-12-31",
    )
    .await
    .expect(200);
}

//! A project's budget as its manager reads it: burn in hours and money,
//! what remains, and the alerts raised on the way.

mod insights_support;

use agencyops_apitest::studio;
use agencyops_domain::budget::{percent_used, Measure};
use insights_support::*;
use rust_decimal_macros::dec;
use serde_json::{json, Value};

#[tokio::test]
async fn the_budget_shows_burn_remaining_and_the_alerts_raised() {
    let app = app();
    let a = studio(&app, "acme").await;
    // 12 h used of 10, 1150.005 EUR of 1000: over budget on both.
    let alerts = vec![
        alert(
            Measure::Fees,
            100,
            agencyops_apitest::NOW - 60,
            dec!(115.00),
        ),
        alert(
            Measure::Hours,
            80,
            agencyops_apitest::NOW - 3600,
            dec!(85.00),
        ),
        alert(
            Measure::Hours,
            100,
            agencyops_apitest::NOW - 60,
            dec!(120.00),
        ),
        alert(
            Measure::Fees,
            80,
            agencyops_apitest::NOW - 3600,
            dec!(90.00),
        ),
    ];
    let fees = dec!(1150.005);
    let cost = dec!(430);
    store(
        &app,
        &a.tenant,
        &burn(&a.project, 720, 660, fees, cost, alerts),
    )
    .await;

    let v = app
        .get(&a.finance, &format!("/v1/projects/{}/budget", a.project))
        .await
        .expect(200)
        .body;
    assert_eq!(v["currency"], "EUR");
    assert_eq!(v["rounding"], "half_up");
    let h = &v["hours"];
    assert_eq!(dec_of(&h["budget"]), dec!(10));
    assert_eq!(dec_of(&h["used"]), dec!(12));
    assert_eq!(dec_of(&h["billable"]), dec!(11));
    assert_eq!(dec_of(&h["remaining"]), dec!(-2));
    assert_eq!(
        Some(dec_of(&h["percent_used"])),
        percent_used(dec!(12), dec!(10))
    );
    assert_eq!(h["over_budget"], true);
    let f = &v["fees"];
    assert_eq!(f["budget"]["amount"], "1000.00");
    assert_eq!(dec_of(&f["used"]["exact"]), fees);
    assert_eq!(f["used"]["amount"], half_up(fees).to_string());
    assert_eq!(f["used"]["amount"], "1150.01", "half up, not half even");
    assert_eq!(dec_of(&f["remaining"]["exact"]), dec!(1000) - fees);
    assert_eq!(f["remaining"]["amount"], "-150.01");
    assert_eq!(
        Some(dec_of(&f["percent_used"])),
        percent_used(fees, dec!(1000))
    );
    assert_eq!(f["over_budget"], true);
    assert_eq!(v["cost"]["amount"], "430.00");
    assert_eq!(dec_of(&v["margin"]["exact"]), fees - cost);
    assert_eq!(v["margin"]["amount"], half_up(fees - cost).to_string());
    assert_eq!(v["alert_thresholds"], json!([80, 100]));
    let raised: Vec<(String, u64)> = v["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["measure"].as_str().unwrap().to_owned(),
                a["threshold_percent"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        raised,
        vec![
            ("hours".to_owned(), 80),
            ("fees".to_owned(), 80),
            ("hours".to_owned(), 100),
            ("fees".to_owned(), 100),
        ],
        "oldest first"
    );
    assert_eq!(v["alerts"][0]["percent_used"], "85.00");
}

#[tokio::test]
async fn a_project_nobody_has_approved_work_on_has_its_whole_budget_left() {
    let app = app();
    let a = studio(&app, "acme").await;
    let v = app
        .get(&a.manager, &format!("/v1/projects/{}/budget", a.project))
        .await
        .expect(200)
        .body;
    assert_eq!(dec_of(&v["hours"]["used"]), dec!(0));
    assert_eq!(dec_of(&v["hours"]["remaining"]), dec!(10));
    assert_eq!(dec_of(&v["hours"]["percent_used"]), dec!(0));
    assert_eq!(v["fees"]["remaining"]["amount"], "1000.00");
    assert_eq!(v["hours"]["over_budget"], false);
    assert_eq!(v["alerts"], json!([]));
    assert_eq!(v["burn_updated_at"], Value::Null);

    // No budget at all: nothing to measure against.
    let side = app
        .get(&a.admin, &format!("/v1/projects/{}/budget", a.side_project))
        .await
        .expect(200)
        .body;
    assert_eq!(side["hours"]["remaining"], Value::Null);
    assert_eq!(side["fees"]["percent_used"], Value::Null);
    assert_eq!(side["fees"]["used"]["amount"], "0.00");
}

//! The read-only views over approved work, as the people who run an agency use
//! them: the project budget, work in progress, utilization and the audit trail,
//! each with its role and tenant boundaries.

mod insights_support;

use agencyops_apitest::{studio, who, App, Studio};
use agencyops_domain::budget::{percent_used, Measure};
use agencyops_domain::timesheet::{capacity_hours, value_of, with_markup, WorkStatus};
use agencyops_domain::{Currency, Money, MoneyRounding};
use insights_support::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::{json, Value};

fn app() -> App {
    App::new(agencyops_intake::routes().merge(agencyops_approvals::routes()))
}

fn half_up(exact: Decimal) -> Decimal {
    Money::rounded(exact, eur(), MoneyRounding::HalfUp).amount
}

fn ids(v: &Value, field: &str) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r[field].as_str().unwrap_or("").to_owned())
        .collect()
}

const WEEK: &str = "/v1/reports/utilization?from=2026-11-16&to=2026-11-22";

// ---- work in progress ----

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

// ---- utilization ----

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

// ---- budget ----

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

// ---- audit ----

/// Renames the project twice, a minute apart, as an admin.
async fn rename_twice(app: &App, a: &Studio) {
    for name in ["Rebrand v2", "Rebrand v3"] {
        app.clock.advance(jiff::SignedDuration::from_secs(60));
        app.patch(
            &a.admin,
            &format!("/v1/projects/{}", a.project),
            json!({"name": name}),
        )
        .await
        .expect(200);
    }
}

async fn all_pages(app: &App, who: &agencyops_apitest::As, first: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut path = first.to_owned();
    loop {
        let page = app.get(who, &path).await.expect(200).body;
        let items = page["items"].as_array().unwrap();
        assert!(!items.is_empty(), "no empty pages");
        out.extend(items.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("{first}&cursor={c}"),
            None => return out,
        }
    }
}

#[tokio::test]
async fn the_audit_trail_lists_changes_newest_first() {
    let app = app();
    let a = studio(&app, "acme").await;
    rename_twice(&app, &a).await;

    // One record's history.
    let entity = format!("/v1/audit?entity_kind=project&entity_id={}", a.project);
    let h = app.get(&a.admin, &entity).await.expect(200).body;
    let actions: Vec<&str> = h["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["update", "update", "create"]);
    assert_eq!(h["items"][0]["after"]["name"], "Rebrand v3");
    assert_eq!(h["items"][0]["before"]["name"], "Rebrand v2");
    assert_eq!(h["items"][0]["actor"], "boss");
    assert_eq!(h["items"][0]["entity_id"], a.project.as_str());
    assert!(h["items"][0].get("pk").is_none() && h["items"][0].get("gsi1pk").is_none());
    assert_eq!(h["next_cursor"], Value::Null);

    // The whole tenant, newest first, and the same when read page by page.
    let all = app
        .get(&a.admin, "/v1/audit?limit=200")
        .await
        .expect(200)
        .body;
    let items = all["items"].as_array().unwrap();
    let ats: Vec<&str> = items.iter().map(|e| e["at"].as_str().unwrap()).collect();
    assert!(
        ats.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {ats:?}"
    );
    assert_eq!(items[0]["entity_id"], a.project.as_str());
    assert_eq!(items[0]["after"]["name"], "Rebrand v3");
    let kinds: Vec<&str> = items
        .iter()
        .map(|e| e["entity_kind"].as_str().unwrap())
        .collect();
    for kind in ["person", "client", "project", "task"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    let paged = all_pages(&app, &a.admin, "/v1/audit?limit=4").await;
    assert!(items.len() > 8, "several pages");
    assert_eq!(ids(&Value::Array(paged), "id"), ids(&all["items"], "id"));

    let first = app
        .get(&a.admin, &format!("{entity}&limit=2"))
        .await
        .expect(200)
        .body;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let second = app
        .get(&a.admin, &format!("{entity}&limit=2&cursor={cursor}"))
        .await
        .expect(200)
        .body;
    assert_eq!(ids(&second["items"], "action"), vec!["create"]);
    assert_eq!(second["next_cursor"], Value::Null);

    // A cursor resumes only its own tenant and list.
    let g = studio(&app, "globex").await;
    let stolen = app
        .get(&g.admin, &format!("{entity}&limit=2&cursor={cursor}"))
        .await
        .expect(400);
    assert_eq!(stolen.fields(), vec!["query.cursor"]);
    let other_list = app
        .get(&a.admin, &format!("/v1/audit?limit=2&cursor={cursor}"))
        .await
        .expect(400);
    assert_eq!(other_list.fields(), vec!["query.cursor"]);

    // The other agency sees none of it, even asking for this project by id.
    let theirs = app.get(&g.admin, &entity).await.expect(200).body;
    assert_eq!(theirs["items"], json!([]));
    let theirs_all = all_pages(&app, &g.admin, "/v1/audit?limit=200").await;
    let text = Value::Array(theirs_all).to_string();
    assert!(!text.contains(&a.project) && !text.contains(&a.client));
}

#[tokio::test]
async fn audit_filters_and_pages_are_checked() {
    let app = app();
    let a = studio(&app, "acme").await;
    for (query, field) in [
        ("entity_kind=project", "query.entity_id"),
        ("entity_id=abc", "query.entity_kind"),
        ("entity_kind=pro%23ject&entity_id=abc", "query.entity_kind"),
        ("entity_kind=project&entity_id=a%23b", "query.entity_id"),
        ("limit=0", "query.limit"),
        ("limit=201", "query.limit"),
        ("cursor=forged", "query.cursor"),
        ("since=2026-01-01", "query.since"),
    ] {
        let res = app
            .get(&a.admin, &format!("/v1/audit?{query}"))
            .await
            .expect(400);
        assert_eq!(res.fields(), vec![field], "{query}");
    }
}

// ---- who may read what ----

#[tokio::test]
async fn every_view_answers_only_the_roles_and_tenant_it_is_for() {
    let app = app();
    let a = studio(&app, "acme").await;
    let g = studio(&app, "globex").await;
    let budget = format!("/v1/projects/{}/budget", a.project);
    let paths = [budget.as_str(), "/v1/audit", WEEK, "/v1/reports/wip"];

    // (who, [budget, audit, utilization, wip])
    let matrix = [
        (&a.admin, [200, 200, 200, 200]),
        (&a.finance, [200, 403, 200, 200]),
        (&a.manager, [200, 403, 200, 200]),
        (&a.other_manager, [200, 403, 200, 200]),
        (&a.member, [403, 403, 403, 403]),
        (&a.contractor, [403, 403, 403, 403]),
        (&a.client_user, [403, 403, 403, 403]),
        // People who cannot see the project at all are told it does not exist.
        (&a.outsider, [404, 403, 403, 403]),
        (&a.stray_contractor, [404, 403, 403, 403]),
        // Another agency's admin: this project is not theirs.
        (&g.admin, [404, 200, 200, 200]),
    ];
    for (caller, expected) in matrix {
        for (path, status) in paths.iter().zip(expected) {
            let res = app.get(caller, path).await;
            assert_eq!(
                res.status.as_u16(),
                status,
                "{} {} {path}: {}",
                caller.role,
                caller.person,
                res.body
            );
        }
    }

    // A client user of another client cannot even learn the project exists.
    let other_client = app
        .create(
            &a.admin,
            "/v1/clients",
            json!({"name": "Initech", "currency": "EUR"}),
        )
        .await;
    let stranger = agencyops_apitest::client_user(&a.tenant, "cx", &other_client);
    app.get(&stranger, &budget).await.expect(404);

    // Unknown and malformed project ids.
    app.get(&a.admin, "/v1/projects/nope/budget")
        .await
        .expect(404);
    app.get(&a.admin, "/v1/projects/no%23pe/budget")
        .await
        .expect(404);

    // Nobody unauthenticated.
    for path in paths {
        let res = app
            .raw(None, axum::http::Method::GET, path, None, &[])
            .await;
        assert_eq!(res.status.as_u16(), 401, "{path}");
    }

    // A token claiming a role its person record no longer has gets that record's role.
    let demoted = who(&a.tenant, &a.finance.person, "admin");
    app.get(&demoted, "/v1/audit").await.expect(403);
}

#[test]
fn the_api_document_names_every_view() {
    let doc = serde_json::to_value(agencyops_approvals::openapi()).unwrap();
    let ops: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|p| p.as_object().unwrap().values())
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    for id in [
        "get_project_budget",
        "list_audit",
        "utilization_report",
        "wip_report",
    ] {
        assert!(ops.contains(&id), "{id} in {ops:?}");
    }
}

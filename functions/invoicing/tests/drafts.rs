//! Drafts from approved work: claiming, lines, exact money, races, the
//! builder for large drafts, and handing work back.

mod support;

use rust_decimal_macros::dec;
use serde_json::json;
use support::*;

fn line_amounts(body: &serde_json::Value) -> Vec<rust_decimal::Decimal> {
    body["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| dec(&l["amount"]))
        .collect()
}

#[tokio::test]
async fn a_draft_claims_approved_work_in_one_write_and_wip_drops_by_exactly_what_it_bills() {
    let (app, s) = setup().await;
    // Kimai PR #1424: two 15-minute entries at 27.50/h bill what one 30-minute entry bills.
    let entries = vec![
        approved_entry(&s.member.person, &s.project, "2026-11-10", 15, dec!(27.50)),
        approved_entry(&s.member.person, &s.project, "2026-11-11", 15, dec!(27.50)),
    ];
    store(&app, &s.tenant, &entries).await;
    store(
        &app,
        &s.tenant,
        &[approved_expense(
            &s.member.person,
            &s.project,
            "2026-11-12",
            dec!(100.00),
            Some(dec!(10)),
        )],
    )
    .await;
    let wip_before = app.get(&s.finance, "/v1/reports/wip").await.expect(200);
    assert_eq!(unbilled_count(&app, &s.tenant).await, 3);

    let res = draft(&app, &s, json!({})).await.expect(201);
    let inv = &res.body;
    assert_eq!(inv["status"], "draft");
    assert_eq!(
        inv["number"],
        serde_json::Value::Null,
        "a draft has no number"
    );
    let lines = inv["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "{inv}");
    assert_eq!(lines[0]["quantity"], "0.5");
    assert_eq!(lines[0]["unit_price"], "27.50");
    assert_eq!(dec(&lines[0]["amount"]), dec!(13.75));
    assert_eq!(
        dec(&lines[1]["amount"]),
        dec!(110.00),
        "the expense bills with its markup"
    );
    assert_eq!(dec(&inv["subtotal"]), dec!(123.75));
    assert_eq!(dec(&inv["total"]), dec!(123.75));
    assert_eq!(dec(&inv["balance_due"]), dec!(123.75));
    assert!(res.headers.get("location").is_some());

    // The work says which invoice holds it and has left WIP.
    let id = inv["id"].as_str().unwrap();
    for e in &entries {
        let stored: agencyops_store::records::TimeEntry = agencyops_store::record::load(
            &app.embedded,
            &agencyops_store::record::Record::key(e, &s.tenant),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(stored.invoice_id.as_deref(), Some(id));
        assert_eq!(
            stored.status,
            agencyops_domain::timesheet::WorkStatus::Invoiced
        );
    }
    assert_eq!(unbilled_count(&app, &s.tenant).await, 0);
    let wip_after = app.get(&s.finance, "/v1/reports/wip").await.expect(200);
    assert_eq!(
        dec(&wip_before.body["totals"][0]["total"]["amount"]),
        dec(&inv["subtotal"]),
        "WIP drops by exactly what was invoiced"
    );
    assert_eq!(
        wip_after.body["totals"]
            .as_array()
            .map(|t| t.len())
            .unwrap_or(0),
        0,
        "{}",
        wip_after.body
    );
    invariant(&app, &s).await;

    // Nothing is billed twice: a second draft finds nothing to bill.
    let again = draft(&app, &s, json!({})).await.expect(409);
    assert!(
        again.body["detail"]
            .as_str()
            .unwrap()
            .contains("no approved"),
        "{}",
        again.body
    );
    invariant(&app, &s).await;
}

#[tokio::test]
async fn lines_group_by_task_person_or_entry_and_detailed_invoices_list_their_entries() {
    let (app, s) = setup().await;
    let mut a = approved_entry(&s.member.person, &s.project, "2026-11-10", 90, dec!(100));
    a.task_id = Some(s.task.clone());
    let b = approved_entry(
        &s.contractor.person,
        &s.project,
        "2026-11-10",
        30,
        dec!(100),
    );
    store(&app, &s.tenant, &[a.clone(), b.clone()]).await;
    let res = draft(
        &app,
        &s,
        json!({"time_grouping": "person", "detail": "detailed"}),
    )
    .await
    .expect(201);
    let lines = res.body["lines"].as_array().unwrap();
    let names: Vec<_> = lines
        .iter()
        .map(|l| l["description"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Carl", "Rui"]);
    let rui = &lines[1];
    assert_eq!(rui["quantity"], "1.5");
    assert_eq!(rui["entries"][0]["id"], a.id.as_str());
    assert_eq!(rui["entries"][0]["hours"], "1.5");
    let id = res.id();
    app.delete(&s.finance, &format!("/v1/invoices/{id}"))
        .await
        .expect(204);
    invariant(&app, &s).await;

    let res = draft(&app, &s, json!({"time_grouping": "task"}))
        .await
        .expect(201);
    let names: Vec<_> = res.body["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["description"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["Rebrand: Design", "Rebrand: No task"]);
    assert!(
        res.body["lines"][0].get("entries").is_none(),
        "summary invoices list no entries"
    );
}

#[tokio::test]
async fn two_drafts_racing_for_the_same_work_each_get_a_disjoint_part_and_together_all_of_it() {
    let (app, s) = setup().await;
    approved_work(&app, &s, 60, 30, dec!(100)).await;
    let (a, b) = tokio::join!(draft(&app, &s, json!({})), draft(&app, &s, json!({})));
    let mut billed = 0;
    for r in [&a, &b] {
        match r.status.as_u16() {
            201 => {
                billed += r.body["lines"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| l["quantity"].as_str().unwrap().parse::<f64>().unwrap())
                    .sum::<f64>() as usize
            }
            409 => {}
            other => panic!("unexpected {other}: {}", r.body),
        }
    }
    assert_eq!(
        billed, 30,
        "60 half hours billed once in all: {} / {}",
        a.body, b.body
    );
    assert_eq!(unbilled_count(&app, &s.tenant).await, 0);
    invariant(&app, &s).await;
}

#[tokio::test]
async fn deleting_a_draft_or_removing_its_line_hands_the_work_back_to_wip() {
    let (app, s) = setup().await;
    approved_work(&app, &s, 3, 60, dec!(100)).await;
    store(
        &app,
        &s.tenant,
        &[approved_expense(
            &s.member.person,
            &s.project,
            "2026-11-12",
            dec!(20.00),
            None,
        )],
    )
    .await;
    let res = draft(&app, &s, json!({})).await.expect(201);
    let id = res.id();
    let expense_line = res.body["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["kind"] == "expense")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let edited = app
        .patch(
            &s.finance,
            &format!("/v1/invoices/{id}"),
            json!({"remove_lines": [expense_line]}),
        )
        .await
        .expect(200);
    assert_eq!(edited.body["lines"].as_array().unwrap().len(), 1);
    assert_eq!(dec(&edited.body["total"]), dec!(300.00));
    assert_eq!(
        unbilled_count(&app, &s.tenant).await,
        1,
        "the expense is back in WIP"
    );
    invariant(&app, &s).await;

    app.delete(&s.finance, &format!("/v1/invoices/{id}"))
        .await
        .expect(204);
    app.get(&s.finance, &format!("/v1/invoices/{id}"))
        .await
        .expect(404);
    assert_eq!(unbilled_count(&app, &s.tenant).await, 4);
    invariant(&app, &s).await;
    // And it can be billed again.
    draft(&app, &s, json!({})).await.expect(201);
    invariant(&app, &s).await;
}

#[tokio::test]
async fn a_large_draft_is_built_by_the_builder_even_when_every_message_arrives_twice() {
    let (app, s) = setup().await;
    approved_work(&app, &s, 400, 15, dec!(90)).await;
    let res = draft(&app, &s, json!({})).await.expect(202);
    assert_eq!(res.body["status"], "building");
    let id = res.id();
    let early = app
        .post(&s.finance, &format!("/v1/invoices/{id}/issue"), json!({}))
        .await
        .expect(409);
    assert_eq!(
        early.problem_type(),
        "https://agencyops.dev/problems/still-building"
    );
    invariant(&app, &s).await;

    // The creation's message, and the one the early issue sent again.
    assert_eq!(run_builder(&app, 2).await, 2);
    let built = app
        .get(&s.finance, &format!("/v1/invoices/{id}"))
        .await
        .expect(200);
    assert_eq!(built.body["status"], "draft");
    assert_eq!(
        built.body["lines"][0]["quantity"], "100",
        "400 x 15 minutes"
    );
    assert_eq!(dec(&built.body["total"]), dec!(9000.00));
    assert_eq!(unbilled_count(&app, &s.tenant).await, 0);
    invariant(&app, &s).await;
    // A late redelivery changes nothing.
    agencyops_invoicing::handle_build_message(
        &app.services,
        &format!("{{\"tenant\":\"acme\",\"invoice_id\":\"{id}\"}}"),
    )
    .await
    .unwrap();
    let again = app
        .get(&s.finance, &format!("/v1/invoices/{id}"))
        .await
        .expect(200);
    assert_eq!(again.body["version"], built.body["version"]);
    app.post(&s.finance, &format!("/v1/invoices/{id}/issue"), json!({}))
        .await
        .expect(200);
}

#[tokio::test]
async fn tax_is_computed_once_per_rate_and_a_discount_comes_off_before_tax() {
    let (app, s) = setup().await;
    app.put(&s.finance, "/v1/settings/invoicing", json!({
        "number_pattern": "{YYYY}-{SEQ:4}",
        "tax_rates": [
            {"code": "S20", "name": "VAT 20%", "percent": "20", "xero_tax_type": "20% (VAT on Income)"},
            {"code": "R5", "name": "VAT 5%", "percent": 5},
        ],
    })).await.expect(200);
    // IN #11075: 50 lines of 241.67 at 20 % VAT are 2416.70 tax, not 2416.50.
    let lines: Vec<_> = (0..50).map(|i| json!({"description": format!("Item {i}"), "quantity": 1, "unit_price": "241.67", "tax_code": "S20"})).collect();
    let res = app
        .post(
            &s.finance,
            "/v1/invoices",
            json!({"client_id": s.client, "kind": "manual", "lines": lines}),
        )
        .await
        .expect(201);
    assert_eq!(dec(&res.body["subtotal"]), dec!(12083.50));
    assert_eq!(dec(&res.body["tax_total"]), dec!(2416.70));
    assert_eq!(dec(&res.body["total"]), dec!(14500.20));
    let sum: rust_decimal::Decimal = line_amounts(&res.body).into_iter().sum();
    assert_eq!(sum, dec(&res.body["subtotal"]), "lines sum to the subtotal");

    let res = app.post(&s.finance, "/v1/invoices", json!({
        "client_id": s.client, "kind": "manual",
        "lines": [
            {"description": "Design", "quantity": "1", "unit_price": "100.00", "tax_code": "S20"},
            {"description": "Print", "quantity": "1", "unit_price": "50.00", "tax_code": "R5"},
        ],
        "discount": {"amount": "10.00"},
    })).await.expect(201);
    let b = &res.body;
    assert_eq!(dec(&b["discount_total"]), dec!(10.00));
    let by: std::collections::BTreeMap<_, _> = b["tax_breakdown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["code"].as_str().unwrap().to_owned(), t.clone()))
        .collect();
    assert_eq!(dec(&by["S20"]["taxable"]), dec!(93.33));
    assert_eq!(dec(&by["S20"]["amount"]), dec!(18.67));
    assert_eq!(dec(&by["R5"]["taxable"]), dec!(46.67));
    assert_eq!(dec(&by["R5"]["amount"]), dec!(2.33));
    assert_eq!(
        dec(&b["tax_total"]),
        dec(&by["S20"]["amount"]) + dec(&by["R5"]["amount"])
    );
    assert_eq!(
        dec(&b["total"]),
        dec(&b["subtotal"]) - dec(&b["discount_total"]) + dec(&b["tax_total"])
    );
}

#[tokio::test]
async fn a_line_can_be_written_down_and_the_difference_is_kept() {
    let (app, s) = setup().await;
    approved_work(&app, &s, 4, 60, dec!(100)).await;
    let res = draft(&app, &s, json!({})).await.expect(201);
    let id = res.id();
    let line = res.body["lines"][0]["id"].as_str().unwrap().to_owned();
    let etag = res.etag();
    let stale = app
        .raw(
            Some(&s.finance),
            axum::http::Method::PATCH,
            &format!("/v1/invoices/{id}"),
            Some(json!({"notes": "x"}).to_string().into_bytes()),
            &[("if-match", "\"999\"")],
        )
        .await;
    assert_eq!(stale.status.as_u16(), 412);
    let res = app
        .raw(Some(&s.finance), axum::http::Method::PATCH, &format!("/v1/invoices/{id}"), Some(json!({"lines": [{"id": line, "adjustment": "-50.00", "description": "Rebrand, first round"}]}).to_string().into_bytes()), &[("if-match", etag.as_str())])
        .await;
    assert_eq!(res.status.as_u16(), 200, "{}", res.body);
    assert_eq!(dec(&res.body["lines"][0]["amount"]), dec!(350.00));
    assert_eq!(
        res.body["lines"][0]["quantity"], "4",
        "the hours stay as billed"
    );
    assert_eq!(dec(&res.body["adjustments_total"]), dec!(-50.00));
    assert_eq!(dec(&res.body["total"]), dec!(350.00));
}

#[tokio::test]
async fn a_milestone_is_billed_once_and_a_fixed_fee_by_its_share() {
    let (app, s) = setup().await;
    let fixed = app
        .create(&s.admin, "/v1/projects", json!({"client_id": s.client, "name": "Campaign", "billing_model": "fixed_fee", "fixed_fee": "12000.00", "team": [s.manager.person]}))
        .await;
    let m = app
        .create(
            &s.admin,
            &format!("/v1/projects/{fixed}/milestones"),
            json!({"name": "Concepts", "amount": "4000.00"}),
        )
        .await;
    app.patch(
        &s.admin,
        &format!("/v1/projects/{fixed}/milestones/{m}"),
        json!({"status": "reached"}),
    )
    .await
    .expect(200);
    let res = app
        .post(
            &s.finance,
            "/v1/invoices",
            json!({"client_id": s.client, "kind": "milestone", "milestone_ids": [m]}),
        )
        .await
        .expect(201);
    assert_eq!(dec(&res.body["total"]), dec!(4000.00));
    assert_eq!(res.body["lines"][0]["description"], "Campaign: Concepts");
    let twice = app
        .post(
            &s.finance,
            "/v1/invoices",
            json!({"client_id": s.client, "kind": "milestone", "milestone_ids": [m]}),
        )
        .await
        .expect(409);
    assert_eq!(
        twice.problem_type(),
        "https://agencyops.dev/problems/already-invoiced"
    );
    let ms = app
        .get(&s.admin, &format!("/v1/projects/{fixed}/milestones/{m}"))
        .await
        .expect(200);
    assert_eq!(ms.body["status"], "invoiced");
    // Deleting the draft makes the milestone billable again.
    app.delete(&s.finance, &format!("/v1/invoices/{}", res.id()))
        .await
        .expect(204);
    let ms = app
        .get(&s.admin, &format!("/v1/projects/{fixed}/milestones/{m}"))
        .await
        .expect(200);
    assert_eq!(ms.body["status"], "reached");

    let res = app
        .post(&s.finance, "/v1/invoices", json!({"client_id": s.client, "kind": "fixed_fee", "fixed_fee": {"project_id": fixed, "percent": "25"}}))
        .await
        .expect(201);
    assert_eq!(dec(&res.body["total"]), dec!(3000.00));
    assert_eq!(
        res.body["lines"][0]["description"],
        "Campaign: 25% of the fixed fee"
    );
}

#[tokio::test]
async fn bad_input_is_a_named_400_and_writes_nothing() {
    let (app, s) = setup().await;
    approved_work(&app, &s, 2, 60, dec!(100)).await;
    for (body, field) in [
        (json!({"client_id": s.client, "kind": "manual"}), "lines"),
        (
            json!({"client_id": s.client, "kind": "manual", "lines": [{"description": " ", "quantity": "1", "unit_price": "1.00"}]}),
            "lines[0].description",
        ),
        (
            json!({"client_id": s.client, "kind": "manual", "lines": [{"description": "x", "quantity": "0", "unit_price": "1.00"}]}),
            "lines[0].quantity",
        ),
        (
            json!({"client_id": s.client, "kind": "manual", "lines": [{"description": "x", "quantity": "1", "unit_price": "1.005"}]}),
            "lines[0].unit_price",
        ),
        (
            json!({"client_id": s.client, "kind": "manual", "lines": [{"description": "x", "quantity": "1", "unit_price": "1.00", "tax_code": "NOPE"}]}),
            "lines[0].tax_code",
        ),
        (
            json!({"client_id": s.client, "kind": "time_and_materials", "discount": {"percent": "10", "amount": "5.00"}}),
            "discount",
        ),
        (
            json!({"client_id": s.client, "kind": "time_and_materials", "period": {"from": "2026-11-30", "to": "2026-11-01"}}),
            "period.to",
        ),
        (
            json!({"client_id": s.client, "kind": "time_and_materials", "project_ids": ["nope"]}),
            "project_ids[0]",
        ),
        (
            json!({"client_id": s.client, "kind": "fixed_fee"}),
            "fixed_fee",
        ),
    ] {
        let res = app
            .post(&s.finance, "/v1/invoices", body.clone())
            .await
            .expect(400);
        assert!(
            res.fields().contains(&field.to_owned()),
            "{body}: {}",
            res.body
        );
    }
    let money_as_number = app.post(&s.finance, "/v1/invoices", json!({"client_id": s.client, "kind": "manual", "lines": [{"description": "x", "quantity": 1, "unit_price": 10}]})).await.expect(400);
    assert!(
        money_as_number.body.to_string().contains("string"),
        "{}",
        money_as_number.body
    );
    app.post(
        &s.finance,
        "/v1/invoices",
        json!({"client_id": "nope", "kind": "time_and_materials"}),
    )
    .await
    .expect(404);
    assert_eq!(
        unbilled_count(&app, &s.tenant).await,
        2,
        "nothing was claimed"
    );
    let list = app.get(&s.finance, "/v1/invoices").await.expect(200);
    assert_eq!(
        list.body["items"].as_array().unwrap().len(),
        0,
        "no invoice was written"
    );
}

/// The answers to creating, issuing and paying are built from what each
/// operation holds rather than read again: each is exactly the invoice a
/// GET returns right after, entries of a detailed draft included.
#[tokio::test]
async fn what_draft_issue_and_payment_answer_is_the_invoice_as_stored() {
    let (app, s) = setup().await;
    approved_work(&app, &s, 6, 45, dec!(120)).await;
    let created = draft(
        &app,
        &s,
        json!({"time_grouping": "person", "detail": "detailed"}),
    )
    .await
    .expect(201);
    let path = format!("/v1/invoices/{}", created.id());
    let stored = app.get(&s.finance, &path).await.expect(200);
    assert_eq!(created.body, stored.body);
    assert_eq!(created.etag(), stored.etag());
    assert!(
        created.body["lines"][0]["entries"]
            .as_array()
            .is_some_and(|e| e.len() == 6),
        "{}",
        created.body
    );
    let issued = app
        .post(&s.finance, &format!("{path}/issue"), json!({}))
        .await
        .expect(200);
    assert_eq!(
        issued.body,
        app.get(&s.finance, &path).await.expect(200).body
    );
    let paid = app
        .post(
            &s.finance,
            &format!("{path}/payments"),
            json!({"amount": "100.00", "date": "2026-11-20", "method": "card"}),
        )
        .await
        .expect(201);
    let after = app.get(&s.finance, &path).await.expect(200);
    assert_eq!(paid.body, after.body);
    assert_eq!(paid.etag(), after.etag());
}

//! After the draft: numbers, payments, credit notes, void and write-off.

mod support;

use rust_decimal_macros::dec;
use serde_json::json;
use support::*;

/// A manual draft of `amount` EUR, issued; returns its id.
async fn issued(app: &App, s: &Studio, amount: &str) -> String {
    let id = app
        .create(&s.finance, "/v1/invoices", json!({"client_id": s.client, "kind": "manual", "lines": [{"description": "Retainer", "quantity": "1", "unit_price": amount}]}))
        .await;
    app.post(&s.finance, &format!("/v1/invoices/{id}/issue"), json!({}))
        .await
        .expect(200);
    id
}

#[tokio::test]
async fn thirty_concurrent_issues_give_thirty_consecutive_numbers() {
    let (app, s) = setup().await;
    let mut ids = Vec::new();
    for i in 0..30 {
        ids.push(
            app.create(&s.finance, "/v1/invoices", json!({"client_id": s.client, "kind": "manual", "lines": [{"description": format!("Item {i}"), "quantity": "1", "unit_price": "10.00"}]}))
                .await,
        );
    }
    let issues = ids.iter().map(|id| {
        let app = &app;
        let fin = &s.finance;
        async move {
            app.post(fin, &format!("/v1/invoices/{id}/issue"), json!({}))
                .await
        }
    });
    let results = futures_join_all(issues).await;
    let mut numbers: Vec<String> = results
        .iter()
        .map(|r| {
            r.body["number"]
                .as_str()
                .unwrap_or_else(|| panic!("{}", r.body))
                .to_owned()
        })
        .collect();
    numbers.sort();
    let expected: Vec<String> = (1..=30).map(|n| format!("2026-{n:04}")).collect();
    assert_eq!(numbers, expected);
    // Issuing again keeps the number.
    let again = app
        .post(
            &s.finance,
            &format!("/v1/invoices/{}/issue", ids[0]),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(again.body["number"], results[0].body["number"]);
    invariant(&app, &s).await;
}

async fn futures_join_all<F: std::future::Future>(
    fs: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    let handles: Vec<_> = fs.into_iter().collect();
    let mut out = Vec::with_capacity(handles.len());
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = handles.into_iter().map(Box::pin).collect();
    // Poll all together: a tiny join_all over the test's runtime.
    let mut done: Vec<Option<F::Output>> = (0..pinned.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in pinned.iter_mut().enumerate() {
            if done[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => done[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.extend(done.into_iter().map(|d| d.expect("every future finished")));
    out
}

#[tokio::test]
async fn the_year_comes_from_the_issue_date_and_the_counter_restarts_each_year() {
    let (app, s) = setup().await;
    app.put(
        &s.finance,
        "/v1/settings/invoicing",
        json!({"number_pattern": "INV/{YY}/{SEQ:3}"}),
    )
    .await
    .expect(200);
    let mut numbers = Vec::new();
    for date in ["2026-12-30", "2026-12-31", "2027-01-02"] {
        let id = app
            .create(&s.finance, "/v1/invoices", json!({"client_id": s.client, "kind": "manual", "issue_date": date, "lines": [{"description": "x", "quantity": "1", "unit_price": "1.00"}]}))
            .await;
        let res = app
            .post(&s.finance, &format!("/v1/invoices/{id}/issue"), json!({}))
            .await
            .expect(200);
        assert_eq!(res.body["issue_date"], date);
        numbers.push(res.body["number"].as_str().unwrap().to_owned());
    }
    assert_eq!(numbers, ["INV/26/001", "INV/26/002", "INV/27/001"]);
    let bad = app
        .put(
            &s.finance,
            "/v1/settings/invoicing",
            json!({"number_pattern": "{YYYY}"}),
        )
        .await
        .expect(400);
    assert!(bad.fields().contains(&"number_pattern".to_owned()));
}

#[tokio::test]
async fn the_due_date_follows_the_clients_payment_terms_unless_given() {
    let (app, s) = setup().await;
    app.patch(
        &s.admin,
        &format!("/v1/clients/{}", s.client),
        json!({"payment_terms_days": 14}),
    )
    .await
    .expect(200);
    let id = issued(&app, &s, "100.00").await;
    let inv = app
        .get(&s.finance, &format!("/v1/invoices/{id}"))
        .await
        .expect(200);
    assert_eq!(inv.body["issue_date"], "2026-11-20");
    assert_eq!(inv.body["due_date"], "2026-12-04");
}

#[tokio::test]
async fn payments_move_the_balance_exactly_and_one_above_it_is_refused() {
    let (app, s) = setup().await;
    let id = issued(&app, &s, "100.00").await;
    let pay = |amount: &str| json!({"amount": amount, "date": "2026-11-25", "method": "bank_transfer", "reference": "TX-1"});
    let res = app
        .post(
            &s.finance,
            &format!("/v1/invoices/{id}/payments"),
            pay("30.01"),
        )
        .await
        .expect(201);
    assert_eq!(res.body["status"], "partially_paid");
    assert_eq!(dec(&res.body["balance_due"]), dec!(69.99));
    let over = app
        .post(
            &s.finance,
            &format!("/v1/invoices/{id}/payments"),
            pay("70.00"),
        )
        .await
        .expect(409);
    assert_eq!(
        over.problem_type(),
        "https://agencyops.dev/problems/exceeds-balance"
    );
    assert!(over.body["detail"].as_str().unwrap().contains("69.99"));
    let res = app
        .post(
            &s.finance,
            &format!("/v1/invoices/{id}/payments"),
            pay("69.99"),
        )
        .await
        .expect(201);
    assert_eq!(res.body["status"], "paid");
    assert_eq!(dec(&res.body["balance_due"]), dec!(0));
    // Reversing a payment (admin or finance) reopens the balance, audited.
    let pid = res.body["payments"][0]["id"].as_str().unwrap().to_owned();
    app.delete(&s.manager, &format!("/v1/invoices/{id}/payments/{pid}"))
        .await
        .expect(403);
    let res = app
        .delete(&s.finance, &format!("/v1/invoices/{id}/payments/{pid}"))
        .await
        .expect(200);
    assert_eq!(res.body["status"], "partially_paid");
    assert_eq!(dec(&res.body["balance_due"]), dec!(30.01));
    assert_eq!(res.body["payments"][0]["reversed"], true);
    let again = app
        .delete(&s.finance, &format!("/v1/invoices/{id}/payments/{pid}"))
        .await
        .expect(200);
    assert_eq!(
        dec(&again.body["balance_due"]),
        dec!(30.01),
        "reversing twice reverses once"
    );
    let q = agencyops_store::Query::new(
        agencyops_store::Index::Gsi1,
        agencyops_store::keys::audit_entity(&s.tenant, "invoice", &id),
    )
    .limit(100);
    let actions: Vec<String> = agencyops_store::record::all_items(&app.embedded, &q)
        .await
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap_or("").to_owned())
        .collect();
    for a in ["create", "issue", "record_payment", "reverse_payment"] {
        assert!(
            actions.contains(&a.to_owned()),
            "{a} not audited: {actions:?}"
        );
    }
}

#[tokio::test]
async fn a_credit_note_moves_the_balance_by_exactly_its_amount_and_never_below_zero() {
    let (app, s) = setup().await;
    let id = issued(&app, &s, "50.00").await;
    // IN #9573: a 10 credit on a 50 invoice leaves 40 owed; it is not paid.
    let res = app
        .post(
            &s.finance,
            &format!("/v1/invoices/{id}/credit-notes"),
            json!({"reason": "Late delivery", "amount": "10.00"}),
        )
        .await
        .expect(201);
    assert_eq!(res.body["number"], "CN-2026-0001");
    assert_eq!(res.body["invoice_id"], id.as_str());
    let inv = app
        .get(&s.finance, &format!("/v1/invoices/{id}"))
        .await
        .expect(200);
    assert_eq!(inv.body["status"], "partially_paid");
    assert_eq!(dec(&inv.body["amount_credited"]), dec!(10.00));
    assert_eq!(dec(&inv.body["balance_due"]), dec!(40.00));
    let over = app
        .post(
            &s.finance,
            &format!("/v1/invoices/{id}/credit-notes"),
            json!({"reason": "Too much", "amount": "40.01"}),
        )
        .await
        .expect(409);
    assert_eq!(
        over.problem_type(),
        "https://agencyops.dev/problems/exceeds-balance"
    );
    app.post(
        &s.finance,
        &format!("/v1/invoices/{id}/credit-notes"),
        json!({"reason": "Rest", "amount": "40.00"}),
    )
    .await
    .expect(201);
    let inv = app
        .get(&s.finance, &format!("/v1/invoices/{id}"))
        .await
        .expect(200);
    assert_eq!(dec(&inv.body["balance_due"]), dec!(0));
    assert_eq!(inv.body["credit_notes"][1]["number"], "CN-2026-0002");
    // A full credit note on an unpaid invoice closes it.
    let other = issued(&app, &s, "80.00").await;
    let full = app
        .post(
            &s.finance,
            &format!("/v1/invoices/{other}/credit-notes"),
            json!({"reason": "Cancelled"}),
        )
        .await
        .expect(201);
    assert_eq!(dec(&full.body["total"]), dec!(80.00));
    let inv = app
        .get(&s.finance, &format!("/v1/invoices/{other}"))
        .await
        .expect(200);
    assert_eq!(dec(&inv.body["balance_due"]), dec!(0));
    assert_eq!(inv.body["status"], "paid");
}

#[tokio::test]
async fn a_void_invoice_keeps_its_number_and_its_work_goes_back_to_wip() {
    let (app, s) = setup().await;
    approved_work(&app, &s, 5, 60, dec!(100)).await;
    let id = draft(&app, &s, json!({})).await.expect(201).id();
    let issued = app
        .post(&s.finance, &format!("/v1/invoices/{id}/issue"), json!({}))
        .await
        .expect(200);
    assert_eq!(unbilled_count(&app, &s.tenant).await, 0);
    let edit = app
        .patch(
            &s.finance,
            &format!("/v1/invoices/{id}"),
            json!({"notes": "changed"}),
        )
        .await
        .expect(409);
    assert_eq!(
        edit.problem_type(),
        "https://agencyops.dev/problems/not-a-draft",
        "issued invoices never change"
    );
    invariant(&app, &s).await;
    let void = app
        .post(&s.finance, &format!("/v1/invoices/{id}/void"), json!({}))
        .await
        .expect(200);
    assert_eq!(void.body["status"], "void");
    assert_eq!(void.body["number"], issued.body["number"]);
    assert_eq!(
        unbilled_count(&app, &s.tenant).await,
        5,
        "Kimai #3526: voiding releases the time"
    );
    invariant(&app, &s).await;
    app.post(&s.finance, &format!("/v1/invoices/{id}/void"), json!({}))
        .await
        .expect(200);
    // The released work bills again, under the next number.
    let again = draft(&app, &s, json!({})).await.expect(201).id();
    let next = app
        .post(
            &s.finance,
            &format!("/v1/invoices/{again}/issue"),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(next.body["number"], "2026-0002");
    invariant(&app, &s).await;
}

#[tokio::test]
async fn a_payment_racing_a_void_never_lands_on_a_void_invoice() {
    for _ in 0..5 {
        let (app, s) = setup().await;
        let id = issued(&app, &s, "100.00").await;
        let (pay_path, void_path) = (
            format!("/v1/invoices/{id}/payments"),
            format!("/v1/invoices/{id}/void"),
        );
        let pay = app.post(
            &s.finance,
            &pay_path,
            json!({"amount": "100.00", "date": "2026-11-25", "method": "card"}),
        );
        let void = app.post(&s.admin, &void_path, json!({}));
        let (p, v) = tokio::join!(pay, void);
        let inv = app
            .get(&s.finance, &format!("/v1/invoices/{id}"))
            .await
            .expect(200);
        match inv.body["status"].as_str().unwrap() {
            "void" => {
                assert_eq!(
                    dec(&inv.body["amount_paid"]),
                    dec!(0),
                    "{} / {}",
                    p.body,
                    v.body
                );
                assert_ne!(p.status.as_u16(), 201);
            }
            "paid" => {
                assert_eq!(p.status.as_u16(), 201);
                assert_eq!(v.status.as_u16(), 409, "{}", v.body);
            }
            other => panic!("{other}"),
        }
    }
}

#[tokio::test]
async fn written_off_invoices_report_what_was_lost() {
    let (app, s) = setup().await;
    let id = issued(&app, &s, "100.00").await;
    app.post(
        &s.finance,
        &format!("/v1/invoices/{id}/payments"),
        json!({"amount": "25.00", "date": "2026-11-25", "method": "cash"}),
    )
    .await
    .expect(201);
    let res = app
        .post(
            &s.finance,
            &format!("/v1/invoices/{id}/write-off"),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(res.body["status"], "uncollectible");
    assert_eq!(dec(&res.body["written_off"]), dec!(75.00));
    app.post(
        &s.finance,
        &format!("/v1/invoices/{id}/payments"),
        json!({"amount": "1.00", "date": "2026-11-25", "method": "cash"}),
    )
    .await
    .expect(409);
}

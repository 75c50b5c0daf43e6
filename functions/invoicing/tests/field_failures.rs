//! Each invoicing failure `shared/DOMAIN.md` names from the established tools,
//! as a test that shows we do not have it (the rest live beside the feature
//! they concern: rounding in the domain crate, numbering and credits in
//! lifecycle.rs, claiming in drafts.rs and faults.rs).

mod support;

use rust_decimal_macros::dec;
use serde_json::json;
use support::*;

/// Kimai #1914 / #2979: numbers derived from row counts collide after a
/// delete. Deleting drafts (which have no number) never shifts the series.
#[tokio::test]
async fn deleting_drafts_never_makes_two_invoices_share_a_number() {
    let (app, s) = setup().await;
    let line = json!([{"description": "x", "quantity": "1", "unit_price": "10.00"}]);
    let mut numbers = Vec::new();
    for round in 0..3 {
        let keep = app
            .create(
                &s.finance,
                "/v1/invoices",
                json!({"client_id": s.client, "kind": "manual", "lines": line}),
            )
            .await;
        let gone = app
            .create(
                &s.finance,
                "/v1/invoices",
                json!({"client_id": s.client, "kind": "manual", "lines": line}),
            )
            .await;
        app.delete(&s.finance, &format!("/v1/invoices/{gone}"))
            .await
            .expect(204);
        let issued = app
            .post(&s.finance, &format!("/v1/invoices/{keep}/issue"), json!({}))
            .await
            .expect(200);
        numbers.push(issued.body["number"].as_str().unwrap().to_owned());
        assert_eq!(numbers.len(), round + 1);
    }
    assert_eq!(numbers, ["2026-0001", "2026-0002", "2026-0003"]);
    invariant(&app, &s).await;
}

/// Invoice Ninja #9638: one currency per invoice. Work approved in another
/// currency than the client's is never put on the client's invoice.
#[tokio::test]
async fn work_in_another_currency_never_lands_on_the_clients_invoice() {
    let (app, s) = setup().await;
    approved_work(&app, &s, 2, 60, dec!(100)).await;
    let mut usd = approved_expense(
        &s.member.person,
        &s.project,
        "2026-11-12",
        dec!(40.00),
        None,
    );
    usd.currency = agencyops_domain::Currency::parse("USD").unwrap();
    store(&app, &s.tenant, &[usd.clone()]).await;
    let res = draft(&app, &s, json!({})).await.expect(201);
    assert_eq!(res.body["currency"], "EUR");
    assert_eq!(
        dec(&res.body["total"]),
        dec!(200.00),
        "only the EUR work: {}",
        res.body
    );
    assert_eq!(
        unbilled_count(&app, &s.tenant).await,
        1,
        "the USD expense waits in WIP"
    );
    invariant(&app, &s).await;
}

/// Invoice Ninja #10936: the PDF and the screen disagree, and paying the PDF
/// leaves -0.01. Every figure of the document is the API's, and paying the
/// balance the API shows closes the invoice exactly.
#[tokio::test]
async fn paying_the_balance_shown_closes_the_invoice_to_the_cent() {
    let (app, s) = setup().await;
    app.put(&s.finance, "/v1/settings/invoicing", json!({"number_pattern": "{YYYY}-{SEQ:4}", "tax_rates": [{"code": "S19", "name": "USt 19%", "percent": "19"}]})).await.expect(200);
    // Lines whose tax, summed per line, would drift by cents (IN #4370, #10856).
    let lines: Vec<_> = (0..7).map(|i| json!({"description": format!("Item {i}"), "quantity": "3", "unit_price": "33.33", "tax_code": "S19"})).collect();
    let id = app.create(&s.finance, "/v1/invoices", json!({"client_id": s.client, "kind": "manual", "lines": lines, "discount": {"percent": "3"}})).await;
    let inv = app
        .post(&s.finance, &format!("/v1/invoices/{id}/issue"), json!({}))
        .await
        .expect(200)
        .body;
    let per_line_tax: rust_decimal::Decimal = inv["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (dec(&l["amount"]) * dec!(0.19)).round_dp(2))
        .sum();
    assert_eq!(dec(&inv["subtotal"]), dec!(699.93));
    assert_eq!(dec(&inv["discount_total"]), dec!(21.00));
    assert_eq!(
        dec(&inv["tax_total"]),
        dec!(129.00),
        "19 % of 678.93, once; per-line sums give {per_line_tax}"
    );
    assert_eq!(dec(&inv["total"]), dec!(807.93));
    let paid = app
        .post(
            &s.finance,
            &format!("/v1/invoices/{id}/payments"),
            json!({"amount": inv["balance_due"], "date": "2026-11-30", "method": "bank_transfer"}),
        )
        .await
        .expect(201);
    assert_eq!(paid.body["status"], "paid");
    assert_eq!(paid.body["balance_due"], "0.00");
    let html = app
        .get_bytes(
            &s.finance,
            &format!("/v1/invoices/{id}/document"),
            "text/html",
        )
        .await;
    let page = String::from_utf8(html.2).unwrap();
    for figure in ["699.93", "21.00", "129.00", "807.93"] {
        assert!(page.contains(figure), "{figure} missing from the document");
    }
}

/// Invoice Ninja #11024: a credit consumed without changing the balance.
/// Every credit note moves the balance by exactly its total, even when credits
/// and payments interleave.
#[tokio::test]
async fn credits_and_payments_interleaved_move_the_balance_by_exactly_their_amounts() {
    let (app, s) = setup().await;
    let id = app.create(&s.finance, "/v1/invoices", json!({"client_id": s.client, "kind": "manual", "lines": [{"description": "x", "quantity": "1", "unit_price": "100.00"}]})).await;
    app.post(&s.finance, &format!("/v1/invoices/{id}/issue"), json!({}))
        .await
        .expect(200);
    let mut expected = dec!(100.00);
    for (kind, amount) in [
        ("credit", "12.34"),
        ("pay", "20.00"),
        ("credit", "0.66"),
        ("pay", "67.00"),
    ] {
        let path = if kind == "credit" {
            format!("/v1/invoices/{id}/credit-notes")
        } else {
            format!("/v1/invoices/{id}/payments")
        };
        let body = if kind == "credit" {
            json!({"reason": "Adjustment", "amount": amount})
        } else {
            json!({"amount": amount, "date": "2026-11-30", "method": "card"})
        };
        app.post(&s.finance, &path, body).await.expect(201);
        expected -= amount.parse::<rust_decimal::Decimal>().unwrap();
        let inv = app
            .get(&s.finance, &format!("/v1/invoices/{id}"))
            .await
            .expect(200);
        assert_eq!(
            dec(&inv.body["balance_due"]),
            expected,
            "after {kind} {amount}"
        );
    }
    let inv = app
        .get(&s.finance, &format!("/v1/invoices/{id}"))
        .await
        .expect(200);
    assert_eq!(inv.body["status"], "paid");
}

/// Kimai #3526 (cancelling did not release time) for credit notes: a credit
/// note with `release_work` hands the invoice's time back to bill again.
#[tokio::test]
async fn a_credit_note_that_releases_work_puts_it_back_in_wip() {
    let (app, s) = setup().await;
    approved_work(&app, &s, 3, 60, dec!(100)).await;
    let id = draft(&app, &s, json!({})).await.expect(201).id();
    app.post(&s.finance, &format!("/v1/invoices/{id}/issue"), json!({}))
        .await
        .expect(200);
    app.post(
        &s.finance,
        &format!("/v1/invoices/{id}/credit-notes"),
        json!({"reason": "Billed the wrong month", "release_work": true}),
    )
    .await
    .expect(201);
    assert_eq!(unbilled_count(&app, &s.tenant).await, 3);
    invariant(&app, &s).await;
    let again = draft(&app, &s, json!({})).await.expect(201);
    assert_eq!(dec(&again.body["total"]), dec!(300.00));
    invariant(&app, &s).await;
}

#[tokio::test]
async fn documents_exports_and_reports_refuse_lower_roles_and_other_tenants() {
    let (app, s) = setup().await;
    let rival = studio(&app, "rival").await;
    let id = app.create(&s.finance, "/v1/invoices", json!({"client_id": s.client, "kind": "manual", "lines": [{"description": "x", "quantity": "1", "unit_price": "10.00"}]})).await;
    app.post(&s.finance, &format!("/v1/invoices/{id}/issue"), json!({}))
        .await
        .expect(200);
    let credit = app
        .post(
            &s.finance,
            &format!("/v1/invoices/{id}/credit-notes"),
            json!({"reason": "x", "amount": "1.00"}),
        )
        .await
        .expect(201);
    let cid = credit.body["id"].as_str().unwrap().to_owned();
    for path in [
        format!("/v1/invoices/{id}/document"),
        format!("/v1/invoices/{id}/ubl"),
        format!("/v1/invoices/{id}/credit-notes/{cid}/ubl"),
    ] {
        for who in [&s.member, &s.contractor] {
            assert_eq!(
                app.get_bytes(who, &path, "*/*").await.0,
                403,
                "{} {path}",
                who.role
            );
        }
        assert_eq!(
            app.get_bytes(&rival.admin, &path, "*/*").await.0,
            404,
            "rival {path}"
        );
        assert_eq!(
            app.get_bytes(&s.client_user, &path, "*/*").await.0,
            200,
            "client {path}"
        );
    }
    for path in [
        "/v1/exports/invoices?format=xero",
        "/v1/reports/profitability",
    ] {
        for who in [&s.member, &s.contractor, &s.client_user] {
            app.get(who, path).await.expect(403);
        }
    }
    app.get(&s.manager, "/v1/reports/profitability")
        .await
        .expect(200);
    let theirs = app
        .get_bytes(
            &rival.finance,
            "/v1/exports/invoices?format=xero",
            "text/csv",
        )
        .await;
    assert_eq!(theirs.0, 200);
    assert!(
        !String::from_utf8(theirs.2).unwrap().contains("2026-0001"),
        "another tenant's export holds none of ours"
    );
    let rep = app
        .get(&rival.finance, "/v1/reports/profitability")
        .await
        .expect(200);
    assert_eq!(rep.body["totals"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn bad_payments_and_credits_are_named_400s_that_change_nothing() {
    let (app, s) = setup().await;
    let id = app.create(&s.finance, "/v1/invoices", json!({"client_id": s.client, "kind": "manual", "lines": [{"description": "x", "quantity": "1", "unit_price": "10.00"}]})).await;
    let before = app
        .post(&s.finance, &format!("/v1/invoices/{id}/issue"), json!({}))
        .await
        .expect(200);
    for (path, body, field) in [
        (
            "payments",
            json!({"amount": "0", "date": "2026-11-30", "method": "card"}),
            "amount",
        ),
        (
            "payments",
            json!({"amount": "1.001", "date": "2026-11-30", "method": "card"}),
            "amount",
        ),
        (
            "payments",
            json!({"amount": 5, "date": "2026-11-30", "method": "card"}),
            "amount",
        ),
        (
            "payments",
            json!({"amount": "1.00", "date": "2026-13-01", "method": "card"}),
            "date",
        ),
        (
            "payments",
            json!({"amount": "1.00", "date": "2026-11-30", "method": "barter"}),
            "method",
        ),
        (
            "credit-notes",
            json!({"reason": " ", "amount": "1.00"}),
            "reason",
        ),
        (
            "credit-notes",
            json!({"reason": "x", "amount": "1.00", "lines": [{"description": "y", "quantity": "1", "unit_price": "1.00"}]}),
            "amount",
        ),
    ] {
        let res = app
            .post(
                &s.finance,
                &format!("/v1/invoices/{id}/{path}"),
                body.clone(),
            )
            .await
            .expect(400);
        assert!(
            res.fields().iter().any(|f| f == field),
            "{body}: {}",
            res.body
        );
    }
    let after = app
        .get(&s.finance, &format!("/v1/invoices/{id}"))
        .await
        .expect(200);
    assert_eq!(
        after.body["version"], before.body["version"],
        "nothing changed"
    );
    assert_eq!(after.body["balance_due"], "10.00");
}

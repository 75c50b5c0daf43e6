//! Fault injection: a table that fails its k-th transaction, for every k
//! across a 400-entry draft built by the builder, its issue, a credit note and
//! a void. The failure comes before the write (nothing written) or after it
//! (written, but the caller hears an error, as with a lost reply). After each
//! failure the step is retried as a client or SQS would, and the invariant
//! holds after every step; numbers have no gap.

mod support;

use agencyops_apitest::faults::FailKth;
use rust_decimal_macros::dec;
use serde_json::json;
use support::*;

/// Retries `step` until it answers something other than 500.
async fn until_answered<F, Fut>(mut step: F) -> Res
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Res>,
{
    for _ in 0..3 {
        let r = step().await;
        if r.status.as_u16() != 500 {
            return r;
        }
    }
    panic!("a step kept failing after the injected fault");
}

/// Delivers builder messages until the queue is empty, redelivering failures.
async fn drain_builder(app: &App) {
    for _ in 0..10 {
        let got = app
            .queue
            .receive(
                agencyops_invoicing::BUILDER_QUEUE,
                10,
                std::time::Duration::from_secs(60),
            )
            .await
            .unwrap();
        if got.is_empty() {
            return;
        }
        for m in got {
            let mut ok = false;
            for _ in 0..3 {
                if agencyops_invoicing::handle_build_message(&app.services, &m.body)
                    .await
                    .is_ok()
                {
                    ok = true;
                    break;
                }
            }
            assert!(ok, "the builder kept failing");
            app.queue.delete(&m.receipt).await.unwrap();
        }
    }
}

/// Issues `id`, delivering builder messages while it is still building.
async fn issue(app: &App, s: &Studio, id: &str, k: usize) -> Res {
    loop {
        let path = format!("/v1/invoices/{id}/issue");
        let r = until_answered(|| app.post(&s.finance, &path, json!({}))).await;
        if r.status.as_u16() == 409 && r.problem_type().ends_with("still-building") {
            drain_builder(app).await;
            continue;
        }
        assert_eq!(r.status.as_u16(), 200, "k={k}: {}", r.body);
        return r;
    }
}

/// Drafts all unbilled work; returns the invoice id.
async fn draft_all(app: &App, s: &Studio, k: usize) -> String {
    let created = until_answered(|| draft(app, s, json!({}))).await;
    match created.status.as_u16() {
        202 | 201 => created.id(),
        other => panic!("k={k}: create answered {other}: {}", created.body),
    }
}

/// Bills 400 entries, voids the invoice, bills them again and credits part of
/// it, with the `k`th transaction failing; returns how many transactions ran.
async fn scenario(k: usize, after: bool) -> usize {
    let mut app = App::new(routes());
    let s = studio(&app, "acme").await;
    approved_work(&app, &s, 400, 15, dec!(90)).await;
    // Arm the fault only now, so it falls inside billing.
    let fault = FailKth::install(&mut app, k, after);

    let first = draft_all(&app, &s, k).await;
    invariant(&app, &s).await;
    drain_builder(&app).await;
    invariant(&app, &s).await;
    let issued = issue(&app, &s, &first, k).await;
    assert_eq!(issued.body["number"], "2026-0001", "k={k}");
    assert_eq!(
        dec(&issued.body["total"]),
        dec!(9000.00),
        "k={k}: every entry billed once"
    );
    invariant(&app, &s).await;

    let path = format!("/v1/invoices/{first}/void");
    let voided = until_answered(|| app.post(&s.finance, &path, json!({})))
        .await
        .expect(200);
    assert_eq!(voided.body["number"], "2026-0001");
    invariant(&app, &s).await;
    assert_eq!(
        unbilled_count(&app, &s.tenant).await,
        400,
        "k={k}: the void released every entry"
    );

    let second = draft_all(&app, &s, k).await;
    drain_builder(&app).await;
    invariant(&app, &s).await;
    let issued = issue(&app, &s, &second, k).await;
    assert_eq!(
        issued.body["number"], "2026-0002",
        "k={k}: no gap after the void"
    );
    assert_eq!(dec(&issued.body["total"]), dec!(9000.00), "k={k}");
    invariant(&app, &s).await;

    let path = format!("/v1/invoices/{second}/credit-notes");
    let credited = until_answered(|| {
        app.post(
            &s.finance,
            &path,
            json!({"reason": "Goodwill", "amount": "100.00"}),
        )
    })
    .await;
    assert_eq!(credited.status.as_u16(), 201, "k={k}: {}", credited.body);
    let inv = app
        .get(&s.finance, &format!("/v1/invoices/{second}"))
        .await
        .expect(200);
    let credits = inv.body["credit_notes"].as_array().unwrap();
    let numbers: Vec<_> = credits
        .iter()
        .map(|c| c["number"].as_str().unwrap().to_owned())
        .collect();
    let credited_total: rust_decimal::Decimal = credits.iter().map(|c| dec(&c["total"])).sum();
    assert_eq!(
        dec(&inv.body["amount_credited"]),
        credited_total,
        "k={k}: the balance moved by exactly the credits"
    );
    assert_eq!(numbers[0], "CN-2026-0001", "k={k}");
    // A lost reply may leave a second, retried credit note; its number follows without a gap.
    if numbers.len() == 2 {
        assert!(
            after,
            "k={k}: a credit note was written twice without a lost reply"
        );
        assert_eq!(numbers[1], "CN-2026-0002");
    }
    invariant(&app, &s).await;
    fault.seen()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_failed_write_of_billing_leaves_the_books_whole_after_a_retry() {
    // Count the writes of a clean run, then fail each one in turn, before and after it lands.
    let total = scenario(usize::MAX, false).await;
    assert!(total >= 15, "the scenario writes {total} times");
    let runs: Vec<_> = (1..=total)
        .flat_map(|k| [(k, false), (k, true)])
        .map(|(k, after)| tokio::spawn(scenario(k, after)))
        .collect();
    for run in runs {
        run.await.expect("a scenario panicked");
    }
}

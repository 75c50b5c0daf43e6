//! Fault injection across getting paid: a table that fails its k-th
//! transaction, for every k, over a payment, three daily runs (reminders,
//! late fees, a retainer period) and a manual send. The failure comes before
//! the write (nothing written) or after it (written, but the caller hears an
//! error, as with a lost reply). Each step is retried as a client (with its
//! Idempotency-Key) or the schedule would; then every reminder stage fired
//! once, every fee charged once, the payment recorded once, numbers gapless,
//! one invoice per retainer period and nothing left in the mail outbox.

mod support;

use std::collections::BTreeSet;

use agencyops_apitest::faults::FailKth;
use agencyops_store::record::all;
use agencyops_store::records::{Invoice, MailOutboxItem};
use agencyops_store::{keys, Index, Query};
use serde_json::json;
use support::*;

/// The daily run of `day`, retried as the schedule retries a failed run.
async fn run_until_done(app: &App, day: &str, k: usize) {
    for _ in 0..4 {
        let run = agencyops_ar_followups::daily::run(&app.services, d(day))
            .await
            .unwrap();
        let clean = run
            .tenants
            .iter()
            .all(|t| t.failed.is_none() && t.recurring.failures.is_empty());
        if clean {
            return;
        }
    }
    panic!("k={k}: the run of {day} kept failing after the injected fault");
}

/// Retries a request that answered 500 (the injected fault), as a client
/// would; a 409 "in progress" means the failed attempt's claim on its
/// Idempotency-Key was written, so the client waits out its lease first.
async fn answered(
    k: usize,
    clock: &agencyops_platform::clock::ManualClock,
    mut step: impl AsyncFnMut() -> Res,
) -> Res {
    for _ in 0..3 {
        let r = step().await;
        let in_progress = r.status.as_u16() == 409
            && r.body["type"]
                .as_str()
                .is_some_and(|t| t.ends_with("idempotency-in-progress"));
        if in_progress {
            clock.advance(jiff::SignedDuration::from_secs(61));
            continue;
        }
        if r.status.as_u16() != 500 {
            return r;
        }
    }
    panic!("k={k}: a request kept failing after the injected fault");
}

/// Runs the scenario with the `k`th transaction failing; how many ran.
async fn scenario(k: usize, after: bool) -> usize {
    let (mut app, s) = setup().await;
    set_policy(&app, &s, policy()).await;
    let invoices: Vec<String> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.push(issued(&app, &s, "100.00", "2026-12-10").await);
        }
        v
    };
    app.put(
        &s.finance,
        &format!("/v1/projects/{}/recurring", s.project),
        json!({"amount": "500.00", "period": "monthly", "day_of_month": 1,
               "start_on": "2026-12-01", "end_on": "2026-12-31"}),
    )
    .await
    .expect(201);
    let fault = FailKth::install(&mut app, k, after);

    // The first invoice is paid in full before anything is chased.
    let paid = &invoices[0];
    let path = format!("/v1/invoices/{paid}/payments");
    let body = json!({"amount": "100.00", "date": "2026-11-25", "method": "bank_transfer"});
    let clock = app.clock.clone();
    let r = answered(k, &clock, async || {
        app.post_keyed(&s.finance, &path, body.clone(), "pay-1")
            .await
    })
    .await;
    assert_eq!(r.status.as_u16(), 201, "k={k}: {}", r.body);
    for day in ["2026-12-07", "2026-12-10", "2026-12-24"] {
        run_until_done(&app, day, k).await;
    }

    // Every stage of the two open invoices fired once, in order; none for the paid one.
    let sent = mails(&app).await;
    let ids: BTreeSet<String> = sent.iter().map(|m| m.id.clone()).collect();
    for id in &invoices[1..] {
        let fired: Vec<String> = markers(&app, &s.tenant, id)
            .await
            .into_iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(
            fired,
            ["STAGE#due", "STAGE#late", "STAGE#nudge"],
            "k={k} after={after}"
        );
    }
    assert!(
        markers(&app, &s.tenant, paid).await.is_empty(),
        "k={k}: the paid one is not chased"
    );
    assert_eq!(
        ids.len(),
        6,
        "k={k} after={after}: one mail per fired stage"
    );
    // One late fee per open invoice, each on its own fee invoice.
    let fees = fee_invoices(&app, &s.tenant).await;
    let charged: BTreeSet<String> = fees
        .iter()
        .filter_map(|f| f.fee_for.as_ref().map(|x| x.invoice_id.clone()))
        .collect();
    assert_eq!(
        (fees.len(), charged.len()),
        (2, 2),
        "k={k} after={after}: each fee once"
    );
    // The payment was recorded once.
    let inv = invoice(&app, &s.tenant, paid).await;
    assert_eq!(inv.amount_paid, rust_decimal_macros::dec!(100.00), "k={k}");
    // Numbers: three issued, two fees, no gap.
    let all_invoices: Vec<Invoice> = all(
        &app.embedded,
        &Query::new(Index::Gsi1, keys::invoices(&s.tenant)),
    )
    .await
    .unwrap();
    let mut numbers: Vec<String> = all_invoices
        .iter()
        .filter_map(|i| i.number.clone())
        .collect();
    numbers.sort();
    let want: Vec<String> = (1..=5).map(|n| format!("2026-{n:04}")).collect();
    assert_eq!(numbers, want, "k={k} after={after}: gapless");
    // One draft for the retainer's December.
    let periods = all_invoices
        .iter()
        .filter(|i| {
            i.internal_note
                .as_deref()
                .is_some_and(|n| n.starts_with("Recurring invoice"))
        })
        .count();
    assert_eq!(periods, 1, "k={k} after={after}: one invoice per period");
    let outbox: Vec<MailOutboxItem> = all(
        &app.embedded,
        &Query::new(Index::Table, keys::mail_outbox(&s.tenant)),
    )
    .await
    .unwrap();
    assert!(outbox.is_empty(), "k={k}: nothing left unqueued");
    fault.seen()
}

#[tokio::test]
async fn every_failed_write_of_getting_paid_is_retried_without_a_duplicate_or_a_gap() {
    let writes = scenario(usize::MAX, false).await;
    assert!(writes >= 10, "the scenario writes: {writes}");
    for k in 1..=writes {
        for after in [false, true] {
            scenario(k, after).await;
        }
    }
}

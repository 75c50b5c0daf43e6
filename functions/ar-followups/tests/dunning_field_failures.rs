//! Each dunning failure `shared/DOMAIN.md` names from the established tools
//! (Invoice Ninja issue numbers beside each), as a test that shows we do not
//! have it; plus a year of daily runs, each run twice, and runs racing.

mod support;

use rust_decimal_macros::dec;
use serde_json::json;
use support::*;

/// IN #7465: reminders for invoices already paid or with no due date.
#[tokio::test]
async fn no_reminder_for_a_paid_invoice_or_one_without_a_due_date() {
    let (app, s) = setup().await;
    set_policy(&app, &s, policy()).await;
    let paid = issued(&app, &s, "100.00", "2026-12-10").await;
    let open = issued(&app, &s, "100.00", "2026-12-10").await;
    let undated = issued(&app, &s, "100.00", "2026-12-10").await;
    rewrite::<agencyops_store::records::Invoice>(
        &app,
        &s.tenant,
        agencyops_store::keys::invoice(&s.tenant, &undated),
        |i| i.due_date = None,
    )
    .await;
    pay(&app, &s, &paid, "100.00").await;
    for day in ["2026-12-07", "2026-12-10", "2026-12-24", "2027-01-31"] {
        run(&app, day, 1).await;
    }
    let sent = mails(&app).await;
    assert!(sent.iter().all(|m| m.text.contains("100.00 EUR")));
    let ids: Vec<_> = sent
        .iter()
        .map(|m| match &m.purpose {
            agencyops_platform::mail::MailPurpose::Reminder { invoice_id, .. } => {
                invoice_id.clone()
            }
            _ => unreachable!(),
        })
        .collect();
    assert!(!ids.contains(&paid), "a paid invoice was chased");
    assert!(
        !ids.contains(&undated),
        "an invoice with no due date was chased"
    );
    assert_eq!(
        steps(&sent),
        ["STAGE#nudge", "STAGE#due", "STAGE#late", "REPEAT#2"],
        "the open one got its steps"
    );
    assert!(ids.iter().all(|i| *i == open));
    // By hand too: nothing is owed, or there is nothing to date it by.
    for id in [&paid, &undated] {
        app.post(&s.finance, &format!("/v1/invoices/{id}/remind"), json!({}))
            .await
            .expect(409);
    }
}

/// IN #9312, #9162: a reminder the morning after a manual send.
#[tokio::test]
async fn no_reminder_the_day_after_a_manual_send() {
    let (app, s) = setup().await;
    set_policy(&app, &s, policy()).await;
    let id = issued(&app, &s, "100.00", "2026-12-10").await;
    run(&app, "2026-12-07", 1).await;
    assert_eq!(
        steps(&mails(&app).await),
        ["STAGE#nudge"],
        "before the manual send"
    );
    // Mailed by hand on the 9th (what POST /send records).
    rewrite::<agencyops_store::records::Invoice>(
        &app,
        &s.tenant,
        agencyops_store::keys::invoice(&s.tenant, &id),
        |i| i.last_sent_on = Some(d("2026-12-09")),
    )
    .await;
    for day in ["2026-12-10", "2026-12-11", "2026-12-12"] {
        run(&app, day, 1).await;
        assert!(
            mails(&app).await.is_empty(),
            "a reminder on {day}, within 3 quiet days"
        );
    }
    run(&app, "2026-12-13", 1).await;
    assert_eq!(
        steps(&mails(&app).await),
        ["STAGE#due"],
        "the quiet days are over"
    );
}

/// IN #11854: reminders that stop forever once a date is missed. A run that
/// missed days sends the latest stage due (not every missed one), and later
/// stages still come on their dates.
#[tokio::test]
async fn a_missed_day_sends_the_latest_stage_and_later_stages_still_come() {
    let (app, s) = setup().await;
    set_policy(&app, &s, policy()).await;
    let id = issued(&app, &s, "100.00", "2026-12-10").await;
    // The schedule was down from the 6th to the 12th.
    run(&app, "2026-12-13", 1).await;
    assert_eq!(steps(&mails(&app).await), ["STAGE#due"], "only the latest");
    run(&app, "2026-12-23", 1).await;
    assert!(mails(&app).await.is_empty());
    run(&app, "2026-12-24", 1).await;
    assert_eq!(steps(&mails(&app).await), ["STAGE#late"]);
    run(&app, "2026-12-31", 1).await;
    assert_eq!(steps(&mails(&app).await), ["REPEAT#1"]);
    run(&app, "2027-01-07", 1).await;
    assert_eq!(steps(&mails(&app).await), ["REPEAT#2"]);
    run(&app, "2027-03-01", 1).await;
    assert!(mails(&app).await.is_empty(), "max_repeats reached");
    assert_eq!(markers(&app, &s.tenant, &id).await.len(), 4);
}

/// IN #5458: schedule changes that never reach existing invoices.
#[tokio::test]
async fn a_policy_change_reaches_invoices_already_issued() {
    let (app, s) = setup().await;
    set_policy(&app, &s, policy()).await;
    let id = issued(&app, &s, "100.00", "2026-12-10").await;
    run(&app, "2026-12-07", 1).await;
    assert_eq!(steps(&mails(&app).await), ["STAGE#nudge"]);
    // The invoice now waits for the 10th. Finance adds a stage on the 8th.
    let mut changed = policy();
    changed["stages"]
        .as_array_mut()
        .unwrap()
        .insert(1, json!({"name": "soon", "offset_days": -2, "subject": "Soon: {number}", "body": "Due soon."}));
    set_policy(&app, &s, changed).await;
    let report = run(&app, "2026-12-08", 1).await;
    assert!(report.tenants[0].dunning.reindexed);
    assert_eq!(
        steps(&mails(&app).await),
        ["STAGE#soon"],
        "the new stage reached the invoice"
    );
    // Once: the next run reads only what is due again.
    let next = run(&app, "2026-12-09", 1).await;
    assert!(!next.tenants[0].dunning.reindexed);
    assert_eq!(next.tenants[0].dunning.due, 0);
    // A client override pausing the client reaches it too.
    app.put(
        &s.finance,
        &format!("/v1/clients/{}/dunning", s.client),
        json!({"stages": [], "paused": true}),
    )
    .await
    .expect(200);
    run(&app, "2026-12-10", 1).await;
    run(&app, "2026-12-24", 1).await;
    assert!(mails(&app).await.is_empty(), "a paused client gets nothing");
    assert_eq!(
        invoice(&app, &s.tenant, &id).await.next_action_on,
        Some(agencyops_ar_followups::dunning::plan::never())
    );
}

/// IN #2330, #1921, #1693: a late fee added on every hourly cron run.
#[tokio::test]
async fn a_late_fee_is_added_once_over_24_hourly_runs() {
    let (app, s) = setup().await;
    set_policy(&app, &s, policy()).await;
    let id = issued(&app, &s, "250.00", "2026-12-10").await;
    for _ in 0..24 {
        run(&app, "2026-12-24", 1).await;
        app.clock.advance(jiff::SignedDuration::from_hours(1));
    }
    let sent = mails(&app).await;
    assert_eq!(steps(&sent), ["STAGE#late"]);
    let fees = fee_invoices(&app, &s.tenant).await;
    assert_eq!(fees.len(), 1, "one fee for the stage");
    // 10.00 + 1% of 250.00, exactly.
    assert_eq!(fees[0].total, dec!(12.50));
    assert_eq!(
        fees[0].status,
        agencyops_domain::invoice::InvoiceStatus::Issued
    );
    assert_eq!(
        fees[0].number.as_deref(),
        Some("2026-0002"),
        "numbered in the normal series"
    );
    assert!(
        sent[0].text.contains("late fee of 12.50 EUR"),
        "{}",
        sent[0].text
    );
    assert!(sent[0].text.contains("2026-0002"));
    // On the invoice's activity, and in the audit trail.
    let activity: Vec<agencyops_store::records::InvoiceActivity> = agencyops_store::record::all(
        &app.embedded,
        &agencyops_store::Query::new(
            agencyops_store::Index::Table,
            agencyops_store::keys::invoice_partition(&s.tenant, &id),
        )
        .sk(agencyops_store::SkCondition::BeginsWith("ACTIVITY#".into())),
    )
    .await
    .unwrap();
    assert_eq!(activity.len(), 1);
    assert_eq!(activity[0].details["amount"], "12.50");
    let trail = agencyops_store::record::all_items(
        &app.embedded,
        &agencyops_store::Query::new(
            agencyops_store::Index::Gsi1,
            agencyops_store::keys::audit_entity(&s.tenant, "invoice", &fees[0].id),
        ),
    )
    .await
    .unwrap();
    assert_eq!(trail.len(), 1, "the fee invoice's creation is audited once");
}

/// IN #10263, #11380: no fee on a manual reminder.
#[tokio::test]
async fn a_manual_reminder_charges_its_fee_and_the_run_never_repeats_it() {
    let (app, s) = setup().await;
    set_policy(&app, &s, policy()).await;
    let id = issued(&app, &s, "100.00", "2026-12-10").await;
    app.clock
        .set(jiff::Timestamp::from_second(NOW + 34 * 86_400).unwrap()); // 2026-12-24
    let res = app
        .post_keyed(
            &s.finance,
            &format!("/v1/invoices/{id}/remind"),
            json!({}),
            "remind-1",
        )
        .await
        .expect(200);
    assert_eq!(res.body["stage"], "late");
    assert_eq!(dec(&res.body["fee"]["amount"]), dec!(11.00));
    // A replay is the same reminder, not a second one.
    let again = app
        .post_keyed(
            &s.finance,
            &format!("/v1/invoices/{id}/remind"),
            json!({}),
            "remind-1",
        )
        .await
        .expect(200);
    assert_eq!(again.body, res.body);
    // Clicking again without a key: that step was sent.
    app.post(&s.finance, &format!("/v1/invoices/{id}/remind"), json!({}))
        .await
        .expect(409);
    run(&app, "2026-12-24", 2).await;
    run(&app, "2026-12-25", 1).await;
    let sent = mails(&app).await;
    assert_eq!(steps(&sent), ["STAGE#late"], "only the manual one");
    assert_eq!(fee_invoices(&app, &s.tenant).await.len(), 1);
    // The manual reminder also starts the quiet days: the first repeat (the 31st) still comes.
    run(&app, "2026-12-31", 1).await;
    assert_eq!(steps(&mails(&app).await), ["REPEAT#1"]);
}

/// A year of days over a demo-sized agency, every run twice: each stage
/// fired once per invoice, each fee once per stage, nothing after payment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_year_of_daily_runs_twice_each_fires_each_stage_once_and_each_fee_once() {
    let (app, s) = setup().await;
    set_policy(&app, &s, policy()).await;
    let mut invoices = Vec::new();
    for i in 0..12 {
        let due = d("2026-12-01")
            .checked_add(jiff::Span::new().days(i * 25))
            .unwrap();
        invoices.push(issued(&app, &s, "100.00", &due.to_string()).await);
    }
    // Two are paid before anything is sent; one half-way through.
    pay(&app, &s, &invoices[0], "100.00").await;
    pay(&app, &s, &invoices[1], "100.00").await;
    let mut day = d("2026-11-20");
    let end = d("2027-11-20");
    let mut paid_late = false;
    while day <= end {
        run(&app, &day.to_string(), 2).await;
        if day == d("2027-01-15") {
            pay(&app, &s, &invoices[2], "100.00").await;
            paid_late = true;
        }
        day = day.tomorrow().unwrap();
    }
    assert!(paid_late);
    let sent = mails(&app).await;
    let mut ids: Vec<String> = sent.iter().map(|m| m.id.clone()).collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "a mail was queued twice");
    for (i, inv) in invoices.iter().enumerate() {
        let m = markers(&app, &s.tenant, inv).await;
        let expected = match i {
            0 | 1 => 0,
            // Due 2027-01-20, paid on the 15th: before its first stage (the 17th).
            2 => 0,
            _ => 5,
        };
        assert_eq!(
            m.len(),
            expected,
            "invoice {i}: {:?}",
            m.iter().map(|m| &m.id).collect::<Vec<_>>()
        );
    }
    let fees = fee_invoices(&app, &s.tenant).await;
    assert_eq!(fees.len(), 9, "one fee per invoice's late stage");
    let mut charged: Vec<_> = fees
        .iter()
        .map(|f| f.fee_for.clone().unwrap().invoice_id)
        .collect();
    charged.sort();
    charged.dedup();
    assert_eq!(charged.len(), 9);
    assert!(fees.iter().all(|f| f.total == dec!(11.00)));
}

/// Runs overlapping each other send each reminder once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_runs_send_each_reminder_once() {
    let (app, s) = setup().await;
    set_policy(&app, &s, policy()).await;
    for _ in 0..5 {
        issued(&app, &s, "100.00", "2026-12-10").await;
    }
    let mut handles = Vec::new();
    for _ in 0..4 {
        let services = app.services.clone();
        handles.push(tokio::spawn(async move {
            agencyops_ar_followups::daily::run(&services, d("2026-12-24"))
                .await
                .unwrap()
        }));
    }
    let mut sent = 0;
    for h in handles {
        sent += h.await.unwrap().tenants[0].dunning.sent;
    }
    assert_eq!(sent, 5);
    // One run's outbox flush may queue another's reminder a second time,
    // under its one id: the mail sender sends an id once (`mail_sender.rs`).
    let ids: std::collections::BTreeSet<String> =
        mails(&app).await.into_iter().map(|m| m.id).collect();
    assert_eq!(ids.len(), 5, "one mail per invoice");
    assert_eq!(fee_invoices(&app, &s.tenant).await.len(), 5);
}

/// A payment that lands after the run read the invoice wins: the reminder's
/// transaction is under the invoice's version, so nothing is marked,
/// charged or queued.
#[tokio::test]
async fn a_payment_between_reading_and_firing_wins() {
    use agencyops_ar_followups::dunning::{plan, run as dun};
    let (app, s) = setup().await;
    set_policy(&app, &s, policy()).await;
    let id = issued(&app, &s, "100.00", "2026-12-10").await;
    let read = invoice(&app, &s.tenant, &id).await;
    pay(&app, &s, &id, "100.00").await;
    let ctx = dun::TenantContext::load(&app.services, &s.tenant)
        .await
        .unwrap();
    let all = plan::steps(&ctx.policy, d("2026-12-10"));
    let late = all.iter().find(|st| st.id == "STAGE#late").unwrap();
    let fired = dun::fire(
        &app.services,
        &ctx,
        &read,
        None,
        &ctx.policy.clone(),
        late,
        plan::never(),
        d("2026-12-24"),
        &dun::By::schedule(),
        false,
    )
    .await
    .unwrap();
    assert_eq!(fired, dun::Fired::Changed);
    assert!(markers(&app, &s.tenant, &id).await.is_empty());
    assert!(fee_invoices(&app, &s.tenant).await.is_empty());
    assert!(mails(&app).await.is_empty());
    // And the paid invoice has left the due index: the run never reads it.
    let report = run(&app, "2026-12-24", 1).await;
    assert_eq!(report.tenants[0].dunning.due, 0);
}

/// Issuing is what puts a tenant on the daily run's list, in the issue's
/// own transaction.
#[tokio::test]
async fn issuing_an_invoice_registers_the_tenant_for_the_daily_run() {
    let (app, s) = setup().await;
    assert!(
        agencyops_ar_followups::daily::scheduled_tenants(&app.services)
            .await
            .unwrap()
            .is_empty()
    );
    issued(&app, &s, "100.00", "2026-12-10").await;
    issued(&app, &s, "100.00", "2026-12-10").await;
    assert_eq!(
        agencyops_ar_followups::daily::scheduled_tenants(&app.services)
            .await
            .unwrap(),
        ["acme"]
    );
}

/// Schedule events arrive late and out of order (EventBridge retries a
/// failed target for up to a day): after the run of the 24th sent the late
/// stage and charged its fee, the runs of the 7th and the 10th delivered
/// afterwards, and the 24th's again, send no earlier stage and charge nothing.
#[tokio::test]
async fn daily_runs_delivered_late_and_out_of_order_never_send_an_earlier_stage() {
    let (app, s) = setup().await;
    set_policy(&app, &s, policy()).await;
    let id = issued(&app, &s, "100.00", "2026-12-10").await;
    run(&app, "2026-12-24", 1).await;
    assert_eq!(steps(&mails(&app).await), ["STAGE#late"]);
    for day in ["2026-12-07", "2026-12-10", "2026-12-24", "2026-12-10"] {
        run(&app, day, 2).await;
        assert!(
            mails(&app).await.is_empty(),
            "{day} delivered late sent mail"
        );
    }
    assert_eq!(markers(&app, &s.tenant, &id).await.len(), 1);
    assert_eq!(fee_invoices(&app, &s.tenant).await.len(), 1, "one fee");
    run(&app, "2026-12-31", 1).await;
    assert_eq!(steps(&mails(&app).await), ["REPEAT#1"], "the clock goes on");
}

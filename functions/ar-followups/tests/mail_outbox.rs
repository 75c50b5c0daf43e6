//! The mail outbox: a reminder (and its fee) committed while the queue was
//! down is mailed by the next run, once; a normal run leaves nothing behind.

mod support;

use agencyops_apitest::outage::SwitchQueue;
use agencyops_store::record::all;
use agencyops_store::records::MailOutboxItem;
use agencyops_store::{keys, Index, Query};
use support::*;

async fn left_in_outbox(app: &App, tenant: &str) -> Vec<MailOutboxItem> {
    all::<MailOutboxItem>(
        &app.embedded,
        &Query::new(Index::Table, keys::mail_outbox(tenant)),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn a_reminder_committed_while_the_queue_was_down_is_mailed_by_the_next_run_once() {
    let (mut app, s) = setup().await;
    let switch = SwitchQueue::new(app.services.queue.clone());
    app.services.queue = switch.clone();
    set_policy(&app, &s, policy()).await;
    let id = issued(&app, &s, "100.00", "2026-12-10").await;

    // 14 days late: the late stage with its fee fires, and the queue refuses the mail.
    switch.set_down(true);
    let failed = run(&app, "2026-12-24", 1).await;
    assert!(
        failed.tenants[0].failed.is_some(),
        "the run says it failed: {failed:?}"
    );
    switch.set_down(false);
    assert!(queued(&app).await.is_empty(), "nothing reached the queue");
    let stages: Vec<_> = markers(&app, &s.tenant, &id)
        .await
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(stages, ["STAGE#late"], "the reminder was committed");
    assert_eq!(left_in_outbox(&app, &s.tenant).await.len(), 1);

    // The retried run (the schedule's retry, or tomorrow's) mails it, once.
    let retried = run(&app, "2026-12-24", 1).await;
    assert_eq!(retried.tenants[0].failed, None);
    assert_eq!(retried.tenants[0].mail_requeued, 1);
    let sent = mails(&app).await;
    assert_eq!(steps(&sent), ["STAGE#late"]);
    assert!(
        sent[0].text.contains("late fee of 11.00 EUR"),
        "the mail still says what the fee is: {}",
        sent[0].text
    );
    assert_eq!(fee_invoices(&app, &s.tenant).await.len(), 1, "one fee");
    assert!(left_in_outbox(&app, &s.tenant).await.is_empty());

    let again = run(&app, "2026-12-24", 2).await;
    assert_eq!(again.tenants[0].mail_requeued, 0);
    assert!(mails(&app).await.is_empty(), "nothing more is mailed");
    assert_eq!(fee_invoices(&app, &s.tenant).await.len(), 1);
}

#[tokio::test]
async fn a_reminder_queued_at_once_leaves_nothing_in_the_outbox() {
    let (app, s) = setup().await;
    set_policy(&app, &s, policy()).await;
    issued(&app, &s, "100.00", "2026-12-10").await;
    let first = run(&app, "2026-12-10", 1).await;
    assert_eq!(first.tenants[0].mail_requeued, 0);
    assert_eq!(steps(&mails(&app).await), ["STAGE#due"]);
    assert!(left_in_outbox(&app, &s.tenant).await.is_empty());
}

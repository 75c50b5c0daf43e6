//! The mail sender over the real embedded store, blob store and `.eml`
//! outbox: each message id is sent once however often it is delivered, a
//! reminder for an invoice settled meanwhile is cancelled, and every
//! delivered invoice mail is on the invoice's activity.

use std::sync::Arc;

use agencyops_apitest::{studio, App, Studio};
use agencyops_ar_followups::mail_sender::{handle_body, handle_sqs, Delivery, SendError};
use agencyops_platform::blob::EmbeddedBlob;
use agencyops_platform::clock::Clock;
use agencyops_platform::mail::{
    EmbeddedMail, MailAttachment, MailPurpose, OutgoingMail, MAIL_QUEUE,
};
use agencyops_store::keys;
use agencyops_store::record::load;
use agencyops_store::records::{ActivityKind, DeliveryState, InvoiceActivity, MailDelivery};
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use mail_parser::{MessageParser, MimeHeaders};
use serde_json::json;

struct World {
    app: App,
    s: Studio,
    outbox: Arc<EmbeddedMail>,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let routes = || agencyops_intake::routes().merge(agencyops_invoicing::routes());
    let mut app = App::new(routes());
    let blob = EmbeddedBlob::new(
        dir.path().join("blobs"),
        b"blob-secret".to_vec(),
        "http://localhost".into(),
        None,
    )
    .unwrap();
    let outbox = Arc::new(
        EmbeddedMail::new(dir.path().join("mail"), "billing@lumen.studio")
            .with_clock(Arc::new(app.clock.clone())),
    );
    app.services.blob = Some(Arc::new(blob));
    app.services = app.services.clone().with_mail(outbox.clone());
    app.rebuild_router();
    let s = studio(&app, "acme").await;
    World {
        app,
        s,
        outbox,
        _dir: dir,
    }
}

/// An issued manual invoice of 100.00; returns its id and document key.
async fn issued(w: &World) -> (String, String) {
    let id = w
        .app
        .create(
            &w.s.finance,
            "/v1/invoices",
            json!({"client_id": w.s.client, "kind": "manual",
                   "lines": [{"description": "Brand workshop", "quantity": "1", "unit_price": "100.00"}]}),
        )
        .await;
    w.app
        .post(&w.s.finance, &format!("/v1/invoices/{id}/issue"), json!({}))
        .await
        .expect(200);
    let inv =
        load::<agencyops_store::records::Invoice>(&*w.app.table, &keys::invoice(&w.s.tenant, &id))
            .await
            .unwrap()
            .unwrap();
    (id, inv.document.expect("kept on issue").blob_key)
}

fn mail(id: &str, purpose: MailPurpose, doc: Option<&str>) -> OutgoingMail {
    OutgoingMail {
        id: id.into(),
        tenant: "acme".into(),
        to: vec!["ap@northwind.example".into()],
        cc: vec![],
        subject: "Invoice from Lumen".into(),
        text: "Please find the invoice attached.".into(),
        html: None,
        attachments: doc
            .map(|k| {
                vec![MailAttachment {
                    filename: "invoice.pdf".into(),
                    content_type: "application/pdf".into(),
                    blob_key: k.into(),
                }]
            })
            .unwrap_or_default(),
        purpose,
    }
}

async fn activities(w: &World, invoice: &str) -> Vec<InvoiceActivity> {
    let q = agencyops_store::Query::new(
        agencyops_store::Index::Table,
        keys::invoice_partition(&w.s.tenant, invoice),
    )
    .sk(agencyops_store::SkCondition::BeginsWith(
        keys::invoice_activity_prefix().into(),
    ));
    agencyops_store::record::all::<InvoiceActivity>(&*w.app.table, &q)
        .await
        .unwrap()
}

async fn marker(w: &World, id: &str) -> MailDelivery {
    load::<MailDelivery>(&*w.app.table, &keys::mail_delivery(&w.s.tenant, id))
        .await
        .unwrap()
        .expect("a marker")
}

#[tokio::test]
async fn an_invoice_mail_delivered_twice_is_sent_once_with_its_pdf_and_recorded_once() {
    let w = world().await;
    let (inv, doc) = issued(&w).await;
    let m = mail(
        "send-1",
        MailPurpose::InvoiceSent {
            invoice_id: inv.clone(),
        },
        Some(&doc),
    );
    let body = serde_json::to_string(&m).unwrap();

    let first = handle_body(&w.app.services, &body).await.unwrap();
    assert!(matches!(first, Delivery::Sent(_)), "{first:?}");
    assert_eq!(
        handle_body(&w.app.services, &body).await.unwrap(),
        Delivery::AlreadyDone
    );

    let sent = w.outbox.list().await.unwrap();
    assert_eq!(sent.len(), 1, "one mail for one id");
    let raw = w.outbox.read(&sent[0]).await.unwrap().unwrap();
    let parsed = MessageParser::default().parse(&raw).unwrap();
    let pdf = w
        .app
        .services
        .blob
        .as_ref()
        .unwrap()
        .get(&doc)
        .await
        .unwrap()
        .unwrap();
    let att: Vec<_> = parsed.attachments().collect();
    assert_eq!(att.len(), 1);
    assert_eq!(att[0].attachment_name(), Some("invoice.pdf"));
    assert_eq!(
        att[0].contents(),
        pdf.as_ref(),
        "the issued PDF, byte for byte"
    );

    let acts = activities(&w, &inv).await;
    assert_eq!(acts.len(), 1);
    assert_eq!(acts[0].activity, ActivityKind::Sent);
    assert_eq!(acts[0].details["to"], json!(["ap@northwind.example"]));
    assert_eq!(acts[0].details["subject"], "Invoice from Lumen");
    assert_eq!(marker(&w, "send-1").await.state, DeliveryState::Sent);
}

#[tokio::test]
async fn a_reminder_for_an_invoice_paid_after_it_was_queued_is_cancelled_not_sent() {
    let w = world().await;
    let (inv, _) = issued(&w).await;
    w.app
        .post(
            &w.s.finance,
            &format!("/v1/invoices/{inv}/payments"),
            json!({"amount": "100.00", "date": "2026-11-20", "method": "bank_transfer"}),
        )
        .await
        .expect(201);
    let m = mail(
        "remind-1",
        MailPurpose::Reminder {
            invoice_id: inv.clone(),
            stage: "first".into(),
        },
        None,
    );
    let body = serde_json::to_string(&m).unwrap();
    let got = handle_body(&w.app.services, &body).await.unwrap();
    assert!(matches!(got, Delivery::Cancelled(_)), "{got:?}");
    assert_eq!(
        handle_body(&w.app.services, &body).await.unwrap(),
        Delivery::AlreadyDone
    );
    assert!(w.outbox.list().await.unwrap().is_empty(), "nothing sent");
    assert!(activities(&w, &inv).await.is_empty());
    let marker = marker(&w, "remind-1").await;
    assert_eq!(marker.state, DeliveryState::Cancelled);
    assert!(marker.reason.is_some_and(|r| r.contains("paid")));
}

#[tokio::test]
async fn a_reminder_on_an_invoice_still_owed_is_sent_and_recorded_as_a_reminder() {
    let w = world().await;
    let (inv, _) = issued(&w).await;
    // Part paid: something is still owed, so it goes out.
    w.app
        .post(
            &w.s.finance,
            &format!("/v1/invoices/{inv}/payments"),
            json!({"amount": "40.00", "date": "2026-11-20", "method": "bank_transfer"}),
        )
        .await
        .expect(201);
    let m = mail(
        "remind-2",
        MailPurpose::Reminder {
            invoice_id: inv.clone(),
            stage: "first".into(),
        },
        None,
    );
    let got = handle_body(&w.app.services, &serde_json::to_string(&m).unwrap())
        .await
        .unwrap();
    assert!(matches!(got, Delivery::Sent(_)));
    let acts = activities(&w, &inv).await;
    assert_eq!(acts.len(), 1);
    assert_eq!(acts[0].activity, ActivityKind::Reminder);
    assert_eq!(acts[0].details["stage"], "first");
}

#[tokio::test]
async fn a_crashed_claim_blocks_a_second_sender_until_its_lease_runs_out() {
    let w = world().await;
    let (inv, _) = issued(&w).await;
    let m = mail(
        "send-crash",
        MailPurpose::InvoiceSent {
            invoice_id: inv.clone(),
        },
        None,
    );
    // A sender that claimed the id and died: its marker says `sending`.
    let now = w.app.clock.now();
    let claimed = MailDelivery {
        id: "send-crash".into(),
        state: DeliveryState::Sending,
        lease_until: Some(now + jiff::SignedDuration::from_secs(120)),
        provider_id: None,
        reason: None,
        purpose: json!({}),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    w.app
        .table
        .transact(vec![
            agencyops_store::record::create("acme", &claimed).unwrap()
        ])
        .await
        .unwrap();
    let body = serde_json::to_string(&m).unwrap();
    assert!(matches!(
        handle_body(&w.app.services, &body).await,
        Err(SendError::Busy(_))
    ));
    assert!(w.outbox.list().await.unwrap().is_empty());

    w.app.clock.advance(jiff::SignedDuration::from_secs(121));
    assert!(matches!(
        handle_body(&w.app.services, &body).await.unwrap(),
        Delivery::Sent(_)
    ));
    assert_eq!(w.outbox.list().await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_lambda_reports_only_the_failed_messages_of_a_batch() {
    let w = world().await;
    let (inv, _) = issued(&w).await;
    let good = serde_json::to_string(&mail(
        "send-ok",
        MailPurpose::InvoiceSent {
            invoice_id: inv.clone(),
        },
        None,
    ))
    .unwrap();
    let bad_id = serde_json::to_string(&mail(
        "has spaces/and slashes",
        MailPurpose::InvoiceSent {
            invoice_id: inv.clone(),
        },
        None,
    ))
    .unwrap();
    let msg = |id: &str, body: &str| {
        let mut m = SqsMessage::default();
        m.message_id = Some(id.into());
        m.body = Some(body.into());
        m
    };
    let mut event = SqsEvent::default();
    event.records = vec![
        msg("m-good", &good),
        msg("m-garbage", "{not json"),
        msg("m-bad-id", &bad_id),
        msg("m-good-again", &good),
    ];
    let res = handle_sqs(&w.app.services, event).await;
    let failed: Vec<_> = res
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(failed, ["m-garbage", "m-bad-id"]);
    assert_eq!(
        w.outbox.list().await.unwrap().len(),
        1,
        "the duplicate sent nothing"
    );
    assert_eq!(MAIL_QUEUE, "mail-sender");
}

#[tokio::test]
async fn the_sample_sqs_event_is_a_mail_the_sender_understands() {
    let path = agencyops_testkit::workspace_root().join("events/ar-followups/mail-sender-sqs.json");
    let event: SqsEvent = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let body = event.records[0].body.as_deref().unwrap();
    let mail: OutgoingMail = serde_json::from_str(body).unwrap();
    assert!(matches!(mail.purpose, MailPurpose::InvoiceSent { .. }));
    assert_eq!(mail.attachments.len(), 1);
}

//! `POST /v1/invoices/{id}/send` through to the `.eml` outbox, and
//! `GET /v1/invoices/{id}/activity`: the issued PDF reaches the client's
//! billing contacts once, the delivery is on the activity with payments and
//! credit notes, and the role and tenant matrix holds on both endpoints.

use std::sync::Arc;
use std::time::Duration;

use agencyops_apitest::outage::SwitchQueue;
use agencyops_apitest::{client_user, studio, who, App, As, Studio};
use agencyops_ar_followups::mail_sender::handle_body;
use agencyops_platform::blob::EmbeddedBlob;
use agencyops_platform::mail::{EmbeddedMail, OutgoingMail, MAIL_QUEUE};
use agencyops_store::keys;
use agencyops_store::record::load;
use agencyops_store::records::Invoice;
use mail_parser::{MessageParser, MimeHeaders};
use serde_json::{json, Value};

struct World {
    app: App,
    s: Studio,
    outbox: Arc<EmbeddedMail>,
    /// The queue the functions send on, to take it down.
    switch: Arc<SwitchQueue>,
    _dir: tempfile::TempDir,
}

fn routes() -> axum::Router<agencyops_platform::Services> {
    agencyops_intake::routes()
        .merge(agencyops_invoicing::routes())
        .merge(agencyops_ar_followups::routes())
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
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
    app.services.public_url = Some("https://app.lumen.studio".into());
    app.services = app.services.clone().with_mail(outbox.clone());
    let switch = SwitchQueue::new(app.services.queue.clone());
    app.services.queue = switch.clone();
    app.rebuild_router();
    let s = studio(&app, "acme").await;
    app.patch(
        &s.admin,
        &format!("/v1/clients/{}", s.client),
        json!({"billing_email": "ap@northwind.example"}),
    )
    .await
    .expect(200);
    app.create(
        &s.admin,
        &format!("/v1/clients/{}/contacts", s.client),
        json!({"name": "Cleo CFO", "email": "cfo@northwind.example", "billing": true}),
    )
    .await;
    app.create(
        &s.admin,
        &format!("/v1/clients/{}/contacts", s.client),
        json!({"name": "Pat PM", "email": "pm@northwind.example", "billing": false}),
    )
    .await;
    World {
        app,
        s,
        outbox,
        switch,
        _dir: dir,
    }
}

async fn draft(w: &World) -> String {
    w.app
        .create(
            &w.s.finance,
            "/v1/invoices",
            json!({"client_id": w.s.client, "kind": "manual",
                   "lines": [{"description": "Brand workshop", "quantity": "1", "unit_price": "100.00"}]}),
        )
        .await
}

async fn issued(w: &World) -> String {
    let id = draft(w).await;
    w.app
        .post(&w.s.finance, &format!("/v1/invoices/{id}/issue"), json!({}))
        .await
        .expect(200);
    id
}

/// Every waiting mail-sender message, acknowledged.
async fn queued(w: &World) -> Vec<String> {
    let got = w
        .app
        .queue
        .receive(MAIL_QUEUE, 10, Duration::from_secs(60))
        .await
        .unwrap();
    let mut out = Vec::new();
    for m in got {
        w.app.queue.delete(&m.receipt).await.unwrap();
        out.push(m.body);
    }
    out
}

async fn stored(w: &World, id: &str) -> Invoice {
    load::<Invoice>(&*w.app.table, &keys::invoice(&w.s.tenant, id))
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn a_sent_invoice_reaches_the_billing_contacts_with_its_pdf_and_shows_on_its_activity() {
    let w = world().await;
    let id = issued(&w).await;
    let res = w
        .app
        .post(&w.s.finance, &format!("/v1/invoices/{id}/send"), json!({}))
        .await
        .expect(202);
    assert_eq!(
        res.body["to"],
        json!(["ap@northwind.example", "cfo@northwind.example"]),
        "the billing email and billing contacts, not the PM"
    );
    assert_eq!(
        res.body["link"],
        format!("https://app.lumen.studio/v1/invoices/{id}/document")
    );
    assert_eq!(res.body["last_sent_on"], "2026-11-20");
    assert_eq!(
        stored(&w, &id).await.last_sent_on,
        Some("2026-11-20".parse().unwrap())
    );

    let bodies = queued(&w).await;
    assert_eq!(bodies.len(), 1);
    assert_eq!(
        w.outbox.list().await.unwrap().len(),
        0,
        "nothing sent by the request"
    );
    for _ in 0..2 {
        // Delivered twice, as SQS may.
        handle_body(&w.app.services, &bodies[0]).await.unwrap();
    }
    let sent = w.outbox.list().await.unwrap();
    assert_eq!(sent.len(), 1);
    let raw = w.outbox.read(&sent[0]).await.unwrap().unwrap();
    let mail = MessageParser::default().parse(&raw).unwrap();
    let pdf: Vec<_> = mail.attachments().collect();
    assert_eq!(pdf.len(), 1);
    assert!(pdf[0].contents().starts_with(b"%PDF"), "the issued PDF");
    let number = stored(&w, &id).await.number.unwrap();
    assert_eq!(
        pdf[0].attachment_name(),
        Some(format!("{number}.pdf").as_str())
    );
    assert!(mail.subject().is_some_and(|s| s.contains(&number)));
    assert!(mail.body_text(0).is_some_and(|t| t.contains(&format!(
        "https://app.lumen.studio/v1/invoices/{id}/document"
    ))));

    let act = w
        .app
        .get(&w.s.finance, &format!("/v1/invoices/{id}/activity"))
        .await
        .expect(200);
    let items = act.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", act.body);
    assert_eq!(items[0]["kind"], "sent");
    assert_eq!(items[0]["date"], "2026-11-20");
    assert_eq!(
        items[0]["details"]["to"],
        json!(["ap@northwind.example", "cfo@northwind.example"])
    );
}

#[tokio::test]
async fn a_replayed_send_queues_nothing_new_and_a_new_send_is_a_new_mail() {
    let w = world().await;
    let id = issued(&w).await;
    let path = format!("/v1/invoices/{id}/send");
    let first = w
        .app
        .post_keyed(
            &w.s.finance,
            &path,
            json!({"cc": ["pm@lumen.studio"]}),
            "k-1",
        )
        .await
        .expect(202);
    let again = w
        .app
        .post_keyed(
            &w.s.finance,
            &path,
            json!({"cc": ["pm@lumen.studio"]}),
            "k-1",
        )
        .await
        .expect(202);
    assert_eq!(first.body, again.body);
    assert_eq!(queued(&w).await.len(), 1, "the replay queued nothing");
    // The same key for another body is refused, changing nothing.
    w.app
        .post_keyed(
            &w.s.finance,
            &path,
            json!({"cc": ["x@lumen.studio"]}),
            "k-1",
        )
        .await
        .expect(422);
    let other = w
        .app
        .post_keyed(&w.s.finance, &path, json!({}), "k-2")
        .await
        .expect(202);
    assert_ne!(other.body["mail_id"], first.body["mail_id"]);
    let bodies = queued(&w).await;
    assert_eq!(bodies.len(), 1);
    let m: OutgoingMail = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(Value::String(m.id), other.body["mail_id"]);
}

#[tokio::test]
async fn explicit_recipients_replace_the_contacts_and_bad_ones_change_nothing() {
    let w = world().await;
    let id = issued(&w).await;
    let path = format!("/v1/invoices/{id}/send");
    let before = stored(&w, &id).await;
    for (body, field) in [
        (json!({"to": ["not-an-address"]}), "to[0]"),
        (json!({"to": []}), "to"),
        (json!({"cc": ["ok@x.io", "a b@x.io"]}), "cc[1]"),
        (json!({"bcc": ["ok@x.io"]}), ""),
    ] {
        let res = w
            .app
            .post(&w.s.finance, &path, body.clone())
            .await
            .expect(400);
        if !field.is_empty() {
            assert_eq!(res.fields(), [field], "{body}");
        }
    }
    assert_eq!(stored(&w, &id).await, before, "nothing changed");
    assert!(queued(&w).await.is_empty());

    let res = w
        .app
        .post(
            &w.s.finance,
            &path,
            json!({"to": ["boss@northwind.example"], "message": "As discussed."}),
        )
        .await
        .expect(202);
    assert_eq!(res.body["to"], json!(["boss@northwind.example"]));
    let m: OutgoingMail = serde_json::from_str(&queued(&w).await[0]).unwrap();
    assert_eq!(m.to, ["boss@northwind.example"]);
    assert!(m.text.starts_with("As discussed."));
}

#[tokio::test]
async fn only_finance_and_admins_send_issued_invoices_of_their_own_tenant() {
    let w = world().await;
    let id = issued(&w).await;
    let path = format!("/v1/invoices/{id}/send");
    for caller in [&w.s.manager, &w.s.member, &w.s.contractor, &w.s.client_user] {
        w.app.post(caller, &path, json!({})).await.expect(403);
    }
    // Another tenant's admin cannot even tell that it exists.
    w.app
        .post(&who("globex", "gus", "admin"), &path, json!({}))
        .await
        .expect(404);
    w.app
        .post(&w.s.finance, "/v1/invoices/nope/send", json!({}))
        .await
        .expect(404);
    assert!(queued(&w).await.is_empty());
    w.app.post(&w.s.admin, &path, json!({})).await.expect(202);
}

#[tokio::test]
async fn drafts_and_void_invoices_are_not_sent() {
    let w = world().await;
    let d = draft(&w).await;
    let res = w
        .app
        .post(&w.s.finance, &format!("/v1/invoices/{d}/send"), json!({}))
        .await
        .expect(409);
    assert!(res.problem_type().ends_with("not-a-draft"), "{}", res.body);
    let v = issued(&w).await;
    w.app
        .post(&w.s.finance, &format!("/v1/invoices/{v}/void"), json!({}))
        .await
        .expect(200);
    w.app
        .post(&w.s.finance, &format!("/v1/invoices/{v}/send"), json!({}))
        .await
        .expect(409);
    assert!(queued(&w).await.is_empty());
    assert_eq!(stored(&w, &v).await.last_sent_on, None);
}

#[tokio::test]
async fn activity_lists_payments_credit_notes_and_mail_in_order_for_whoever_reads_the_invoice() {
    let w = world().await;
    let id = issued(&w).await;
    w.app
        .post(&w.s.finance, &format!("/v1/invoices/{id}/send"), json!({}))
        .await
        .expect(202);
    handle_body(&w.app.services, &queued(&w).await[0])
        .await
        .unwrap();
    w.app.clock.advance(jiff::SignedDuration::from_hours(24));
    w.app
        .post(
            &w.s.finance,
            &format!("/v1/invoices/{id}/payments"),
            json!({"amount": "30.00", "date": "2026-11-21", "method": "bank_transfer", "reference": "TX-1"}),
        )
        .await
        .expect(201);
    w.app.clock.advance(jiff::SignedDuration::from_hours(24));
    w.app
        .post(
            &w.s.finance,
            &format!("/v1/invoices/{id}/credit-notes"),
            json!({"reason": "Workshop ran short", "amount": "10.00"}),
        )
        .await
        .expect(201);

    let path = format!("/v1/invoices/{id}/activity");
    let staff = w.app.get(&w.s.finance, &path).await.expect(200);
    let kinds: Vec<_> = staff.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["sent", "payment", "credit_note"], "{}", staff.body);
    assert_eq!(staff.body["items"][1]["details"]["amount"], "30.00");
    assert_eq!(staff.body["items"][1]["details"]["reference"], "TX-1");
    assert_eq!(
        staff.body["items"][2]["details"]["reason"],
        "Workshop ran short"
    );

    for reader in [&w.s.admin, &w.s.manager] {
        assert_eq!(w.app.get(reader, &path).await.expect(200).body, staff.body);
    }
    // The client sees its own invoice's activity, without internal details.
    let client = w.app.get(&w.s.client_user, &path).await.expect(200);
    assert_eq!(client.body["items"].as_array().unwrap().len(), 3);
    let hidden = agencyops_apitest::paths_named(
        &client.body,
        &[
            "to",
            "cc",
            "provider_message_id",
            "recorded_by",
            "reference",
            "payment_id",
            "created_by",
        ],
    );
    assert!(hidden.is_empty(), "{hidden:?}");
    assert!(client.body["items"][0]["details"]["subject"].is_string());

    for nobody in [&w.s.member, &w.s.contractor] {
        w.app.get(nobody, &path).await.expect(403);
    }
    let other_client: As = client_user("acme", "cx", "some-other-client");
    w.app.get(&other_client, &path).await.expect(404);
    w.app
        .get(&who("globex", "gus", "admin"), &path)
        .await
        .expect(404);
    // A client never sees a draft's activity.
    let d = draft(&w).await;
    w.app
        .get(&w.s.client_user, &format!("/v1/invoices/{d}/activity"))
        .await
        .expect(404);
}

#[tokio::test]
async fn an_auto_issued_milestone_invoice_is_sent_once_with_its_pdf() {
    let w = world().await;
    w.app
        .patch(
            &w.s.admin,
            &format!("/v1/clients/{}", w.s.client),
            json!({"invoice_preferences": {"auto_issue": true}}),
        )
        .await
        .expect(200);
    let m = w
        .app
        .create(
            &w.s.admin,
            &format!("/v1/projects/{}/milestones", w.s.project),
            json!({"name": "Concepts", "amount": "4000.00"}),
        )
        .await;
    w.app
        .post(
            &w.s.finance,
            &format!("/v1/projects/{}/milestones/{m}/reach", w.s.project),
            json!({}),
        )
        .await
        .expect(200);
    let got = w
        .app
        .queue
        .receive(
            agencyops_platform::events::MILESTONES_QUEUE,
            10,
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    // The message delivered twice: drafted, issued and sent once.
    for _ in 0..2 {
        agencyops_invoicing::milestones::handle_body(&w.app.services, &got[0].body)
            .await
            .unwrap();
    }
    let mails: Vec<agencyops_platform::mail::OutgoingMail> = queued(&w)
        .await
        .iter()
        .map(|b| serde_json::from_str(b).unwrap())
        .collect();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(matches!(
        mails[0].purpose,
        agencyops_platform::mail::MailPurpose::InvoiceSent { .. }
    ));
    assert!(mails[0].to.contains(&"ap@northwind.example".to_owned()));
    assert_eq!(mails[0].attachments.len(), 1, "the issued PDF is attached");
}

#[tokio::test]
async fn a_send_accepted_while_the_queue_was_down_is_mailed_by_the_daily_run_once() {
    let w = world().await;
    let id = issued(&w).await;
    w.switch.set_down(true);
    let res = w
        .app
        .post(&w.s.finance, &format!("/v1/invoices/{id}/send"), json!({}))
        .await
        .expect(202);
    w.switch.set_down(false);
    assert!(queued(&w).await.is_empty(), "the queue refused it");
    assert_eq!(
        stored(&w, &id).await.last_sent_on,
        Some("2026-11-20".parse().unwrap()),
        "the send is recorded"
    );

    let day = "2026-11-20".parse().unwrap();
    let run = agencyops_ar_followups::daily::run(&w.app.services, day)
        .await
        .unwrap();
    assert_eq!(run.tenants[0].mail_requeued, 1, "{run:?}");
    let bodies = queued(&w).await;
    assert_eq!(bodies.len(), 1);
    let mail: OutgoingMail = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(
        json!(mail.id),
        res.body["mail_id"],
        "the mail the caller was told of"
    );
    handle_body(&w.app.services, &bodies[0]).await.unwrap();
    assert_eq!(w.outbox.list().await.unwrap().len(), 1, "delivered");

    let again = agencyops_ar_followups::daily::run(&w.app.services, day)
        .await
        .unwrap();
    assert_eq!(again.tenants[0].mail_requeued, 0);
    assert!(queued(&w).await.is_empty(), "queued once");
}

#[tokio::test]
async fn a_late_fee_invoice_keeps_its_pdf_and_is_mailed_like_any_invoice() {
    let w = world().await;
    let id = issued(&w).await;
    let due = stored(&w, &id).await.due_date.unwrap();
    w.app
        .put(
            &w.s.finance,
            "/v1/settings/dunning",
            json!({"stages": [{"name": "late", "offset_days": 14,
                   "subject": "Invoice {number} is overdue", "body": "{balance} is overdue.",
                   "late_fee": {"flat": "15.00"}}]}),
        )
        .await
        .expect(200);
    let day = due.checked_add(jiff::Span::new().days(14)).unwrap();
    agencyops_ar_followups::daily::run(&w.app.services, day)
        .await
        .unwrap();
    let reminder: OutgoingMail = serde_json::from_str(&queued(&w).await[0]).unwrap();
    let fee_number = reminder
        .text
        .rsplit("invoice ")
        .next()
        .unwrap()
        .trim_end_matches('.')
        .to_owned();
    let list = w
        .app
        .get(&w.s.finance, "/v1/invoices?status=issued")
        .await
        .expect(200);
    let fee = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["number"] == fee_number.as_str())
        .unwrap_or_else(|| panic!("fee invoice {fee_number} in {}", list.body))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        stored(&w, &fee).await.document.is_some(),
        "kept like any issued invoice"
    );
    let pdf = w
        .app
        .raw(
            Some(&w.s.finance),
            axum::http::Method::GET,
            &format!("/v1/invoices/{fee}/document"),
            None,
            &[("accept", "application/pdf")],
        )
        .await
        .expect(200);
    assert_eq!(pdf.headers["content-type"], "application/pdf");

    w.app
        .post(&w.s.finance, &format!("/v1/invoices/{fee}/send"), json!({}))
        .await
        .expect(202);
    let body = queued(&w).await.remove(0);
    handle_body(&w.app.services, &body).await.unwrap();
    let sent = w.outbox.list().await.unwrap();
    assert_eq!(sent.len(), 1);
    let raw = w.outbox.read(&sent[0]).await.unwrap().unwrap();
    let mail = MessageParser::default().parse(&raw).unwrap();
    let text = pdf_text(mail.attachments().next().unwrap().contents());
    assert!(
        text.contains("Late fee"),
        "the fee's line is on the PDF: {text}"
    );
    assert!(text.contains("15.00"), "{text}");
}

fn pdf_text(bytes: &[u8]) -> String {
    pdf_extract::extract_text_from_mem(bytes).unwrap_or_default()
}

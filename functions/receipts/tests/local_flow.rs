//! The whole flow on the embedded adapters, as the local host runs it: ask for
//! a URL, PUT the file to the blob store over HTTP, take the S3-shaped event
//! from the `blob-events` queue and hand it to the processor.

mod support;

use agencyops_apitest::As;
use agencyops_domain::timesheet::WorkStatus;
use agencyops_platform::blob::embedded::BLOB_EVENTS_QUEUE;
use agencyops_platform::blob::Blob;
use agencyops_receipts::{process_event_json, ProcessError};
use agencyops_store::record;
use serde_json::{json, Value};
use support::*;

/// Asks for a URL as `who`, uploads `bytes` with exactly the returned headers,
/// and returns the event the upload raised.
async fn upload_receipt(l: &Local, who: &As, expense: &str, ct: &str, bytes: Vec<u8>) -> String {
    // Events of earlier processing (copies kept or quarantined) come first.
    drain(l).await;
    let ticket = l
        .app
        .post(
            who,
            &format!("/v1/expenses/{expense}/receipt"),
            json!({"content_type": ct, "size": bytes.len()}),
        )
        .await
        .expect(201)
        .body;
    let res = upload(&ticket, bytes).await;
    assert!(res.status().is_success(), "upload: {}", res.status());
    let mut events = blob_events(&l.app).await;
    assert_eq!(events.len(), 1, "one upload, one event");
    events.remove(0)
}

async fn receipt(l: &Local, who: &As, expense: &str) -> Value {
    l.app
        .get(who, &format!("/v1/expenses/{expense}/receipt"))
        .await
        .expect(200)
        .body
}

/// Processes every event the blob store raised meanwhile (e.g. for files it
/// moved to quarantine), as the local host's consumer would.
async fn drain(l: &Local) {
    for e in blob_events(&l.app).await {
        process_event_json(&l.app.services, &e).await.unwrap();
    }
}

#[tokio::test]
async fn an_uploaded_text_pdf_is_attached_with_hash_and_suggestions() {
    let l = local().await;
    let (app, s) = (&l.app, &l.studio);
    let x = new_expense(app, &s.member, &s.project).await;
    let pdf = cafe_receipt();
    let event = upload_receipt(&l, &s.member, &x, "application/pdf", pdf.clone()).await;
    process_event_json(&app.services, &event).await.unwrap();

    let r = receipt(&l, &s.member, &x).await;
    assert_eq!(r["status"], "accepted");
    assert_eq!(r["sha256"], sha256_hex(&pdf));
    assert_eq!(r["content_type"], "application/pdf");
    assert_eq!(r["size"], pdf.len());
    assert_eq!(r["uploaded_at"], "2026-11-20T12:00:00Z");
    assert!(r["duplicate_of"].is_null());
    assert!(r["reason"].is_null());
    assert_eq!(
        r["suggestions"],
        json!({"total": "42.50", "date": "2026-11-18", "merchant": "Cafe Lisboa Lda"})
    );
    // What the person typed stays as typed.
    let x_now = stored(&*app.table, &s.tenant, &x).await;
    let typed = expense(&x, &s.member.person, &s.project, WorkStatus::Draft);
    assert_eq!(
        (x_now.amount, x_now.date, &x_now.note),
        (typed.amount, typed.date, &typed.note)
    );
    // The download link serves exactly the uploaded bytes.
    let got = reqwest::get(r["download_url"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().as_ref(), &pdf[..]);
    assert_eq!(
        audit_actions(&*app.table, &s.tenant, &x).await,
        vec![
            ("create".to_owned(), s.member.person.clone()),
            ("request_receipt".to_owned(), s.member.person.clone()),
            ("accept_receipt".to_owned(), "receipts-processor".to_owned()),
        ]
    );
    // Finance sees the same, link included.
    assert_eq!(receipt(&l, &s.finance, &x).await["status"], "accepted");
}

#[tokio::test]
async fn html_declared_as_pdf_is_quarantined_and_never_served() {
    let l = local().await;
    let (app, s) = (&l.app, &l.studio);
    let x = new_expense(app, &s.member, &s.project).await;
    let event = upload_receipt(&l, &s.member, &x, "application/pdf", HTML_AS_PDF.to_vec()).await;
    let key = event_key(&event);
    assert!(l.blob.get(&key).await.unwrap().is_some());
    process_event_json(&app.services, &event).await.unwrap();

    let r = receipt(&l, &s.member, &x).await;
    assert_eq!(r["status"], "rejected");
    assert!(r["reason"].as_str().unwrap().contains("web page"), "{r}");
    assert!(r["download_url"].is_null());
    assert_eq!(r["sha256"], sha256_hex(HTML_AS_PDF));
    assert_eq!(l.blob.get(&key).await.unwrap(), None, "gone from receipts/");
    let quarantined = key.replacen("receipts/", "quarantine/", 1);
    assert_eq!(
        l.blob.get(&quarantined).await.unwrap().as_deref(),
        Some(HTML_AS_PDF)
    );
    assert_eq!(
        l.blob
            .head(&quarantined)
            .await
            .unwrap()
            .unwrap()
            .content_type
            .as_deref(),
        Some("application/octet-stream"),
        "stored as opaque bytes"
    );
    // The move itself raised an event; processing it changes nothing.
    let version = stored(&*app.table, &s.tenant, &x).await.version;
    drain(&l).await;
    assert_eq!(stored(&*app.table, &s.tenant, &x).await.version, version);
    // The expense itself shows the refusal and why.
    let shown = app
        .get(&s.member, &format!("/v1/expenses/{x}"))
        .await
        .expect(200)
        .body;
    assert_eq!(shown["receipt"]["status"], "rejected", "{shown}");
    assert_eq!(shown["receipt"]["reason"], r["reason"]);
}

/// The person corrects the expense between the upload and its processing: the
/// receipt is still attached, and what they typed (not the PDF's figures) stays.
#[tokio::test]
async fn an_expense_edited_while_its_file_is_on_the_way_keeps_what_was_typed() {
    let l = local().await;
    let (app, s) = (&l.app, &l.studio);
    let x = new_expense(app, &s.member, &s.project).await;
    let event = upload_receipt(&l, &s.member, &x, "application/pdf", cafe_receipt()).await;
    app.patch(
        &s.member,
        &format!("/v1/expenses/{x}"),
        json!({"amount": "40.00", "note": "Lunch, tip not billed"}),
    )
    .await
    .expect(200);
    process_event_json(&app.services, &event).await.unwrap();
    let shown = app
        .get(&s.member, &format!("/v1/expenses/{x}"))
        .await
        .expect(200)
        .body;
    assert_eq!(shown["receipt"]["status"], "accepted", "{shown}");
    assert_eq!(shown["receipt"]["suggestions"]["total"], "42.50");
    assert_eq!(shown["amount"], "40.00");
    assert_eq!(shown["note"], "Lunch, tip not billed");
}

#[tokio::test]
async fn a_real_file_of_another_type_than_announced_is_refused() {
    let l = local().await;
    let (app, s) = (&l.app, &l.studio);
    let x = new_expense(app, &s.member, &s.project).await;
    let event = upload_receipt(&l, &s.member, &x, "image/png", jpeg(3)).await;
    process_event_json(&app.services, &event).await.unwrap();
    let r = receipt(&l, &s.member, &x).await;
    assert_eq!(r["status"], "rejected");
    assert_eq!(
        r["reason"],
        "the file is a JPEG image but was announced as a PNG image"
    );
}

#[tokio::test]
async fn the_same_event_twice_changes_nothing() {
    let l = local().await;
    let (app, s) = (&l.app, &l.studio);
    for (ct, bytes) in [
        ("image/jpeg", jpeg(5)),
        ("application/pdf", HTML_AS_PDF.to_vec()),
    ] {
        let x = new_expense(app, &s.member, &s.project).await;
        let event = upload_receipt(&l, &s.member, &x, ct, bytes).await;
        process_event_json(&app.services, &event).await.unwrap();
        drain(&l).await;
        let once = stored(&*app.table, &s.tenant, &x).await;
        let audits = audit_actions(&*app.table, &s.tenant, &x).await.len();
        process_event_json(&app.services, &event).await.unwrap();
        assert_eq!(stored(&*app.table, &s.tenant, &x).await, once, "{ct}");
        assert_eq!(
            audit_actions(&*app.table, &s.tenant, &x).await.len(),
            audits
        );
    }
}

#[tokio::test]
async fn the_same_file_on_two_expenses_is_flagged_within_the_tenant_only() {
    let l = local().await;
    let (app, s) = (&l.app, &l.studio);
    let first = new_expense(app, &s.member, &s.project).await;
    let second = new_expense(app, &s.contractor, &s.project).await;
    let e1 = upload_receipt(&l, &s.member, &first, "image/jpeg", jpeg(7)).await;
    process_event_json(&app.services, &e1).await.unwrap();
    let e2 = upload_receipt(&l, &s.contractor, &second, "image/jpeg", jpeg(7)).await;
    process_event_json(&app.services, &e2).await.unwrap();

    let r = receipt(&l, &s.contractor, &second).await;
    assert_eq!(
        r["status"], "accepted",
        "a duplicate is flagged, not refused"
    );
    assert_eq!(r["duplicate_of"], first.as_str());
    assert!(receipt(&l, &s.member, &first).await["duplicate_of"].is_null());

    // Another agency uploading the same file is no duplicate of ours.
    let other = agencyops_apitest::studio(app, "globex").await;
    let theirs = new_expense(app, &other.member, &other.project).await;
    let e3 = upload_receipt(&l, &other.member, &theirs, "image/jpeg", jpeg(7)).await;
    process_event_json(&app.services, &e3).await.unwrap();
    assert!(receipt(&l, &other.member, &theirs).await["duplicate_of"].is_null());

    // Once the first expense's receipt is replaced, the file is no longer on it.
    let e4 = upload_receipt(&l, &s.member, &first, "image/jpeg", jpeg(9)).await;
    process_event_json(&app.services, &e4).await.unwrap();
    let third = new_expense(app, &s.member, &s.project).await;
    let e5 = upload_receipt(&l, &s.member, &third, "image/jpeg", jpeg(7)).await;
    process_event_json(&app.services, &e5).await.unwrap();
    assert_eq!(
        receipt(&l, &s.member, &third).await["duplicate_of"],
        second.as_str()
    );
}

#[tokio::test]
async fn files_nobody_announced_are_quarantined_without_touching_expenses() {
    let l = local().await;
    let (app, s) = (&l.app, &l.studio);
    let x = new_expense(app, &s.member, &s.project).await;

    // A key no URL was issued for.
    let stray = format!("receipts/acme/{x}/not-announced");
    l.blob
        .put(&stray, bytes::Bytes::from(jpeg(1)), "image/jpeg")
        .await
        .unwrap();
    // A key for an expense that does not exist, and one that is no receipt key.
    let ghost = "receipts/acme/0194f1e2-0000-7000-8000-000000000000/u1";
    l.blob
        .put(ghost, bytes::Bytes::from(jpeg(1)), "image/jpeg")
        .await
        .unwrap();
    l.blob
        .put(
            "receipts/loose-file.pdf",
            bytes::Bytes::from_static(b"%PDF-1.4"),
            "application/pdf",
        )
        .await
        .unwrap();
    drain(&l).await;
    for key in [stray.as_str(), ghost, "receipts/loose-file.pdf"] {
        assert_eq!(l.blob.get(key).await.unwrap(), None, "{key}");
        let q = key.replacen("receipts/", "quarantine/", 1);
        assert!(l.blob.get(&q).await.unwrap().is_some(), "{q}");
    }
    assert_eq!(stored(&*app.table, &s.tenant, &x).await.version, 1);

    // A superseded URL: the expense waits for the newer upload.
    let path = format!("/v1/expenses/{x}/receipt");
    let body = json!({"content_type": "image/jpeg", "size": jpeg(2).len()});
    let old = app
        .post(&s.member, &path, body.clone())
        .await
        .expect(201)
        .body;
    let new = app.post(&s.member, &path, body).await.expect(201).body;
    assert!(upload(&old, jpeg(2)).await.status().is_success());
    drain(&l).await;
    let r = receipt(&l, &s.member, &x).await;
    assert_eq!(r["status"], "pending");
    assert!(upload(&new, jpeg(2)).await.status().is_success());
    drain(&l).await;
    assert_eq!(receipt(&l, &s.member, &x).await["status"], "accepted");
}

#[tokio::test]
async fn an_expense_approved_before_its_file_arrives_keeps_no_file() {
    let l = local().await;
    let (app, s) = (&l.app, &l.studio);
    let x = new_expense(app, &s.member, &s.project).await;
    let ticket = app
        .post(
            &s.member,
            &format!("/v1/expenses/{x}/receipt"),
            json!({"content_type": "image/jpeg", "size": jpeg(4).len()}),
        )
        .await
        .expect(201)
        .body;
    // The manager approves meanwhile.
    let mut approved = stored(&*app.table, &s.tenant, &x).await;
    approved.status = WorkStatus::Approved;
    approved.version += 1;
    app.table
        .transact(vec![record::replace(&s.tenant, &approved, 2).unwrap()])
        .await
        .unwrap();
    assert!(upload(&ticket, jpeg(4)).await.status().is_success());
    drain(&l).await;
    let r = receipt(&l, &s.member, &x).await;
    assert_eq!(r["status"], "rejected");
    assert!(r["reason"].as_str().unwrap().contains("approved"), "{r}");
    assert_eq!(
        stored(&*app.table, &s.tenant, &x).await.status,
        WorkStatus::Approved
    );
}

/// The upload URL stays valid for minutes after its file was accepted. A file
/// swapped in through it (before or after the processor sees it) is never what
/// the download link serves: that is the copy the processor checked.
#[tokio::test]
async fn a_file_swapped_through_a_still_valid_url_is_never_served() {
    let l = local().await;
    let (app, s) = (&l.app, &l.studio);
    let x = new_expense(app, &s.member, &s.project).await;
    let pdf = cafe_receipt();
    let mut disguised = HTML_AS_PDF.to_vec();
    disguised.resize(pdf.len(), b' ');
    let ticket = app
        .post(
            &s.member,
            &format!("/v1/expenses/{x}/receipt"),
            json!({"content_type": "application/pdf", "size": pdf.len()}),
        )
        .await
        .expect(201)
        .body;
    assert!(upload(&ticket, pdf.clone()).await.status().is_success());
    drain(&l).await;
    let accepted = receipt(&l, &s.member, &x).await;
    assert_eq!(accepted["status"], "accepted");
    let download = |r: &Value| {
        let url = r["download_url"].as_str().unwrap().to_owned();
        async move {
            let got = reqwest::get(url).await.unwrap();
            assert_eq!(got.status(), 200);
            sha256_hex(&got.bytes().await.unwrap())
        }
    };

    // Someone swaps the file for a web page; the processor has not run yet.
    assert!(upload(&ticket, disguised.clone())
        .await
        .status()
        .is_success());
    let key = stored(&*app.table, &s.tenant, &x)
        .await
        .receipt
        .unwrap()
        .key;
    assert_eq!(
        l.blob.get(&key).await.unwrap().as_deref(),
        Some(&disguised[..])
    );
    let r = receipt(&l, &s.member, &x).await;
    assert_eq!(
        download(&r).await,
        sha256_hex(&pdf),
        "the link serves the checked file"
    );

    // Once processed, the swapped file is quarantined and the receipt stands.
    let version = stored(&*app.table, &s.tenant, &x).await.version;
    drain(&l).await;
    let r = receipt(&l, &s.member, &x).await;
    assert_eq!(r["status"], "accepted");
    assert_eq!(r["sha256"], sha256_hex(&pdf));
    assert_eq!(download(&r).await, sha256_hex(&pdf));
    assert_eq!(stored(&*app.table, &s.tenant, &x).await.version, version);
    assert_eq!(l.blob.get(&key).await.unwrap(), None, "gone from receipts/");
    let quarantined = key.replacen("receipts/", "quarantine/", 1);
    assert_eq!(
        l.blob.get(&quarantined).await.unwrap().as_deref(),
        Some(&disguised[..])
    );
}

#[tokio::test]
async fn unreadable_events_fail_so_they_are_retried_and_dead_lettered() {
    let l = local().await;
    let app = &l.app;
    let err = process_event_json(&app.services, "not json")
        .await
        .unwrap_err();
    assert!(matches!(err, ProcessError::Malformed(_)), "{err}");
    let err = process_event_json(&app.services, r#"{"Records": [{"nope": 1}]}"#)
        .await
        .unwrap_err();
    assert!(matches!(err, ProcessError::Malformed(_)), "{err}");
    // S3's test message is acknowledged.
    process_event_json(
        &app.services,
        r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-20T12:00:00.000Z","Bucket":"b"}"#,
    )
    .await
    .unwrap();

    // Without storage, a real event fails rather than being dropped.
    let x = new_expense(app, &l.studio.member, &l.studio.project).await;
    let event = upload_receipt(&l, &l.studio.member, &x, "image/jpeg", jpeg(1)).await;
    let mut no_storage = app.services.clone();
    no_storage.blob = None;
    assert!(matches!(
        process_event_json(&no_storage, &event).await,
        Err(ProcessError::NoStorage)
    ));

    // Consumed as the local host does (delete on success only), a message
    // that keeps failing ends in the dead-letter queue.
    use agencyops_platform::queue::Queue;
    app.queue
        .send(BLOB_EVENTS_QUEUE, "{\"Records\": 7}")
        .await
        .unwrap();
    for _ in 0..10 {
        let got = app
            .queue
            .receive(BLOB_EVENTS_QUEUE, 10, std::time::Duration::from_secs(30))
            .await
            .unwrap();
        for m in got {
            if process_event_json(&app.services, &m.body).await.is_ok() {
                app.queue.delete(&m.receipt).await.unwrap();
            }
        }
        app.clock.advance(jiff::SignedDuration::from_secs(31));
    }
    let dead = app.queue.dead_letters(BLOB_EVENTS_QUEUE).await.unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].body, "{\"Records\": 7}");
}

/// Two uploads for one expense (the first file replaced before it was
/// processed), their events delivered newest first and then both again: the
/// expense keeps the file asked for last, once, and the first is never served.
#[tokio::test]
async fn a_replaced_upload_whose_events_arrive_out_of_order_and_twice_keeps_the_newer_file() {
    let l = local().await;
    let (app, s) = (&l.app, &l.studio);
    let x = new_expense(app, &s.member, &s.project).await;
    drain(&l).await;
    let mut put = Vec::new();
    for (ct, bytes) in [("image/jpeg", jpeg(7)), ("application/pdf", cafe_receipt())] {
        let ticket = app
            .post(
                &s.member,
                &format!("/v1/expenses/{x}/receipt"),
                json!({"content_type": ct, "size": bytes.len()}),
            )
            .await
            .expect(201)
            .body;
        assert!(upload(&ticket, bytes.clone()).await.status().is_success());
        put.push(bytes);
    }
    let events = blob_events(app).await;
    assert_eq!(events.len(), 2, "two uploads, two events");
    for e in events.iter().rev().chain(events.iter().rev()) {
        process_event_json(&app.services, e).await.unwrap();
    }
    drain(&l).await;
    let r = receipt(&l, &s.member, &x).await;
    assert_eq!(r["status"], "accepted", "{r}");
    assert_eq!(r["sha256"], sha256_hex(&put[1]), "the newer file: {r}");
    assert_eq!(r["content_type"], "application/pdf", "{r}");
    let stored_once = stored(&*app.table, &s.tenant, &x).await;
    for e in &events {
        process_event_json(&app.services, e).await.unwrap();
    }
    drain(&l).await;
    assert_eq!(stored(&*app.table, &s.tenant, &x).await, stored_once);
}

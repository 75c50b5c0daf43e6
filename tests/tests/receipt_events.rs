//! The receipts samples in `events/receipts/` through the Lambda entry paths,
//! with DynamoDB and S3 on a private moto and the services built the way
//! `main.rs` builds them (`Config` -> `lambda::services`): the upload request
//! through `lambda_http`'s adapter, the file PUT to the presigned URL over
//! HTTP with exactly the returned headers, and the S3 notification, as the
//! receipts-events queue hands it to the processor, through `handle_sqs`.

mod support;

use std::collections::HashMap;

use agencyops_platform::config::Config;
use agencyops_platform::Services;
use agencyops_testkit::Moto;
use aws_lambda_events::event::sqs::SqsEvent;
use lambda_http::request::LambdaRequest;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use support::{api_event, invoke_event, sample, SAMPLE_ADMIN};

const TABLE: &str = "agencyops-test";
const BUCKET: &str = "agencyops-receipts-test";
/// The size `receipts/request-upload.json` announces.
const ANNOUNCED_SIZE: usize = 4096;

fn sqs_event(value: Value) -> SqsEvent {
    serde_json::from_value(value).expect("an SQS event")
}

/// The upload sample retargeted to another route of the same API, as the same
/// acme admin: how the expense itself is created and read back.
fn admin_request(method: &str, path: &str, body: Option<Value>, key: &str) -> LambdaRequest {
    let mut e: Value =
        serde_json::from_str(&sample("receipts/request-upload.json", &[])).expect("json");
    e["routeKey"] = json!(format!("ANY {path}"));
    e["rawPath"] = json!(path);
    e["requestContext"]["routeKey"] = e["routeKey"].clone();
    e["requestContext"]["http"]["method"] = json!(method);
    e["requestContext"]["http"]["path"] = json!(path);
    if let Some(obj) = e.as_object_mut() {
        obj.remove("pathParameters");
        obj.remove("body");
    }
    e["headers"]["idempotency-key"] = json!(key);
    if let Some(body) = body {
        let text = body.to_string();
        e["headers"]["content-length"] = json!(text.len().to_string());
        e["body"] = json!(text);
    }
    serde_json::from_value(e).expect("an API Gateway v2 event")
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A one-page text PDF with a valid xref, padded with trailing whitespace to
/// the size the sample announces.
fn receipt_pdf() -> Vec<u8> {
    let mut content = String::new();
    for (i, line) in [
        "Northwind Rail",
        "Date: 18/11/2026",
        "Lisboa - Porto, 1 adult",
        "Total EUR 42.50",
    ]
    .iter()
    .enumerate()
    {
        let y = 760 - 18 * i;
        content.push_str(&format!("BT /F1 11 Tf 40 {y} Td ({line}) Tj ET\n"));
    }
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R \
         /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_owned(),
        format!(
            "<< /Length {} >>\nstream\n{content}\nendstream",
            content.len()
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend(format!("{} 0 obj\n{body}\nendobj\n", i + 1).into_bytes());
    }
    let xref = pdf.len();
    pdf.extend_from_slice(b"xref\n0 6\n0000000000 65535 f \n");
    for o in offsets {
        pdf.extend(format!("{o:010} 00000 n \n").into_bytes());
    }
    pdf.extend(
        format!("trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").into_bytes(),
    );
    assert!(pdf.len() <= ANNOUNCED_SIZE);
    pdf.resize(ANNOUNCED_SIZE, b'\n');
    pdf
}

/// The receipt as `get-receipt.json` shows it, without the link (a fresh one
/// is signed on every read).
fn without_link(mut r: Value) -> Value {
    if let Some(o) = r.as_object_mut() {
        o.remove("download_url");
        o.remove("download_expires_at");
    }
    r
}

async fn moto_services(moto: &Moto) -> Services {
    let sdk = agencyops_platform::aws::emulator_config(&moto.endpoint);
    agencyops_store::dynamo::create_table(&aws_sdk_dynamodb::Client::new(&sdk), TABLE)
        .await
        .expect("create table");
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    s3.create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .expect("bucket");
    // The same configuration path main.rs takes, pointed at the emulator.
    let config = Config::from_vars(HashMap::from([
        ("TABLE_NAME".to_owned(), TABLE.to_owned()),
        (
            "CURSOR_SECRET".to_owned(),
            "0123456789abcdef0123456789abcdef".to_owned(),
        ),
        ("AWS_ENDPOINT_URL".to_owned(), moto.endpoint.clone()),
        ("BUCKET_NAME".to_owned(), BUCKET.to_owned()),
        // The samples' admin has no person record: the tenant's first admin.
        (
            "BOOTSTRAP_ADMINS".to_owned(),
            format!("acme:{SAMPLE_ADMIN}"),
        ),
    ]))
    .expect("config");
    agencyops_platform::lambda::services(&config).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receipt_upload_and_its_s3_notification_through_the_lambda_entry_paths() {
    let moto = Moto::start().expect("moto_server must start");
    let services = moto_services(&moto).await;
    let intake = agencyops_intake::router(services.clone());
    let time = agencyops_time::router(services.clone());
    let receipts = agencyops_receipts::router(services.clone());

    // A client, a project and an expense, through the real APIs.
    let client = invoke_event(&intake, api_event("intake/create-client.json", &[])).await;
    assert_eq!(client.status, 201, "{}", client.body);
    let client_id = client.body["id"].as_str().unwrap_or_default().to_owned();
    let project = invoke_event(
        &intake,
        api_event("intake/create-project.json", &[("CLIENT_ID", &client_id)]),
    )
    .await;
    assert_eq!(project.status, 201, "{}", project.body);
    let project_id = project.body["id"].as_str().unwrap_or_default();
    let expense = invoke_event(
        &time,
        admin_request(
            "POST",
            "/v1/expenses",
            Some(
                json!({"project_id": project_id, "date": "2026-11-18", "amount": "42.50",
                "category": "travel", "note": "Train to the client"}),
            ),
            "5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e",
        ),
    )
    .await;
    assert_eq!(expense.status, 201, "{}", expense.body);
    let expense_id = expense.body["id"].as_str().unwrap_or_default().to_owned();
    let x = [("EXPENSE_ID", expense_id.as_str())];

    // The upload URL: PUT, the type and length pinned, a short expiry.
    let ticket = invoke_event(&receipts, api_event("receipts/request-upload.json", &x)).await;
    assert_eq!(ticket.status, 201, "{}", ticket.body);
    let t = &ticket.body;
    assert_eq!(t["method"], "PUT");
    assert_eq!(t["headers"]["content-type"], "application/pdf");
    assert_eq!(t["headers"]["content-length"], ANNOUNCED_SIZE.to_string());
    let expires: jiff::Timestamp = t["expires_at"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("expires_at");
    let left = expires.duration_since(jiff::Timestamp::now());
    assert!(
        left > jiff::SignedDuration::ZERO && left <= jiff::SignedDuration::from_mins(5),
        "{left:?}"
    );
    let url = reqwest::Url::parse(t["upload_url"].as_str().unwrap_or_default()).expect("url");
    let key = url
        .path()
        .strip_prefix(&format!("/{BUCKET}/"))
        .expect("a path-style URL into the bucket")
        .to_owned();
    let prefix = format!("receipts/acme/{expense_id}/");
    let object_id = key
        .strip_prefix(&prefix)
        .expect("tenant and expense in the key");

    // The browser's PUT, with exactly the returned headers.
    let pdf = receipt_pdf();
    let mut put = reqwest::Client::new().put(url.clone());
    for (k, v) in t["headers"].as_object().into_iter().flatten() {
        put = put.header(k.as_str(), v.as_str().unwrap_or_default());
    }
    let res = put.body(pdf.clone()).send().await.expect("PUT");
    assert!(res.status().is_success(), "PUT: {}", res.status());

    // Not processed yet: announced, nothing to download.
    let pending = invoke_event(&receipts, api_event("receipts/get-receipt.json", &x)).await;
    assert_eq!(pending.status, 200, "{}", pending.body);
    assert_eq!(pending.body["status"], "pending");
    assert!(pending.body["download_url"].is_null());

    // The notification S3 sends to the receipts-events queue, as Lambda hands
    // it to the processor.
    let uploaded = [
        ("EXPENSE_ID", expense_id.as_str()),
        ("OBJECT_ID", object_id),
    ];
    let event: Value =
        serde_json::from_str(&sample("receipts/receipt-uploaded.json", &uploaded)).expect("json");
    let outcome = agencyops_receipts::handle_sqs(&services, sqs_event(event.clone())).await;
    assert!(
        outcome.batch_item_failures.is_empty(),
        "{:?}",
        outcome.batch_item_failures
    );

    let got = invoke_event(&receipts, api_event("receipts/get-receipt.json", &x)).await;
    assert_eq!(got.status, 200, "{}", got.body);
    let r = &got.body;
    assert_eq!(r["status"], "accepted", "{r}");
    assert_eq!(r["sha256"], sha256_hex(&pdf));
    assert_eq!(r["size"], ANNOUNCED_SIZE);
    assert_eq!(r["content_type"], "application/pdf");
    assert_eq!(
        r["uploaded_at"], "2025-11-21T10:16:02.417Z",
        "the event's time"
    );
    assert_eq!(
        r["suggestions"],
        json!({"total": "42.50", "date": "2026-11-18", "merchant": "Northwind Rail"})
    );
    assert!(r["duplicate_of"].is_null() && r["reason"].is_null(), "{r}");
    let link = r["download_url"].as_str().unwrap_or_default();
    let downloaded = reqwest::get(link).await.expect("download");
    assert_eq!(downloaded.status().as_u16(), 200);
    assert_eq!(
        sha256_hex(&downloaded.bytes().await.expect("bytes")),
        sha256_hex(&pdf)
    );
    let path = format!("/v1/expenses/{expense_id}");
    let read_expense = || admin_request("GET", &path, None, "unused");
    let before = invoke_event(&time, read_expense()).await;
    assert_eq!(before.status, 200, "{}", before.body);
    assert_eq!(before.body["amount"], "42.50", "what was typed stays");

    // The same notification again (SQS delivers at least once): a no-op.
    let again = agencyops_receipts::handle_sqs(&services, sqs_event(event.clone())).await;
    assert!(again.batch_item_failures.is_empty());
    let after = invoke_event(&time, read_expense()).await;
    assert_eq!(after.body, before.body, "the expense did not change");
    let reread = invoke_event(&receipts, api_event("receipts/get-receipt.json", &x)).await;
    assert_eq!(without_link(reread.body), without_link(got.body));

    // A batch with a truncated message beside the redelivered one: only the
    // truncated one is reported, so only it is retried (and dead-lettered).
    let mut batch = event;
    let mut broken = batch["Records"][0].clone();
    broken["messageId"] = json!("a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d");
    broken["body"] = json!("{\"Records\":[{\"eventVersion\":\"2.1\",\"s3\":");
    if let Some(records) = batch["Records"].as_array_mut() {
        records.push(broken);
    }
    let outcome = agencyops_receipts::handle_sqs(&services, sqs_event(batch)).await;
    let failed: Vec<_> = outcome
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, ["a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d"]);
    let last = invoke_event(&time, read_expense()).await;
    assert_eq!(last.body, before.body);
}

//! Shared set-up for the receipts tests: an app with the embedded blob store
//! served over real HTTP, expenses recorded through the time API (or stored
//! directly where no API is in front), uploads
//! performed the way a browser would, and generated PDFs.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use agencyops_apitest::{studio, App, As, Studio};
use agencyops_domain::timesheet::WorkStatus;
use agencyops_domain::Currency;
use agencyops_platform::blob::embedded::BLOB_EVENTS_QUEUE;
use agencyops_platform::blob::{Blob, EmbeddedBlob};
use agencyops_store::record::{self, load};
use agencyops_store::records::Expense;
use agencyops_store::{keys, Index, Query, Table};
use axum::Router;
use rust_decimal::Decimal;
use serde_json::Value;
use sha2::{Digest, Sha256};

pub struct Local {
    pub app: App,
    pub blob: Arc<EmbeddedBlob>,
    pub studio: Studio,
    _dir: tempfile::TempDir,
}

pub fn routes() -> Router<agencyops_platform::Services> {
    agencyops_intake::routes()
        .merge(agencyops_time::routes())
        .merge(agencyops_receipts::routes())
}

/// The intake and receipts routes over a fresh store, a studio in `acme`,
/// and the embedded blob store serving its signed URLs on a local port and
/// raising its events on the app's queue, on the app's clock.
pub async fn local() -> Local {
    let mut app = App::new(routes());
    let studio = studio(&app, "acme").await;
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let blob = Arc::new(
        EmbeddedBlob::new(
            dir.path().join("blobs"),
            b"receipts-test-secret".to_vec(),
            format!("http://{addr}"),
            Some(app.queue.clone()),
        )
        .unwrap()
        .with_clock(Arc::new(app.clock.clone())),
    );
    let served = blob.clone().router();
    tokio::spawn(async move { axum::serve(listener, served).await });
    app.services.blob = Some(blob.clone() as Arc<dyn Blob>);
    app.rebuild_router();
    Local {
        app,
        blob,
        studio,
        _dir: dir,
    }
}

/// An expense as the time function records it.
pub fn expense(id: &str, person: &str, project: &str, status: WorkStatus) -> Expense {
    let now = jiff::Timestamp::from_second(agencyops_apitest::NOW).unwrap();
    Expense {
        id: id.into(),
        person_id: person.into(),
        project_id: project.into(),
        date: "2026-11-19".parse().unwrap(),
        amount: Decimal::new(4250, 2),
        currency: Currency::parse("EUR").unwrap(),
        category: "meals".into(),
        note: "Lunch with the client".into(),
        billable: true,
        markup_percent: None,
        status,
        approval: None,
        rejection: None,
        invoice_id: None,
        receipt: None,
        recorded_by: None,
        changed_by: None,
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

pub async fn seed(table: &dyn Table, tenant: &str, x: &Expense) {
    table
        .transact(vec![record::create(tenant, x).unwrap()])
        .await
        .unwrap();
}

/// Stores a new draft expense of `person` on `project` directly (for stores
/// without the time API in front) and returns its id.
pub async fn seed_expense(table: &dyn Table, tenant: &str, person: &str, project: &str) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    seed(
        table,
        tenant,
        &expense(&id, person, project, WorkStatus::Draft),
    )
    .await;
    id
}

/// `who` records a draft expense on `project` through the time API, with the
/// values of [`expense`], and gets its id.
pub async fn new_expense(app: &App, who: &As, project: &str) -> String {
    let typed = expense("-", &who.person, project, WorkStatus::Draft);
    app.post(
        who,
        "/v1/expenses",
        serde_json::json!({
            "project_id": project,
            "date": typed.date,
            "amount": typed.amount.to_string(),
            "category": typed.category,
            "note": typed.note,
        }),
    )
    .await
    .expect(201)
    .id()
}

pub async fn stored(table: &dyn Table, tenant: &str, id: &str) -> Expense {
    load::<Expense>(table, &keys::expense(tenant, id))
        .await
        .unwrap()
        .unwrap()
}

/// The audit actions recorded for an expense, oldest first.
pub async fn audit_actions(table: &dyn Table, tenant: &str, id: &str) -> Vec<(String, String)> {
    let page = table
        .query(&Query::new(
            Index::Gsi1,
            keys::audit_entity(tenant, "expense", id),
        ))
        .await
        .unwrap();
    page.items
        .iter()
        .map(|i| {
            (
                i["action"].as_str().unwrap_or_default().to_owned(),
                i["actor"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// Performs the upload exactly as the ticket says: its method, URL and
/// headers, nothing else.
pub async fn upload(ticket: &Value, body: Vec<u8>) -> reqwest::Response {
    let method =
        reqwest::Method::from_bytes(ticket["method"].as_str().unwrap().as_bytes()).unwrap();
    let mut req = reqwest::Client::new().request(method, ticket["upload_url"].as_str().unwrap());
    for (k, v) in ticket["headers"].as_object().unwrap() {
        req = req.header(k.as_str(), v.as_str().unwrap());
    }
    req.body(body).send().await.unwrap()
}

/// Every event the embedded blob store raised since the last call, acknowledged.
pub async fn blob_events(app: &App) -> Vec<String> {
    let got = app
        .queue
        .receive(BLOB_EVENTS_QUEUE, 100, Duration::from_secs(30))
        .await
        .unwrap();
    let mut out = Vec::new();
    for m in got {
        app.queue.delete(&m.receipt).await.unwrap();
        out.push(m.body);
    }
    out
}

/// The decoded object key an event names.
pub fn event_key(body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap();
    agencyops_receipts::decode_event_key(v["Records"][0]["s3"]["object"]["key"].as_str().unwrap())
        .unwrap()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A small JPEG-looking file (the processor checks magic bytes, not pixels).
pub fn jpeg(seed: u8) -> Vec<u8> {
    let mut b = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0,
    ];
    b.extend((0..500u32).map(|i| (i as u8).wrapping_mul(seed)));
    b.extend([0xFF, 0xD9]);
    b
}

pub const HTML_AS_PDF: &[u8] =
    b"<!DOCTYPE html><html><body><script>fetch('/steal?c='+document.cookie)</script></body></html>";

/// Escapes text for a PDF literal string.
fn pdf_text(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('(', "\\(")
        .replace(')', "\\)")
}

/// A receipt laid out in rows: the cells of a row are separate text objects
/// at the same height (as receipt generators place a label and its amount).
pub fn receipt_content(rows: &[&[&str]]) -> String {
    let mut c = String::new();
    for (i, row) in rows.iter().enumerate() {
        let y = 760 - 18 * i as i32;
        for (j, cell) in row.iter().enumerate() {
            let x = 40 + 260 * j as i32;
            c.push_str(&format!(
                "BT /F1 11 Tf {x} {y} Td ({}) Tj ET\n",
                pdf_text(cell)
            ));
        }
    }
    c
}

/// A minimal, valid one-page PDF (with a correct xref table) whose page
/// content is `content`, stored uncompressed unless `filter` names one.
pub fn pdf_with_content(content: &[u8], filter: Option<&str>) -> Vec<u8> {
    let filter = filter.map(|f| format!(" /Filter /{f}")).unwrap_or_default();
    let mut objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_vec(),
    ];
    let mut stream = format!("<< /Length {}{filter} >>\nstream\n", content.len()).into_bytes();
    stream.extend_from_slice(content);
    stream.extend_from_slice(b"\nendstream");
    objects.push(stream);
    objects.push(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    );

    let mut out = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n", i + 1).into_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).into_bytes());
    for o in offsets {
        out.extend(format!("{o:010} 00000 n \n").into_bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .into_bytes(),
    );
    out
}

pub fn receipt_pdf(rows: &[&[&str]]) -> Vec<u8> {
    pdf_with_content(receipt_content(rows).as_bytes(), None)
}

/// The receipt most tests upload: a café bill with a subtotal, VAT and total.
pub fn cafe_receipt() -> Vec<u8> {
    receipt_pdf(&[
        &["Cafe Lisboa Lda"],
        &["Rua Augusta 12, Lisboa"],
        &["Date: 18/11/2026", "Table 4"],
        &["2x Bacalhau", "34.55"],
        &["Subtotal", "34.55"],
        &["VAT 23%", "7.95"],
        &["Total", "EUR 42.50"],
    ])
}

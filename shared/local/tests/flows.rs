//! Lead-to-cash seams through the real `agencyops serve`: time recorded, submitted
//! and approved over HTTP reaches the project's budget through the local queue's
//! consumer, and a receipt PUT to the host's signed URL is checked and attached
//! (or quarantined) by the processor, exactly as the Lambda functions do in AWS.

mod support;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::*;

/// The week these tests record time in (2026-11-16 is its Monday).
const WEEK: &str = "2026-W47";

/// Asks until `done` holds: the consumers run in the background, about once a second.
async fn eventually(
    what: &str,
    mut ask: impl AsyncFnMut() -> Value,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let v = ask().await;
        if done(&v) {
            return v;
        }
        assert!(Instant::now() < deadline, "{what} never happened: {v}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn approved_time_reaches_the_budget_through_the_local_consumer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path());
    let base = server.base.clone();
    let http = reqwest::Client::new();
    let a = agency(&http, &base, dir.path()).await;

    for (date, minutes) in [("2026-11-16", 240), ("2026-11-17", 180), ("2026-11-18", 90)] {
        let (status, entry) = send(
            http.post(format!("{base}/v1/time-entries"))
                .bearer_auth(&a.member)
                .json(
                    &json!({"project_id": a.project, "date": date, "minutes": minutes,
                    "note": "Identity sketches"}),
                ),
        )
        .await;
        assert_eq!(status, 201, "{entry}");
    }
    let week = format!("{base}/v1/timesheets/{}/{WEEK}", a.member_id);
    let (status, submitted) = send(
        http.post(format!("{week}/submit"))
            .bearer_auth(&a.member)
            .json(&json!({})),
    )
    .await;
    assert_eq!(status, 200, "{submitted}");
    // Nobody approves their own time unless admin.
    let (status, _) = send(
        http.post(format!("{week}/approve"))
            .bearer_auth(&a.member)
            .json(&json!({})),
    )
    .await;
    assert_eq!(status, 403);
    let (status, approved) = send(
        http.post(format!("{week}/approve"))
            .bearer_auth(&a.admin)
            .json(&json!({})),
    )
    .await;
    assert_eq!(status, 200, "{approved}");

    // 510 minutes at 100/h: 8.5 h and 850 EUR of 10 h / 1000 EUR, past both 80 % marks.
    let budget_url = format!("{base}/v1/projects/{}/budget", a.project);
    let budget = eventually(
        "the burn update",
        async || send(http.get(&budget_url).bearer_auth(&a.admin)).await.1,
        |b| b["hours"]["used"] == "8.50",
    )
    .await;
    assert_eq!(budget["fees"]["used"]["amount"], "850.00", "{budget}");
    assert_eq!(budget["fees"]["remaining"]["amount"], "150.00");
    assert_eq!(
        budget["alerts"].as_array().map(Vec::len),
        Some(2),
        "{budget}"
    );

    let (_, wip) = send(
        http.get(format!("{base}/v1/reports/wip"))
            .bearer_auth(&a.admin),
    )
    .await;
    assert!(
        wip.to_string().contains("850.00"),
        "the approved week is work in progress: {wip}"
    );
    let (status, sheet) = send(http.get(&week).bearer_auth(&a.member)).await;
    assert_eq!(status, 200);
    assert_eq!(sheet["status"], "approved", "{sheet}");
}

const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

async fn upload(
    http: &reqwest::Client,
    base: &str,
    who: &str,
    expense: &str,
    declared: &str,
    bytes: &[u8],
) -> Value {
    let (status, ticket) = send(
        http.post(format!("{base}/v1/expenses/{expense}/receipt"))
            .bearer_auth(who)
            .json(&json!({"content_type": declared, "size": bytes.len()})),
    )
    .await;
    assert_eq!(status, 201, "{ticket}");
    let url = ticket["upload_url"].as_str().unwrap_or_default();
    assert!(
        url.starts_with(base),
        "the local host serves the upload: {url}"
    );
    let mut put = http.put(url).body(bytes.to_vec());
    for (k, v) in ticket["headers"].as_object().into_iter().flatten() {
        put = put.header(k.as_str(), v.as_str().unwrap_or_default());
    }
    let res = put.send().await.expect("upload");
    assert!(
        res.status().is_success(),
        "PUT to the signed URL: {}",
        res.status()
    );
    ticket
}

#[tokio::test]
async fn a_receipt_put_to_the_local_host_is_checked_then_attached_or_quarantined() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path());
    let base = server.base.clone();
    let http = reqwest::Client::new();
    let a = agency(&http, &base, dir.path()).await;
    let expense = |amount: &str| {
        http.post(format!("{base}/v1/expenses"))
            .bearer_auth(&a.member)
            .json(
                &json!({"project_id": a.project, "date": "2026-11-18", "amount": amount,
                "currency": "EUR", "category": "travel", "note": "Train to the client"}),
            )
    };
    let (status, good) = send(expense("42.50")).await;
    assert_eq!(status, 201, "{good}");
    let (_, disguised) = send(expense("10.00")).await;
    let good = good["id"].as_str().unwrap_or_default().to_owned();
    let disguised = disguised["id"].as_str().unwrap_or_default().to_owned();

    upload(&http, &base, &a.member, &good, "application/pdf", PDF).await;
    let html = b"<!doctype html><html><script>alert(1)</script></html>";
    upload(&http, &base, &a.member, &disguised, "application/pdf", html).await;

    let receipt = |id: &str| {
        let url = format!("{base}/v1/expenses/{id}/receipt");
        let (http, token) = (http.clone(), a.member.clone());
        async move || send(http.get(&url).bearer_auth(&token)).await.1
    };
    let accepted = eventually("the receipt check", receipt(&good), |r| {
        r["status"] == "accepted"
    })
    .await;
    assert_eq!(accepted["size"], PDF.len());
    assert_eq!(accepted["sha256"].as_str().map(str::len), Some(64));
    let link = accepted["download_url"].as_str().unwrap_or_default();
    let downloaded = http.get(link).send().await.expect("download");
    assert_eq!(downloaded.status().as_u16(), 200);
    assert_eq!(downloaded.bytes().await.expect("bytes").as_ref(), PDF);

    let refused = eventually("the quarantine", receipt(&disguised), |r| {
        r["status"] == "rejected"
    })
    .await;
    assert!(refused["reason"].as_str().is_some(), "{refused}");
    assert!(
        refused["download_url"].is_null(),
        "nothing refused is served back: {refused}"
    );
    let (_, after) = send(
        http.get(format!("{base}/v1/expenses/{disguised}"))
            .bearer_auth(&a.member),
    )
    .await;
    assert_eq!(
        after["amount"], "10.00",
        "what the person typed is untouched"
    );
}

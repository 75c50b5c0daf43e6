//! Responses never say where storage keeps a receipt: no `key`, no
//! `quarantine_key`, no `receipts/`, `attached/` or `quarantine/` path, for an
//! accepted and for a quarantined file, on every expense and receipt endpoint.
//! Only the signed links themselves (`*_url`) lead to a file.

mod support;

use agencyops_apitest::As;
use agencyops_receipts::process_event_json;
use serde_json::{json, Value};
use support::*;

const PATHS: &[&str] = &["receipts/", "attached/", "quarantine/"];

/// Every place in `v` that names a storage key or path.
fn storage_in(v: &Value) -> Vec<String> {
    fn walk(v: &Value, at: &str, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    let here = format!("{at}.{k}");
                    if k == "key" || k == "quarantine_key" {
                        out.push(here.clone());
                    }
                    // A signed link is the one way to a file, and only to a checked one.
                    if !k.ends_with("_url") {
                        walk(x, &here, out);
                    }
                }
            }
            Value::Array(xs) => {
                for (i, x) in xs.iter().enumerate() {
                    walk(x, &format!("{at}[{i}]"), out);
                }
            }
            Value::String(s) if PATHS.iter().any(|p| s.contains(p)) => out.push(at.to_owned()),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, "$", &mut out);
    out
}

/// Uploads `bytes` as the expense's receipt and processes what the upload raised.
async fn attach(l: &Local, who: &As, expense: &str, bytes: Vec<u8>) -> Value {
    for e in blob_events(&l.app).await {
        process_event_json(&l.app.services, &e).await.unwrap();
    }
    let ticket = l
        .app
        .post(
            who,
            &format!("/v1/expenses/{expense}/receipt"),
            json!({"content_type": "application/pdf", "size": bytes.len()}),
        )
        .await
        .expect(201)
        .body;
    assert!(upload(&ticket, bytes).await.status().is_success());
    for e in blob_events(&l.app).await {
        process_event_json(&l.app.services, &e).await.unwrap();
    }
    ticket
}

#[tokio::test]
async fn no_expense_or_receipt_response_carries_a_storage_key() {
    let l = local().await;
    let (app, s) = (&l.app, &l.studio);
    let accepted = new_expense(app, &s.member, &s.project).await;
    let refused = new_expense(app, &s.member, &s.project).await;
    let mut seen = vec![
        (
            "upload ticket".to_owned(),
            attach(&l, &s.member, &accepted, cafe_receipt()).await,
        ),
        (
            "upload ticket".to_owned(),
            attach(&l, &s.member, &refused, HTML_AS_PDF.to_vec()).await,
        ),
    ];
    // The stored receipts do have keys: the test looks where they would leak.
    assert!(stored(&*app.table, &s.tenant, &refused)
        .await
        .receipt
        .unwrap()
        .quarantine_key
        .is_some());
    for who in [&s.member, &s.admin, &s.finance, &s.manager] {
        for x in [&accepted, &refused] {
            for path in [
                format!("/v1/expenses/{x}"),
                format!("/v1/expenses/{x}/receipt"),
                "/v1/expenses?person_id=".to_owned() + &s.member.person,
            ] {
                seen.push((path.clone(), app.get(who, &path).await.expect(200).body));
            }
        }
    }
    let patched = app
        .patch(
            &s.member,
            &format!("/v1/expenses/{refused}"),
            json!({"note": "again"}),
        )
        .await
        .expect(200);
    seen.push(("patch".into(), patched.body));
    let shown = app
        .get(&s.member, &format!("/v1/expenses/{accepted}"))
        .await
        .expect(200)
        .body;
    assert_eq!(shown["receipt"]["status"], "accepted", "{shown}");
    assert!(shown["receipt"]["sha256"].is_string());
    for (what, body) in seen {
        let leaks = storage_in(&body);
        assert!(
            leaks.is_empty(),
            "{what} shows storage at {leaks:?}: {body}"
        );
    }
}

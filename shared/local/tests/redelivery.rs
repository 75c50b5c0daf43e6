//! At-least-once and unordered, made the rule: the whole demo agency (approved
//! weeks whose burn changes reach the budget consumer, a reached milestone's
//! draft, invoice and reminder mail, the daily run) loaded with every queue
//! message delivered twice and each batch last message first, and today's
//! run fired twice, ends exactly as the demo loaded the ordinary way: the same
//! invoices, budgets and mail, nothing twice.

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use support::*;

/// What a user of the agency would see: invoices by number, state and
/// money; each project's burn; every mail's subject (ids differ per run).
async fn agency_as_seen(data: &Path) -> (Vec<String>, BTreeMap<String, String>, Vec<String>) {
    let server = Server::start(data);
    let admin = token(data, "demo", "someone", "admin");
    let http = reqwest::Client::new();
    let get = |path: String| {
        let req = http
            .get(format!("{}{path}", server.base))
            .bearer_auth(&admin);
        async move {
            let (status, body) = send(req).await;
            assert_eq!(status, 200, "{body}");
            body
        }
    };
    let page = get("/v1/invoices?limit=200".into()).await;
    let mut invoices: Vec<String> = page["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|i| {
            format!(
                "{} {} {} {} total {} due {}",
                i["number"], i["status"], i["kind"], i["issue_date"], i["total"], i["balance_due"]
            )
        })
        .collect();
    invoices.sort();
    let projects = get("/v1/projects?limit=200".into()).await;
    let mut budgets = BTreeMap::new();
    for p in projects["items"].as_array().cloned().unwrap_or_default() {
        let id = p["id"].as_str().unwrap_or_default();
        let b: Value = get(format!("/v1/projects/{id}/budget")).await;
        budgets.insert(
            p["name"].as_str().unwrap_or_default().to_owned(),
            format!(
                "used {} h, billable {} h, fees {}, cost {}",
                b["hours"]["used"], b["hours"]["billable"], b["fees"], b["cost"]
            ),
        );
    }
    let mut subjects: Vec<String> = std::fs::read_dir(data.join("mail"))
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            text.lines()
                .find(|l| l.starts_with("Subject:"))
                .unwrap_or("no subject")
                .to_owned()
        })
        .collect();
    subjects.sort();
    (invoices, budgets, subjects)
}

#[tokio::test]
async fn every_message_delivered_twice_and_out_of_order_leaves_the_agency_as_delivered_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ordinary, disorderly) = (dir.path().join("once"), dir.path().join("twice"));
    cli(&ordinary, &["demo"]);
    // Today's run too, once, before the host that shows the agency starts.
    cli(&ordinary, &["followups"]);
    {
        let mut host = agencyops::host::Host::open(
            &agencyops::datadir::DataDir::open(&disorderly).expect("data dir"),
            "http://127.0.0.1:3000",
        )
        .expect("host");
        host.disorderly = true;
        agencyops::demo::load(&host).await.expect("the demo loads");
        // Today's schedule fires twice, its messages each twice again.
        for _ in 0..2 {
            let run = host.followups(None).await.expect("the run");
            assert!(run.run.tenants.iter().all(|t| t.failed.is_none()));
        }
    }
    let once = agency_as_seen(&ordinary).await;
    let twice = agency_as_seen(&disorderly).await;
    assert!(
        !once.0.is_empty() && !once.2.is_empty(),
        "the demo bills and mails: {once:?}"
    );
    assert!(
        once.1.values().any(|b| !b.starts_with("used \"0\"")),
        "approved time reached a budget: {:?}",
        once.1
    );
    assert_eq!(twice.0, once.0, "the same invoices");
    assert_eq!(twice.1, once.1, "the same budgets");
    assert_eq!(twice.2, once.2, "the same mail, none twice");
}

//! `agencyops followups --as-of`: the daily AR job run by hand, through the
//! same code as the scheduled Lambda, over the demo agency.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;
use support::{cli, lines_until, send, stderr_lines, token, Server};

fn outbox(data: &Path) -> BTreeSet<String> {
    std::fs::read_dir(data.join("mail"))
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".eml"))
                .collect()
        })
        .unwrap_or_default()
}

async fn invoices(server: &Server, admin: &str) -> Vec<Value> {
    let http = reqwest::Client::new();
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{}/v1/invoices?limit=100", server.base);
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let (status, page) = send(http.get(url).bearer_auth(admin)).await;
        assert_eq!(status, 200, "{page}");
        all.extend(page["items"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return all,
        }
    }
}

fn today() -> jiff::civil::Date {
    jiff::Zoned::now().date()
}

#[tokio::test]
async fn running_a_date_again_sends_charges_and_bills_nothing_more() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path();
    cli(data, &["demo"]);
    let day = today().to_string();
    let first: Value = serde_json::from_str(&cli(data, &["followups", "--as-of", &day]))
        .expect("the run prints its report as JSON");
    assert_eq!(first["run"]["as_of"], day.as_str(), "{first}");
    assert!(
        first["run"]["tenants"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t["tenant"] == "demo")),
        "the demo agency is registered for the run: {first}"
    );
    let mails = outbox(data);
    let server = Server::start(data);
    let admin = token(data, "demo", "someone", "admin");
    let before = invoices(&server, &admin).await;
    drop(server);

    let second: Value = serde_json::from_str(&cli(data, &["followups", "--as-of", &day]))
        .expect("the second run prints its report");
    assert_eq!(second["delivered"], 0, "nothing was queued again: {second}");
    assert_eq!(outbox(data), mails, "no mail twice");
    let server = Server::start(data);
    let after = invoices(&server, &admin).await;
    assert_eq!(after, before, "no invoice, fee or change twice");
}

#[tokio::test]
async fn a_year_of_days_fires_each_stage_once_charges_each_fee_once_and_bills_each_period_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path();
    cli(data, &["demo"]);
    let start = today();
    {
        let host = agencyops::host::Host::open(
            &agencyops::datadir::DataDir::open(data).expect("data dir"),
            "http://127.0.0.1:3000",
        )
        .expect("host");
        for d in 0..365 {
            let day = start
                .checked_add(jiff::Span::new().days(d))
                .expect("a date");
            // Every scheduled run delivered twice.
            for _ in 0..2 {
                let report = host.followups(Some(day)).await.expect("the run");
                assert!(
                    report.run.tenants.iter().all(|t| t.failed.is_none()),
                    "{day}: a tenant's run failed"
                );
            }
        }
    }
    let server = Server::start(data);
    let admin = token(data, "demo", "someone", "admin");
    let http = reqwest::Client::new();
    let all = invoices(&server, &admin).await;

    let mut reminded = 0;
    let mut fees = 0;
    let mut periods: Vec<String> = Vec::new();
    for inv in &all {
        let id = inv["id"].as_str().unwrap_or_default();
        let (_, full) = send(
            http.get(format!("{}/v1/invoices/{id}", server.base))
                .bearer_auth(&admin),
        )
        .await;
        periods.extend(
            full["lines"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .filter_map(|l| l["description"].as_str().map(str::to_owned))
                .filter(|d| d.starts_with("Hooli retainer: retainer")),
        );
        let (status, activity) = send(
            http.get(format!("{}/v1/invoices/{id}/activity", server.base))
                .bearer_auth(&admin),
        )
        .await;
        assert_eq!(status, 200, "{activity}");
        let mut stages: BTreeMap<(String, String), usize> = BTreeMap::new();
        for item in activity["items"].as_array().cloned().unwrap_or_default() {
            let kind = item["kind"].as_str().unwrap_or_default().to_owned();
            if kind == "reminder" || kind == "late_fee" {
                let stage = item["details"]["stage"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                *stages.entry((kind, stage)).or_default() += 1;
            }
        }
        for ((kind, stage), n) in &stages {
            assert_eq!(
                *n, 1,
                "{} {kind} {stage:?} happened {n} times",
                inv["number"]
            );
            match kind.as_str() {
                "reminder" => reminded += 1,
                _ => fees += 1,
            }
        }
        // The workshop was paid before any run: it is never chased.
        if inv["status"] == "paid" {
            assert!(stages.is_empty(), "a paid invoice was chased: {activity}");
        }
    }
    assert!(reminded >= 6, "the year's stages fired: {reminded}");
    assert!(fees >= 2, "the overdue stages charged their fees: {fees}");

    // One retainer invoice per month of the year, never two for a period.
    let distinct: BTreeSet<&String> = periods.iter().collect();
    assert_eq!(
        distinct.len(),
        periods.len(),
        "a period billed twice: {periods:?}"
    );
    let end = start
        .checked_add(jiff::Span::new().days(364))
        .expect("a date");
    let months = (end.year() as i32 - start.year() as i32) * 12 + end.month() as i32
        - start.month() as i32
        + 1;
    assert_eq!(periods.len() as i32, months, "{periods:?}");
}

#[tokio::test]
async fn serve_runs_the_daily_job_by_itself_and_delivers_its_mail() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path();
    cli(data, &["demo"]);
    let before = outbox(data).len();
    let mut server = Server::start_with(data, std::process::Stdio::piped());
    let rx = stderr_lines(&mut server);
    lines_until(&rx, |l| l.contains("daily AR run done"));
    // Today's run reminds the copy deck due today; the consumers deliver it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while outbox(data).len() <= before {
        assert!(
            std::time::Instant::now() < deadline,
            "no mail from today's run ({before} before)"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

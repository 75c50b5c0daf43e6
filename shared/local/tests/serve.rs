//! The `agencyops` binary as a user runs it: tokens from the CLI, the API over
//! HTTP, data that survives a crash and restart, and demo data that loads once.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::*;

#[tokio::test]
async fn a_client_survives_a_crash_and_tenants_and_roles_hold_over_http() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let admin = token(&data, "acme", "ana", "admin");
    let member = token(&data, "acme", "rui", "member");
    let other = token(&data, "globex", "gus", "admin");
    let http = reqwest::Client::new();

    let id = {
        let server = Server::start(&data);
        let url = format!("{}/v1/clients", server.base);
        let create = || {
            http.post(&url)
                .bearer_auth(&admin)
                .header("idempotency-key", "create-northwind")
                .json(&json!({"name": "Northwind", "currency": "EUR"}))
        };
        let (status, first) = send(create()).await;
        assert_eq!(status, 201, "{first}");
        let (status, second) = send(create()).await;
        assert_eq!(status, 201);
        assert_eq!(
            first["id"], second["id"],
            "same Idempotency-Key, same client"
        );
        let id = first["id"].as_str().unwrap_or_default().to_owned();

        let (status, _) = send(http.get(format!("{url}/{id}")).bearer_auth(&other)).await;
        assert_eq!(status, 404, "another tenant's token");
        let (status, _) = send(
            http.post(&url)
                .bearer_auth(&member)
                .json(&json!({"name": "X", "currency": "EUR"})),
        )
        .await;
        assert_eq!(status, 403, "a member cannot create clients");
        let (status, body) = send(
            http.post(&url)
                .bearer_auth(&admin)
                .header("content-type", "application/json")
                .body("{\"name\":"),
        )
        .await;
        assert_eq!(status, 400);
        assert_eq!(
            body["type"],
            "https://agencyops.dev/problems/malformed-body"
        );
        let (status, _) = send(http.get(&url)).await;
        assert_eq!(status, 401, "no token");
        let (status, _) = send(http.get(&url).bearer_auth(format!("{admin}x"))).await;
        assert_eq!(status, 401, "tampered token");
        id
    };

    // Restarted after a kill: the client is still there, exactly once.
    let server = Server::start(&data);
    let (status, body) = send(
        http.get(format!("{}/v1/clients/{id}", server.base))
            .bearer_auth(&admin),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["name"], "Northwind");
    let (_, list) = send(
        http.get(format!("{}/v1/clients", server.base))
            .bearer_auth(&admin),
    )
    .await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn openapi_document_lists_every_route_the_host_serves() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path());
    let (status, doc) =
        send(reqwest::Client::new().get(format!("{}/openapi.json", server.base))).await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().cloned().unwrap_or_default();
    for p in [
        "/v1/people",
        "/v1/people/{id}",
        "/v1/clients",
        "/v1/clients/{id}",
        "/v1/clients/{id}/contacts",
        "/v1/clients/{id}/contacts/{contact_id}",
        "/v1/projects",
        "/v1/projects/{id}",
        "/v1/projects/{id}/tasks",
        "/v1/projects/{id}/tasks/{task_id}",
        "/v1/projects/{id}/milestones",
        "/v1/projects/{id}/milestones/{milestone_id}",
        "/v1/intake-requests",
        "/v1/intake-requests/{id}",
        "/v1/intake-requests/{id}/accept",
        "/v1/intake-requests/{id}/decline",
        "/v1/timers/start",
        "/v1/time-entries/{id}",
        "/v1/expenses/{id}",
        "/v1/timesheets/{person_id}/{iso_week}",
        "/v1/timesheets/{person_id}/{iso_week}/approve",
        "/v1/expenses/{id}/approve",
        "/v1/settings/lock-date",
        "/v1/projects/{id}/budget",
        "/v1/audit",
        "/v1/reports/wip",
        "/v1/reports/utilization",
        "/v1/expenses/{id}/receipt",
        "/v1/invoices",
        "/v1/invoices/{id}",
        "/v1/invoices/{id}/issue",
        "/v1/invoices/{id}/payments",
        "/v1/invoices/{id}/credit-notes",
        "/v1/settings/invoicing",
        "/v1/reports/ar-aging",
        "/v1/reports/dso",
        "/v1/reports/cash-forecast",
    ] {
        assert!(
            paths.contains_key(p),
            "{p} missing from the OpenAPI document"
        );
    }
    let mut ids: Vec<String> = paths
        .values()
        .flat_map(|ops| ops.as_object().cloned().unwrap_or_default().into_values())
        .filter_map(|op| op["operationId"].as_str().map(str::to_owned))
        .collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(
        ids.len(),
        n,
        "operationIds must be unique for generated clients"
    );
    // intake 31, time 14, approvals 8, reports and audit 4, receipts 2,
    // invoicing 20, ar-followups 11 (dunning 5, recurring 3, reports 3).
    assert_eq!(n, 90);
    // Every schema an operation refers to is in the document (generated clients
    // fail on a dangling $ref).
    let text = doc.to_string();
    let schemas = doc["components"]["schemas"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let prefix = "\"#/components/schemas/";
    assert!(text.matches(prefix).count() > 50, "the scan sees the refs");
    let dangling: Vec<&str> = text
        .match_indices(prefix)
        .filter_map(|(i, _)| text[i + prefix.len()..].split('"').next())
        .filter(|name| !schemas.contains_key(*name))
        .collect();
    assert!(dangling.is_empty(), "unresolved schemas: {dangling:?}");
}

#[tokio::test]
async fn demo_loads_a_working_agency_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path();
    let first = cli(data, &["demo"]);
    assert!(first.starts_with("Loaded the demo agency"), "{first}");
    let second = cli(data, &["demo"]);
    assert!(second.starts_with("Demo agency already loaded"), "{second}");
    // The printed tokens work against a server on the same data.
    let member_token = second
        .lines()
        .find(|l| l.trim_start().starts_with("member"))
        .and_then(|l| l.split_whitespace().last())
        .expect("a member token")
        .to_owned();
    let admin = token(data, "demo", "someone", "admin");
    let server = Server::start(data);
    let http = reqwest::Client::new();
    let (_, clients) = send(
        http.get(format!("{}/v1/clients", server.base))
            .bearer_auth(&admin),
    )
    .await;
    assert_eq!(
        clients["items"].as_array().map(Vec::len),
        Some(3),
        "loading twice added nothing"
    );
    let (status, projects) = send(
        http.get(format!("{}/v1/projects", server.base))
            .bearer_auth(&member_token),
    )
    .await;
    assert_eq!(status, 200);
    let names: Vec<&str> = projects["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(
        !names.is_empty() && names.len() < 5,
        "a member sees only their projects: {names:?}"
    );
    let (_, requests) = send(
        http.get(format!("{}/v1/intake-requests", server.base))
            .bearer_auth(&admin),
    )
    .await;
    let statuses: Vec<&str> = requests["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["status"].as_str())
        .collect();
    for s in ["open", "accepted", "declined"] {
        assert!(statuses.contains(&s), "{s} missing from {statuses:?}");
    }
    // Last week's approved time and expense are work in progress: 32 h of Rui's
    // at the designer rate of 105/h plus a 84.20 train fare with 10 % markup,
    // less the 13.5 h of Monday and Tuesday the demo invoiced (1417.50).
    let (_, wip) = send(
        http.get(format!("{}/v1/reports/wip", server.base))
            .bearer_auth(&admin),
    )
    .await;
    let projects = wip["projects"].as_array().cloned().unwrap_or_default();
    assert_eq!(projects.len(), 1, "{wip}");
    assert_eq!(projects[0]["total"]["amount"], "2035.12", "{wip}");
    // A paid, a partially paid, an overdue and a draft invoice, one due
    // today, yesterday's late fee, the retainer's period and the reached
    // milestone's draft.
    let (_, invoices) = send(
        http.get(format!("{}/v1/invoices?limit=100", server.base))
            .bearer_auth(&admin),
    )
    .await;
    let items = invoices["items"].as_array().cloned().unwrap_or_default();
    let states: Vec<(String, bool)> = items
        .iter()
        .map(|i| {
            let overdue = i["due_date"]
                .as_str()
                .is_some_and(|d| d < wip["as_of"].as_str().unwrap_or(""))
                && i["balance_due"] != "0.00";
            (i["status"].as_str().unwrap_or("").to_owned(), overdue)
        })
        .collect();
    for want in [
        ("draft", false),
        ("issued", true),
        ("issued", false),
        ("paid", false),
        ("partially_paid", false),
    ] {
        assert!(
            states.contains(&(want.0.to_owned(), want.1)),
            "{want:?} missing: {invoices}"
        );
    }
    assert!(
        items
            .iter()
            .any(|i| i["kind"] == "milestone" && i["status"] == "draft"),
        "the reached milestone is drafted: {invoices}"
    );
    // The brand audit (the overdue one) was reminded yesterday with its fee,
    // and the mail is in the outbox.
    let audit = items
        .iter()
        .find(|i| {
            i["status"] == "issued"
                && i["due_date"]
                    .as_str()
                    .is_some_and(|d| d < wip["as_of"].as_str().unwrap_or(""))
        })
        .cloned()
        .unwrap_or_default();
    let (_, activity) = send(
        http.get(format!(
            "{}/v1/invoices/{}/activity",
            server.base,
            audit["id"].as_str().unwrap_or("")
        ))
        .bearer_auth(&admin),
    )
    .await;
    let kinds: Vec<&str> = activity["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["kind"].as_str()).collect())
        .unwrap_or_default();
    assert!(kinds.contains(&"reminder"), "{activity}");
    assert!(kinds.contains(&"late_fee"), "{activity}");
    let mails = std::fs::read_dir(data.join("mail"))
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                .count()
        })
        .unwrap_or(0);
    assert!(
        mails >= 2,
        "yesterday's reminders are .eml files in DATA/mail ({mails})"
    );
    let tm = invoices["items"]
        .as_array()
        .and_then(|a| a.iter().find(|i| i["status"] == "partially_paid").cloned())
        .unwrap_or_default();
    assert_eq!(
        tm["total"], "1743.53",
        "13.5 h at 105/h with 23 % IVA: {tm}"
    );
}

#[tokio::test]
async fn every_request_logs_one_json_line_with_request_id_and_tenant() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().expect("tempdir");
    let admin = token(dir.path(), "acme", "ana", "admin");
    let mut server = Server::start_with(dir.path(), Stdio::piped());
    let stderr = server.child.stderr.take().expect("piped stderr");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let res = reqwest::Client::new()
        .get(format!("{}/v1/clients", server.base))
        .bearer_auth(&admin)
        .header("x-request-id", "req-42")
        .send()
        .await
        .expect("request");
    assert_eq!(
        res.headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("req-42")
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("a request log line");
        let Ok(json) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if json["span"]["request_id"] == "req-42" && json["fields"]["status"] == 200 {
            assert_eq!(json["span"]["tenant"], "acme", "{line}");
            assert_eq!(json["level"], "INFO");
            break;
        }
    }
}

#[tokio::test]
async fn on_request_text_logs_are_one_readable_line_per_request() {
    let dir = tempfile::tempdir().expect("tempdir");
    let admin = token(dir.path(), "acme", "ana", "admin");
    let mut server = Server::start_on(
        dir.path(),
        "127.0.0.1",
        &["--log-format", "text"],
        Stdio::piped(),
    );
    let lines = stderr_lines(&mut server);
    let res = reqwest::Client::new()
        .get(format!("{}/v1/clients", server.base))
        .bearer_auth(&admin)
        .header("x-request-id", "req-7")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let seen = lines_until(&lines, |l| l.contains("req-7"));
    let line = seen.last().expect("a line");
    assert!(
        serde_json::from_str::<Value>(line).is_err(),
        "not JSON: {line}"
    );
    for part in ["INFO", "GET", "/v1/clients", "status=200", "acme"] {
        assert!(line.contains(part), "{part} missing from {line}");
    }
}

#[test]
fn serving_beyond_this_machine_warns_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start_on(dir.path(), "0.0.0.0", &[], Stdio::piped());
    let lines = stderr_lines(&mut server);
    let seen = lines_until(&lines, |l| l.contains("serving on"));
    assert!(
        seen.iter()
            .any(|l| l.starts_with("warning:") && l.contains("0.0.0.0")),
        "{seen:#?}"
    );
    let quiet = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start_with(quiet.path(), Stdio::piped());
    let lines = stderr_lines(&mut server);
    let seen = lines_until(&lines, |l| l.contains("agencyops serving on"));
    assert!(!seen.iter().any(|l| l.contains("warning")), "{seen:#?}");
}

#[test]
fn serve_demo_prints_its_tokens_without_a_log_line_per_setup_request() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start_on(dir.path(), "127.0.0.1", &["--demo"], Stdio::piped());
    let lines = stderr_lines(&mut server);
    let seen = lines_until(&lines, |l| l.contains("agencyops serving on"));
    assert!(
        seen.iter().any(|l| l.starts_with("Loaded the demo agency")),
        "{seen:#?}"
    );
    let logged: Vec<&String> = seen
        .iter()
        .filter(|l| serde_json::from_str::<Value>(l).is_ok())
        .collect();
    assert!(
        logged.len() <= 2,
        "log lines around the tokens: {logged:#?}"
    );
}

#[test]
fn token_refuses_unsafe_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    for args in [
        vec![
            "token", "--tenant", "acme#x", "--person", "p", "--role", "admin",
        ],
        vec![
            "token", "--tenant", "acme", "--person", "p", "--role", "client",
        ],
        vec![
            "token", "--tenant", "acme", "--person", "p", "--role", "emperor",
        ],
    ] {
        let out = Command::new(BIN)
            .arg("--data")
            .arg(dir.path())
            .args(&args)
            .output()
            .expect("run");
        assert!(!out.status.success(), "{args:?} should fail");
    }
}

/// `serve --count-calls FILE`: on SIGTERM the host writes each operation's
/// DynamoDB calls, a success and a refusal apart.
#[tokio::test]
async fn serve_counts_each_operations_dynamodb_calls_and_writes_them_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let file = dir.path().join("calls.md");
    let admin = token(&data, "acme", "ana", "admin");
    let other = token(&data, "globex", "gus", "admin");
    let http = reqwest::Client::new();
    let mut server = Server::start_on(
        &data,
        "127.0.0.1",
        &["--count-calls", &file.display().to_string()],
        std::process::Stdio::null(),
    );
    let url = format!("{}/v1/clients", server.base);
    let (status, created) = send(
        http.post(&url)
            .bearer_auth(&admin)
            .json(&json!({"name": "Northwind", "currency": "EUR"})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let one = format!("{url}/{}", created["id"].as_str().unwrap_or_default());
    assert_eq!(send(http.get(&one).bearer_auth(&admin)).await.0, 200);
    assert_eq!(send(http.get(&one).bearer_auth(&other)).await.0, 404);

    let pid = server.child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let exit = server.child.wait().expect("wait");
    assert!(exit.success(), "a clean stop on SIGTERM: {exit:?}");
    let table = std::fs::read_to_string(&file).expect("the call table is written");
    let row = |op: &str| {
        table
            .lines()
            .find(|l| l.starts_with(&format!("| `{op}` |")))
            .unwrap_or_else(|| panic!("no row for {op} in\n{table}"))
            .to_owned()
    };
    // A single-item read is one call: a batch read of the client and the
    // caller's person record (so a deactivated person is refused at once),
    // two SQL statements; the other tenant's id costs the same call and
    // finds nothing.
    assert_eq!(
        row("GET /v1/clients/{id}"),
        "| `GET /v1/clients/{id}` | 1 | 1 / 1 / 1 | 1 / 0 | 2 / 2 | 1 | 1 |"
    );
    let create = row("POST /v1/clients");
    assert!(
        create.starts_with("| `POST /v1/clients` | 1 | "),
        "{create}"
    );
}

//! The `agencyops` binary as a user runs it: a server on a free port over a data
//! directory, tokens from the CLI, and JSON over HTTP.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub const BIN: &str = env!("CARGO_BIN_EXE_agencyops");

pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Server {
    pub fn start(data: &Path) -> Server {
        Server::start_with(data, Stdio::null())
    }

    pub fn start_with(data: &Path, stderr: Stdio) -> Server {
        Server::start_on(data, "127.0.0.1", &[], stderr)
    }

    /// `serve` on a free port of `host` with `args` after it.
    pub fn start_on(data: &Path, host: &str, args: &[&str], stderr: Stdio) -> Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        let child = Command::new(BIN)
            .args([
                "--data",
                &data.display().to_string(),
                "serve",
                "--addr",
                &format!("{host}:{port}"),
            ])
            .args(args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start agencyops serve");
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGKILL: the data must survive an unclean stop, not just a polite one.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The server's stderr, line by line, as it is written.
pub fn stderr_lines(server: &mut Server) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
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
    rx
}

/// Lines from `rx` up to and including the first that `done` accepts.
pub fn lines_until(
    rx: &std::sync::mpsc::Receiver<String>,
    done: impl Fn(&str) -> bool,
) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|_| panic!("the awaited line never came; got {seen:#?}"));
        let last = done(&line);
        seen.push(line);
        if last {
            return seen;
        }
    }
}

pub fn cli(data: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .expect("run agencyops");
    assert!(
        out.status.success(),
        "agencyops {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

pub fn token(data: &Path, tenant: &str, person: &str, role: &str) -> String {
    cli(
        data,
        &[
            "token", "--tenant", tenant, "--person", person, "--role", role,
        ],
    )
}

pub async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let body = res.json::<Value>().await.unwrap_or(Value::Null);
    (status, body)
}

/// A member on a time-and-materials project with a budget, and their tokens.
pub struct Agency {
    pub admin: String,
    pub member: String,
    pub member_id: String,
    pub project: String,
}

/// Sets up the agency in tenant `acme` through the API.
pub async fn agency(http: &reqwest::Client, base: &str, data: &Path) -> Agency {
    let admin = token(data, "acme", "ana", "admin");
    let (status, rui) = send(
        http.post(format!("{base}/v1/people"))
            .bearer_auth(&admin)
            .json(
                &json!({"name": "Rui", "email": "rui@acme.io", "role": "member",
                "time_zone": "Europe/Lisbon", "job_role": "designer",
                "cost_rate": {"amount": "40.00", "currency": "EUR"}}),
            ),
    )
    .await;
    assert_eq!(status, 201, "{rui}");
    let member_id = rui["id"].as_str().unwrap_or_default().to_owned();
    let (_, client) = send(
        http.post(format!("{base}/v1/clients"))
            .bearer_auth(&admin)
            .json(&json!({"name": "Northwind", "currency": "EUR"})),
    )
    .await;
    let (status, project) = send(
        http.post(format!("{base}/v1/projects"))
            .bearer_auth(&admin)
            .json(&json!({"client_id": client["id"], "name": "Rebrand",
                "billing_model": "time_and_materials", "team": [member_id],
                "rate_card": {"default_rate": "100.00"},
                "budget": {"hours": "10", "fees": "1000.00", "alert_thresholds": [80, 100]}})),
    )
    .await;
    assert_eq!(status, 201, "{project}");
    Agency {
        admin,
        member: token(data, "acme", &member_id, "member"),
        member_id,
        project: project["id"].as_str().unwrap_or_default().to_owned(),
    }
}

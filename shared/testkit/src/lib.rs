//! Starts a private `moto_server` from the project-local virtualenv for one test
//! and stops it when the guard drops. Each test gets its own server, so tests
//! never see each other's tables, queues or buckets, and nothing is left running.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// The workspace root, from this crate's manifest directory.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

/// The command that starts moto: `MOTO_SERVER` if set, else the venv's Python
/// running `moto_atomic.py` (moto's own server, with DynamoDB requests
/// serialised as DynamoDB's item writes are atomic).
fn moto_command() -> anyhow::Result<Command> {
    if let Ok(p) = std::env::var("MOTO_SERVER") {
        return Ok(Command::new(p));
    }
    let venv = workspace_root().join(".venv/bin");
    if !venv.join("moto_server").exists() {
        bail!(
            "{} is missing: run the README's test command (bash tests/run.sh), which creates the venv",
            venv.join("moto_server").display()
        );
    }
    let mut cmd = Command::new(venv.join("python"));
    cmd.arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("moto_atomic.py"));
    Ok(cmd)
}

pub struct Moto {
    child: Child,
    pub endpoint: String,
}

impl Moto {
    /// Starts moto on a free loopback port and waits until it answers.
    pub fn start() -> anyhow::Result<Moto> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = moto_command()?
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting moto_server")?;
        let mut moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = moto.child.try_wait()? {
                bail!("moto_server exited early: {status}");
            }
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(moto);
            }
            if Instant::now() > deadline {
                bail!("moto_server did not start within 30 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

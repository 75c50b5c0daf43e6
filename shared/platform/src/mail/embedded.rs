//! Embedded adapter of the Mail port: the local host's outbox, one `.eml`
//! file per message under its directory (`DATA/mail/` in the local host).
//!
//! Each file is the complete RFC 5322 message (Date, Message-ID, From, To,
//! Subject, multipart with its attachments), so any mail client opens it.
//! It is named by the message id this adapter returns, a UUIDv7, so the
//! directory lists in sending order; it is written to `tmp/` and renamed into
//! place, so a reader (or a crash) never leaves half a message.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;

use super::{check, render, Mail, Message};
use crate::clock::{Clock, SystemClock};
use crate::ports::{PortError, PortResult};

/// The extension every stored message has.
pub const EML: &str = "eml";

pub struct EmbeddedMail {
    dir: PathBuf,
    from: String,
    clock: Arc<dyn Clock>,
}

fn backend(e: impl std::fmt::Display) -> PortError {
    PortError::Backend(e.to_string())
}

/// Ids this adapter made: a UUID, nothing that could name another path.
fn checked_id(id: &str) -> Option<uuid::Uuid> {
    uuid::Uuid::parse_str(id)
        .ok()
        .filter(|u| u.hyphenated().to_string() == id)
}

impl EmbeddedMail {
    /// Messages go under `dir`, sent from `from` (checked when sending).
    pub fn new(dir: impl Into<PathBuf>, from: impl Into<String>) -> Self {
        EmbeddedMail {
            dir: dir.into(),
            from: from.into(),
            clock: Arc::new(SystemClock),
        }
    }

    /// Replaces the system clock (the Date header and the ids' time order).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path_of(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.{EML}"))
    }

    /// The ids of every stored message, oldest first.
    pub async fn list(&self) -> PortResult<Vec<String>> {
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || {
            let entries = match std::fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(backend(e)),
            };
            let mut ids = Vec::new();
            for entry in entries {
                let path = entry.map_err(backend)?.path();
                if path.extension().and_then(|x| x.to_str()) != Some(EML) {
                    continue;
                }
                if let Some(id) = path.file_stem().and_then(|s| s.to_str()) {
                    if checked_id(id).is_some() {
                        ids.push(id.to_owned());
                    }
                }
            }
            ids.sort();
            Ok(ids)
        })
        .await
        .map_err(backend)?
    }

    /// The stored message exactly as sent, or None for an unknown id.
    pub async fn read(&self, id: &str) -> PortResult<Option<Bytes>> {
        if checked_id(id).is_none() {
            return Ok(None);
        }
        let path = self.path_of(id);
        tokio::task::spawn_blocking(move || match std::fs::read(&path) {
            Ok(b) => Ok(Some(Bytes::from(b))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(backend(e)),
        })
        .await
        .map_err(backend)?
    }
}

fn write_atomic(dir: &Path, target: &Path, bytes: &[u8]) -> PortResult<()> {
    let tmp_dir = dir.join("tmp");
    std::fs::create_dir_all(&tmp_dir).map_err(backend)?;
    let tmp = tmp_dir.join(uuid::Uuid::new_v4().to_string());
    let written = std::fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, target)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(backend(e));
    }
    Ok(())
}

#[async_trait]
impl Mail for EmbeddedMail {
    async fn send(&self, message: &Message) -> PortResult<String> {
        check(message, &self.from)?;
        let now = self.clock.now();
        let ts = uuid::Timestamp::from_unix(
            uuid::NoContext,
            u64::try_from(now.as_second()).unwrap_or(0),
            now.subsec_nanosecond().unsigned_abs(),
        );
        let id = uuid::Uuid::new_v7(ts).hyphenated().to_string();
        let domain = self.from.rsplit_once('@').map_or("localhost", |(_, d)| d);
        let bytes = render(message, &self.from, &format!("{id}@{domain}"), now)?;
        let (dir, target) = (self.dir.clone(), self.path_of(&id));
        tokio::task::spawn_blocking(move || write_atomic(&dir, &target, &bytes))
            .await
            .map_err(backend)??;
        Ok(id)
    }
}

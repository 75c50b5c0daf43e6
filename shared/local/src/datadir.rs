//! The data directory: database file, the host's secret, blobs and mail.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use agencyops_domain::Role;
use agencyops_platform::auth::DevTokens;
use agencyops_platform::caller::valid_id;
use agencyops_platform::Caller;
use anyhow::{bail, Context};

pub struct DataDir {
    pub root: PathBuf,
    secret: Vec<u8>,
}

impl DataDir {
    /// Creates the directory and, on first use, a random secret only this machine knows.
    pub fn open(root: &Path) -> anyhow::Result<DataDir> {
        fs::create_dir_all(root).with_context(|| format!("creating {}", root.display()))?;
        let path = root.join("secret");
        let secret = match fs::read_to_string(&path) {
            Ok(s) if s.trim().len() >= 64 => s.trim().to_owned(),
            _ => {
                let fresh = format!("{}{}", uuid_hex(), uuid_hex());
                let mut f = fs::OpenOptions::new()
                    .create(true)
                    .truncate(true)
                    .write(true)
                    .open(&path)
                    .with_context(|| format!("writing {}", path.display()))?;
                f.write_all(fresh.as_bytes())?;
                f.sync_all()?;
                restrict(&path);
                fresh
            }
        };
        Ok(DataDir {
            root: root.to_path_buf(),
            secret: secret.into_bytes(),
        })
    }

    pub fn store_path(&self) -> PathBuf {
        self.root.join("store.db")
    }

    /// Keys derived per purpose, so a dev token can never pass as a cursor or URL signature.
    pub fn secret_for(&self, purpose: &str) -> Vec<u8> {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(purpose.as_bytes());
        h.update(b"\0");
        h.update(&self.secret);
        h.finalize().to_vec()
    }

    pub fn tokens(&self) -> DevTokens {
        DevTokens::new(self.secret_for("dev-tokens"))
    }

    pub fn issue_token(
        &self,
        tenant: &str,
        person: &str,
        role: Role,
        client: Option<String>,
        ttl_secs: i64,
    ) -> anyhow::Result<String> {
        if !valid_id(tenant) || !valid_id(person) || client.as_deref().is_some_and(|c| !valid_id(c))
        {
            bail!("tenant, person and client may use letters, digits, - and _ (at most 64)");
        }
        if (role == Role::Client) != client.is_some() {
            bail!("--client is required for the client role, and only for it");
        }
        let caller = Caller {
            tenant: tenant.into(),
            person: person.into(),
            role,
            client,
        };
        let now = jiff::Timestamp::now().as_second();
        self.tokens()
            .issue(&caller, now, ttl_secs)
            .map_err(|e| anyhow::anyhow!("{e}"))
    }
}

fn uuid_hex() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(unix)]
fn restrict(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = fs::set_permissions(path, fs::Permissions::from_mode(0o600));
}
#[cfg(not(unix))]
fn restrict(_: &Path) {}

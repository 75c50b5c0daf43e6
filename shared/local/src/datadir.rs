//! The data directory: database file, the host's secret, blobs and mail.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use agencyops_domain::Id;
use agencyops_domain::Role;
use agencyops_platform::auth::DevTokens;
use agencyops_platform::Caller;
use anyhow::{bail, Context};

pub struct DataDir {
    pub root: PathBuf,
    secret: Vec<u8>,
}

impl DataDir {
    /// Creates the directory (readable by its owner only: it holds the
    /// database, the secret and everyone's receipts) and, on first use, a
    /// random secret only this machine knows.
    pub fn open(root: &Path) -> anyhow::Result<DataDir> {
        let mut dir = fs::DirBuilder::new();
        dir.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            dir.mode(0o700);
        }
        dir.create(root)
            .with_context(|| format!("creating {}", root.display()))?;
        let path = root.join("secret");
        let secret = match fs::read_to_string(&path) {
            Ok(s) if s.trim().len() >= 64 => s.trim().to_owned(),
            // A damaged secret would silently invalidate every token and cursor.
            Ok(_) => bail!(
                "{} is damaged; delete it to start over with new tokens",
                path.display()
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_secret(&path)?,
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
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
        if !Id::is_valid(tenant)
            || !Id::is_valid(person)
            || client.as_deref().is_some_and(|c| !Id::is_valid(c))
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

/// Writes a fresh secret readable only by its owner. If another process created
/// one first, that one wins and is used.
fn create_secret(path: &Path) -> anyhow::Result<String> {
    let fresh = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut f) => {
            f.write_all(fresh.as_bytes())?;
            f.sync_all()?;
            Ok(fresh)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::thread::sleep(std::time::Duration::from_millis(50));
            let s = fs::read_to_string(path)?;
            if s.trim().len() < 64 {
                bail!("{} is damaged; delete it to start over", path.display());
            }
            Ok(s.trim().to_owned())
        }
        Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_new_data_directory_is_private_to_its_owner() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("new").join(".agencyops");
        DataDir::open(&root).unwrap();
        let mode = fs::metadata(&root).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "{mode:o}");
        let secret = fs::metadata(root.join("secret"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(secret & 0o777, 0o600, "{secret:o}");
    }
}

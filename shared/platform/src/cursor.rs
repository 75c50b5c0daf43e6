//! Opaque list cursors. A cursor carries the page position, the tenant and the
//! list it came from, signed with HMAC-SHA256: it cannot be forged, edited, or
//! replayed by another tenant or on another list.

use agencyops_store::PageKey;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::sync::Arc;

use crate::error::ApiError;

#[derive(Clone)]
pub struct Cursors {
    secret: Arc<Vec<u8>>,
}

#[derive(Serialize, Deserialize)]
struct Payload {
    t: String,
    s: String,
    k: PageKey,
}

fn bad() -> ApiError {
    ApiError::field("query.cursor", "is not a cursor this list issued")
}

impl Cursors {
    pub fn new(secret: Vec<u8>) -> Self {
        Cursors {
            secret: Arc::new(secret),
        }
    }

    fn mac(&self, data: &[u8]) -> Result<Hmac<Sha256>, ApiError> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        mac.update(data);
        Ok(mac)
    }

    /// `scope` names the list (e.g. its partition) so a cursor only resumes that list.
    pub fn encode(&self, tenant: &str, scope: &str, key: &PageKey) -> Result<String, ApiError> {
        let payload = serde_json::to_vec(&Payload {
            t: tenant.into(),
            s: scope.into(),
            k: key.clone(),
        })
        .map_err(|e| ApiError::Internal(e.to_string()))?;
        let sig = self.mac(&payload)?.finalize().into_bytes();
        Ok(format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(sig)
        ))
    }

    pub fn decode(&self, tenant: &str, scope: &str, cursor: &str) -> Result<PageKey, ApiError> {
        let (data, sig) = cursor.split_once('.').ok_or_else(bad)?;
        let payload = URL_SAFE_NO_PAD.decode(data).map_err(|_| bad())?;
        let sig = URL_SAFE_NO_PAD.decode(sig).map_err(|_| bad())?;
        self.mac(&payload)?.verify_slice(&sig).map_err(|_| bad())?;
        let p: Payload = serde_json::from_slice(&payload).map_err(|_| bad())?;
        if p.t != tenant || p.s != scope {
            return Err(bad());
        }
        Ok(p.k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> PageKey {
        PageKey {
            pk: "T#acme#CLIENTS".into(),
            sk: "CLIENT#1".into(),
            ipk: None,
            isk: None,
        }
    }

    #[test]
    fn cursors_resume_only_their_tenant_and_list() {
        let c = Cursors::new(b"k".to_vec());
        let s = c.encode("acme", "clients", &key()).unwrap();
        assert_eq!(c.decode("acme", "clients", &s).unwrap(), key());
        assert!(c.decode("globex", "clients", &s).is_err());
        assert!(c.decode("acme", "people", &s).is_err());
        let mut tampered = s.clone();
        tampered.insert(3, 'A');
        assert!(c.decode("acme", "clients", &tampered).is_err());
        assert!(Cursors::new(b"other".to_vec())
            .decode("acme", "clients", &s)
            .is_err());
        assert!(c.decode("acme", "clients", "garbage").is_err());
    }
}

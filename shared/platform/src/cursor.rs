//! Opaque list cursors. A cursor carries the page position, the tenant, a
//! digest of the whole query it pages (index, partition, sort-key range,
//! direction and the caller's filters) and when it expires, signed with
//! HMAC-SHA256. It cannot be forged or edited, and it resumes only the query
//! that issued it, in the same tenant, for a day: anything else is a 400.

use agencyops_store::{PageKey, Query};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::Arc;

use crate::error::ApiError;

/// How long a cursor resumes its list. Long enough to page through anything,
/// short enough that a leaked cursor is soon worthless.
pub const CURSOR_TTL_SECS: i64 = 24 * 3600;

#[derive(Clone)]
pub struct Cursors {
    secret: Arc<Vec<u8>>,
}

/// The query a cursor may resume: everything that decides which items a page
/// holds, except where it starts and how many it returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListScope(String);

impl ListScope {
    /// `filters` are the values the caller narrowed the list by (whatever a
    /// handler's keep-filter reads); a cursor issued with one set of filters
    /// does not resume a list with another.
    pub fn new(query: &Query, filters: &impl Serialize) -> Result<ListScope, ApiError> {
        #[derive(Serialize)]
        struct Scope<'a, F> {
            index: agencyops_store::Index,
            pk: &'a str,
            sk: &'a agencyops_store::SkCondition,
            forward: bool,
            filters: &'a F,
        }
        let text = serde_json::to_vec(&Scope {
            index: query.index,
            pk: &query.pk,
            sk: &query.sk,
            forward: query.forward,
            filters,
        })
        .map_err(|e| ApiError::Internal(format!("list filters do not serialize: {e}")))?;
        Ok(ListScope(URL_SAFE_NO_PAD.encode(Sha256::digest(&text))))
    }
}

#[derive(Serialize, Deserialize)]
struct Payload {
    /// Tenant.
    t: String,
    /// The [`ListScope`] digest.
    q: String,
    k: PageKey,
    /// Expiry, epoch seconds.
    x: i64,
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

    /// A cursor that resumes `scope` in `tenant` after `key` until a day after `now`.
    pub fn encode(
        &self,
        tenant: &str,
        scope: &ListScope,
        key: &PageKey,
        now: Timestamp,
    ) -> Result<String, ApiError> {
        let payload = serde_json::to_vec(&Payload {
            t: tenant.into(),
            q: scope.0.clone(),
            k: key.clone(),
            x: now.as_second() + CURSOR_TTL_SECS,
        })
        .map_err(|e| ApiError::Internal(e.to_string()))?;
        let sig = self.mac(&payload)?.finalize().into_bytes();
        Ok(format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(sig)
        ))
    }

    /// Where `cursor` resumes `scope`, or a 400 naming `query.cursor`.
    pub fn decode(
        &self,
        tenant: &str,
        scope: &ListScope,
        cursor: &str,
        now: Timestamp,
    ) -> Result<PageKey, ApiError> {
        let (data, sig) = cursor.split_once('.').ok_or_else(bad)?;
        let payload = URL_SAFE_NO_PAD.decode(data).map_err(|_| bad())?;
        let sig = URL_SAFE_NO_PAD.decode(sig).map_err(|_| bad())?;
        self.mac(&payload)?.verify_slice(&sig).map_err(|_| bad())?;
        let p: Payload = serde_json::from_slice(&payload).map_err(|_| bad())?;
        if p.t != tenant || p.q != scope.0 {
            return Err(bad());
        }
        if now.as_second() > p.x {
            return Err(ApiError::field(
                "query.cursor",
                "has expired; start the list again without a cursor",
            ));
        }
        Ok(p.k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use agencyops_store::{Index, SkCondition};

    fn key() -> PageKey {
        PageKey {
            pk: "T#acme#CLIENTS".into(),
            sk: "CLIENT#1".into(),
            ipk: None,
            isk: None,
        }
    }

    fn clients() -> Query {
        Query::new(Index::Table, "T#acme#CLIENTS").sk(SkCondition::BeginsWith(
            agencyops_store::keys::clients_prefix(),
        ))
    }

    fn scope(q: &Query, filters: &impl Serialize) -> ListScope {
        ListScope::new(q, filters).unwrap()
    }

    fn now() -> Timestamp {
        "2026-11-20T09:00:00Z".parse().unwrap()
    }

    #[test]
    fn cursors_resume_only_their_tenant_query_and_filters() {
        let c = Cursors::new(b"k".to_vec());
        let here = scope(&clients(), &(Some("north"), None::<bool>));
        let s = c.encode("acme", &here, &key(), now()).unwrap();
        assert_eq!(c.decode("acme", &here, &s, now()).unwrap(), key());
        assert!(c.decode("globex", &here, &s, now()).is_err());
        for other in [
            scope(&clients(), &(Some("south"), None::<bool>)),
            scope(&clients(), &(Some("north"), Some(true))),
            scope(&clients().backward(), &(Some("north"), None::<bool>)),
            scope(
                &Query::new(Index::Table, "T#acme#CLIENTS"),
                &(Some("north"), None::<bool>),
            ),
            scope(
                &Query::new(Index::Gsi1, "T#acme#CLIENTS").sk(SkCondition::BeginsWith(
                    agencyops_store::keys::clients_prefix(),
                )),
                &(Some("north"), None::<bool>),
            ),
            scope(
                &Query::new(Index::Table, "T#acme#PEOPLE").sk(SkCondition::BeginsWith(
                    agencyops_store::keys::clients_prefix(),
                )),
                &(Some("north"), None::<bool>),
            ),
        ] {
            assert_ne!(other, here);
            assert!(c.decode("acme", &other, &s, now()).is_err());
        }
        // Page size and position are not part of the scope.
        assert_eq!(
            scope(
                &clients().limit(7).start_after(Some(key())),
                &(Some("north"), None::<bool>)
            ),
            here
        );
        let mut tampered = s.clone();
        tampered.insert(3, 'A');
        assert!(c.decode("acme", &here, &tampered, now()).is_err());
        assert!(Cursors::new(b"other".to_vec())
            .decode("acme", &here, &s, now())
            .is_err());
        assert!(c.decode("acme", &here, "garbage", now()).is_err());
    }

    #[test]
    fn cursors_expire_after_a_day() {
        let c = Cursors::new(b"k".to_vec());
        let here = scope(&clients(), &());
        let s = c.encode("acme", &here, &key(), now()).unwrap();
        let at = |secs: i64| {
            now()
                .checked_add(jiff::SignedDuration::from_secs(secs))
                .unwrap()
        };
        assert!(c.decode("acme", &here, &s, at(CURSOR_TTL_SECS)).is_ok());
        match c.decode("acme", &here, &s, at(CURSOR_TTL_SECS + 1)) {
            Err(ApiError::Validation(e)) => {
                assert_eq!(e[0].field, "query.cursor");
                assert!(e[0].message.contains("expired"), "{}", e[0].message);
            }
            other => panic!("{other:?}"),
        }
    }
}
